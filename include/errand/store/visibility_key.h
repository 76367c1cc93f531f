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

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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

}  // namespace errand::store

#endif  // ERRAND_STORE_VISIBILITY_KEY_H_
