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

struct WorkflowServiceDeps {
  ServerIdentity identity;
  engine::NamespaceRegistry* namespaces = nullptr;
};

// Installs the served WorkflowService methods into `table`.
void RegisterWorkflowService(ServiceTable& table,
                             const WorkflowServiceDeps& deps);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_WORKFLOW_HANDLER_H_
