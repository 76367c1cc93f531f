// Fuzz target for the activity request validators: the input bytes are
// decoded as a StartActivityExecutionRequest (inputs that do not decode are
// skipped) and checked against a fixed namespace.
//
// Properties:
// - every validator answers OK or INVALID_ARGUMENT, never another code;
// - a start ValidateStart accepts is one the engine can run: it names the
//   namespace, has an activity ID, a task queue and a request ID, a positive
//   start-to-close timeout, schedule-to-start and start-to-close within
//   schedule-to-close when that is set, and a heartbeat timeout within
//   start-to-close.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "errand/frontend/activity_validation.h"
#include "fuzz_target.h"
#include "google/protobuf/stubs/logging.h"

namespace {

// Undecodable inputs are the common case: keep protobuf from logging each.
[[maybe_unused]] const bool kProtobufQuiet =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace ws = temporal::api::workflowservice::v1;
using errand::kMaxIdLength;

const errand::store::NamespaceRecord& Namespace() {
  static const errand::store::NamespaceRecord* const ns = [] {
    auto* ns = new errand::store::NamespaceRecord;
    ns->set_id("6a0c3bd4-2f3e-4a53-9d0e-9b7c3d1e5f20");
    ns->set_name("default");
    ns->mutable_retention()->set_seconds(72 * 3600);
    (*ns->mutable_search_attributes())["CustomKeywordField"] =
        temporal::api::enums::v1::INDEXED_VALUE_TYPE_KEYWORD;
    (*ns->mutable_search_attributes())["CustomIntField"] =
        temporal::api::enums::v1::INDEXED_VALUE_TYPE_INT;
    return ns;
  }();
  return *ns;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void CheckCode(const absl::Status& status, const char* what) {
  if (!status.ok() && !absl::IsInvalidArgument(status)) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    FUZZ_CHECK(false,
               "validator failed with a code other than "
               "INVALID_ARGUMENT");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ws::StartActivityExecutionRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;

  CheckCode(errand::frontend::ValidateActivityId(req.activity_id()),
            "ValidateActivityId");
  const absl::Status run_id = errand::frontend::ValidateRunId(req.request_id());
  CheckCode(run_id, "ValidateRunId");
  FUZZ_CHECK(
      !run_id.ok() || req.request_id().empty() || req.request_id().size() == 36,
      "ValidateRunId accepted something that is not a UUID");
  CheckCode(errand::frontend::ValidateTaskQueueName(req.task_queue().name()),
            "ValidateTaskQueueName");
  CheckCode(errand::frontend::ValidateRequestIdAndIdentity(req.request_id(),
                                                           req.identity()),
            "ValidateRequestIdAndIdentity");

  auto start = errand::frontend::ValidateStart(req, Namespace());
  CheckCode(start.status(), "ValidateStart");
  if (!start.ok()) return 0;
  const auto& r = start->record;
  const auto& o = r.options();
  FUZZ_CHECK(r.namespace_id() == Namespace().id(), "wrong namespace");
  FUZZ_CHECK(!r.activity_id().empty() && r.activity_id().size() <= kMaxIdLength,
             "accepted start has no or an over-long activity ID");
  FUZZ_CHECK(!o.task_queue().name().empty() &&
                 o.task_queue().name().size() <= kMaxIdLength,
             "accepted start has no or an over-long task queue");
  FUZZ_CHECK(r.request_ids_size() == 1 && !r.request_ids(0).empty(),
             "accepted start has no request ID");
  const absl::Duration s2c = FromProto(o.schedule_to_close_timeout());
  const absl::Duration s2s = FromProto(o.schedule_to_start_timeout());
  const absl::Duration stc = FromProto(o.start_to_close_timeout());
  const absl::Duration heartbeat = FromProto(o.heartbeat_timeout());
  FUZZ_CHECK(stc > absl::ZeroDuration(),
             "accepted start has no positive start-to-close timeout");
  FUZZ_CHECK(s2s >= absl::ZeroDuration() && heartbeat >= absl::ZeroDuration(),
             "accepted start has a negative timeout");
  if (s2c > absl::ZeroDuration()) {
    FUZZ_CHECK(s2s <= s2c && stc <= s2c,
               "timeout exceeds schedule-to-close timeout");
  }
  FUZZ_CHECK(heartbeat <= stc, "heartbeat timeout exceeds start-to-close");
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  auto add = [&](const ws::StartActivityExecutionRequest& r) {
    seeds.push_back(r.SerializeAsString());
  };
  ws::StartActivityExecutionRequest base;
  base.set_namespace_("default");
  base.set_identity("worker@host");
  base.set_request_id("3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c");
  base.set_activity_id("send-email");
  base.mutable_activity_type()->set_name("SendEmail");
  base.mutable_task_queue()->set_name("mail");
  base.mutable_start_to_close_timeout()->set_seconds(60);
  add(base);

  ws::StartActivityExecutionRequest all = base;
  all.mutable_schedule_to_close_timeout()->set_seconds(300);
  all.mutable_schedule_to_start_timeout()->set_seconds(30);
  all.mutable_heartbeat_timeout()->set_seconds(10);
  all.mutable_start_to_close_timeout()->set_nanos(500000000);
  auto* retry = all.mutable_retry_policy();
  retry->mutable_initial_interval()->set_seconds(1);
  retry->set_backoff_coefficient(2.0);
  retry->mutable_maximum_interval()->set_seconds(100);
  retry->set_maximum_attempts(5);
  retry->add_non_retryable_error_types("Fatal");
  all.mutable_start_delay()->set_seconds(5);
  all.mutable_priority()->set_priority_key(3);
  all.mutable_input()->add_payloads()->set_data("{\"to\":\"a@b\"}");
  auto& fields = *all.mutable_search_attributes()->mutable_indexed_fields();
  (*fields["CustomKeywordField"].mutable_metadata())["encoding"] = "json/plain";
  fields["CustomKeywordField"].set_data("\"x\"");
  (*fields["CustomIntField"].mutable_metadata())["encoding"] = "json/plain";
  fields["CustomIntField"].set_data("7");
  add(all);

  ws::StartActivityExecutionRequest s2c_only = base;
  s2c_only.clear_start_to_close_timeout();
  s2c_only.mutable_schedule_to_close_timeout()->set_seconds(10);
  add(s2c_only);

  ws::StartActivityExecutionRequest negative = base;
  negative.mutable_start_to_close_timeout()->set_seconds(-1);
  negative.mutable_heartbeat_timeout()->set_nanos(-5);
  add(negative);

  ws::StartActivityExecutionRequest huge = base;
  huge.mutable_start_to_close_timeout()->set_seconds(315576000000);
  huge.mutable_start_to_close_timeout()->set_nanos(999999999);
  huge.mutable_heartbeat_timeout()->set_seconds(315576000000);
  add(huge);

  ws::StartActivityExecutionRequest empty_ids = base;
  empty_ids.clear_activity_id();
  empty_ids.clear_request_id();
  empty_ids.mutable_task_queue()->set_name(std::string(1001, 'q'));
  add(empty_ids);

  ws::StartActivityExecutionRequest unknown_attr = base;
  (*unknown_attr.mutable_search_attributes()->mutable_indexed_fields())["Nope"]
      .set_data("1");
  unknown_attr.mutable_retry_policy()->set_backoff_coefficient(0.5);
  add(unknown_attr);

  seeds.push_back(std::string());
  return seeds;
}
