#include "errand/store/executions.h"

#include "errand/store/keys.h"

namespace errand::store {

absl::StatusOr<std::optional<std::string>> Executions::CurrentRun(
    absl::string_view namespace_id, absl::string_view activity_id) const {
  return store_->Get(Table::kCurrentRuns,
                     CurrentRunKey(namespace_id, activity_id));
}

absl::StatusOr<std::optional<std::string>> Executions::Get(
    absl::string_view namespace_id, absl::string_view activity_id,
    absl::string_view run_id) const {
  return store_->Get(Table::kExecutions,
                     ExecutionKey(namespace_id, activity_id, run_id));
}

absl::Status Executions::ScanAll(
    const std::function<bool(absl::string_view serialized)>& visit) const {
  return store_->Scan(
      Table::kExecutions, "",
      [&](absl::string_view, absl::string_view value) { return visit(value); });
}

void Executions::Put(Batch& batch, const ActivityRecord& record,
                     absl::string_view serialized) const {
  batch.Put(Table::kExecutions,
            ExecutionKey(record.namespace_id(), record.activity_id(),
                         record.run_id()),
            serialized);
}

void Executions::Delete(Batch& batch, const ActivityRecord& record) const {
  batch.Delete(Table::kExecutions,
               ExecutionKey(record.namespace_id(), record.activity_id(),
                            record.run_id()));
}

void Executions::SetCurrentRun(Batch& batch, absl::string_view namespace_id,
                               absl::string_view activity_id,
                               absl::string_view run_id) const {
  const std::string key = CurrentRunKey(namespace_id, activity_id);
  if (run_id.empty()) {
    batch.Delete(Table::kCurrentRuns, key);
  } else {
    batch.Put(Table::kCurrentRuns, key, run_id);
  }
}

}  // namespace errand::store
