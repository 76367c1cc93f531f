#include "errand/engine/activity_metrics.h"

#include <type_traits>
#include <utility>

namespace errand::engine {
namespace {

using store::FromProtoTime;
using store::v1::ACTIVITY_STATUS_CANCELED;
using store::v1::ACTIVITY_STATUS_COMPLETED;
using store::v1::ACTIVITY_STATUS_FAILED;
using store::v1::ACTIVITY_STATUS_TERMINATED;
using store::v1::ACTIVITY_STATUS_TIMED_OUT;

const char* TimeoutTypeOf(TimerKind kind) {
  switch (kind) {
    case TimerKind::kScheduleToStart:
      return "ScheduleToStart";
    case TimerKind::kStartToClose:
      return "StartToClose";
    case TimerKind::kHeartbeat:
      return "Heartbeat";
    case TimerKind::kScheduleToClose:
      return "ScheduleToClose";
    case TimerKind::kDispatch:
      return nullptr;
  }
  return nullptr;
}

// How long the attempt that just ended ran, if one was running.
std::optional<absl::Duration> AttemptRan(const RunBefore& before,
                                         absl::Time now) {
  if (!HasAttemptInProgress(before.status) ||
      before.started_time == absl::InfinitePast()) {
    return std::nullopt;
  }
  return now - before.started_time;
}

absl::Duration SinceScheduled(const ActivityRecord& r, absl::Time now) {
  return now - FromProtoTime(r.schedule_time());
}

// Temporal's labels of the per-activity families, in its order.
const std::vector<std::string>& ActivityLabels() {
  static const std::vector<std::string> kLabels = {"activityType", "namespace",
                                                   "operation", "taskqueue"};
  return kLabels;
}

metrics::LabelPairs ActivityConstLabels() {
  return {{"service_name", "history"},
          {"versioning_behavior", "Unspecified"},
          {"workflowType", "__temporal_standalone_activity__"}};
}

}  // namespace

RunBefore BeforeOf(const ActivityRecord& record) {
  RunBefore before;
  before.status = record.status();
  if (record.has_started_time()) {
    before.started_time = FromProtoTime(record.started_time());
  }
  if (record.has_dispatch_time()) {
    before.dispatch_time = FromProtoTime(record.dispatch_time());
  }
  return before;
}

ActivityMeasures MeasureNewRun(const ActivityRecord& record) {
  ActivityMeasures m;
  m.operation = "RecordActivityTaskStarted";
  m.payload_bytes = static_cast<int64_t>(record.input().ByteSizeLong());
  return m;
}

ActivityMeasures Measure(const RunBefore& before, const ActivityRecord& after,
                         const ActivityEvent& event, absl::Time now) {
  ActivityMeasures m;
  const ActivityStatus status = after.status();
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, StartAttempt>) {
          m.operation = "RecordActivityTaskStarted";
          if (before.dispatch_time != absl::InfinitePast()) {
            m.schedule_to_start = now - before.dispatch_time;
          }
        } else if constexpr (std::is_same_v<E, RecordHeartbeat>) {
          m.operation = "RecordActivityTaskHeartbeat";
          m.heartbeat = true;
          m.heartbeat_has_details = e.details.has_value();
          if (e.details) {
            m.payload_bytes = static_cast<int64_t>(e.details->ByteSizeLong());
          }
        } else if constexpr (std::is_same_v<E, CompleteAttempt>) {
          m.operation = "RespondActivityTaskCompleted";
          m.success = status == ACTIVITY_STATUS_COMPLETED;
          m.start_to_close = AttemptRan(before, now);
          m.schedule_to_close = SinceScheduled(after, now);
          m.payload_bytes = static_cast<int64_t>(e.result.ByteSizeLong());
        } else if constexpr (std::is_same_v<E, FailAttempt>) {
          m.operation = "RespondActivityTaskFailed";
          m.task_fail = true;
          m.start_to_close = AttemptRan(before, now);
          if (status == ACTIVITY_STATUS_FAILED) {
            m.fail = true;
            m.schedule_to_close = SinceScheduled(after, now);
            // As Temporal: the payloads the failure carries (its details).
            m.payload_bytes =
                e.failure && e.failure->has_application_failure_info()
                    ? static_cast<int64_t>(e.failure->application_failure_info()
                                               .details()
                                               .ByteSizeLong())
                    : 0;
          }
          if (e.last_heartbeat_details) {
            m.heartbeat = true;
            m.heartbeat_has_details = true;
          }
        } else if constexpr (std::is_same_v<E, CancelAttempt>) {
          m.operation = "RespondActivityTaskCanceled";
          m.cancel = status == ACTIVITY_STATUS_CANCELED;
          m.start_to_close = AttemptRan(before, now);
          m.schedule_to_close = SinceScheduled(after, now);
        } else if constexpr (std::is_same_v<E, RequestCancel>) {
          // A run no worker holds is canceled at once.
          if (status == ACTIVITY_STATUS_CANCELED) {
            m.operation = "RequestCancelActivityExecution";
            m.cancel = true;
            m.schedule_to_close = SinceScheduled(after, now);
          }
        } else if constexpr (std::is_same_v<E, Terminate>) {
          if (status == ACTIVITY_STATUS_TERMINATED) {
            m.operation = "ActivityTerminated";
            m.terminate = true;
          }
        } else if constexpr (std::is_same_v<E, TimerFired>) {
          if (const char* type = TimeoutTypeOf(e.kind)) {
            m.operation = "TimerActiveTaskActivityTimeout";
            m.timeout_type = type;
            if (status == ACTIVITY_STATUS_TIMED_OUT) {
              m.timeout_terminal = true;
              m.schedule_to_close = SinceScheduled(after, now);
            }
          }
        } else if constexpr (std::is_same_v<E, Pause>) {
          m.operation = "ActivityPaused";
          m.command = ActivityMeasures::Command::kPause;
        } else if constexpr (std::is_same_v<E, Unpause>) {
          m.operation = "ActivityUnpaused";
          m.command = ActivityMeasures::Command::kUnpause;
        } else if constexpr (std::is_same_v<E, Reset>) {
          m.operation = "ActivityReset";
          m.command = ActivityMeasures::Command::kReset;
        } else if constexpr (std::is_same_v<E, UpdateOptions>) {
          m.operation = "ActivityUpdateOptions";
          m.command = ActivityMeasures::Command::kUpdateOptions;
        }
      },
      event);
  return m;
}

ActivityMetrics::ActivityMetrics(
    metrics::Registry* registry,
    std::function<std::string(absl::string_view)> namespace_name)
    : namespace_name_(std::move(namespace_name)),
      success_(registry->AddCounter("activity_success",
                                    "Activities completed successfully.",
                                    ActivityLabels(), ActivityConstLabels())),
      fail_(registry->AddCounter("activity_fail",
                                 "Activities that failed for good.",
                                 ActivityLabels(), ActivityConstLabels())),
      task_fail_(registry->AddCounter("activity_task_fail",
                                      "Failed attempts, retried or not.",
                                      ActivityLabels(), ActivityConstLabels())),
      cancel_(registry->AddCounter("activity_cancel", "Activities canceled.",
                                   ActivityLabels(), ActivityConstLabels())),
      terminate_(registry->AddCounter("activity_terminate",
                                      "Activities terminated.",
                                      ActivityLabels(), ActivityConstLabels())),
      timeout_(registry->AddCounter("activity_timeout",
                                    "Activities closed by a timeout.",
                                    {"activityType", "namespace", "operation",
                                     "taskqueue", "timeout_type"},
                                    ActivityConstLabels())),
      task_timeout_(registry->AddCounter(
          "activity_task_timeout", "Timeouts, retried or not.",
          {"activityType", "namespace", "operation", "taskqueue",
           "timeout_type"},
          ActivityConstLabels())),
      pause_(registry->AddCounter("activity_pause", "Pause commands applied.",
                                  ActivityLabels(), ActivityConstLabels())),
      unpause_(registry->AddCounter("activity_unpause",
                                    "Unpause commands applied.",
                                    ActivityLabels(), ActivityConstLabels())),
      reset_(registry->AddCounter("activity_reset", "Reset commands applied.",
                                  ActivityLabels(), ActivityConstLabels())),
      update_options_(registry->AddCounter(
          "activity_update_options", "Options updates applied.",
          ActivityLabels(), ActivityConstLabels())),
      start_to_close_(registry->AddHistogram(
          "activity_start_to_close_latency",
          "Seconds from an attempt's start to its end.", ActivityLabels(),
          &metrics::LatencyBuckets(), ActivityConstLabels())),
      schedule_to_close_(registry->AddHistogram(
          "activity_schedule_to_close_latency",
          "Seconds from an activity's schedule to its close.", ActivityLabels(),
          &metrics::LatencyBuckets(), ActivityConstLabels())),
      schedule_to_start_(registry->AddHistogram(
          "task_schedule_to_start_latency",
          "Seconds from an attempt's dispatch time to its start.",
          {"namespace", "operation", "taskqueue"}, &metrics::LatencyBuckets(),
          {{"partition", "__normal__"},
           {"service_name", "history"},
           {"task_type", "Activity"}})),
      heartbeat_count_(registry->AddCounter(
          "activity_heartbeat_count",
          "Heartbeats, and failures that carry heartbeat details.",
          {"has_details", "namespace", "operation"},
          {{"service_name", "history"}})),
      payload_size_(registry->AddCounter(
          "activity_payload_size",
          "Bytes of inputs, results, failures and heartbeat details.",
          {"namespace", "operation"}, {{"service_name", "history"}})) {}

const std::string& ActivityMetrics::NamespaceName(absl::string_view id) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = namespace_names_.find(id); it != namespace_names_.end()) {
      return it->second;
    }
  }
  std::string name = namespace_name_(id);
  absl::MutexLock lock(&mu_);
  return namespace_names_.try_emplace(std::string(id), std::move(name))
      .first->second;
}

void ActivityMetrics::Record(const ActivityRecord& run,
                             const ActivityMeasures& m) {
  if (m.operation == nullptr) return;
  const std::string& ns = NamespaceName(run.namespace_id());
  const absl::string_view type = run.activity_type().name();
  const absl::string_view queue = run.options().task_queue().name();
  const absl::string_view labels[] = {type, ns, m.operation, queue};
  auto count = [&](metrics::Family<metrics::Counter>& family) {
    family.With(labels).Increment();
  };
  if (m.success) count(success_);
  if (m.fail) count(fail_);
  if (m.task_fail) count(task_fail_);
  if (m.cancel) count(cancel_);
  if (m.terminate) count(terminate_);
  if (m.timeout_type != nullptr) {
    const absl::string_view timeout_labels[] = {type, ns, m.operation, queue,
                                                m.timeout_type};
    task_timeout_.With(timeout_labels).Increment();
    if (m.timeout_terminal) timeout_.With(timeout_labels).Increment();
  }
  switch (m.command) {
    case ActivityMeasures::Command::kNone:
      break;
    case ActivityMeasures::Command::kPause:
      count(pause_);
      break;
    case ActivityMeasures::Command::kUnpause:
      count(unpause_);
      break;
    case ActivityMeasures::Command::kReset:
      count(reset_);
      break;
    case ActivityMeasures::Command::kUpdateOptions:
      count(update_options_);
      break;
  }
  if (m.start_to_close) {
    start_to_close_.With(labels).Observe(
        absl::ToDoubleSeconds(*m.start_to_close));
  }
  if (m.schedule_to_close) {
    schedule_to_close_.With(labels).Observe(
        absl::ToDoubleSeconds(*m.schedule_to_close));
  }
  if (m.schedule_to_start) {
    schedule_to_start_.With({ns, m.operation, queue})
        .Observe(absl::ToDoubleSeconds(*m.schedule_to_start));
  }
  if (m.heartbeat) {
    heartbeat_count_
        .With({m.heartbeat_has_details ? "true" : "false", ns,
               "RecordActivityTaskHeartbeat"})
        .Increment();
  }
  if (m.payload_bytes) {
    payload_size_.With({ns, m.operation})
        .Increment(static_cast<uint64_t>(*m.payload_bytes));
  }
}

}  // namespace errand::engine
