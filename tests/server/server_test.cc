// Runs the whole server in-process on a free port (support/server_harness.h)
// and talks to it over gRPC with the generated Temporal stubs.
#include "errand/server/server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "errand/common/clock.h"
#include "errand/common/uuid.h"
#include "google/rpc/status.pb.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "support/server_harness.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "temporal/api/operatorservice/v1/service.grpc.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace errand::server {
namespace {

namespace ws = temporal::api::workflowservice::v1;

using ServerTest = ServerHarness;

// The server on a FakeClock: long polls expire when the test moves time, not
// after seconds of real waiting.
class ServerFakeTimeTest : public ServerHarness {
 protected:
  void SetUp() override {
    clock_ = &fake_clock_;
    ServerHarness::SetUp();
  }

  // Moves the clock up to a held poll's 30 s deadline: the poll is still
  // open 3 s before it and answered empty (OK, no task) by then, a second
  // before it on the server's clock. The last step's slack covers gRPC's
  // rounding of deadlines to milliseconds.
  template <typename Poll>
  void ExpectEmptyAnswerBy30Seconds(Poll& poll) {
    fake_clock_.Advance(absl::Seconds(27));
    EXPECT_FALSE(poll.answered());
    fake_clock_.Advance(absl::Seconds(3));
    ASSERT_TRUE(poll.WaitFor(absl::Seconds(20)));
    EXPECT_TRUE(poll.status.ok()) << poll.status.error_message();
    EXPECT_TRUE(poll.response.task_token().empty());
  }

  FakeClock fake_clock_;
};

TEST_F(ServerTest, GetSystemInfoAnswers) {
  grpc::ClientContext ctx;
  ws::GetSystemInfoResponse resp;
  ASSERT_TRUE(stub_->GetSystemInfo(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.server_version(), ERRAND_VERSION);
}

// gRPC would let a second process share the port (SO_REUSEPORT) and take a
// share of the calls; Errand refuses to start instead, as Temporal does.
TEST_F(ServerTest, ASecondServerOnAPortInUseRefusesToStart) {
  Config config = config_;
  config.listen = server_->address();
  const auto other_dir =
      std::filesystem::temp_directory_path() / ("errand-srv-" + NewUuid());
  config.data_dir = other_dir.string();
  auto second = Server::Start(config, clock_);
  std::filesystem::remove_all(other_dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(), "cannot listen on " +
                                           server_->address() +
                                           ": bind: address already in use");
}

// At log level debug, one line per call: method, namespace, status code and
// duration, and never a payload.
TEST_F(ServerTest, DebugLevelLogsOneLinePerCallWithoutPayloads) {
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "access", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  {
    ws::StartActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id("logged");
    req.set_request_id(NewUuid());
    req.mutable_activity_type()->set_name("t");
    req.mutable_task_queue()->set_name("tq");
    req.mutable_start_to_close_timeout()->set_seconds(60);
    req.mutable_input()->add_payloads()->set_data("secret-input-bytes");
    grpc::ClientContext ctx;
    ws::StartActivityExecutionResponse resp;
    EXPECT_TRUE(stub_->StartActivityExecution(&ctx, req, &resp).ok());
  }
  {
    ws::DescribeActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id("absent");
    grpc::ClientContext ctx;
    ws::DescribeActivityExecutionResponse resp;
    EXPECT_EQ(stub_->DescribeActivityExecution(&ctx, req, &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  spdlog::set_default_logger(previous);
  const std::string log = out.str();
  EXPECT_TRUE(absl::StrContains(
      log, "rpc StartActivityExecution namespace=default status=OK "))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log, "rpc DescribeActivityExecution namespace=default status=NOT_FOUND "))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "secret-input-bytes")) << log;
}

TEST_F(ServerTest, DefaultNamespaceExistsWithStandaloneActivities) {
  grpc::ClientContext ctx;
  ws::DescribeNamespaceRequest req;
  req.set_namespace_("default");
  ws::DescribeNamespaceResponse resp;
  ASSERT_TRUE(stub_->DescribeNamespace(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.namespace_info().state(),
            temporal::api::enums::v1::NAMESPACE_STATE_REGISTERED);
  EXPECT_TRUE(resp.namespace_info().capabilities().standalone_activities());
  EXPECT_FALSE(resp.namespace_info().capabilities().worker_heartbeats());
  EXPECT_EQ(resp.namespace_info().limits().blob_size_limit_error(),
            2 * 1024 * 1024);
  EXPECT_TRUE(IsUuid(resp.namespace_info().id()));
}

TEST_F(ServerTest, UnknownNamespaceIsNotFoundWithDetail) {
  grpc::ClientContext ctx;
  ws::DescribeNamespaceRequest req;
  req.set_namespace_("missing");
  ws::DescribeNamespaceResponse resp;
  const grpc::Status s = stub_->DescribeNamespace(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "Namespace missing is not found.");
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  ASSERT_GE(rich.details_size(), 1);
  temporal::api::errordetails::v1::NamespaceNotFoundFailure detail;
  ASSERT_TRUE(rich.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.namespace_(), "missing");
}

TEST_F(ServerTest, RegisteredNamespaceSurvivesRestart) {
  {
    grpc::ClientContext ctx;
    ws::RegisterNamespaceRequest req;
    req.set_namespace_("orders");
    req.set_description("order jobs");
    req.mutable_workflow_execution_retention_period()->set_seconds(3600);
    ws::RegisterNamespaceResponse resp;
    ASSERT_TRUE(stub_->RegisterNamespace(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    ws::RegisterNamespaceRequest req;
    req.set_namespace_("orders");
    ws::RegisterNamespaceResponse resp;
    EXPECT_EQ(stub_->RegisterNamespace(&ctx, req, &resp).error_message(),
              "A valid retention period is not set on request.");
    grpc::ClientContext again_ctx;
    req.mutable_workflow_execution_retention_period()->set_seconds(3600);
    const grpc::Status again = stub_->RegisterNamespace(&again_ctx, req, &resp);
    EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_EQ(again.error_message(), "Namespace \"orders\" already exists");
  }
  Restart();
  grpc::ClientContext ctx;
  ws::DescribeNamespaceRequest req;
  req.set_namespace_("orders");
  ws::DescribeNamespaceResponse resp;
  ASSERT_TRUE(stub_->DescribeNamespace(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.namespace_info().description(), "order jobs");
  EXPECT_EQ(resp.config().workflow_execution_retention_ttl().seconds(), 3600);

  grpc::ClientContext list_ctx;
  ws::ListNamespacesRequest list_req;
  list_req.set_page_size(1);
  ws::ListNamespacesResponse list;
  ASSERT_TRUE(stub_->ListNamespaces(&list_ctx, list_req, &list).ok());
  ASSERT_EQ(list.namespaces_size(), 1);
  EXPECT_EQ(list.namespaces(0).namespace_info().name(), "default");
  grpc::ClientContext next_ctx;
  list_req.set_next_page_token(list.next_page_token());
  ws::ListNamespacesResponse next;
  ASSERT_TRUE(stub_->ListNamespaces(&next_ctx, list_req, &next).ok());
  ASSERT_EQ(next.namespaces_size(), 1);
  EXPECT_EQ(next.namespaces(0).namespace_info().name(), "orders");
}

TEST_F(ServerTest, UpdateNamespaceChangesDescriptionAndRetention) {
  grpc::ClientContext ctx;
  ws::UpdateNamespaceRequest req;
  req.set_namespace_("default");
  req.mutable_update_info()->set_description("the default");
  req.mutable_config()->mutable_workflow_execution_retention_ttl()->set_seconds(
      7200);
  ws::UpdateNamespaceResponse resp;
  ASSERT_TRUE(stub_->UpdateNamespace(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.namespace_info().description(), "the default");
  EXPECT_EQ(resp.config().workflow_execution_retention_ttl().seconds(), 7200);
}

TEST_F(ServerTest, UnservedMethodsSayNotImplementedWithTheirName) {
  grpc::ClientContext ctx;
  ws::StartWorkflowExecutionRequest req;
  ws::StartWorkflowExecutionResponse resp;
  const grpc::Status s = stub_->StartWorkflowExecution(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(s.error_message(), "method StartWorkflowExecution not implemented");

  auto op =
      temporal::api::operatorservice::v1::OperatorService::NewStub(channel_);
  grpc::ClientContext op_ctx;
  temporal::api::operatorservice::v1::DeleteNamespaceResponse op_resp;
  const grpc::Status op_status = op->DeleteNamespace(&op_ctx, {}, &op_resp);
  EXPECT_EQ(op_status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(op_status.error_message(),
            "method DeleteNamespace not implemented");
}

// Workers that poll for workflow tasks (Go's by default) get an empty answer
// when their long poll runs out (a second before the caller's deadline), not
// an error.
TEST_F(ServerFakeTimeTest, WorkflowTaskPollsWaitAndComeBackEmpty) {
  auto poll = PollWorkflows("any-queue", absl::Seconds(30));
  ASSERT_TRUE(AwaitHeldPolls(0, 1)) << "the poll never waited";
  // It waits on a plain timer: the matcher keeps no queue for it.
  EXPECT_EQ(server_->ActiveTaskQueues(), 0u);
  ExpectEmptyAnswerBy30Seconds(*poll);
  EXPECT_EQ(server_->WaitingWorkflowPolls(), 0u);

  grpc::ClientContext bad_ctx;
  SetDeadline(bad_ctx, absl::Seconds(30));
  ws::PollWorkflowTaskQueueRequest req;
  req.set_namespace_("no-such-namespace");
  req.mutable_task_queue()->set_name("any-queue");
  ws::PollWorkflowTaskQueueResponse resp;
  EXPECT_EQ(stub_->PollWorkflowTaskQueue(&bad_ctx, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, AcceptsGzipCompressedRequests) {
  grpc::ClientContext ctx;
  ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  ws::DescribeNamespaceRequest req;
  req.set_namespace_("default");
  ws::DescribeNamespaceResponse resp;
  EXPECT_TRUE(stub_->DescribeNamespace(&ctx, req, &resp).ok());
}

// grpc.health.v1 has no installed C++ stubs, so the test speaks it as bytes:
// HealthCheckRequest{service = 1} and HealthCheckResponse{status = 1}.
TEST_F(ServerTest, HealthCheckServing) {
  for (const std::string service :
       {"", "temporal.api.workflowservice.v1.WorkflowService"}) {
    std::string request;
    if (!service.empty()) {
      request =
          std::string("\x0a") + static_cast<char>(service.size()) + service;
    }
    std::string response;
    const grpc::Status status =
        RawCall("/grpc.health.v1.Health/Check", request, &response);
    ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
    EXPECT_EQ(response, std::string("\x08\x01")) << service;  // SERVING
  }
}

// A request that does not decode is the caller's fault, and is answered as
// such: INVALID_ARGUMENT with grpc-go's wording, not the UNIMPLEMENTED with
// no message that gRPC's typed callback handlers give (SDKs read that as a
// missing feature). The server goes on serving.
TEST_F(ServerTest, UndecodableRequestsAreInvalidArgument) {
  const std::string describe =
      "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
  const std::string prefix = "grpc: error unmarshalling request: ";
  std::string response;
  for (const bool gzip : {false, true}) {
    // namespace (field 1) holding bytes that are not UTF-8.
    grpc::Status s =
        RawCall(describe, std::string("\x0a\x02\xff\xfe", 4), &response, gzip);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              prefix +
                  "invalid temporal.api.workflowservice.v1."
                  "DescribeNamespaceRequest: a string field is not valid "
                  "UTF-8, or a nested message is malformed or nested too "
                  "deeply");
    // Not protobuf at all: a varint that never ends, a truncated field.
    for (const std::string garbage :
         {std::string(16, '\xff'), std::string("\x0a\x7f"
                                               "abc")}) {
      s = RawCall(describe, garbage, &response, gzip);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(s.error_message(),
                prefix + "proto: cannot parse invalid wire-format data");
    }
    // The same path still decodes a good request and encodes the answer.
    ws::DescribeNamespaceRequest good;
    good.set_namespace_("default");
    s = RawCall(describe, good.SerializeAsString(), &response, gzip);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ws::DescribeNamespaceResponse decoded;
    ASSERT_TRUE(decoded.ParseFromString(response));
    EXPECT_EQ(decoded.namespace_info().name(), "default");
  }
  // Methods Errand does not serve say so whatever their bytes.
  EXPECT_EQ(RawCall("/temporal.api.workflowservice.v1.WorkflowService/"
                    "StartWorkflowExecution",
                    std::string(16, '\xff'), &response)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext ctx;
  ws::GetSystemInfoResponse info;
  EXPECT_TRUE(stub_->GetSystemInfo(&ctx, {}, &info).ok());
}

// The caller has 30 s; the empty answer comes a second before that, as time
// runs on the server's clock.
TEST_F(ServerFakeTimeTest, IdleTaskPollAnswersEmptyBeforeTheDeadline) {
  auto poll = PollActivities("tq", absl::Seconds(30));
  // Moves time only once the server holds the poll.
  ASSERT_TRUE(AwaitHeldPolls(1, 0)) << "the poll never waited";
  EXPECT_EQ(server_->ActiveTaskQueues(), 1u);
  ExpectEmptyAnswerBy30Seconds(*poll);
  // The expired poll left, and its empty queue with it.
  EXPECT_EQ(server_->WaitingTaskPolls(), 0u);
  EXPECT_EQ(server_->ActiveTaskQueues(), 0u);
}

TEST_F(ServerTest, TaskPollNeedsAUsableDeadline) {
  ws::PollActivityTaskQueueRequest req;
  req.set_namespace_("default");
  req.mutable_task_queue()->set_name("tq");
  ws::PollActivityTaskQueueResponse resp;
  grpc::ClientContext none;
  const grpc::Status no_deadline =
      stub_->PollActivityTaskQueue(&none, req, &resp);
  EXPECT_EQ(no_deadline.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(no_deadline.error_message(), "Context timeout is not set.");
  grpc::ClientContext short_ctx;
  SetDeadline(short_ctx, absl::Seconds(1));
  const grpc::Status too_short =
      stub_->PollActivityTaskQueue(&short_ctx, req, &resp);
  EXPECT_EQ(too_short.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(too_short.error_message(), "Context timeout is too short.");
}

// A poll's task queue name is held for as long as the poll waits, so its
// length is checked first, as on starts (1,000 bytes, Temporal's limit).
TEST_F(ServerFakeTimeTest, TaskPollsRefuseOverlongTaskQueueNames) {
  for (const size_t length : {size_t{1001}, size_t{100 * 1024}}) {
    ws::PollActivityTaskQueueRequest activity;
    activity.set_namespace_("default");
    activity.mutable_task_queue()->set_name(std::string(length, 'q'));
    ws::PollActivityTaskQueueResponse activity_resp;
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    const grpc::Status a =
        stub_->PollActivityTaskQueue(&ctx, activity, &activity_resp);
    EXPECT_EQ(a.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << length;
    EXPECT_EQ(a.error_message(), "taskQueue length exceeds limit");

    ws::PollWorkflowTaskQueueRequest workflow;
    workflow.set_namespace_("default");
    workflow.mutable_task_queue()->set_name(std::string(length, 'q'));
    ws::PollWorkflowTaskQueueResponse workflow_resp;
    grpc::ClientContext wctx;
    SetDeadline(wctx, absl::Seconds(10));
    const grpc::Status w =
        stub_->PollWorkflowTaskQueue(&wctx, workflow, &workflow_resp);
    EXPECT_EQ(w.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << length;
    EXPECT_EQ(w.error_message(), "taskQueue length exceeds limit");
  }
  // 1,000 bytes is a valid name: the poll waits and comes back empty.
  auto poll = PollActivities(std::string(1000, 'q'), absl::Seconds(30));
  ASSERT_TRUE(AwaitHeldPolls(1, 0)) << "the poll never waited";
  fake_clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(poll->WaitFor(absl::Seconds(20)));
  EXPECT_TRUE(poll->status.ok()) << poll->status.error_message();
  EXPECT_TRUE(poll->response.task_token().empty());
}

// Shutdown answers held polls at once, whatever time their callers have left
// (on a FakeClock that never moves, nothing else could answer them).
TEST_F(ServerFakeTimeTest, ShutdownAnswersWaitingPollsPromptly) {
  auto activity = PollActivities("tq", absl::Seconds(30));
  // Workflow task polls wait outside the matcher; shutdown answers them too.
  auto workflow = PollWorkflows("tq", absl::Seconds(30));
  ASSERT_TRUE(AwaitHeldPolls(1, 1)) << "the polls never waited";
  EXPECT_FALSE(activity->answered());
  EXPECT_FALSE(workflow->answered());
  server_->Shutdown(absl::Seconds(10));
  ASSERT_TRUE(activity->WaitFor(absl::Seconds(20)));
  ASSERT_TRUE(workflow->WaitFor(absl::Seconds(20)));
  EXPECT_TRUE(activity->status.ok()) << activity->status.error_message();
  EXPECT_TRUE(activity->response.task_token().empty());
  EXPECT_TRUE(workflow->status.ok()) << workflow->status.error_message();
  EXPECT_TRUE(workflow->response.task_token().empty());
}

// List and Count run on the scan executor within the configured row
// budgets: past the budget, List answers a short page with a token and
// Count a clear RESOURCE_EXHAUSTED. A count the status counts answer reads
// no rows, so no budget stops it.
TEST_F(ServerTest, ListAndCountKeepToTheirScanBudgets) {
  config_.list_scan_rows = 2;
  config_.count_scan_rows = 3;
  Restart();
  auto count = [&](const std::string& query = "ActivityId STARTS_WITH 'a'") {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::CountActivityExecutionsRequest req;
    req.set_namespace_("default");
    req.set_query(query);
    ws::CountActivityExecutionsResponse resp;
    grpc::Status s = stub_->CountActivityExecutions(&ctx, req, &resp);
    return std::make_pair(s, resp.count());
  };
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(StartActivity("a" + std::to_string(i)).ok());
    if (i == 2) {
      auto [s, n] = count();
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(n, 3);
    }
  }
  auto [over, n] = count();
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(over.error_message().find("query scanned more than 3 rows"),
            std::string::npos)
      << over.error_message();
  for (const std::string query :
       {"", "ExecutionStatus = 'Running' GROUP BY ExecutionStatus"}) {
    auto [counted, all] = count(query);
    ASSERT_TRUE(counted.ok()) << query << ": " << counted.error_message();
    EXPECT_EQ(all, 4) << query;
  }

  std::set<std::string> listed;
  std::string token;
  int calls = 0;
  do {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::ListActivityExecutionsRequest req;
    req.set_namespace_("default");
    req.set_next_page_token(token);
    ws::ListActivityExecutionsResponse resp;
    const grpc::Status s = stub_->ListActivityExecutions(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LE(resp.executions_size(), 2);
    for (const auto& e : resp.executions()) listed.insert(e.activity_id());
    token = resp.next_page_token();
  } while (!token.empty() && ++calls < 10);
  EXPECT_EQ(listed.size(), 4u);
}

TEST_F(ServerTest, StartsAreRefusedBelowTheFreeSpaceFloor) {
  auto start = [&](const std::string& id) { return StartActivity(id); };
  ASSERT_TRUE(start("before").ok());
  // No file system has this much free space.
  config_.min_free_space = uint64_t{1} << 62;
  Restart();
  const grpc::Status refused = start("refused");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("below min_free_space"),
            std::string::npos)
      << refused.error_message();
  // Reads are not refused.
  grpc::ClientContext ctx;
  ws::DescribeActivityExecutionRequest describe;
  describe.set_namespace_("default");
  describe.set_activity_id("before");
  ws::DescribeActivityExecutionResponse described;
  EXPECT_TRUE(
      stub_->DescribeActivityExecution(&ctx, describe, &described).ok());
  config_.min_free_space = 0;
  Restart();
  EXPECT_TRUE(start("after").ok());
}

TEST_F(ServerTest, PollOnUnknownNamespaceIsNotFound) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(10));
  ws::PollActivityTaskQueueRequest req;
  req.set_namespace_("nope");
  req.mutable_task_queue()->set_name("tq");
  ws::PollActivityTaskQueueResponse resp;
  EXPECT_EQ(stub_->PollActivityTaskQueue(&ctx, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// UpdateTaskQueueConfig refuses what Temporal refuses, with its words, and
// stores nothing then; DescribeTaskQueue reads back what was stored.
TEST_F(ServerTest, TaskQueueConfigUpdatesAreCheckedAndReadBack) {
  auto update =
      [&](const std::function<void(ws::UpdateTaskQueueConfigRequest&)>& shape) {
        ws::UpdateTaskQueueConfigRequest req;
        req.set_namespace_("default");
        req.set_task_queue("tq");
        req.set_task_queue_type(
            temporal::api::enums::v1::TASK_QUEUE_TYPE_ACTIVITY);
        req.set_identity("ops");
        shape(req);
        grpc::ClientContext ctx;
        SetDeadline(ctx, absl::Seconds(10));
        ws::UpdateTaskQueueConfigResponse resp;
        grpc::Status s = stub_->UpdateTaskQueueConfig(&ctx, req, &resp);
        return std::make_pair(s, resp);
      };
  auto rate = [](ws::UpdateTaskQueueConfigRequest::RateLimitUpdate* u,
                 float rps) {
    u->mutable_rate_limit()->set_requests_per_second(rps);
  };
  const std::vector<std::pair<
      std::function<void(ws::UpdateTaskQueueConfigRequest&)>, std::string>>
      refused = {
          {[&](auto& r) { rate(r.mutable_update_queue_rate_limit(), -1); },
           "RequestsPerSecond for UpdateQueueRateLimit rate limit must be "
           "non-negative."},
          {[&](auto& r) {
             rate(r.mutable_update_fairness_key_rate_limit_default(), -2);
           },
           "RequestsPerSecond for UpdateFairnessKeyRateLimitDefault rate "
           "limit must be non-negative."},
          {[&](auto& r) {
             rate(r.mutable_update_queue_rate_limit(), 1);
             r.mutable_update_queue_rate_limit()->set_reason(
                 std::string(1001, 'r'));
           },
           "UpdateQueueRateLimit.Reason field too long (max 1000 "
           "characters)."},
          {[&](auto& r) {
             r.set_task_queue_type(
                 temporal::api::enums::v1::TASK_QUEUE_TYPE_WORKFLOW);
             rate(r.mutable_update_queue_rate_limit(), 1);
           },
           "Setting rate limit on workflow task queues is not allowed."},
          {[&](auto& r) { r.set_identity(std::string(1001, 'i')); },
           "Identity field too long (max 1000 characters)."},
          {[&](auto& r) {
             (*r.mutable_set_fairness_weight_overrides())[""] = 1;
           },
           "fairness weight override key must not be empty"},
          {[&](auto& r) {
             (*r.mutable_set_fairness_weight_overrides())[std::string(65,
                                                                      'k')] = 1;
           },
           "fairness key length exceeds limit"},
          {[&](auto& r) {
             (*r.mutable_set_fairness_weight_overrides())["k"] = 0;
           },
           "invalid fairness weight weight for key \"k\": must be greater "
           "than zero"},
          {[&](auto& r) {
             (*r.mutable_set_fairness_weight_overrides())["k"] = 2;
             r.add_unset_fairness_weight_overrides("k");
           },
           "fairness weight override key \"k\" present in both set and "
           "unset lists"},
          {[&](auto& r) { r.set_task_queue(""); }, "missing task queue name"},
      };
  for (const auto& [shape, message] : refused) {
    auto [status, resp] = update(shape);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << message;
    EXPECT_EQ(status.error_message(), message);
  }

  auto describe = [&](bool report_config) {
    ws::DescribeTaskQueueRequest req;
    req.set_namespace_("default");
    req.mutable_task_queue()->set_name("tq");
    req.set_task_queue_type(temporal::api::enums::v1::TASK_QUEUE_TYPE_ACTIVITY);
    req.set_report_config(report_config);
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::DescribeTaskQueueResponse resp;
    EXPECT_TRUE(stub_->DescribeTaskQueue(&ctx, req, &resp).ok());
    return resp;
  };
  // Nothing was stored by the refused updates.
  EXPECT_FALSE(describe(true).has_config());

  auto [ok, resp] = update([&](auto& r) {
    rate(r.mutable_update_queue_rate_limit(), 2.5);
    r.mutable_update_queue_rate_limit()->set_reason("slow");
    (*r.mutable_set_fairness_weight_overrides())["gold"] = 3;
  });
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(resp.config().queue_rate_limit().rate_limit().requests_per_second(),
            2.5f);
  EXPECT_EQ(resp.config().queue_rate_limit().metadata().update_identity(),
            "ops");
  EXPECT_FALSE(resp.config().has_fairness_keys_rate_limit_default());
  Restart();
  const ws::DescribeTaskQueueResponse described = describe(true);
  EXPECT_EQ(
      described.config().queue_rate_limit().rate_limit().requests_per_second(),
      2.5f);
  EXPECT_EQ(described.config().queue_rate_limit().metadata().reason(), "slow");
  EXPECT_EQ(described.config().fairness_weight_overrides().at("gold"), 3.0f);
  EXPECT_EQ(described.effective_rate_limit().requests_per_second(), 2.5f);
  EXPECT_EQ(described.effective_rate_limit().rate_limit_source(),
            temporal::api::enums::v1::RATE_LIMIT_SOURCE_API);
  EXPECT_FALSE(describe(false).has_config());

  // A queue whose config was never set, and a request without a queue.
  ws::DescribeTaskQueueRequest bare;
  bare.set_namespace_("default");
  grpc::ClientContext ctx;
  ws::DescribeTaskQueueResponse bare_resp;
  const grpc::Status no_queue =
      stub_->DescribeTaskQueue(&ctx, bare, &bare_resp);
  EXPECT_EQ(no_queue.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(no_queue.error_message(), "taskQueue is not set");
}

// A poll that takes a task from a backlog older than 200 ms carries
// Temporal's hint to add a poller.
TEST_F(ServerFakeTimeTest, PollsFromAnAgedBacklogAskForMorePollers) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(StartActivity("a" + std::to_string(i)).ok());
  }
  fake_clock_.Advance(absl::Seconds(1));
  auto poll = PollActivities("tq", absl::Seconds(30));
  ASSERT_TRUE(poll->WaitFor(absl::Seconds(20)));
  ASSERT_TRUE(poll->status.ok()) << poll->status.error_message();
  EXPECT_FALSE(poll->response.task_token().empty());
  EXPECT_EQ(
      poll->response.poller_scaling_decision().poll_request_delta_suggestion(),
      1);
}

}  // namespace
}  // namespace errand::server
