// The shared fixture for tests of the whole server (the counterpart of
// engine_harness.h one layer up): the server in process on a free port over
// a fresh data directory, a channel and WorkflowService stub to it, Restart
// (the directory is kept), raw-bytes calls for requests no stub would send,
// and long polls issued without blocking so that a test can move a FakeClock
// once the server holds them. Tests adjust `config_` or `clock_` before
// SetUp or Restart.
#ifndef ERRAND_TESTS_SUPPORT_SERVER_HARNESS_H_
#define ERRAND_TESTS_SUPPORT_SERVER_HARNESS_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "errand/common/clock.h"
#include "errand/common/uuid.h"
#include "errand/server/server.h"
#include "support/eventually.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace errand::server {

// A call in flight: its context, response and final status. Destroying it
// cancels the call if it is still open and waits for its end, so that no
// callback outlives the objects it writes to.
template <typename Request, typename Response>
struct PendingCall {
  Request request;
  grpc::ClientContext ctx;
  Response response;
  grpc::Status status;
  absl::Notification done;

  ~PendingCall() {
    if (!done.HasBeenNotified()) ctx.TryCancel();
    done.WaitForNotification();
  }
  bool answered() const { return done.HasBeenNotified(); }
  // True once the call has ended; false if it is still open after `d`.
  bool WaitFor(absl::Duration d) {
    return done.WaitForNotificationWithTimeout(d);
  }
};

class ServerHarness : public ::testing::Test {
 protected:
  using WorkflowService = temporal::api::workflowservice::v1::WorkflowService;
  using ActivityPoll = PendingCall<
      temporal::api::workflowservice::v1::PollActivityTaskQueueRequest,
      temporal::api::workflowservice::v1::PollActivityTaskQueueResponse>;
  using WorkflowPoll = PendingCall<
      temporal::api::workflowservice::v1::PollWorkflowTaskQueueRequest,
      temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse>;

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
    auto server = Server::Start(config, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(server_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = WorkflowService::NewStub(channel_);
  }

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

  // The request that starts activity `id` of type "t" on task queue "tq" of
  // namespace "default" (60 s start-to-close); StartActivity sends it.
  static temporal::api::workflowservice::v1::StartActivityExecutionRequest
  StartRequest(const std::string& id) {
    temporal::api::workflowservice::v1::StartActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id(id);
    req.set_request_id(NewUuid());
    req.mutable_activity_type()->set_name("t");
    req.mutable_task_queue()->set_name("tq");
    req.mutable_start_to_close_timeout()->set_seconds(60);
    return req;
  }
  grpc::Status StartActivity(const std::string& id) {
    const auto req = StartRequest(id);
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    temporal::api::workflowservice::v1::StartActivityExecutionResponse resp;
    return stub_->StartActivityExecution(&ctx, req, &resp);
  }

  // Long polls on task queue `queue` of namespace "default" whose callers
  // give them `deadline` (real time; the server converts what is left to its
  // own clock). They return at once; the poll goes on in the background.
  std::unique_ptr<ActivityPoll> PollActivities(const std::string& queue,
                                               absl::Duration deadline) {
    auto poll = std::make_unique<ActivityPoll>();
    poll->request.set_namespace_("default");
    poll->request.mutable_task_queue()->set_name(queue);
    SetDeadline(poll->ctx, deadline);
    ActivityPoll* p = poll.get();
    stub_->async()->PollActivityTaskQueue(&p->ctx, &p->request, &p->response,
                                          [p](grpc::Status s) {
                                            p->status = std::move(s);
                                            p->done.Notify();
                                          });
    return poll;
  }
  std::unique_ptr<WorkflowPoll> PollWorkflows(const std::string& queue,
                                              absl::Duration deadline) {
    auto poll = std::make_unique<WorkflowPoll>();
    poll->request.set_namespace_("default");
    poll->request.mutable_task_queue()->set_name(queue);
    SetDeadline(poll->ctx, deadline);
    WorkflowPoll* p = poll.get();
    stub_->async()->PollWorkflowTaskQueue(&p->ctx, &p->request, &p->response,
                                          [p](grpc::Status s) {
                                            p->status = std::move(s);
                                            p->done.Notify();
                                          });
    return poll;
  }

  // Waits until the server holds `activity` activity polls and `workflow`
  // workflow polls. This waits for a state, not for time to pass: it gives
  // up only after 30 s of real time, which means the polls never arrived.
  bool AwaitHeldPolls(size_t activity, size_t workflow) {
    return Eventually([&] {
      return server_->WaitingTaskPolls() == activity &&
             server_->WaitingWorkflowPolls() == workflow;
    });
  }

  // Every wait on time in the server runs on it; set it to a FakeClock (see
  // ServerFakeTimeTest) to move time by hand.
  const Clock* clock_ = SystemClock::Get();
  // No HTTP port unless a test asks for one: the default (8233) would be
  // shared by every test server.
  Config config_ = [] {
    Config config;
    config.http_listen = "";
    return config;
  }();
  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<WorkflowService::Stub> stub_;
};

}  // namespace errand::server

#endif  // ERRAND_TESTS_SUPPORT_SERVER_HARNESS_H_
