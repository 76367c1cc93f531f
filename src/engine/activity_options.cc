#include "errand/engine/activity_options.h"

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/common/limits.h"
#include "errand/store/records.h"

namespace errand::engine {
namespace {

using google::protobuf::Duration;
using store::FromProtoDuration;
using store::ToProtoDuration;

constexpr absl::Duration kMaxTimeout = absl::Hours(24 * 365 * 100);
constexpr size_t kMaxFairnessKeyLength = 64;
constexpr absl::Duration kDefaultInitialInterval = absl::Seconds(1);
constexpr double kDefaultBackoffCoefficient = 2.0;
constexpr int kDefaultMaximumIntervalFactor = 100;

bool IsNegative(const Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }
bool IsMisSigned(const Duration& d) {
  return (d.seconds() > 0 && d.nanos() < 0) ||
         (d.seconds() < 0 && d.nanos() > 0);
}
bool IsZero(const Duration& d) { return d.seconds() == 0 && d.nanos() == 0; }
bool IsPositive(const Duration& d) {
  return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0);
}

// Non-negative and capped at 100 years, or INVALID_ARGUMENT naming the field.
absl::Status NormalizeTimeout(Duration* d, absl::string_view name) {
  if (IsNegative(*d) || IsMisSigned(*d)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", name, ": negative duration"));
  }
  if (FromProtoDuration(*d) > kMaxTimeout) *d = ToProtoDuration(kMaxTimeout);
  return absl::OkStatus();
}

Duration MinDuration(const Duration& a, const Duration& b) {
  return FromProtoDuration(a) <= FromProtoDuration(b) ? a : b;
}

// "retryPolicy.maximumAttempts" → "retry_policy.maximum_attempts".
std::string SnakeCase(absl::string_view path) {
  std::string out;
  for (char c : path) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c))) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::Status NormalizeRetryPolicy(temporal::api::common::v1::RetryPolicy* p) {
  if (IsZero(p->initial_interval())) {
    *p->mutable_initial_interval() = ToProtoDuration(kDefaultInitialInterval);
  }
  if (p->backoff_coefficient() == 0) {
    p->set_backoff_coefficient(kDefaultBackoffCoefficient);
  }
  if (IsZero(p->maximum_interval())) {
    if (!IsNegative(p->initial_interval())) {
      *p->mutable_maximum_interval() =
          ToProtoDuration(FromProtoDuration(p->initial_interval()) *
                          kDefaultMaximumIntervalFactor);
    }
  }
  if (p->maximum_attempts() == 1) return absl::OkStatus();
  if (IsNegative(p->initial_interval()) || IsMisSigned(p->initial_interval())) {
    return absl::InvalidArgumentError(
        "invalid InitialInterval set on retry policy: negative duration");
  }
  if (p->backoff_coefficient() < 1) {
    return absl::InvalidArgumentError(
        "BackoffCoefficient cannot be less than 1 on retry policy.");
  }
  if (IsNegative(p->maximum_interval()) || IsMisSigned(p->maximum_interval())) {
    return absl::InvalidArgumentError(
        "invalid MaximumInterval set on retry policy: negative duration");
  }
  if (FromProtoDuration(p->maximum_interval()) <
      FromProtoDuration(p->initial_interval())) {
    return absl::InvalidArgumentError(
        "MaximumInterval cannot be less than InitialInterval on retry policy.");
  }
  if (p->maximum_attempts() < 0) {
    return absl::InvalidArgumentError(
        "MaximumAttempts cannot be negative on retry policy.");
  }
  for (const auto& type : p->non_retryable_error_types()) {
    if (!absl::StartsWith(type, "TemporalTimeout:")) continue;
    const std::string value = type.substr(strlen("TemporalTimeout:"));
    if (value != "StartToClose" && value != "ScheduleToStart" &&
        value != "ScheduleToClose" && value != "Heartbeat") {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid timeout type value: ", value, "."));
    }
  }
  return absl::OkStatus();
}

absl::Status NormalizeTimeouts(ActivityOptions* options,
                               absl::string_view activity_id,
                               absl::string_view activity_type) {
  Duration s2c = options->schedule_to_close_timeout();
  Duration s2s = options->schedule_to_start_timeout();
  Duration stc = options->start_to_close_timeout();
  Duration heartbeat = options->heartbeat_timeout();
  for (auto [d, name] : {std::pair{&s2c, "ScheduleToCloseTimeout"},
                         std::pair{&s2s, "ScheduleToStartTimeout"},
                         std::pair{&stc, "StartToCloseTimeout"},
                         std::pair{&heartbeat, "HeartbeatTimeout"}}) {
    if (absl::Status s = NormalizeTimeout(d, name); !s.ok()) return s;
  }
  if (IsPositive(s2c)) {
    s2s = IsPositive(s2s) ? MinDuration(s2s, s2c) : s2c;
    stc = IsPositive(stc) ? MinDuration(stc, s2c) : s2c;
  } else if (!IsPositive(stc)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a valid StartToCloseTimeout or ScheduleToCloseTimeout must be set on "
        "the activity. ActivityId=",
        activity_id, " ActivityType=", activity_type));
  }
  heartbeat = MinDuration(heartbeat, stc);
  *options->mutable_schedule_to_close_timeout() = s2c;
  *options->mutable_schedule_to_start_timeout() = s2s;
  *options->mutable_start_to_close_timeout() = stc;
  *options->mutable_heartbeat_timeout() = heartbeat;
  return absl::OkStatus();
}

absl::Status ValidatePriority(const temporal::api::common::v1::Priority& p,
                              absl::string_view prefix) {
  if (p.priority_key() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "priority key can't be negative"));
  }
  if (p.fairness_key().size() > kMaxFairnessKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "fairness key length exceeds limit"));
  }
  if (p.fairness_weight() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "must be greater than zero"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTaskQueueName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("missing task queue name");
  }
  if (name.size() > kMaxIdLength) {
    return absl::InvalidArgumentError("taskQueue length exceeds limit");
  }
  return absl::OkStatus();
}

absl::Status ValidateStartDelay(const Duration& delay) {
  if (IsNegative(delay) || IsMisSigned(delay)) {
    return absl::InvalidArgumentError("invalid StartDelay: negative duration");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OptionPath>> ParseUpdateMask(
    const google::protobuf::RepeatedPtrField<std::string>& paths) {
  static const std::pair<const char*, OptionPath> kPaths[] = {
      {"task_queue.name", OptionPath::kTaskQueueName},
      {"schedule_to_close_timeout", OptionPath::kScheduleToCloseTimeout},
      {"schedule_to_start_timeout", OptionPath::kScheduleToStartTimeout},
      {"start_to_close_timeout", OptionPath::kStartToCloseTimeout},
      {"heartbeat_timeout", OptionPath::kHeartbeatTimeout},
      {"priority", OptionPath::kPriority},
      {"priority.priority_key", OptionPath::kPriorityKey},
      {"priority.fairness_key", OptionPath::kFairnessKey},
      {"priority.fairness_weight", OptionPath::kFairnessWeight},
      {"retry_policy", OptionPath::kRetryPolicy},
      {"retry_policy.initial_interval", OptionPath::kInitialInterval},
      {"retry_policy.backoff_coefficient", OptionPath::kBackoffCoefficient},
      {"retry_policy.maximum_interval", OptionPath::kMaximumInterval},
      {"retry_policy.maximum_attempts", OptionPath::kMaximumAttempts},
      {"start_delay", OptionPath::kStartDelay},
  };
  if (paths.empty()) {
    return absl::InvalidArgumentError(
        "UpdateMask must specify at least one path");
  }
  std::vector<OptionPath> out;
  for (const std::string& path : paths) {
    const std::string snake = SnakeCase(path);
    bool known = false;
    for (const auto& [name, option] : kPaths) {
      if (snake == name) {
        out.push_back(option);
        known = true;
        break;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported update_mask path: \"", path, "\""));
    }
  }
  return out;
}

absl::Status MergeOptions(ActivityOptions& options,
                          const ActivityOptions& update,
                          const std::vector<OptionPath>& paths,
                          absl::string_view activity_id,
                          absl::string_view activity_type) {
  ActivityOptions next = options;
  auto* priority = next.mutable_priority();
  auto* retry = next.mutable_retry_policy();
  const auto& new_retry = update.retry_policy();
  for (OptionPath path : paths) {
    switch (path) {
      case OptionPath::kTaskQueueName:
        next.mutable_task_queue()->set_name(update.task_queue().name());
        break;
      case OptionPath::kScheduleToCloseTimeout:
        *next.mutable_schedule_to_close_timeout() =
            update.schedule_to_close_timeout();
        break;
      case OptionPath::kScheduleToStartTimeout:
        *next.mutable_schedule_to_start_timeout() =
            update.schedule_to_start_timeout();
        break;
      case OptionPath::kStartToCloseTimeout:
        *next.mutable_start_to_close_timeout() =
            update.start_to_close_timeout();
        break;
      case OptionPath::kHeartbeatTimeout:
        *next.mutable_heartbeat_timeout() = update.heartbeat_timeout();
        break;
      case OptionPath::kPriority:
        *priority = update.priority();
        break;
      case OptionPath::kPriorityKey:
        priority->set_priority_key(update.priority().priority_key());
        break;
      case OptionPath::kFairnessKey:
        priority->set_fairness_key(update.priority().fairness_key());
        break;
      case OptionPath::kFairnessWeight:
        priority->set_fairness_weight(update.priority().fairness_weight());
        break;
      case OptionPath::kRetryPolicy:
        *retry = new_retry;
        break;
      case OptionPath::kInitialInterval:
        *retry->mutable_initial_interval() = new_retry.initial_interval();
        break;
      case OptionPath::kBackoffCoefficient:
        retry->set_backoff_coefficient(new_retry.backoff_coefficient());
        break;
      case OptionPath::kMaximumInterval:
        *retry->mutable_maximum_interval() = new_retry.maximum_interval();
        break;
      case OptionPath::kMaximumAttempts:
        retry->set_maximum_attempts(new_retry.maximum_attempts());
        break;
      case OptionPath::kStartDelay:
        *next.mutable_start_delay() = update.start_delay();
        break;
    }
  }
  if (absl::Status s = ValidateStartDelay(next.start_delay()); !s.ok()) {
    return s;
  }
  // An update names the field alone, without the "invalid priorities: "
  // of a start (as Temporal's messages go).
  if (absl::Status s = ValidatePriority(next.priority(), ""); !s.ok()) {
    return s;
  }
  if (absl::Status s = NormalizeRetryPolicy(retry); !s.ok()) return s;
  if (absl::Status s = NormalizeTimeouts(&next, activity_id, activity_type);
      !s.ok()) {
    return s;
  }
  // An options record without a priority stays without one, and a zero
  // start delay is no start delay (Temporal leaves it out).
  if (!options.has_priority() && next.priority().ByteSizeLong() == 0) {
    next.clear_priority();
  }
  if (FromProtoDuration(next.start_delay()) == absl::ZeroDuration()) {
    next.clear_start_delay();
  }
  options = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<OptionsUpdate> ParseOptionsUpdate(
    const ActivityOptions* options, const google::protobuf::FieldMask* mask,
    bool restore_original) {
  OptionsUpdate update;
  update.restore_original = restore_original;
  if (restore_original) {
    if (mask && mask->paths_size() > 0) {
      return absl::InvalidArgumentError(
          "Both UpdateMask and RestoreOriginal are provided");
    }
    return update;
  }
  if (!options) {
    return absl::InvalidArgumentError("ActivityOptions are not provided");
  }
  if (!mask) return absl::InvalidArgumentError("UpdateMask is not provided");
  auto paths = ParseUpdateMask(mask->paths());
  if (!paths.ok()) return paths.status();
  for (OptionPath path : *paths) {
    switch (path) {
      case OptionPath::kTaskQueueName:
        if (!options->has_task_queue()) {
          return absl::InvalidArgumentError("TaskQueue is not provided");
        }
        if (absl::Status s =
                ValidateTaskQueueName(options->task_queue().name());
            !s.ok()) {
          return s;
        }
        break;
      case OptionPath::kPriorityKey:
      case OptionPath::kFairnessKey:
      case OptionPath::kFairnessWeight:
        if (!options->has_priority()) {
          return absl::InvalidArgumentError("Priority is not provided");
        }
        break;
      case OptionPath::kInitialInterval:
      case OptionPath::kBackoffCoefficient:
      case OptionPath::kMaximumInterval:
      case OptionPath::kMaximumAttempts:
        if (!options->has_retry_policy()) {
          return absl::InvalidArgumentError("RetryPolicy is not provided");
        }
        break;
      default:
        break;
    }
  }
  update.options = *options;
  update.paths = *std::move(paths);
  return update;
}

}  // namespace errand::engine
