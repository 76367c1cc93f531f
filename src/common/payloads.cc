#include "errand/common/payloads.h"

#include <cstdio>
#include <string>

namespace errand {

temporal::api::common::v1::Payload JsonStringPayload(absl::string_view text) {
  std::string json = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        json += "\\\"";
        break;
      case '\\':
        json += "\\\\";
        break;
      case '\n':
        json += "\\n";
        break;
      case '\r':
        json += "\\r";
        break;
      case '\t':
        json += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          json += buf;
        } else {
          json += c;
        }
    }
  }
  json += '"';
  temporal::api::common::v1::Payload payload;
  (*payload.mutable_metadata())["encoding"] = "json/plain";
  payload.set_data(std::move(json));
  return payload;
}

size_t PayloadsSize(const temporal::api::common::v1::Payloads& payloads) {
  size_t total = 0;
  for (const auto& p : payloads.payloads()) {
    total += p.data().size();
    for (const auto& [k, v] : p.metadata()) total += k.size() + v.size();
  }
  return total;
}

}  // namespace errand
