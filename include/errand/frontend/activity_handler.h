// The standalone-activity RPCs of the WorkflowService, one source file per
// family (src/frontend/activity_calls.h): client calls (start, describe, wait
// for the result, cancel, terminate, delete), worker calls (poll, heartbeat,
// respond, by token or by ID), visibility calls (List, Count), operator
// calls (pause, unpause, reset, update options) and batch operations.
#ifndef ERRAND_FRONTEND_ACTIVITY_HANDLER_H_
#define ERRAND_FRONTEND_ACTIVITY_HANDLER_H_

#include "errand/batch/batch_runner.h"
#include "errand/common/clock.h"
#include "errand/common/executor.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/namespace_registry.h"
#include "errand/frontend/empty_polls.h"
#include "errand/frontend/service_table.h"
#include "errand/matching/matcher.h"
#include "errand/matching/poller_history.h"
#include "errand/matching/task_queue_configs.h"
#include "errand/store/store.h"
#include "errand/visibility/lister.h"

namespace errand::frontend {

struct ActivityServiceDeps {
  engine::NamespaceRegistry* namespaces = nullptr;
  engine::ActivityEngine* engine = nullptr;
  matching::Matcher* matcher = nullptr;
  // Who polled which task queue lately, and the queues' configs.
  matching::PollerHistory* pollers = nullptr;
  matching::TaskQueueConfigs* task_queue_configs = nullptr;
  const visibility::Lister* lister = nullptr;
  const Clock* clock = nullptr;
  // List and Count run here, never on gRPC's threads, each within the
  // call's deadline and a row budget (visibility::ScanLimits; 0: none);
  // so do task queue config writes.
  BoundedExecutor* scan_executor = nullptr;
  int64_t list_scan_rows = 0;
  int64_t count_scan_rows = 0;
  // Workflow task polls wait here.
  EmptyPolls* empty_polls = nullptr;
  // Starts are refused while the store is below its free-space floor.
  const store::Store* store = nullptr;
  // Batch operations (StartBatchOperation and the rest).
  batch::BatchRunner* batches = nullptr;
};

void RegisterActivityService(ServiceTable& table,
                             const ActivityServiceDeps& deps);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_ACTIVITY_HANDLER_H_
