#include "errand/server/json_log_formatter.h"

#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace errand::server {
namespace {

void Append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

void AppendEscaped(spdlog::memory_buf_t& dest, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"':
        Append(dest, "\\\"");
        break;
      case '\\':
        Append(dest, "\\\\");
        break;
      case '\n':
        Append(dest, "\\n");
        break;
      case '\r':
        Append(dest, "\\r");
        break;
      case '\t':
        Append(dest, "\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          Append(dest, absl::StrFormat("\\u%04x", c));
        } else {
          dest.push_back(c);
        }
    }
  }
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg,
                              spdlog::memory_buf_t& dest) {
  Append(dest, "{\"time\":\"");
  Append(dest,
         absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(msg.time),
                          absl::UTCTimeZone()));
  Append(dest, "\",\"level\":\"");
  const auto level = spdlog::level::to_string_view(msg.level);
  Append(dest, std::string_view(level.data(), level.size()));
  Append(dest, "\",\"msg\":\"");
  AppendEscaped(dest, std::string_view(msg.payload.data(), msg.payload.size()));
  Append(dest, "\"}\n");
}

}  // namespace errand::server
