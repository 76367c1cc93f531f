#ifndef ERRAND_COMMON_JITTER_H_
#define ERRAND_COMMON_JITTER_H_

#include "absl/time/time.h"

namespace errand {

// A random duration in [0, max), zero when max is not positive: the jitter
// that spreads the dispatches of unpaused or reset activities.
absl::Duration RandomJitter(absl::Duration max);

}  // namespace errand

#endif  // ERRAND_COMMON_JITTER_H_
