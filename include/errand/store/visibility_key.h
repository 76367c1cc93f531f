// Keys of the visibility table. They sort in the order List returns
// executions, so a page is a range scan and a page token is the last key:
//   <namespace_id> \0 <0 running | 1 closed> <~close time> <~start time> <run
//   id>
// Running executions come first, then closed ones by close time, newest
// first; ties go by start time, newest first, then run ID.
#ifndef ERRAND_STORE_VISIBILITY_KEY_H_
#define ERRAND_STORE_VISIBILITY_KEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "temporal/api/activity/v1/message.pb.h"

namespace errand::store {

inline void AppendDescending(std::string& key, absl::Time t) {
  // Big-endian bitwise complement: later times sort first.
  const uint64_t v = ~static_cast<uint64_t>(absl::ToUnixNanos(t));
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

inline std::string VisibilityPrefix(absl::string_view namespace_id) {
  return absl::StrCat(namespace_id, absl::string_view("\0", 1));
}

inline std::string VisibilityKey(absl::string_view namespace_id, bool closed,
                                 absl::Time close_time, absl::Time start_time,
                                 absl::string_view run_id) {
  std::string key = VisibilityPrefix(namespace_id);
  key.push_back(closed ? '1' : '0');
  AppendDescending(key, closed ? close_time : absl::UnixEpoch());
  AppendDescending(key, start_time);
  key.append(run_id.data(), run_id.size());
  return key;
}

// The ExecutionStatus search attribute's value for a public status.
inline const char* ExecutionStatusName(
    temporal::api::enums::v1::ActivityExecutionStatus status) {
  namespace enums = temporal::api::enums::v1;
  switch (status) {
    case enums::ACTIVITY_EXECUTION_STATUS_RUNNING:
      return "Running";
    case enums::ACTIVITY_EXECUTION_STATUS_COMPLETED:
      return "Completed";
    case enums::ACTIVITY_EXECUTION_STATUS_FAILED:
      return "Failed";
    case enums::ACTIVITY_EXECUTION_STATUS_CANCELED:
      return "Canceled";
    case enums::ACTIVITY_EXECUTION_STATUS_TERMINATED:
      return "Terminated";
    case enums::ACTIVITY_EXECUTION_STATUS_TIMED_OUT:
      return "TimedOut";
    case enums::ACTIVITY_EXECUTION_STATUS_PAUSED:
      return "Paused";
    default:
      return "Unspecified";
  }
}

// Secondary index entries, one per indexed attribute of a row
// (visibility/writer.h decides which):
//   <namespace_id> \0 <attribute> \0 <value> \0 <the row's key without its
//   namespace prefix>
// so that the entries for one value sort in List order too.

inline std::string IndexPrefix(absl::string_view namespace_id,
                               absl::string_view attribute,
                               absl::string_view value) {
  const absl::string_view nul("\0", 1);
  return absl::StrCat(namespace_id, nul, attribute, nul, value, nul);
}

// The index entry for the row at `visibility_key`.
inline std::string IndexKey(absl::string_view namespace_id,
                            absl::string_view attribute,
                            absl::string_view value,
                            absl::string_view visibility_key) {
  return absl::StrCat(
      IndexPrefix(namespace_id, attribute, value),
      visibility_key.substr(VisibilityPrefix(namespace_id).size()));
}

// Time indexes serve range predicates. Their entries sort by time, oldest
// first, not in List order:
//   <namespace_id> \0 <attribute> \0 \0 <8-byte time> <the row's key without
//   its namespace prefix>
// The empty value keeps them apart from the equality entries above.

inline std::string TimeIndexPrefix(absl::string_view namespace_id,
                                   absl::string_view attribute) {
  return IndexPrefix(namespace_id, attribute, "");
}

// The 8 bytes for `unix_nanos` in a time index key: big-endian with the sign
// bit flipped, so that byte order is time order, before 1970 included.
inline std::string TimeIndexBytes(int64_t unix_nanos) {
  const uint64_t v = static_cast<uint64_t>(unix_nanos) ^ (uint64_t{1} << 63);
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

inline constexpr size_t kTimeIndexBytes = 8;

// The time index entry of attribute `attribute` at time `t` for the row at
// `visibility_key`.
std::string TimeIndexKey(absl::string_view namespace_id,
                         absl::string_view attribute, absl::Time t,
                         absl::string_view visibility_key);

// A time index entry, decoded: the time and the visibility row it points at.
struct TimeIndexEntry {
  absl::Time time;
  std::string row_key;
};

// Decodes `key`, an entry under TimeIndexPrefix(namespace_id, attribute);
// nullopt when it is not one.
std::optional<TimeIndexEntry> ParseTimeIndexKey(absl::string_view namespace_id,
                                                absl::string_view attribute,
                                                absl::string_view key);

// A bound for Store::Scan's `after`: the scan then starts at the first entry
// of time `t` or later (entries are longer than this key).
std::string TimeIndexSeekKey(absl::string_view namespace_id,
                             absl::string_view attribute, absl::Time t);

// The run ID at the end of a visibility row key; empty if malformed.
absl::string_view RunIdOfVisibilityKey(absl::string_view namespace_id,
                                       absl::string_view row_key);

}  // namespace errand::store

#endif  // ERRAND_STORE_VISIBILITY_KEY_H_
