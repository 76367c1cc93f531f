// Task queue calls: UpdateTaskQueueConfig (rate limits and fairness weights,
// kept by matching::TaskQueueConfigs) and DescribeTaskQueue (pollers,
// backlog and rates, config), in both of DescribeTaskQueue's modes: the
// default one, and the "enhanced" one the Temporal CLI's `task-queue
// describe` uses, which answers per task queue type under the unversioned
// build ID.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "activity_calls.h"
#include "errand/common/limits.h"
#include "errand/frontend/activity_validation.h"
#include "errand/store/records.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
namespace tq = temporal::api::taskqueue::v1;
namespace enums = temporal::api::enums::v1;

// Temporal's bounds on UpdateTaskQueueConfig fields.
constexpr size_t kMaxReasonBytes = 1000;
constexpr size_t kMaxFairnessKeyBytes = 64;

absl::StatusOr<std::optional<matching::RateLimitUpdate>> RateLimitUpdateOf(
    bool present, const ws::UpdateTaskQueueConfigRequest::RateLimitUpdate& u,
    absl::string_view label) {
  if (!present) return std::nullopt;
  matching::RateLimitUpdate update;
  update.reason = u.reason();
  if (u.has_rate_limit()) {
    const double rps = u.rate_limit().requests_per_second();
    if (rps < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("RequestsPerSecond for ", label,
                       " rate limit must be non-negative."));
    }
    if (!std::isfinite(rps)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RequestsPerSecond for ", label, " rate limit must be finite."));
    }
    if (u.reason().size() > kMaxReasonBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ".Reason field too long (max ", kMaxReasonBytes,
                       " characters)."));
    }
    update.requests_per_second = rps;
  }
  return update;
}

absl::Status CheckFairnessKey(absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "fairness weight override key must not be empty");
  }
  if (key.size() > kMaxFairnessKeyBytes) {
    return absl::InvalidArgumentError("fairness key length exceeds limit");
  }
  return absl::OkStatus();
}

// The request as a matching::ConfigUpdate, checked as Temporal checks it.
absl::StatusOr<matching::ConfigUpdate> ConfigUpdateOf(
    const ws::UpdateTaskQueueConfigRequest& req) {
  const bool workflow =
      req.task_queue_type() == enums::TASK_QUEUE_TYPE_WORKFLOW;
  if (workflow && req.update_queue_rate_limit().has_rate_limit()) {
    return absl::InvalidArgumentError(
        "Setting rate limit on workflow task queues is not allowed.");
  }
  matching::ConfigUpdate update;
  auto queue =
      RateLimitUpdateOf(req.has_update_queue_rate_limit(),
                        req.update_queue_rate_limit(), "UpdateQueueRateLimit");
  if (!queue.ok()) return queue.status();
  update.queue_rate_limit = *std::move(queue);
  if (workflow &&
      req.update_fairness_key_rate_limit_default().has_rate_limit()) {
    return absl::InvalidArgumentError(
        "Setting fairness key rate limit on workflow task queues is not "
        "allowed.");
  }
  auto per_key =
      RateLimitUpdateOf(req.has_update_fairness_key_rate_limit_default(),
                        req.update_fairness_key_rate_limit_default(),
                        "UpdateFairnessKeyRateLimitDefault");
  if (!per_key.ok()) return per_key.status();
  update.fairness_key_rate_limit_default = *std::move(per_key);
  if (req.identity().size() > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Identity field too long (max ", kMaxIdLength, " characters)."));
  }
  update.identity = req.identity();
  const size_t overrides = req.set_fairness_weight_overrides_size() +
                           req.unset_fairness_weight_overrides_size();
  if (overrides > matching::kMaxWeightOverrides) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many fairness weight overrides in request: got ",
                     overrides, ", maximum ", matching::kMaxWeightOverrides));
  }
  for (const auto& [key, weight] : req.set_fairness_weight_overrides()) {
    if (absl::Status s = CheckFairnessKey(key); !s.ok()) return s;
    if (!(weight > 0) || !std::isfinite(weight)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "invalid fairness weight weight for key \"%s\": must be greater "
          "than zero",
          key));
    }
    update.set_weights.emplace(key, weight);
  }
  for (const std::string& key : req.unset_fairness_weight_overrides()) {
    if (absl::Status s = CheckFairnessKey(key); !s.ok()) return s;
    if (update.set_weights.contains(key)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "fairness weight override key \"%s\" present in both set and unset "
          "lists",
          key));
    }
    update.unset_weights.push_back(key);
  }
  return update;
}

void FillRateLimit(const store::RateLimitSetting& setting,
                   tq::RateLimitConfig* out) {
  if (setting.has_requests_per_second()) {
    out->mutable_rate_limit()->set_requests_per_second(
        static_cast<float>(setting.requests_per_second()));
  }
  auto* metadata = out->mutable_metadata();
  metadata->set_reason(setting.reason());
  metadata->set_update_identity(setting.update_identity());
  if (setting.has_update_time()) {
    *metadata->mutable_update_time() = setting.update_time();
  }
}

void FillConfig(const store::TaskQueueRecord& record,
                tq::TaskQueueConfig* out) {
  if (record.has_queue_rate_limit()) {
    FillRateLimit(record.queue_rate_limit(), out->mutable_queue_rate_limit());
  }
  if (record.has_fairness_key_rate_limit_default()) {
    FillRateLimit(record.fairness_key_rate_limit_default(),
                  out->mutable_fairness_keys_rate_limit_default());
  }
  out->mutable_fairness_weight_overrides()->insert(
      record.fairness_weight_overrides().begin(),
      record.fairness_weight_overrides().end());
}

matching::PollerKey KeyOf(const store::NamespaceRecord& ns,
                          const std::string& task_queue, int type) {
  return {ns.id(), task_queue, type};
}

// A request's task queue type: unspecified means workflow, as in Temporal.
int TypeOrWorkflow(int type) {
  return type == enums::TASK_QUEUE_TYPE_UNSPECIFIED
             ? enums::TASK_QUEUE_TYPE_WORKFLOW
             : type;
}

void FillPollers(const ActivityServiceDeps& deps,
                 const matching::PollerKey& key,
                 google::protobuf::RepeatedPtrField<tq::PollerInfo>* out) {
  for (const matching::PollerRecord& p :
       deps.pollers->Pollers(key, deps.clock->Now())) {
    tq::PollerInfo* info = out->Add();
    *info->mutable_last_access_time() = store::ToProtoTime(p.last_access);
    info->set_identity(p.identity);
    info->set_rate_per_second(p.rate_per_second);
  }
}

// Only activity queues hold tasks; a workflow queue's stats are zero.
matching::QueueStats StatsOf(const ActivityServiceDeps& deps,
                             const matching::PollerKey& key) {
  if (key.type != matching::kActivityTaskQueue) return {};
  return deps.matcher->Stats({key.namespace_id, key.task_queue});
}

void FillStats(const matching::QueueStats& stats, tq::TaskQueueStats* out) {
  out->set_approximate_backlog_count(stats.backlog_count);
  *out->mutable_approximate_backlog_age() =
      store::ToProtoDuration(stats.backlog_age);
  out->set_tasks_add_rate(static_cast<float>(stats.tasks_add_rate));
  out->set_tasks_dispatch_rate(static_cast<float>(stats.tasks_dispatch_rate));
  out->set_rate_limiting_active(stats.rate_limiting_active);
}

absl::Status DescribeTaskQueue(const ActivityServiceDeps& deps,
                               const ws::DescribeTaskQueueRequest& req,
                               ws::DescribeTaskQueueResponse* resp) {
  auto ns = Namespace(deps, req);
  if (!ns.ok()) return ns.status();
  if (!req.has_task_queue()) {
    return absl::InvalidArgumentError("taskQueue is not set");
  }
  const std::string& name = req.task_queue().name();
  if (absl::Status s = ValidateTaskQueueName(name); !s.ok()) return s;

  if (req.api_mode() == enums::DESCRIBE_TASK_QUEUE_MODE_ENHANCED) {
    // One entry per type asked for (all of them by default), under the
    // unversioned build ID: Errand has no worker versioning.
    std::vector<int> types(req.task_queue_types().begin(),
                           req.task_queue_types().end());
    if (types.empty()) {
      types = {enums::TASK_QUEUE_TYPE_WORKFLOW,
               enums::TASK_QUEUE_TYPE_ACTIVITY};
    }
    auto& by_type = *(*resp->mutable_versions_info())[""].mutable_types_info();
    for (int type : types) {
      tq::TaskQueueTypeInfo& info = by_type[type];
      const matching::PollerKey key = KeyOf(*ns, name, type);
      FillPollers(deps, key, info.mutable_pollers());
      if (req.report_stats()) {
        FillStats(StatsOf(deps, key), info.mutable_stats());
      }
    }
    return absl::OkStatus();
  }

  const matching::PollerKey key =
      KeyOf(*ns, name, TypeOrWorkflow(req.task_queue_type()));
  FillPollers(deps, key, resp->mutable_pollers());
  const matching::QueueStats stats = StatsOf(deps, key);
  if (req.report_stats()) FillStats(stats, resp->mutable_stats());
  if (req.include_task_queue_status()) {
    tq::TaskQueueStatus* status = resp->mutable_task_queue_status();
    status->set_backlog_count_hint(stats.backlog_count);
    status->set_rate_per_second(
        stats.rate_limit.value_or(matching::kDefaultPollerRate));
  }
  if (req.report_config()) {
    if (auto config = deps.task_queue_configs->Get(key)) {
      FillConfig(*config, resp->mutable_config());
    }
  }
  // Errand sets no system limit: with neither an API nor a worker limit
  // the field is left out.
  if (stats.rate_limit) {
    auto* effective = resp->mutable_effective_rate_limit();
    effective->set_requests_per_second(static_cast<float>(*stats.rate_limit));
    effective->set_rate_limit_source(stats.rate_limit_source ==
                                             matching::RateLimitSource::kApi
                                         ? enums::RATE_LIMIT_SOURCE_API
                                         : enums::RATE_LIMIT_SOURCE_WORKER);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterTaskQueueCalls(ServiceTable& table,
                            const ActivityServiceDeps& deps) {
  table.HandleAsync<ws::UpdateTaskQueueConfigRequest,
                    ws::UpdateTaskQueueConfigResponse>(
      "UpdateTaskQueueConfig",
      [deps](UnaryCall* call, const ws::UpdateTaskQueueConfigRequest& req,
             ws::UpdateTaskQueueConfigResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        if (absl::Status s = ValidateTaskQueueName(req.task_queue()); !s.ok()) {
          return call->Finish(s);
        }
        auto update = ConfigUpdateOf(req);
        if (!update.ok()) return call->Finish(update.status());
        // The write is synced to disk: off gRPC's threads.
        const matching::PollerKey key =
            KeyOf(*ns, req.task_queue(), TypeOrWorkflow(req.task_queue_type()));
        const bool queued = deps.scan_executor->Submit(
            [deps, call, resp, key, update = *std::move(update)] {
              auto record = deps.task_queue_configs->Update(key, update,
                                                            deps.clock->Now());
              if (!record.ok()) return call->Finish(record.status());
              FillConfig(*record, resp->mutable_config());
              call->Finish(absl::OkStatus());
            });
        if (!queued) {
          call->Finish(absl::ResourceExhaustedError(
              "too many calls waiting for the store; retry later"));
        }
      });

  table.Handle<ws::DescribeTaskQueueRequest, ws::DescribeTaskQueueResponse>(
      "DescribeTaskQueue", [deps](const ws::DescribeTaskQueueRequest& req,
                                  ws::DescribeTaskQueueResponse* resp) {
        return DescribeTaskQueue(deps, req, resp);
      });
}

}  // namespace errand::frontend
