#include "errand/frontend/activity_handler.h"

#include "activity_calls.h"

namespace errand::frontend {

void RegisterActivityService(ServiceTable& table,
                             const ActivityServiceDeps& deps) {
  RegisterClientCalls(table, deps);
  RegisterWorkerCalls(table, deps);
  RegisterVisibilityCalls(table, deps);
  RegisterTaskQueueCalls(table, deps);
  RegisterOperatorCalls(table, deps);
  RegisterBatchCalls(table, deps);
}

}  // namespace errand::frontend
