// `--log-format json`: one JSON object per line for log shippers,
// {"time":"2026-11-29T22:30:00.123Z","level":"info","msg":"..."}, with the
// message escaped as JSON requires (quotes, backslashes, control bytes).
#ifndef ERRAND_SERVER_JSON_LOG_FORMATTER_H_
#define ERRAND_SERVER_JSON_LOG_FORMATTER_H_

#include <memory>

#include "spdlog/formatter.h"

namespace errand::server {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

}  // namespace errand::server

#endif  // ERRAND_SERVER_JSON_LOG_FORMATTER_H_
