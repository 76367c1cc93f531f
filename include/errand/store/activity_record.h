#ifndef ERRAND_STORE_ACTIVITY_RECORD_H_
#define ERRAND_STORE_ACTIVITY_RECORD_H_

#include "errand/store/records.h"
#include "errand/store/v1/activity.pb.h"

namespace errand::store {

using ActivityRecord = errand::store::v1::ActivityRecord;
using ActivityStatus = errand::store::v1::ActivityStatus;
using TaskToken = errand::store::v1::TaskToken;
using LongPollToken = errand::store::v1::LongPollToken;

}  // namespace errand::store

#endif  // ERRAND_STORE_ACTIVITY_RECORD_H_
