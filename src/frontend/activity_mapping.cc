#include "errand/frontend/activity_mapping.h"

#include "errand/engine/activity_state_machine.h"

namespace errand::frontend {
namespace {

namespace enums = temporal::api::enums::v1;
using store::FromProtoTime;
using store::ToProtoDuration;

enums::PendingActivityState RunState(const store::ActivityRecord& r) {
  switch (r.status()) {
    case store::v1::ACTIVITY_STATUS_SCHEDULED:
      return enums::PENDING_ACTIVITY_STATE_SCHEDULED;
    case store::v1::ACTIVITY_STATUS_STARTED:
      return enums::PENDING_ACTIVITY_STATE_STARTED;
    case store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      return enums::PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
    case store::v1::ACTIVITY_STATUS_PAUSED:
      return enums::PENDING_ACTIVITY_STATE_PAUSED;
    case store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
      return enums::PENDING_ACTIVITY_STATE_PAUSE_REQUESTED;
    case store::v1::ACTIVITY_STATUS_RESET_REQUESTED:
      // A reset that keeps a requested pause still shows the pause.
      return r.deferred_reset().keep_paused()
                 ? enums::PENDING_ACTIVITY_STATE_PAUSE_REQUESTED
                 : enums::PENDING_ACTIVITY_STATE_STARTED;
    default:
      return enums::PENDING_ACTIVITY_STATE_UNSPECIFIED;
  }
}

}  // namespace

void FillActivityInfo(
    const store::ActivityRecord& r, absl::Time now, const InfoOptions& options,
    temporal::api::activity::v1::ActivityExecutionInfo* info) {
  const auto& o = r.options();
  info->set_activity_id(r.activity_id());
  info->set_run_id(r.run_id());
  *info->mutable_activity_type() = r.activity_type();
  info->set_status(engine::ApiStatus(r.status()));
  info->set_run_state(RunState(r));
  info->set_task_queue(o.task_queue().name());
  *info->mutable_schedule_to_close_timeout() = o.schedule_to_close_timeout();
  *info->mutable_schedule_to_start_timeout() = o.schedule_to_start_timeout();
  *info->mutable_start_to_close_timeout() = o.start_to_close_timeout();
  *info->mutable_heartbeat_timeout() = o.heartbeat_timeout();
  *info->mutable_retry_policy() = o.retry_policy();
  if (o.has_priority()) *info->mutable_priority() = o.priority();
  if (o.has_start_delay()) *info->mutable_start_delay() = o.start_delay();
  if (options.include_heartbeat_details && r.has_heartbeat_details()) {
    *info->mutable_heartbeat_details() = r.heartbeat_details();
  }
  if (r.has_last_heartbeat_time()) {
    *info->mutable_last_heartbeat_time() = r.last_heartbeat_time();
  }
  if (r.has_started_time())
    *info->mutable_last_started_time() = r.started_time();
  info->set_attempt(r.attempt());
  *info->mutable_schedule_time() = r.schedule_time();
  const absl::Time schedule_time = FromProtoTime(r.schedule_time());
  const absl::Time execution_time =
      schedule_time + store::FromProtoDuration(o.start_delay());
  *info->mutable_execution_time() = store::ToProtoTime(execution_time);
  const absl::Duration s2c =
      store::FromProtoDuration(o.schedule_to_close_timeout());
  if (s2c > absl::ZeroDuration()) {
    *info->mutable_expiration_time() = store::ToProtoTime(execution_time + s2c);
  }
  if (r.has_close_time()) {
    *info->mutable_close_time() = r.close_time();
    *info->mutable_execution_duration() =
        ToProtoDuration(FromProtoTime(r.close_time()) - schedule_time);
  }
  if (options.include_last_failure && r.has_last_failure()) {
    *info->mutable_last_failure() = r.last_failure();
  }
  info->set_last_worker_identity(r.last_worker_identity());
  if (r.has_attempt_complete_time()) {
    *info->mutable_last_attempt_complete_time() = r.attempt_complete_time();
  }
  const absl::Time dispatch = FromProtoTime(r.dispatch_time());
  if (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED && dispatch > now) {
    *info->mutable_next_attempt_schedule_time() = r.dispatch_time();
    if (r.has_current_retry_interval()) {
      *info->mutable_current_retry_interval() = r.current_retry_interval();
    }
  }
  info->set_state_transition_count(r.version());
  info->set_state_size_bytes(static_cast<int64_t>(r.ByteSizeLong()));
  if (r.has_header()) *info->mutable_header() = r.header();
  if (r.has_user_metadata()) *info->mutable_user_metadata() = r.user_metadata();
  *info->mutable_search_attributes() = r.search_attributes();
  info->set_canceled_reason(r.cancel_reason());
  info->set_total_heartbeat_count(r.heartbeat_count());
  info->set_sdk_name(r.sdk_name());
  info->set_sdk_version(r.sdk_version());
}

void FillActivityTask(
    const store::ActivityRecord& r, const std::string& namespace_name,
    temporal::api::workflowservice::v1::PollActivityTaskQueueResponse* task) {
  const auto& o = r.options();
  task->set_task_token(EncodeTaskToken(r));
  task->set_workflow_namespace(namespace_name);
  task->mutable_workflow_execution();  // present and empty: standalone
  *task->mutable_activity_type() = r.activity_type();
  task->set_activity_id(r.activity_id());
  task->set_activity_run_id(r.run_id());
  if (r.has_header()) *task->mutable_header() = r.header();
  if (r.has_input()) *task->mutable_input() = r.input();
  if (r.has_heartbeat_details()) {
    *task->mutable_heartbeat_details() = r.heartbeat_details();
  }
  *task->mutable_scheduled_time() = r.schedule_time();
  *task->mutable_current_attempt_scheduled_time() = r.dispatch_time();
  *task->mutable_started_time() = r.started_time();
  task->set_attempt(r.attempt());
  *task->mutable_schedule_to_close_timeout() = o.schedule_to_close_timeout();
  *task->mutable_start_to_close_timeout() = o.start_to_close_timeout();
  *task->mutable_heartbeat_timeout() = o.heartbeat_timeout();
  *task->mutable_retry_policy() = o.retry_policy();
  if (o.has_priority()) *task->mutable_priority() = o.priority();
}

std::string EncodeTaskToken(const store::ActivityRecord& r) {
  store::TaskToken token;
  token.set_namespace_id(r.namespace_id());
  token.set_activity_id(r.activity_id());
  token.set_run_id(r.run_id());
  token.set_attempt(r.attempt());
  token.set_stamp(r.started_stamp());
  return token.SerializeAsString();
}

absl::StatusOr<store::TaskToken> DecodeTaskToken(
    const std::string& bytes, const std::string& namespace_id) {
  if (bytes.empty()) {
    return absl::InvalidArgumentError("Task token not set on request.");
  }
  store::TaskToken token;
  if (!token.ParseFromString(bytes) || token.activity_id().empty() ||
      token.run_id().empty()) {
    return absl::InvalidArgumentError("Error deserializing task token.");
  }
  if (token.namespace_id() != namespace_id) {
    return absl::InvalidArgumentError(
        "Operation requested with a token from a different namespace.");
  }
  return token;
}

std::string EncodeLongPollToken(const store::ActivityRecord& r) {
  store::LongPollToken token;
  token.set_namespace_id(r.namespace_id());
  token.set_activity_id(r.activity_id());
  token.set_run_id(r.run_id());
  token.set_version(r.version());
  return token.SerializeAsString();
}

absl::StatusOr<store::LongPollToken> DecodeLongPollToken(
    const std::string& bytes) {
  store::LongPollToken token;
  if (!token.ParseFromString(bytes) || token.run_id().empty()) {
    return absl::InvalidArgumentError("invalid long poll token");
  }
  return token;
}

}  // namespace errand::frontend
