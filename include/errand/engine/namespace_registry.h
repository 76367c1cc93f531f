// Namespaces: registered, described, listed and updated through the
// WorkflowService, persisted in the store's namespaces table and cached in
// memory. Every request looks its namespace up; changes are rare and each
// one waits for a synced write. So readers never share a lock with writers:
// they read an immutable snapshot, and a writer persists its change first
// and then publishes a new snapshot.
#ifndef ERRAND_ENGINE_NAMESPACE_REGISTRY_H_
#define ERRAND_ENGINE_NAMESPACE_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"
#include "errand/common/limits.h"
#include "errand/store/records.h"
#include "errand/store/store.h"

namespace errand::engine {

using store::NamespaceRecord;

// Retention given to a namespace registered without one; the Temporal CLI's
// default for `operator namespace create` is the same.
inline constexpr absl::Duration kDefaultRetention = absl::Hours(72);

struct NamespaceSpec {
  std::string name;
  std::string description;
  std::string owner_email;
  std::map<std::string, std::string> data;
  // Zero means kDefaultRetention.
  absl::Duration retention = absl::ZeroDuration();
};

class NamespaceRegistry {
 public:
  // Loads every namespace from the store.
  static absl::StatusOr<std::unique_ptr<NamespaceRegistry>> Load(
      store::Store* store, const Clock* clock);

  // ALREADY_EXISTS + NamespaceAlreadyExistsFailure if the name is taken.
  absl::StatusOr<NamespaceRecord> Register(const NamespaceSpec& spec);
  // Registers `spec` unless a namespace of that name exists; used at start-up.
  absl::Status EnsureRegistered(const NamespaceSpec& spec);

  // NOT_FOUND + NamespaceNotFoundFailure for an unknown name.
  absl::StatusOr<NamespaceRecord> Get(absl::string_view name) const;
  absl::StatusOr<NamespaceRecord> GetById(absl::string_view id) const;
  std::vector<NamespaceRecord> List() const;

  // Applies `mutate` to the stored record and persists the result. The name
  // and id cannot change.
  absl::StatusOr<NamespaceRecord> Update(
      absl::string_view name,
      absl::FunctionRef<absl::Status(NamespaceRecord&)> mutate);

 private:
  // Every namespace by name, as of one moment; never changed once published.
  struct Snapshot {
    std::map<std::string, NamespaceRecord, std::less<>> by_name;
  };

  NamespaceRegistry(store::Store* store, const Clock* clock)
      : store_(store), clock_(clock) {}
  // Under write_mu_: the record written is the one the writer checked.
  absl::Status Persist(const NamespaceRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  std::shared_ptr<const Snapshot> Current() const;
  // Publishes `record` (new or changed) in a new snapshot.
  void Publish(const NamespaceRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  store::Store* const store_;
  const Clock* const clock_;
  // Serializes writers from their check to their publish, across the synced
  // store write; readers never take it.
  absl::Mutex write_mu_;
  // Held only to copy or swap the pointer, never across I/O.
  mutable absl::Mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(snapshot_mu_) =
      std::make_shared<const Snapshot>();
};

// Checks a namespace name as Temporal's frontend does.
absl::Status ValidateNamespaceName(absl::string_view name);

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_NAMESPACE_REGISTRY_H_
