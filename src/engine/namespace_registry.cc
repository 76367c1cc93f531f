#include "errand/engine/namespace_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/errors.h"
#include "errand/common/uuid.h"
#include "errand/store/config_tables.h"

namespace errand::engine {

absl::Status ValidateNamespaceName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("Namespace is empty.");
  if (name.size() > kMaxIdLength) {
    return absl::InvalidArgumentError("Namespace length exceeds limit.");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NamespaceRegistry>> NamespaceRegistry::Load(
    store::Store* store, const Clock* clock) {
  std::unique_ptr<NamespaceRegistry> registry(
      new NamespaceRegistry(store, clock));
  auto loaded = std::make_shared<Snapshot>();
  absl::Status scan =
      store::Namespaces(store).ScanAll([&](NamespaceRecord record) {
        std::string name = record.name();
        loaded->by_name.emplace(std::move(name), std::move(record));
      });
  if (!scan.ok()) return scan;
  absl::MutexLock lock(&registry->snapshot_mu_);
  registry->snapshot_ = std::move(loaded);
  return registry;
}

std::shared_ptr<const NamespaceRegistry::Snapshot> NamespaceRegistry::Current()
    const {
  absl::MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

void NamespaceRegistry::Publish(const NamespaceRecord& record) {
  // Only writers replace the snapshot, one at a time (write_mu_), so the
  // copy starts from the latest one.
  auto next = std::make_shared<Snapshot>(*Current());
  next->by_name.insert_or_assign(record.name(), record);
  std::shared_ptr<const Snapshot> published = std::move(next);
  absl::MutexLock lock(&snapshot_mu_);
  snapshot_.swap(published);
  // The old snapshot is released after the lock, by its last reader.
}

absl::Status NamespaceRegistry::Persist(const NamespaceRecord& record) {
  store::Batch batch = store_->NewBatch();
  store::Namespaces(store_).Put(batch, record);
  return store_->Write(batch);
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::Register(
    const NamespaceSpec& spec) {
  if (absl::Status s = ValidateNamespaceName(spec.name); !s.ok()) return s;
  if (spec.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "A valid retention period is not set on request.");
  }
  NamespaceRecord record;
  record.set_id(NewUuid());
  record.set_name(spec.name);
  record.set_description(spec.description);
  record.set_owner_email(spec.owner_email);
  record.mutable_data()->insert(spec.data.begin(), spec.data.end());
  const absl::Duration retention = spec.retention == absl::ZeroDuration()
                                       ? kDefaultRetention
                                       : spec.retention;
  *record.mutable_retention() = store::ToProtoDuration(retention);
  *record.mutable_create_time() = store::ToProtoTime(clock_->Now());
  *record.mutable_update_time() = record.create_time();

  absl::MutexLock lock(&write_mu_);
  if (Current()->by_name.contains(spec.name)) {
    return NamespaceAlreadyExistsError(spec.name);
  }
  if (absl::Status s = Persist(record); !s.ok()) return s;
  Publish(record);
  return record;
}

absl::Status NamespaceRegistry::EnsureRegistered(const NamespaceSpec& spec) {
  auto registered = Register(spec);
  if (registered.ok() || absl::IsAlreadyExists(registered.status())) {
    return absl::OkStatus();
  }
  return registered.status();
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::Get(
    absl::string_view name) const {
  if (absl::Status s = ValidateNamespaceName(name); !s.ok()) return s;
  const auto snapshot = Current();
  auto it = snapshot->by_name.find(name);
  if (it == snapshot->by_name.end()) return NamespaceNotFoundError(name);
  return it->second;
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::GetById(
    absl::string_view id) const {
  const auto snapshot = Current();
  for (const auto& [name, record] : snapshot->by_name) {
    if (record.id() == id) return record;
  }
  return NamespaceNotFoundError(id);
}

std::vector<NamespaceRecord> NamespaceRegistry::List() const {
  const auto snapshot = Current();
  std::vector<NamespaceRecord> out;
  out.reserve(snapshot->by_name.size());
  for (const auto& [name, record] : snapshot->by_name) out.push_back(record);
  return out;
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::Update(
    absl::string_view name,
    absl::FunctionRef<absl::Status(NamespaceRecord&)> mutate) {
  if (absl::Status s = ValidateNamespaceName(name); !s.ok()) return s;
  absl::MutexLock lock(&write_mu_);
  const auto snapshot = Current();
  auto it = snapshot->by_name.find(name);
  if (it == snapshot->by_name.end()) return NamespaceNotFoundError(name);
  NamespaceRecord updated = it->second;
  if (absl::Status s = mutate(updated); !s.ok()) return s;
  updated.set_id(it->second.id());
  updated.set_name(it->second.name());
  *updated.mutable_update_time() = store::ToProtoTime(clock_->Now());
  if (absl::Status s = Persist(updated); !s.ok()) return s;
  Publish(updated);
  return updated;
}

}  // namespace errand::engine
