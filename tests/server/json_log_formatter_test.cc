#include "errand/server/json_log_formatter.h"

#include <gtest/gtest.h>

#include <string>

namespace errand::server {
namespace {

std::string Format(spdlog::level::level_enum level, std::string_view text) {
  spdlog::details::log_msg msg("errand", level,
                               spdlog::string_view_t(text.data(), text.size()));
  msg.time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1'800'000'000'123));
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLogFormatterTest, OneObjectPerLine) {
  EXPECT_EQ(Format(spdlog::level::info, "listening on 127.0.0.1:7233"),
            "{\"time\":\"2027-01-15T08:00:00.123Z\",\"level\":\"info\","
            "\"msg\":\"listening on 127.0.0.1:7233\"}\n");
  EXPECT_EQ(Format(spdlog::level::warn, "x"),
            "{\"time\":\"2027-01-15T08:00:00.123Z\",\"level\":\"warning\","
            "\"msg\":\"x\"}\n");
}

TEST(JsonLogFormatterTest, EscapesWhatJsonRequires) {
  const std::string line =
      Format(spdlog::level::err, "say \"hi\"\\ now\nnext\ttab\x01");
  EXPECT_EQ(line,
            "{\"time\":\"2027-01-15T08:00:00.123Z\",\"level\":\"error\","
            "\"msg\":\"say \\\"hi\\\"\\\\ now\\nnext\\ttab\\u0001\"}\n");
}

}  // namespace
}  // namespace errand::server
