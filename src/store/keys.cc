#include "errand/store/keys.h"

#include "absl/strings/match.h"

namespace errand::store {
namespace {

constexpr absl::string_view kNul("\0", 1);

// <open/closed byte> <close time> <start time> after the namespace prefix.
constexpr size_t kRowTimesBytes = 1 + 2 * kTimeBytes;

}  // namespace

absl::Time TimeFromBytes(absl::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return absl::FromUnixNanos(static_cast<int64_t>(v ^ (uint64_t{1} << 63)));
}

std::string ExecutionKey(absl::string_view namespace_id,
                         absl::string_view activity_id,
                         absl::string_view run_id) {
  return absl::StrCat(namespace_id, kNul, activity_id, kNul, run_id);
}

std::string CurrentRunKey(absl::string_view namespace_id,
                          absl::string_view activity_id) {
  return absl::StrCat(namespace_id, kNul, activity_id);
}

std::string TaskQueueKey(absl::string_view namespace_id, int type,
                         absl::string_view task_queue) {
  std::string key = absl::StrCat(namespace_id, kNul);
  key.push_back(static_cast<char>(type));
  key.append(task_queue.data(), task_queue.size());
  return key;
}

namespace {

std::string BatchKey(absl::string_view namespace_id, char kind,
                     absl::string_view job_id) {
  std::string key = absl::StrCat(namespace_id, kNul);
  key.push_back(kind);
  key.append(job_id.data(), job_id.size());
  return key;
}

}  // namespace

std::string BatchProgressKey(absl::string_view namespace_id,
                             absl::string_view job_id) {
  return BatchKey(namespace_id, 'J', job_id);
}

std::string BatchSpecKey(absl::string_view namespace_id,
                         absl::string_view job_id) {
  return BatchKey(namespace_id, 'S', job_id);
}

std::string BatchJobPrefix(absl::string_view namespace_id) {
  return BatchKey(namespace_id, 'J', "");
}

std::string BatchItemPrefix(absl::string_view namespace_id,
                            absl::string_view job_id) {
  return absl::StrCat(BatchKey(namespace_id, 'I', job_id), kNul);
}

std::string BatchItemKey(absl::string_view namespace_id,
                         absl::string_view job_id, int64_t item) {
  std::string key = BatchItemPrefix(namespace_id, job_id);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((static_cast<uint64_t>(item) >> shift)));
  }
  return key;
}

std::string VisibilityKey(absl::string_view namespace_id, bool closed,
                          absl::Time close_time, absl::Time start_time,
                          absl::string_view run_id) {
  std::string key = VisibilityPrefix(namespace_id);
  key.push_back(closed ? '1' : '0');
  AppendTimeDescending(key, closed ? close_time : absl::UnixEpoch());
  AppendTimeDescending(key, start_time);
  key.append(run_id.data(), run_id.size());
  return key;
}

absl::string_view RunIdOfVisibilityKey(absl::string_view namespace_id,
                                       absl::string_view row_key) {
  const size_t run_at = VisibilityPrefix(namespace_id).size() + kRowTimesBytes;
  if (row_key.size() <= run_at) return {};
  return row_key.substr(run_at);
}

std::string IndexKey(absl::string_view namespace_id,
                     absl::string_view attribute, absl::string_view value,
                     absl::string_view visibility_key) {
  return absl::StrCat(
      IndexPrefix(namespace_id, attribute, value),
      visibility_key.substr(VisibilityPrefix(namespace_id).size()));
}

std::string TimeIndexKey(absl::string_view namespace_id,
                         absl::string_view attribute, absl::Time t,
                         absl::string_view visibility_key) {
  return absl::StrCat(
      TimeIndexPrefix(namespace_id, attribute), TimeBytes(t),
      visibility_key.substr(VisibilityPrefix(namespace_id).size()));
}

std::optional<TimeIndexEntry> ParseTimeIndexKey(absl::string_view namespace_id,
                                                absl::string_view attribute,
                                                absl::string_view key) {
  const std::string prefix = TimeIndexPrefix(namespace_id, attribute);
  if (!absl::StartsWith(key, prefix) ||
      key.size() < prefix.size() + kTimeBytes) {
    return std::nullopt;
  }
  return TimeIndexEntry{TimeFromBytes(key.substr(prefix.size())),
                        absl::StrCat(VisibilityPrefix(namespace_id),
                                     key.substr(prefix.size() + kTimeBytes))};
}

std::string EncodeCount(int64_t count) {
  const auto v = static_cast<uint64_t>(count);
  std::string out(kCountBytes, '\0');
  for (size_t i = 0; i < kCountBytes; ++i) {
    out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return out;
}

std::optional<int64_t> DecodeCount(absl::string_view bytes) {
  if (bytes.size() != kCountBytes) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < kCountBytes; ++i) {
    v |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  }
  return static_cast<int64_t>(v);
}

std::string TimeIndexSeekKey(absl::string_view namespace_id,
                             absl::string_view attribute, absl::Time t) {
  return absl::StrCat(TimeIndexPrefix(namespace_id, attribute), TimeBytes(t));
}

}  // namespace errand::store
