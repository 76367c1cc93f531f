#include "errand/frontend/activity_validation.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/common/payloads.h"
#include "errand/common/uuid.h"
#include "errand/engine/activity_options.h"
#include "errand/engine/activity_state_machine.h"
#include "errand/visibility/filter.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

constexpr char kChangeVersionAttribute[] = "TemporalChangeVersion";
constexpr size_t kMaxSummaryBytes = 400;
constexpr size_t kMaxDetailsBytes = 20000;
constexpr int kMaxSearchAttributes = 100;
constexpr size_t kMaxSearchAttributeValueBytes = 2 * 1024;
constexpr size_t kMaxSearchAttributesTotalBytes = 40 * 1024;

absl::Status LengthLimit(absl::string_view what, size_t length) {
  if (length <= kMaxIdLength) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, " exceeds length limit. Length=", length, " Limit=", kMaxIdLength));
}

}  // namespace

absl::Status ValidateActivityId(absl::string_view activity_id) {
  if (activity_id.empty()) {
    return absl::InvalidArgumentError("activity ID is required");
  }
  return LengthLimit("activity ID", activity_id.size());
}

std::string RequestIdOrNew(const std::string& given) {
  return given.empty() ? NewUuid() : given;
}

absl::Status ValidateJitter(const google::protobuf::Duration& d) {
  if ((d.seconds() > 0 && d.nanos() < 0) ||
      (d.seconds() < 0 && d.nanos() > 0)) {
    return absl::InvalidArgumentError(
        "invalid jitter: duration has seconds and nanos with different signs");
  }
  if (d.seconds() < 0 || d.nanos() < 0) {
    return absl::InvalidArgumentError("invalid jitter: negative duration");
  }
  return absl::OkStatus();
}

absl::Status ValidateRunId(absl::string_view run_id) {
  if (!run_id.empty() && !IsUuid(run_id)) {
    return absl::InvalidArgumentError("invalid run id: must be a valid UUID");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestIdAndIdentity(absl::string_view request_id,
                                          absl::string_view identity) {
  if (absl::Status s = LengthLimit("request ID", request_id.size()); !s.ok()) {
    return s;
  }
  return LengthLimit("identity", identity.size());
}

absl::StatusOr<engine::StartRequest> ValidateStart(
    const ws::StartActivityExecutionRequest& req,
    const store::NamespaceRecord& ns) {
  engine::StartRequest out;
  store::ActivityRecord& r = out.record;
  auto* options = r.mutable_options();

  r.add_request_ids(RequestIdOrNew(req.request_id()));

  if (req.has_start_delay()) {
    if (absl::Status s = engine::ValidateStartDelay(req.start_delay());
        !s.ok()) {
      return s;
    }
    *options->mutable_start_delay() = req.start_delay();
  }

  if (!req.has_task_queue()) {
    return absl::InvalidArgumentError("taskQueue is not set");
  }
  const std::string& queue = req.task_queue().name();
  if (absl::Status s = ValidateTaskQueueName(queue); !s.ok()) return s;
  if (absl::StartsWith(queue, "/_sys/")) {
    return absl::InvalidArgumentError(
        "task queue name cannot start with reserved prefix /_sys/");
  }
  if (queue == "temporal-sys-per-ns-tq") {
    return absl::InvalidArgumentError(
        "cannot use internal per-namespace task queue:temporal-sys-per-ns-tq");
  }
  options->mutable_task_queue()->set_name(queue);
  options->mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);

  if (req.activity_id().empty()) {
    return absl::InvalidArgumentError("activityId is not set");
  }
  if (req.activity_type().name().empty()) {
    return absl::InvalidArgumentError("activityType is not set");
  }

  *options->mutable_retry_policy() = req.retry_policy();
  if (absl::Status s =
          engine::NormalizeRetryPolicy(options->mutable_retry_policy());
      !s.ok()) {
    return s;
  }

  if (req.activity_id().size() > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "activityId exceeds length limit. Length=", req.activity_id().size(),
        " Limit=", kMaxIdLength));
  }
  if (req.activity_type().name().size() > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "activityType exceeds length limit. Length=",
        req.activity_type().name().size(), " Limit=", kMaxIdLength));
  }

  if (req.has_priority()) {
    if (absl::Status s =
            engine::ValidatePriority(req.priority(), "invalid priorities: ");
        !s.ok()) {
      return s;
    }
    *options->mutable_priority() = req.priority();
  }

  *options->mutable_schedule_to_close_timeout() =
      req.schedule_to_close_timeout();
  *options->mutable_schedule_to_start_timeout() =
      req.schedule_to_start_timeout();
  *options->mutable_start_to_close_timeout() = req.start_to_close_timeout();
  *options->mutable_heartbeat_timeout() = req.heartbeat_timeout();
  if (absl::Status s = engine::NormalizeTimeouts(options, req.activity_id(),
                                                 req.activity_type().name());
      !s.ok()) {
    return s;
  }

  if (absl::Status s =
          ValidateRequestIdAndIdentity(r.request_ids(0), req.identity());
      !s.ok()) {
    return s;
  }

  switch (req.id_reuse_policy()) {
    case enums::ACTIVITY_ID_REUSE_POLICY_UNSPECIFIED:
      out.reuse_policy = enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
      break;
    case enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE:
    case enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY:
    case enums::ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE:
      out.reuse_policy = req.id_reuse_policy();
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported ID reuse policy: ",
                       static_cast<int>(req.id_reuse_policy())));
  }
  switch (req.id_conflict_policy()) {
    case enums::ACTIVITY_ID_CONFLICT_POLICY_UNSPECIFIED:
      out.conflict_policy = enums::ACTIVITY_ID_CONFLICT_POLICY_FAIL;
      break;
    case enums::ACTIVITY_ID_CONFLICT_POLICY_FAIL:
    case enums::ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING:
      out.conflict_policy = req.id_conflict_policy();
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported ID conflict policy: ",
                       static_cast<int>(req.id_conflict_policy())));
  }

  if (PayloadsSize(req.input()) > kBlobSizeLimit) {
    return absl::InvalidArgumentError("input exceeds length limit");
  }
  if (req.has_user_metadata()) {
    const size_t summary = req.user_metadata().summary().ByteSizeLong();
    const size_t details = req.user_metadata().details().ByteSizeLong();
    if (summary > kMaxSummaryBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "user_metadata.summary exceeds size limit. Length=", summary,
          " Limit=", kMaxSummaryBytes));
    }
    if (details > kMaxDetailsBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "user_metadata.details exceeds size limit. Length=", details,
          " Limit=", kMaxDetailsBytes));
    }
    *r.mutable_user_metadata() = req.user_metadata();
  }
  // Search attributes must be registered for the namespace (Temporal's
  // limits: 100 keys, 2 KiB per value, 40 KiB in all).
  size_t attributes_size = 0;
  if (req.search_attributes().indexed_fields_size() > kMaxSearchAttributes) {
    return absl::InvalidArgumentError(
        absl::StrCat("number of search attributes ",
                     req.search_attributes().indexed_fields_size(),
                     " exceeds limit ", kMaxSearchAttributes));
  }
  for (const auto& [name, value] : req.search_attributes().indexed_fields()) {
    int32_t type = enums::INDEXED_VALUE_TYPE_KEYWORD_LIST;
    // TemporalChangeVersion is the one system attribute a start may set, as
    // on Temporal (SDKs set it for versioning); it is kept and described.
    if (name != kChangeVersionAttribute) {
      auto registered = ns.search_attributes().find(name);
      if (registered == ns.search_attributes().end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Namespace ", ns.name(),
            " has no mapping defined for search attribute ", name));
      }
      type = registered->second;
    }
    if (absl::Status s = visibility::CheckCustomValue(name, type, value);
        !s.ok()) {
      return s;
    }
    if (value.data().size() > kMaxSearchAttributeValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "search attribute ", name, " value size ", value.data().size(),
          " exceeds size limit ", kMaxSearchAttributeValueBytes));
    }
    attributes_size += name.size() + value.data().size();
  }
  if (attributes_size > kMaxSearchAttributesTotalBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("total size of search attributes ", attributes_size,
                     " exceeds size limit ", kMaxSearchAttributesTotalBytes));
  }
  if (req.completion_callbacks_size() > 0) {
    return absl::InvalidArgumentError(
        "completion callbacks are not enabled for this namespace");
  }

  r.set_namespace_id(ns.id());
  *r.mutable_retention() = ns.retention();
  r.set_activity_id(req.activity_id());
  *r.mutable_activity_type() = req.activity_type();
  if (req.has_input()) *r.mutable_input() = req.input();
  if (req.has_header()) *r.mutable_header() = req.header();
  *r.mutable_search_attributes() = req.search_attributes();
  r.set_start_identity(req.identity());
  return out;
}

}  // namespace errand::frontend
