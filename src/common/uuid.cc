#include "errand/common/uuid.h"

#include <array>
#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"

namespace errand {

std::string NewUuid() {
  // absl::BitGen is seeded from the OS and not thread-safe; one per thread.
  thread_local absl::BitGen gen;
  std::array<uint8_t, 16> bytes;
  for (auto& b : bytes) b = absl::Uniform<uint8_t>(gen);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0f]);
  }
  return out;
}

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !absl::ascii_isxdigit(text[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace errand
