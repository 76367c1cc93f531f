#include "errand/engine/namespace_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/errors.h"
#include "errand/common/uuid.h"

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
  absl::Status parse_error;
  absl::MutexLock lock(&registry->mu_);
  absl::Status scan = store->Scan(
      store::Table::kNamespaces, "",
      [&](absl::string_view key, absl::string_view value) {
        NamespaceRecord record;
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError(
              absl::StrCat("namespace record ", key, " is corrupt"));
          return false;
        }
        registry->by_name_.emplace(record.name(), std::move(record));
        return true;
      });
  if (!scan.ok()) return scan;
  if (!parse_error.ok()) return parse_error;
  return registry;
}

absl::Status NamespaceRegistry::Persist(const NamespaceRecord& record) {
  store::Batch batch = store_->NewBatch();
  batch.Put(store::Table::kNamespaces, record.name(),
            record.SerializeAsString());
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

  absl::MutexLock lock(&mu_);
  if (by_name_.contains(spec.name))
    return NamespaceAlreadyExistsError(spec.name);
  if (absl::Status s = Persist(record); !s.ok()) return s;
  by_name_.emplace(record.name(), record);
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
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return NamespaceNotFoundError(name);
  return it->second;
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::GetById(
    absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, record] : by_name_) {
    if (record.id() == id) return record;
  }
  return NamespaceNotFoundError(id);
}

std::vector<NamespaceRecord> NamespaceRegistry::List() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<NamespaceRecord> out;
  out.reserve(by_name_.size());
  for (const auto& [name, record] : by_name_) out.push_back(record);
  return out;
}

absl::StatusOr<NamespaceRecord> NamespaceRegistry::Update(
    absl::string_view name,
    absl::FunctionRef<absl::Status(NamespaceRecord&)> mutate) {
  if (absl::Status s = ValidateNamespaceName(name); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return NamespaceNotFoundError(name);
  NamespaceRecord updated = it->second;
  if (absl::Status s = mutate(updated); !s.ok()) return s;
  updated.set_id(it->second.id());
  updated.set_name(it->second.name());
  *updated.mutable_update_time() = store::ToProtoTime(clock_->Now());
  if (absl::Status s = Persist(updated); !s.ok()) return s;
  it->second = updated;
  return updated;
}

}  // namespace errand::engine
