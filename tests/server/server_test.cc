// Runs the whole server in-process on a free port and talks to it over gRPC
// with the generated Temporal stubs.
#include "errand/server/server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "errand/common/clock.h"
#include "errand/common/uuid.h"
#include "google/rpc/status.pb.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "temporal/api/operatorservice/v1/service.grpc.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace errand::server {
namespace {

namespace ws = temporal::api::workflowservice::v1;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("errand-srv-" + NewUuid());
    Restart();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Restart() {
    server_.reset();
    Config config = config_;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir_.string();
    config.min_free_space = min_free_space_;
    auto server = Server::Start(config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = ws::WorkflowService::NewStub(channel_);
  }
  // Every wait on time in the server runs on it; ServerFakeTimeTest moves
  // it by hand.
  const Clock* clock_ = SystemClock::Get();
  static void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + d));
  }
  // A unary call on raw bytes, for services without installed C++ stubs and
  // for requests no stub would send.
  grpc::Status RawCall(const std::string& method, const std::string& request,
                       std::string* response, bool gzip = false) {
    grpc::GenericStub generic(channel_);
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::ByteBuffer response_buffer;
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    grpc::CompletionQueue cq;
    auto call = generic.PrepareUnaryCall(&ctx, method, request_buffer, &cq);
    call->StartCall();
    grpc::Status status;
    call->Finish(&response_buffer, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    response->clear();
    std::vector<grpc::Slice> slices;
    if (status.ok() && response_buffer.Dump(&slices).ok()) {
      for (const auto& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return status;
  }

  Config config_;
  std::filesystem::path dir_;
  uint64_t min_free_space_ = Config{}.min_free_space;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ws::WorkflowService::Stub> stub_;
};

TEST_F(ServerTest, GetSystemInfoAnswers) {
  grpc::ClientContext ctx;
  ws::GetSystemInfoResponse resp;
  ASSERT_TRUE(stub_->GetSystemInfo(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.server_version(), ERRAND_VERSION);
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
// when their long poll runs out, not an error.
TEST_F(ServerTest, WorkflowTaskPollsWaitAndComeBackEmpty) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  ws::PollWorkflowTaskQueueRequest req;
  req.set_namespace_("default");
  req.mutable_task_queue()->set_name("any-queue");
  ws::PollWorkflowTaskQueueResponse resp;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status s = stub_->PollWorkflowTaskQueue(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.task_token().empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  grpc::ClientContext bad_ctx;
  bad_ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(3));
  req.set_namespace_("no-such-namespace");
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

// The server on a FakeClock: long polls expire when the test moves time, not
// after seconds of real waiting.
class ServerFakeTimeTest : public ServerTest {
 protected:
  void SetUp() override {
    clock_ = &fake_clock_;
    ServerTest::SetUp();
  }
  FakeClock fake_clock_;
};

// The caller has 30 s; the empty answer comes a second before that, as time
// runs on the server's clock (gRPC rounds deadlines to milliseconds, hence
// the last step's slack).
TEST_F(ServerFakeTimeTest, IdleTaskPollAnswersEmptyBeforeTheDeadline) {
  ws::PollActivityTaskQueueRequest req;
  req.set_namespace_("default");
  req.mutable_task_queue()->set_name("tq");
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(30));
  ws::PollActivityTaskQueueResponse resp;
  absl::Notification done;
  grpc::Status status;
  stub_->async()->PollActivityTaskQueue(&ctx, &req, &resp, [&](grpc::Status s) {
    status = s;
    done.Notify();
  });
  // Moves time only once the server holds the poll.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (server_->WaitingTaskPolls() == 0 && absl::Now() < give_up) {
    std::this_thread::yield();
  }
  if (server_->WaitingTaskPolls() != 1) {
    ctx.TryCancel();
    done.WaitForNotification();
    FAIL() << "the poll never waited";
  }
  fake_clock_.Advance(absl::Seconds(27));
  EXPECT_FALSE(done.HasBeenNotified());
  fake_clock_.Advance(absl::Seconds(3));
  const bool answered = done.WaitForNotificationWithTimeout(absl::Seconds(20));
  if (!answered) ctx.TryCancel();
  done.WaitForNotification();
  ASSERT_TRUE(answered);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(resp.task_token().empty());
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
TEST_F(ServerTest, TaskPollsRefuseOverlongTaskQueueNames) {
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
  ws::PollActivityTaskQueueRequest longest;
  longest.set_namespace_("default");
  longest.mutable_task_queue()->set_name(std::string(1000, 'q'));
  ws::PollActivityTaskQueueResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(3));
  const grpc::Status s = stub_->PollActivityTaskQueue(&ctx, longest, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.task_token().empty());
}

TEST_F(ServerTest, ShutdownAnswersWaitingPollsPromptly) {
  ws::PollActivityTaskQueueRequest req;
  req.set_namespace_("default");
  req.mutable_task_queue()->set_name("tq");
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(30));
  ws::PollActivityTaskQueueResponse resp;
  std::atomic<bool> answered{false};
  grpc::Status status;
  stub_->async()->PollActivityTaskQueue(&ctx, &req, &resp, [&](grpc::Status s) {
    status = s;
    answered = true;
  });
  // Workflow task polls wait outside the matcher; shutdown answers them too.
  ws::PollWorkflowTaskQueueRequest wf_req;
  wf_req.set_namespace_("default");
  wf_req.mutable_task_queue()->set_name("tq");
  grpc::ClientContext wf_ctx;
  SetDeadline(wf_ctx, absl::Seconds(30));
  ws::PollWorkflowTaskQueueResponse wf_resp;
  std::atomic<bool> wf_answered{false};
  grpc::Status wf_status;
  stub_->async()->PollWorkflowTaskQueue(&wf_ctx, &wf_req, &wf_resp,
                                        [&](grpc::Status s) {
                                          wf_status = s;
                                          wf_answered = true;
                                        });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(answered);
  EXPECT_FALSE(wf_answered);
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (int i = 0; i < 100 && !(answered && wf_answered); ++i)
    absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(answered);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(wf_answered);
  EXPECT_TRUE(wf_status.ok()) << wf_status.error_message();
  EXPECT_TRUE(wf_resp.task_token().empty());
}

// List and Count run on the scan executor within the configured row
// budgets: past the budget, List answers a short page with a token and
// Count a clear RESOURCE_EXHAUSTED.
TEST_F(ServerTest, ListAndCountKeepToTheirScanBudgets) {
  config_.list_scan_rows = 2;
  config_.count_scan_rows = 3;
  Restart();
  auto count = [&] {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::CountActivityExecutionsRequest req;
    req.set_namespace_("default");
    ws::CountActivityExecutionsResponse resp;
    grpc::Status s = stub_->CountActivityExecutions(&ctx, req, &resp);
    return std::make_pair(s, resp.count());
  };
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::StartActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id("a" + std::to_string(i));
    req.set_request_id(NewUuid());
    req.mutable_activity_type()->set_name("t");
    req.mutable_task_queue()->set_name("tq");
    req.mutable_start_to_close_timeout()->set_seconds(60);
    ws::StartActivityExecutionResponse resp;
    ASSERT_TRUE(stub_->StartActivityExecution(&ctx, req, &resp).ok());
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
  auto start = [&](const std::string& id) {
    ws::StartActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id(id);
    req.mutable_activity_type()->set_name("work");
    req.mutable_task_queue()->set_name("tq");
    req.mutable_start_to_close_timeout()->set_seconds(10);
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::StartActivityExecutionResponse resp;
    return stub_->StartActivityExecution(&ctx, req, &resp);
  };
  ASSERT_TRUE(start("before").ok());
  // No file system has this much free space.
  min_free_space_ = uint64_t{1} << 62;
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
  min_free_space_ = 0;
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

}  // namespace
}  // namespace errand::server
