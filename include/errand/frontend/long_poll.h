// How long the frontend's long polls wait, defined once: task queue polls
// (activity and workflow tasks), PollActivityExecution and long-poll
// Describe.
#ifndef ERRAND_FRONTEND_LONG_POLL_H_
#define ERRAND_FRONTEND_LONG_POLL_H_

#include <algorithm>

#include "absl/time/time.h"

namespace errand::frontend {

// A task queue poll answers at the latest this long after it arrives ...
inline constexpr absl::Duration kMaxTaskPollWait = absl::Seconds(60);
// ... PollActivityExecution and long-poll Describe this long ...
inline constexpr absl::Duration kMaxResultPollWait = absl::Seconds(20);
// ... and every long poll at least this long before the caller's deadline,
// so that the empty answer reaches the caller before it gives up.
inline constexpr absl::Duration kPollDeadlineMargin = absl::Seconds(1);
// A task queue poll must leave at least this much time before its deadline.
inline constexpr absl::Duration kMinTaskPollTimeout = absl::Seconds(2);

// When a long poll that arrived at `now` with `deadline` must answer.
inline absl::Time LongPollExpiry(absl::Time now, absl::Time deadline,
                                 absl::Duration max_wait) {
  return std::max(now,
                  std::min(now + max_wait, deadline - kPollDeadlineMargin));
}

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_LONG_POLL_H_
