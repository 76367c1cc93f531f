#include "errand/store/visibility_key.h"

#include "absl/strings/match.h"

namespace errand::store {

std::string TimeIndexKey(absl::string_view namespace_id,
                         absl::string_view attribute, absl::Time t,
                         absl::string_view visibility_key) {
  return absl::StrCat(
      TimeIndexPrefix(namespace_id, attribute),
      TimeIndexBytes(absl::ToUnixNanos(t)),
      visibility_key.substr(VisibilityPrefix(namespace_id).size()));
}

std::optional<TimeIndexEntry> ParseTimeIndexKey(absl::string_view namespace_id,
                                                absl::string_view attribute,
                                                absl::string_view key) {
  const std::string prefix = TimeIndexPrefix(namespace_id, attribute);
  if (!absl::StartsWith(key, prefix) ||
      key.size() < prefix.size() + kTimeIndexBytes) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < kTimeIndexBytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(key[prefix.size() + i]);
  }
  const int64_t nanos = static_cast<int64_t>(v ^ (uint64_t{1} << 63));
  return TimeIndexEntry{
      absl::FromUnixNanos(nanos),
      absl::StrCat(VisibilityPrefix(namespace_id),
                   key.substr(prefix.size() + kTimeIndexBytes))};
}

std::string TimeIndexSeekKey(absl::string_view namespace_id,
                             absl::string_view attribute, absl::Time t) {
  return absl::StrCat(TimeIndexPrefix(namespace_id, attribute),
                      TimeIndexBytes(absl::ToUnixNanos(t)));
}

absl::string_view RunIdOfVisibilityKey(absl::string_view namespace_id,
                                       absl::string_view row_key) {
  // <prefix> <open/closed byte> <8-byte close time> <8-byte start time> <run>
  const size_t run_at = VisibilityPrefix(namespace_id).size() + 1 + 16;
  if (row_key.size() <= run_at) return {};
  return row_key.substr(run_at);
}

}  // namespace errand::store
