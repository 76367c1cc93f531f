// Fuzz target for the HTTP API's request parsing: JSON bodies with Temporal's
// payload shorthand (http/json_transcoding.h), and request paths against
// the route table (http/routes.h).
//
// Input: the first byte picks the request type (or, past the last, a path
// to route); the rest is the body or the path.
// Properties, for any bytes:
// - parsing a body fails only with INVALID_ARGUMENT, and never throws;
// - what parses is written back as JSON that parses again, and from the
//   second round on reading and writing are stable: message -> JSON ->
//   message gives the same message (the first round may normalize, e.g.
//   sort the keys of a shorthand value);
// - routing never throws; a found route has one value per path variable.
#include <memory>
#include <string>
#include <vector>

#include "errand/http/json_transcoding.h"
#include "errand/http/routes.h"
#include "fuzz_target.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace {

[[maybe_unused]] const bool kProtobufQuiet =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace ws = temporal::api::workflowservice::v1;
using errand::http::Json;

// Requests whose bodies carry payloads, failures, maps and field masks.
const google::protobuf::Message* const kTypes[] = {
    &ws::StartActivityExecutionRequest::default_instance(),
    &ws::RespondActivityTaskCompletedByIdRequest::default_instance(),
    &ws::RespondActivityTaskFailedByIdRequest::default_instance(),
    &ws::UpdateActivityExecutionOptionsRequest::default_instance(),
    &ws::StartBatchOperationRequest::default_instance(),
};
constexpr size_t kTypeCount = sizeof(kTypes) / sizeof(kTypes[0]);

const errand::http::RouteTable& Routes() {
  static const errand::http::RouteTable* const table = [] {
    // Naming the descriptor table links the file that registers the
    // service (nothing else in this binary references it).
    FUZZ_CHECK(
        descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto
                .filename != nullptr,
        "the service's descriptors are linked");
    const google::protobuf::DescriptorPool* pool =
        google::protobuf::DescriptorPool::generated_pool();
    auto built = errand::http::RouteTable::Build(
        {pool->FindServiceByName(ws::WorkflowService::service_full_name())});
    FUZZ_CHECK(built.ok(), "the route table builds");
    return new errand::http::RouteTable(*std::move(built));
  }();
  return *table;
}

bool ParseBody(const std::string& text, Json* out) {
  *out = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !out->is_discarded();
}

void CheckBody(const google::protobuf::Message& type, const std::string& text,
               bool shorthand) {
  Json json;
  if (!ParseBody(text, &json)) return;
  errand::http::JsonOptions options;
  options.payload_shorthand = shorthand;
  std::unique_ptr<google::protobuf::Message> first(type.New());
  const absl::Status parsed =
      errand::http::JsonToMessage(json, first.get(), options);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == absl::StatusCode::kInvalidArgument,
               "a body is refused only as INVALID_ARGUMENT");
    return;
  }
  // Round 1 may normalize; rounds 2 and 3 must agree.
  std::unique_ptr<google::protobuf::Message> second(type.New());
  std::unique_ptr<google::protobuf::Message> third(type.New());
  Json written;
  FUZZ_CHECK(ParseBody(errand::http::MessageToJson(*first, options), &written),
             "a reply is valid JSON");
  FUZZ_CHECK(errand::http::JsonToMessage(written, second.get(), options).ok(),
             "what was written reads back");
  FUZZ_CHECK(ParseBody(errand::http::MessageToJson(*second, options), &written),
             "a reply is valid JSON");
  FUZZ_CHECK(errand::http::JsonToMessage(written, third.get(), options).ok(),
             "what was written reads back");
  FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(*second, *third),
      "reading and writing are stable after one round");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t pick = data[0] % (2 * kTypeCount + 1);
  try {
    if (pick < 2 * kTypeCount) {
      CheckBody(*kTypes[pick / 2], rest, /*shorthand=*/pick % 2 == 0);
    } else {
      const errand::http::RouteMatch match = Routes().Match("POST", rest);
      if (match.result == errand::http::RouteMatch::Result::kFound) {
        size_t variables = 0;
        for (const auto& segment : match.binding->segments) {
          variables += segment.variable ? 1 : 0;
        }
        FUZZ_CHECK(match.variables.size() == variables,
                   "one value per path variable");
      }
    }
  } catch (...) {
    FUZZ_CHECK(false, "no exception escapes");
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  return {
      std::string(1, '\0') +
          R"({"activityId":"a","activityType":{"name":"t"},"taskQueue":{"name":"q"},"startToCloseTimeout":"10s","input":[{"b":1,"a":[1.5,null,"x"]},"s",5,null]})",
      std::string(1, '\0') +
          R"({"input":{"payloads":[{"metadata":{"encoding":"YmluYXJ5L3BsYWlu"},"data":"AAEC"},{"_protoMessageType":"x.Y","f":1}]},"header":{"fields":{"k":{"v":true}}}})",
      std::string(1, '\1') +
          R"({"input":{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}})",
      std::string(1, '\2') + R"({"activityId":"a","result":["done"]})",
      std::string(1, '\4') +
          R"({"activityId":"a","failure":{"message":"m","stackTrace":"s","cause":{"message":"c"},"applicationFailureInfo":{"type":"T","details":[1,{"x":"y"}]}}})",
      std::string(1, '\6') +
          R"({"activityId":"a","activityOptions":{"startToCloseTimeout":"5s","retryPolicy":{"maximumAttempts":3}},"updateMask":"startToCloseTimeout,retryPolicy.maximumAttempts"})",
      std::string(1, '\6') +
          R"({"updateMask":{"paths":["start_to_close_timeout"]}})",
      std::string(1, '\x08') +
          R"({"jobId":"j","visibilityQuery":"ActivityType='t'","reason":"r","terminateActivitiesOperation":{"identity":"i"}})",
      std::string(1, '\x0a') +
          "/api/v1/namespaces/default/activities/a%20b/complete",
      std::string(1, '\x0a') + "/namespaces/n/workflows/w/activities/a/pause",
      std::string(1, '\x0a') + "/api/v1/namespaces/%zz/activities/a",
  };
}
