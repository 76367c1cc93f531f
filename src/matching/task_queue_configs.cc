#include "errand/matching/task_queue_configs.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/store/config_tables.h"

namespace errand::matching {
namespace {

// Temporal stamps updates with a hybrid logical clock: millisecond
// precision, never earlier than the previous stamp.
absl::Time UpdateTime(absl::Time now, const store::TaskQueueRecord& record) {
  absl::Time t = absl::FromUnixMillis(absl::ToUnixMillis(now));
  for (const auto* setting : {&record.queue_rate_limit(),
                              &record.fairness_key_rate_limit_default()}) {
    if (setting->has_update_time()) {
      t = std::max(t, store::FromProtoTime(setting->update_time()));
    }
  }
  return t;
}

void Replace(const RateLimitUpdate& update, const std::string& identity,
             absl::Time when, store::RateLimitSetting* setting) {
  setting->Clear();
  if (update.requests_per_second) {
    setting->set_requests_per_second(*update.requests_per_second);
  }
  setting->set_reason(update.reason);
  setting->set_update_identity(identity);
  *setting->mutable_update_time() = store::ToProtoTime(when);
}

}  // namespace

absl::Status MergeConfigUpdate(const ConfigUpdate& update, absl::Time now,
                               store::TaskQueueRecord& record) {
  auto weights = record.fairness_weight_overrides();
  for (const std::string& key : update.unset_weights) weights.erase(key);
  for (const auto& [key, weight] : update.set_weights) {
    weights[key] = static_cast<float>(weight);
  }
  if (weights.size() > kMaxWeightOverrides) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fairness weight overrides update rejected: exceeding maximum key "
        "size (",
        weights.size(), " overrides, at most ", kMaxWeightOverrides,
        " per task queue)"));
  }
  const absl::Time when = UpdateTime(now, record);
  if (update.queue_rate_limit) {
    Replace(*update.queue_rate_limit, update.identity, when,
            record.mutable_queue_rate_limit());
  }
  if (update.fairness_key_rate_limit_default) {
    Replace(*update.fairness_key_rate_limit_default, update.identity, when,
            record.mutable_fairness_key_rate_limit_default());
  }
  *record.mutable_fairness_weight_overrides() = std::move(weights);
  return absl::OkStatus();
}

DispatchConfig DispatchConfigOf(const store::TaskQueueRecord& record) {
  DispatchConfig config;
  if (record.queue_rate_limit().has_requests_per_second()) {
    config.queue_rate_limit = record.queue_rate_limit().requests_per_second();
  }
  if (record.fairness_key_rate_limit_default().has_requests_per_second()) {
    config.fairness.key_rate_limit =
        record.fairness_key_rate_limit_default().requests_per_second();
  }
  for (const auto& [key, weight] : record.fairness_weight_overrides()) {
    config.fairness.weight_overrides.emplace(key, weight);
  }
  return config;
}

absl::StatusOr<std::unique_ptr<TaskQueueConfigs>> TaskQueueConfigs::Load(
    store::Store* store, Matcher* matcher) {
  std::unique_ptr<TaskQueueConfigs> configs(
      new TaskQueueConfigs(store, matcher));
  absl::flat_hash_map<PollerKey, store::TaskQueueRecord> loaded;
  absl::Status scan =
      store::TaskQueues(store).ScanAll([&](store::TaskQueueRecord record) {
        PollerKey k{record.namespace_id(), record.name(), record.type()};
        loaded.insert_or_assign(std::move(k), std::move(record));
      });
  if (!scan.ok()) return scan;
  for (const auto& [key, record] : loaded) {
    if (key.type == kActivityTaskQueue) {
      matcher->Configure({key.namespace_id, key.task_queue},
                         DispatchConfigOf(record));
    }
  }
  absl::MutexLock lock(&configs->mu_);
  configs->configs_ = std::move(loaded);
  return configs;
}

absl::StatusOr<store::TaskQueueRecord> TaskQueueConfigs::Update(
    const PollerKey& key, const ConfigUpdate& update, absl::Time now) {
  absl::MutexLock write_lock(&write_mu_);
  store::TaskQueueRecord record;
  if (auto stored = Get(key)) {
    record = std::move(*stored);
  } else {
    record.set_namespace_id(key.namespace_id);
    record.set_name(key.task_queue);
    record.set_type(key.type);
  }
  if (absl::Status s = MergeConfigUpdate(update, now, record); !s.ok()) {
    return s;
  }
  store::Batch batch = store_->NewBatch();
  store::TaskQueues(store_).Put(batch, record);
  if (absl::Status s = store_->Write(batch); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    configs_.insert_or_assign(key, record);
  }
  if (key.type == kActivityTaskQueue) {
    matcher_->Configure({key.namespace_id, key.task_queue},
                        DispatchConfigOf(record));
  }
  return record;
}

std::optional<store::TaskQueueRecord> TaskQueueConfigs::Get(
    const PollerKey& key) const {
  absl::MutexLock lock(&mu_);
  auto it = configs_.find(key);
  if (it == configs_.end()) return std::nullopt;
  return it->second;
}

}  // namespace errand::matching
