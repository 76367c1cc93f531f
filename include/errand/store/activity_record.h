#ifndef ERRAND_STORE_ACTIVITY_RECORD_H_
#define ERRAND_STORE_ACTIVITY_RECORD_H_

#include "errand/store/records.h"
#include "errand/store/v1/activity.pb.h"

namespace errand::store {

using ActivityRecord = errand::store::v1::ActivityRecord;
using ActivityStatus = errand::store::v1::ActivityStatus;
using TaskToken = errand::store::v1::TaskToken;
using LongPollToken = errand::store::v1::LongPollToken;

// Status mappings and names, defined once.

// The name of a stored status, as Temporal's server prints it in transition
// errors ("invalid transition from Terminated").
inline const char* StatusName(ActivityStatus status) {
  switch (status) {
    case v1::ACTIVITY_STATUS_SCHEDULED:
      return "Scheduled";
    case v1::ACTIVITY_STATUS_STARTED:
      return "Started";
    case v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      return "CancelRequested";
    case v1::ACTIVITY_STATUS_COMPLETED:
      return "Completed";
    case v1::ACTIVITY_STATUS_FAILED:
      return "Failed";
    case v1::ACTIVITY_STATUS_CANCELED:
      return "Canceled";
    case v1::ACTIVITY_STATUS_TERMINATED:
      return "Terminated";
    case v1::ACTIVITY_STATUS_TIMED_OUT:
      return "TimedOut";
    case v1::ACTIVITY_STATUS_PAUSED:
      return "Paused";
    case v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
      return "PauseRequested";
    case v1::ACTIVITY_STATUS_RESET_REQUESTED:
      return "ResetRequested";
    default:
      return "Unspecified";
  }
}

// The name of a public status: the ExecutionStatus search attribute's value
// (queries, GROUP BY, the visibility index).
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

// The public status clients see for a stored status: the open statuses are
// all RUNNING except PAUSED (a pause requested of a running attempt is
// RUNNING until the attempt ends).
inline temporal::api::enums::v1::ActivityExecutionStatus ApiStatus(
    ActivityStatus status) {
  namespace enums = temporal::api::enums::v1;
  switch (status) {
    case v1::ACTIVITY_STATUS_SCHEDULED:
    case v1::ACTIVITY_STATUS_STARTED:
    case v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
    case v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
    case v1::ACTIVITY_STATUS_RESET_REQUESTED:
      return enums::ACTIVITY_EXECUTION_STATUS_RUNNING;
    case v1::ACTIVITY_STATUS_PAUSED:
      return enums::ACTIVITY_EXECUTION_STATUS_PAUSED;
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

// Whether a public status is a closed one: everything but RUNNING and PAUSED
// (a paused run is open: it has no close time and may still run).
inline bool IsClosedApiStatus(
    temporal::api::enums::v1::ActivityExecutionStatus status) {
  namespace enums = temporal::api::enums::v1;
  return status != enums::ACTIVITY_EXECUTION_STATUS_RUNNING &&
         status != enums::ACTIVITY_EXECUTION_STATUS_PAUSED;
}

}  // namespace errand::store

#endif  // ERRAND_STORE_ACTIVITY_RECORD_H_
