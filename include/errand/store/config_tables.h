// The namespaces and task_queues tables: small, read whole at start and
// written one record at a time, behind calls that take and give records.
// Their owners (engine/namespace_registry, matching/task_queue_configs)
// decide what a record holds; these decide where it is stored (keys.h), so
// the owners know no key format. Two of the typed tables of
// docs/cluster.md (§1.3, NamespaceTable and TaskQueueTable).
#ifndef ERRAND_STORE_CONFIG_TABLES_H_
#define ERRAND_STORE_CONFIG_TABLES_H_

#include <functional>

#include "absl/status/status.h"
#include "errand/store/records.h"
#include "errand/store/store.h"

namespace errand::store {

class Namespaces {
 public:
  explicit Namespaces(Store* store) : store_(store) {}
  // Calls `visit` with every namespace; DATA_LOSS at the first record that
  // does not parse.
  absl::Status ScanAll(
      const std::function<void(NamespaceRecord record)>& visit) const;
  // Adds to `batch`: `record`, replacing the namespace of its name.
  void Put(Batch& batch, const NamespaceRecord& record) const;

 private:
  Store* const store_;
};

class TaskQueues {
 public:
  explicit TaskQueues(Store* store) : store_(store) {}
  // Calls `visit` with every task queue config; DATA_LOSS at the first
  // record that does not parse.
  absl::Status ScanAll(
      const std::function<void(TaskQueueRecord record)>& visit) const;
  // Adds to `batch`: `record`, replacing the config of its (namespace, type,
  // name).
  void Put(Batch& batch, const TaskQueueRecord& record) const;

 private:
  Store* const store_;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_CONFIG_TABLES_H_
