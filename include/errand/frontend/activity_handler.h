// The standalone-activity RPCs of the WorkflowService: client calls (start,
// describe, wait for the result, cancel, terminate, delete) and worker calls
// (poll, heartbeat, respond, by token or by ID).
#ifndef ERRAND_FRONTEND_ACTIVITY_HANDLER_H_
#define ERRAND_FRONTEND_ACTIVITY_HANDLER_H_

#include "errand/common/clock.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/namespace_registry.h"
#include "errand/frontend/service_table.h"
#include "errand/matching/matcher.h"
#include "errand/store/store.h"
#include "errand/visibility/lister.h"

namespace errand::frontend {

// PollActivityExecution and long-poll Describe answer empty after this long.
inline constexpr absl::Duration kMaxResultPollWait = absl::Seconds(20);
// A task poll must leave at least this much time before its deadline.
inline constexpr absl::Duration kMinTaskPollTimeout = absl::Seconds(2);

struct ActivityServiceDeps {
  engine::NamespaceRegistry* namespaces = nullptr;
  engine::ActivityEngine* engine = nullptr;
  matching::Matcher* matcher = nullptr;
  const visibility::Lister* lister = nullptr;
  const Clock* clock = nullptr;
  // Starts are refused while the store is below its free-space floor.
  const store::Store* store = nullptr;
};

void RegisterActivityService(ServiceTable& table,
                             const ActivityServiceDeps& deps);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_ACTIVITY_HANDLER_H_
