// The run records and the current-run pointers (the executions and
// current_runs tables) behind calls that name runs by their IDs. The engine
// owns what a record holds (its state machine); this owns where records and
// pointers are stored and how they are found (store/keys.h), so the engine
// knows no key format. It is the first of the typed tables of
// docs/cluster.md (§1.3, ExecutionTable), which a second store implements.
#ifndef ERRAND_STORE_EXECUTIONS_H_
#define ERRAND_STORE_EXECUTIONS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "errand/store/activity_record.h"
#include "errand/store/store.h"

namespace errand::store {

class Executions {
 public:
  explicit Executions(Store* store) : store_(store) {}

  // The activity's current run ID; nullopt when it has none.
  absl::StatusOr<std::optional<std::string>> CurrentRun(
      absl::string_view namespace_id, absl::string_view activity_id) const;
  // The run's record, serialized; nullopt when there is none.
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view namespace_id, absl::string_view activity_id,
      absl::string_view run_id) const;
  // Calls `visit` with every stored record, serialized, until it returns
  // false.
  absl::Status ScanAll(
      const std::function<bool(absl::string_view serialized)>& visit) const;

  // Adds to `batch`: the record of `record`'s run, stored as `serialized`.
  void Put(Batch& batch, const ActivityRecord& record,
           absl::string_view serialized) const;
  // Adds to `batch`: the deletion of the run's record.
  void Delete(Batch& batch, const ActivityRecord& record) const;
  // Adds to `batch`: the activity's current run becomes `run_id`; empty
  // removes the pointer.
  void SetCurrentRun(Batch& batch, absl::string_view namespace_id,
                     absl::string_view activity_id,
                     absl::string_view run_id) const;

 private:
  Store* const store_;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_EXECUTIONS_H_
