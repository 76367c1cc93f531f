// Temporal's payload shorthand, both ways, and proto3 JSON around it.
#include "errand/http/json_transcoding.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::http {
namespace {

namespace common = temporal::api::common::v1;
namespace ws = temporal::api::workflowservice::v1;

common::Payload Plain(const std::string& json) {
  common::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(json);
  return p;
}

TEST(JsonTranscoding, ShorthandInputBecomesJsonPlainPayloads) {
  ws::StartActivityExecutionRequest request;
  ASSERT_TRUE(JsonToMessage(Json::parse(R"({
      "activityId": "a", "startToCloseTimeout": "10s",
      "input": [{"name": "x", "a": 1}, "str", 5, null]})"),
                            &request, {})
                  .ok());
  EXPECT_EQ(request.activity_id(), "a");
  EXPECT_EQ(request.start_to_close_timeout().seconds(), 10);
  ASSERT_EQ(request.input().payloads_size(), 4);
  // Keys sorted, compact: what Temporal's Go encoder writes.
  EXPECT_EQ(request.input().payloads(0).data(), R"({"a":1,"name":"x"})");
  EXPECT_EQ(request.input().payloads(0).metadata().at("encoding"),
            "json/plain");
  EXPECT_EQ(request.input().payloads(1).data(), "\"str\"");
  EXPECT_EQ(request.input().payloads(2).data(), "5");
  EXPECT_EQ(request.input().payloads(3).metadata().at("encoding"),
            "binary/null");
  EXPECT_TRUE(request.input().payloads(3).data().empty());
}

TEST(JsonTranscoding, FullFormPayloadsAreTakenAsWritten) {
  ws::StartActivityExecutionRequest request;
  const std::string binary = absl::Base64Escape("binary/plain");
  ASSERT_TRUE(
      JsonToMessage(Json::parse(R"({"input": {"payloads": [
                      {"metadata": {"encoding": ")" +
                                binary + R"("}, "data": "AAEC"}, "x"]}})"),
                    &request, {})
          .ok());
  ASSERT_EQ(request.input().payloads_size(), 2);
  EXPECT_EQ(request.input().payloads(0).metadata().at("encoding"),
            "binary/plain");
  EXPECT_EQ(request.input().payloads(0).data(), std::string("\0\1\2", 3));
  EXPECT_EQ(request.input().payloads(1).data(), "\"x\"");
}

TEST(JsonTranscoding, ProtoMessageTypeMakesJsonProtobuf) {
  ws::StartActivityExecutionRequest request;
  ASSERT_TRUE(JsonToMessage(Json::parse(R"({"input": [
      {"_protoMessageType": "temporal.api.common.v1.DataBlob", "data": "3q2+7w=="}]})"),
                            &request, {})
                  .ok());
  const common::Payload& p = request.input().payloads(0);
  EXPECT_EQ(p.metadata().at("encoding"), "json/protobuf");
  EXPECT_EQ(p.metadata().at("messageType"), "temporal.api.common.v1.DataBlob");
  EXPECT_EQ(p.data(), R"({"data":"3q2+7w=="})");
}

TEST(JsonTranscoding, OutputUsesShorthandWhenEveryPayloadHasOne) {
  ws::DescribeActivityExecutionResponse response;
  *response.mutable_input()->add_payloads() = Plain(R"({"b":1,"a":2})");
  *response.mutable_input()->add_payloads() = Plain("\"s\"");
  const Json out = Json::parse(MessageToJson(response, {}));
  EXPECT_EQ(out["input"], Json::parse(R"([{"a":2,"b":1},"s"])"));
}

TEST(JsonTranscoding, OutputKeepsFullFormWhenAPayloadHasNone) {
  ws::DescribeActivityExecutionResponse response;
  common::Payload binary;
  (*binary.mutable_metadata())["encoding"] = "binary/plain";
  binary.set_data(std::string("\0\1\2", 3));
  *response.mutable_input()->add_payloads() = binary;
  *response.mutable_input()->add_payloads() = Plain("7");
  common::Payload null;
  (*null.mutable_metadata())["encoding"] = "binary/null";
  *response.mutable_input()->add_payloads() = null;
  const Json out = Json::parse(MessageToJson(response, {}));
  ASSERT_TRUE(out["input"].is_object()) << out.dump();
  const Json& list = out["input"]["payloads"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["data"], "AAEC");
  EXPECT_EQ(list[1], 7);
  EXPECT_EQ(list[2],
            Json::parse(R"({"metadata":{"encoding":"YmluYXJ5L251bGw="}})"));
}

TEST(JsonTranscoding, ExtraMetadataOrBadJsonKeepsFullForm) {
  ws::DescribeActivityExecutionResponse response;
  common::Payload typed = Plain("\"Running\"");
  (*typed.mutable_metadata())["type"] = "Keyword";
  *response.mutable_input()->add_payloads() = typed;
  *response.mutable_input()->add_payloads() = Plain("{not json");
  const Json out = Json::parse(MessageToJson(response, {}));
  ASSERT_TRUE(out["input"].is_object()) << out.dump();
  EXPECT_TRUE(out["input"]["payloads"][0].contains("metadata"));
  EXPECT_TRUE(out["input"]["payloads"][1].contains("data"));
}

TEST(JsonTranscoding, NoShorthandIsPlainProto3Json) {
  ws::DescribeActivityExecutionResponse response;
  *response.mutable_input()->add_payloads() = Plain("1");
  JsonOptions options;
  options.payload_shorthand = false;
  const Json out = Json::parse(MessageToJson(response, options));
  EXPECT_EQ(out["input"]["payloads"][0]["data"], absl::Base64Escape("1"));
  ws::StartActivityExecutionRequest request;
  EXPECT_FALSE(
      JsonToMessage(Json::parse(R"({"input": [1]})"), &request, options).ok());
}

TEST(JsonTranscoding, NestedPayloadsInMapsAndFailuresAreRewritten) {
  ws::StartActivityExecutionRequest request;
  ASSERT_TRUE(JsonToMessage(Json::parse(R"({
      "header": {"fields": {"trace": {"id": 7}}},
      "searchAttributes": {"indexedFields": {"CustomKeywordField": "k"}}})"),
                            &request, {})
                  .ok());
  EXPECT_EQ(request.header().fields().at("trace").data(), R"({"id":7})");
  EXPECT_EQ(request.search_attributes()
                .indexed_fields()
                .at("CustomKeywordField")
                .data(),
            "\"k\"");
}

TEST(JsonTranscoding, RefusesUnknownFieldsAndWrongTypes) {
  ws::StartActivityExecutionRequest request;
  absl::Status s =
      JsonToMessage(Json::parse(R"({"bogusField": 1})"), &request, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bogusField"), std::string::npos) << s;
  s = JsonToMessage(Json::parse(R"({"startToCloseTimeout": 10})"), &request,
                    {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = JsonToMessage(Json::parse("[1]"), &request, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonTranscoding, PrettyIndents) {
  ws::StartActivityExecutionResponse response;
  response.set_run_id("r");
  JsonOptions options;
  options.pretty = true;
  EXPECT_EQ(MessageToJson(response, options), "{\n  \"runId\": \"r\"\n}");
}

}  // namespace
}  // namespace errand::http
