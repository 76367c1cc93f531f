// Errand's persisted record formats (proto/errand/store/v1/records.proto) and
// the conversions between protobuf time types and absl time.
#ifndef ERRAND_STORE_RECORDS_H_
#define ERRAND_STORE_RECORDS_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"
#include "errand/store/v1/records.pb.h"

namespace errand::store {

using NamespaceRecord = errand::store::v1::NamespaceRecord;
using TaskQueueRecord = errand::store::v1::TaskQueueRecord;
using RateLimitSetting = errand::store::v1::RateLimitSetting;

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t nanos = absl::ToUnixNanos(t);
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

inline absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

inline google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

inline absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace errand::store

#endif  // ERRAND_STORE_RECORDS_H_
