#ifndef ERRAND_STORE_ACTIVITY_RECORD_H_
#define ERRAND_STORE_ACTIVITY_RECORD_H_

#include "errand/store/records.h"
#include "errand/store/v1/activity.pb.h"

namespace errand::store {

using ActivityRecord = errand::store::v1::ActivityRecord;
using ActivityStatus = errand::store::v1::ActivityStatus;
using TaskToken = errand::store::v1::TaskToken;
using LongPollToken = errand::store::v1::LongPollToken;

// The public status clients see for a stored status: the three open
// statuses (scheduled, started, cancel requested) are all RUNNING.
inline temporal::api::enums::v1::ActivityExecutionStatus ApiStatus(
    ActivityStatus status) {
  namespace enums = temporal::api::enums::v1;
  switch (status) {
    case v1::ACTIVITY_STATUS_SCHEDULED:
    case v1::ACTIVITY_STATUS_STARTED:
    case v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      return enums::ACTIVITY_EXECUTION_STATUS_RUNNING;
    case v1::ACTIVITY_STATUS_COMPLETED:
      return enums::ACTIVITY_EXECUTION_STATUS_COMPLETED;
    case v1::ACTIVITY_STATUS_FAILED:
      return enums::ACTIVITY_EXECUTION_STATUS_FAILED;
    case v1::ACTIVITY_STATUS_CANCELED:
      return enums::ACTIVITY_EXECUTION_STATUS_CANCELED;
    case v1::ACTIVITY_STATUS_TERMINATED:
      return enums::ACTIVITY_EXECUTION_STATUS_TERMINATED;
    case v1::ACTIVITY_STATUS_TIMED_OUT:
      return enums::ACTIVITY_EXECUTION_STATUS_TIMED_OUT;
    default:
      return enums::ACTIVITY_EXECUTION_STATUS_UNSPECIFIED;
  }
}

}  // namespace errand::store

#endif  // ERRAND_STORE_ACTIVITY_RECORD_H_
