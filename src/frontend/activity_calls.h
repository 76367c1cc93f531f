// Internal to the frontend: what the activity service's RPC families share.
// Each family registers its methods from its own file:
//   activity_client_calls.cc      start, describe, poll result, cancel,
//                                 terminate, delete
//   activity_worker_calls.cc      task queue polls, heartbeats, responds
//   activity_visibility_calls.cc  List and Count
//   activity_operator_calls.cc    pause, unpause, reset, update options
//   batch_calls.cc                batch operations
//   task_queue_calls.cc           UpdateTaskQueueConfig, DescribeTaskQueue
#ifndef ERRAND_FRONTEND_ACTIVITY_CALLS_H_
#define ERRAND_FRONTEND_ACTIVITY_CALLS_H_

#include "errand/frontend/activity_handler.h"

namespace errand::frontend {

void RegisterClientCalls(ServiceTable& table, const ActivityServiceDeps& deps);
void RegisterWorkerCalls(ServiceTable& table, const ActivityServiceDeps& deps);
void RegisterVisibilityCalls(ServiceTable& table,
                             const ActivityServiceDeps& deps);
void RegisterTaskQueueCalls(ServiceTable& table,
                            const ActivityServiceDeps& deps);
void RegisterOperatorCalls(ServiceTable& table,
                           const ActivityServiceDeps& deps);
void RegisterBatchCalls(ServiceTable& table, const ActivityServiceDeps& deps);

template <typename Req>
absl::StatusOr<store::NamespaceRecord> Namespace(
    const ActivityServiceDeps& deps, const Req& req) {
  return deps.namespaces->Get(req.namespace_());
}

// Finishes `call` with the engine's error, or OK after `fill` shaped the
// response from the record.
template <typename Fill>
engine::Reply<engine::RecordSnapshot> Answer(UnaryCall* call, Fill fill) {
  return [call, fill](absl::StatusOr<engine::RecordSnapshot> record) {
    if (!record.ok()) return call->Finish(record.status());
    fill(**record);
    call->Finish(absl::OkStatus());
  };
}

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_ACTIVITY_CALLS_H_
