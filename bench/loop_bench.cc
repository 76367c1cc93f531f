// A rough closed-loop throughput figure: C callers each start an activity and
// wait for its result, while W workers poll and complete tasks at once.
// Sync gRPC stubs, one thread per caller or worker: simple, not the lowest
// overhead (the async load generator is the benchmark issue's job).
//
//   build/bench/errand_loop_bench --address 127.0.0.1:7233 [--callers 32]
//       [--workers 8] [--seconds 10]
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace {

namespace ws = temporal::api::workflowservice::v1;

std::string Flag(int argc, char** argv, const std::string& name,
                 const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

int IntFlag(int argc, char** argv, const std::string& name, int fallback) {
  int v = fallback;
  return absl::SimpleAtoi(Flag(argc, argv, name, ""), &v) ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string address = Flag(argc, argv, "--address", "127.0.0.1:7233");
  const int callers = IntFlag(argc, argv, "--callers", 32);
  const int workers = IntFlag(argc, argv, "--workers", 8);
  const int seconds = IntFlag(argc, argv, "--seconds", 10);
  const std::string queue =
      absl::StrCat("loop-bench-", absl::ToUnixMicros(absl::Now()));

  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = ws::WorkflowService::NewStub(channel);
  std::atomic<bool> stop{false};
  std::atomic<long> completed{0}, errors{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      while (!stop) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
        ws::PollActivityTaskQueueRequest req;
        req.set_namespace_("default");
        req.mutable_task_queue()->set_name(queue);
        req.set_identity(absl::StrCat("bench-worker-", w));
        ws::PollActivityTaskQueueResponse task;
        if (!stub->PollActivityTaskQueue(&ctx, req, &task).ok()) {
          ++errors;
          continue;
        }
        if (task.task_token().empty()) continue;
        grpc::ClientContext done_ctx;
        ws::RespondActivityTaskCompletedRequest done;
        done.set_namespace_("default");
        done.set_task_token(task.task_token());
        ws::RespondActivityTaskCompletedResponse done_resp;
        if (!stub->RespondActivityTaskCompleted(&done_ctx, done, &done_resp)
                 .ok())
          ++errors;
      }
    });
  }
  const absl::Time start = absl::Now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      for (long n = 0; !stop; ++n) {
        ws::StartActivityExecutionRequest req;
        req.set_namespace_("default");
        req.set_activity_id(absl::StrCat(queue, "-", c, "-", n));
        req.mutable_activity_type()->set_name("noop");
        req.mutable_task_queue()->set_name(queue);
        req.mutable_start_to_close_timeout()->set_seconds(30);
        grpc::ClientContext ctx;
        ws::StartActivityExecutionResponse started;
        if (!stub->StartActivityExecution(&ctx, req, &started).ok()) {
          ++errors;
          continue;
        }
        while (!stop) {
          grpc::ClientContext poll_ctx;
          poll_ctx.set_deadline(std::chrono::system_clock::now() +
                                std::chrono::seconds(10));
          ws::PollActivityExecutionRequest poll;
          poll.set_namespace_("default");
          poll.set_activity_id(req.activity_id());
          poll.set_run_id(started.run_id());
          ws::PollActivityExecutionResponse result;
          if (!stub->PollActivityExecution(&poll_ctx, poll, &result).ok()) {
            ++errors;
            break;
          }
          if (result.has_outcome()) {
            ++completed;
            break;
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  for (auto& t : threads) t.join();
  std::printf(
      "%ld activities started, run and awaited in %.1f s: %.0f /s "
      "(%d callers, %d workers, %ld errors)\n",
      completed.load(), elapsed, completed.load() / elapsed, callers, workers,
      errors.load());
  return 0;
}
