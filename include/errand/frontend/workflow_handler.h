// The WorkflowService methods Errand serves. Each handler validates its
// request, calls the component that owns the data and shapes the response;
// business rules live in those components, not here.
#ifndef ERRAND_FRONTEND_WORKFLOW_HANDLER_H_
#define ERRAND_FRONTEND_WORKFLOW_HANDLER_H_

#include <string>

#include "errand/engine/namespace_registry.h"
#include "errand/frontend/service_table.h"
#include "errand/matching/matcher.h"

namespace errand::frontend {

struct ServerIdentity {
  std::string version;     // Errand's version, reported as server_version
  std::string cluster_id;  // stable across restarts (kept in the store)
  std::string cluster_name = "active";
  int shard_count = 1;
};

// Long polls answer at the latest this long after they arrive ...
inline constexpr absl::Duration kMaxTaskPollWait = absl::Seconds(60);
// ... and at least this long before the caller's deadline, so that the empty
// answer reaches the worker before it gives up on the call.
inline constexpr absl::Duration kPollDeadlineMargin = absl::Seconds(1);

struct WorkflowServiceDeps {
  ServerIdentity identity;
  engine::NamespaceRegistry* namespaces = nullptr;
};

// Installs the served WorkflowService methods into `table`.
void RegisterWorkflowService(ServiceTable& table,
                             const WorkflowServiceDeps& deps);

// When a long poll that arrived at `now` with `deadline` must answer.
absl::Time LongPollExpiry(absl::Time now, absl::Time deadline,
                          absl::Duration max_wait);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_WORKFLOW_HANDLER_H_
