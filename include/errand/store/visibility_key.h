// Keys of the visibility table. They sort in the order List returns
// executions, so a page is a range scan and a page token is the last key:
//   <namespace_id> \0 <0 running | 1 closed> <~close time> <~start time> <run
//   id>
// Running executions come first, then closed ones by close time, newest
// first; ties go by start time, newest first, then run ID.
#ifndef ERRAND_STORE_VISIBILITY_KEY_H_
#define ERRAND_STORE_VISIBILITY_KEY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// Secondary index entries, one per indexed attribute of a row:
//   <namespace_id> \0 <attribute> \0 <value> \0 <the row's key without its
//   namespace prefix>
// so that the entries for one value sort in List order too. Values holding a
// NUL byte are not indexed (queries on them scan instead).
inline constexpr const char* kIndexedAttributes[] = {
    "TaskQueue", "ActivityType", "ExecutionStatus"};

inline bool Indexable(absl::string_view value) {
  return value.find('\0') == absl::string_view::npos;
}

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

// (attribute, value) for each indexed attribute of `row`.
inline std::vector<std::pair<const char*, std::string>> IndexedValues(
    const temporal::api::activity::v1::ActivityExecutionListInfo& row) {
  return {{"TaskQueue", row.task_queue()},
          {"ActivityType", row.activity_type().name()},
          {"ExecutionStatus", ExecutionStatusName(row.status())}};
}

}  // namespace errand::store

#endif  // ERRAND_STORE_VISIBILITY_KEY_H_
