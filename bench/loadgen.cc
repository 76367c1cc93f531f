// Load generator: drives any server that speaks Temporal's standalone
// activity API (Errand, or Temporal's own) over gRPC with the asynchronous
// callback API, so that thousands of calls in flight cost a few threads and
// little CPU on the box the server shares.
//
//   build/bench/errand_loadgen --address 127.0.0.1:7233 --workload throughput
//       [--seconds 10] [--callers 64] [--workers 16] [--channels 4]
//   ... --workload latency --rate 1000 [--seconds 10]
//   ... --workload backlog --activities 1000000 [--starters 64] [--workers 16]
//       [--server-pid PID]
//   ... --workload heartbeat --activities 200 [--activity-seconds 5]
//   ... --workload fill --activities N   (enqueue only, for recovery runs)
//   ... --workload ping                   (succeeds once the server answers)
//   ... --workload rpc [--callers 64]     (GetSystemInfo: the RPC floor)
//   ... --workload soak --rate 1500 [--seconds 1800] [--report-seconds 60]
//       [--server-pid PID] [--data-dir DIR] [--namespace soak]
//       [--retention-seconds 120]  (a steady realistic mix; see Soak)
//   ... --workload pollchurn --queues 100000 [--inflight 4000]
//       [--warmup 10000] [--settle-seconds 15] [--server-pid PID]
//       (each of many task queue names polled once: server memory after)
//
// Workers complete every task at once (a no-op activity). Each workload ends
// with one line "RESULT {json}" for bench/compare.py; the rest is for people.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace {

namespace ws = temporal::api::workflowservice::v1;
using Stub = ws::WorkflowService::Stub;

// --- flags -----------------------------------------------------------------

struct Flags {
  std::map<std::string, std::string> values;

  Flags(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) values[argv[i]] = argv[i + 1];
  }
  std::string Get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  int64_t Int(const std::string& name, int64_t fallback) const {
    int64_t v = fallback;
    return absl::SimpleAtoi(Get(name, ""), &v) ? v : fallback;
  }
  double Double(const std::string& name, double fallback) const {
    double v = fallback;
    return absl::SimpleAtod(Get(name, ""), &v) ? v : fallback;
  }
};

// --- measurement -----------------------------------------------------------

// Latency samples in microseconds; percentiles by sorting at the end.
class Samples {
 public:
  void Add(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    micros_.push_back(absl::ToInt64Microseconds(d));
  }
  // p in [0, 100]; milliseconds.
  double Percentile(double p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (micros_.empty()) return 0;
    std::sort(micros_.begin(), micros_.end());
    const size_t i = std::min(micros_.size() - 1,
                              static_cast<size_t>(p / 100.0 * micros_.size()));
    return micros_[i] / 1000.0;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return micros_.size();
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> micros_;
};

std::string PercentilesJson(const std::string& name, Samples& s) {
  return absl::StrFormat(
      R"("%s_p50_ms":%.3f,"%s_p90_ms":%.3f,"%s_p99_ms":%.3f,"%s_p999_ms":%.3f)",
      name, s.Percentile(50), name, s.Percentile(90), name, s.Percentile(99),
      name, s.Percentile(99.9));
}

// Resident and peak resident memory of a process, in bytes (0 if unknown).
struct Memory {
  int64_t rss = 0, peak = 0;
};
Memory ProcessMemory(int64_t pid) {
  Memory m;
  if (pid <= 0) return m;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb = 0;
    auto value = [&](const char* key) {
      if (line.rfind(key, 0) != 0) return false;
      std::string rest = line.substr(std::string(key).size());
      rest.erase(rest.find_last_not_of(" kB") + 1);
      return absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kb);
    };
    if (value("VmRSS:")) m.rss = kb * 1024;
    if (value("VmHWM:")) m.peak = kb * 1024;
  }
  return m;
}

// --- the client side -------------------------------------------------------

// Several channels, each its own TCP connection, used round robin: one
// HTTP/2 connection would cap the calls in flight and serialize framing.
class Connections {
 public:
  Connections(const std::string& address, int count) {
    for (int i = 0; i < count; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("errand.loadgen.channel", i);
      args.SetMaxReceiveMessageSize(16 << 20);
      stubs_.push_back(ws::WorkflowService::NewStub(grpc::CreateCustomChannel(
          address, grpc::InsecureChannelCredentials(), args)));
    }
  }
  Stub::async_interface* Next() {
    return stubs_[next_.fetch_add(1, std::memory_order_relaxed) % stubs_.size()]
        ->async();
  }

 private:
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::atomic<size_t> next_{0};
};

// One unary call through the callback API. The context, request and
// response live until `done` has run (on a gRPC thread).
template <typename Req, typename Resp>
struct Call {
  grpc::ClientContext ctx;
  Req req;
  Resp resp;
};

template <typename Req, typename Resp, typename Method>
void Unary(Method method, Req req, absl::Duration timeout,
           std::function<void(const grpc::Status&, Resp&)> done) {
  auto call = std::make_shared<Call<Req, Resp>>();
  call->req = std::move(req);
  call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  method(&call->ctx, &call->req, &call->resp,
         [call, done = std::move(done)](grpc::Status status) {
           done(status, call->resp);
         });
}

// Runs functions at given times on one thread (pacing and heartbeats).
class Scheduler {
 public:
  Scheduler() : thread_([this] { Run(); }) {}
  ~Scheduler() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void At(absl::Time when, std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push({when, seq_++, std::move(fn)});
    }
    cv_.notify_one();
  }

 private:
  struct Item {
    absl::Time when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const {
      return when != o.when ? when > o.when : seq > o.seq;
    }
  };
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const absl::Time when = queue_.top().when;
      const absl::Time now = absl::Now();
      if (when > now) {
        // Sleep short intervals precisely: condition variables overshoot.
        if (when - now > absl::Milliseconds(2)) {
          cv_.wait_for(lock, absl::ToChronoMicroseconds(when - now -
                                                        absl::Milliseconds(1)));
        } else {
          lock.unlock();
          absl::SleepFor(when - now);
          lock.lock();
        }
        continue;
      }
      Item item = std::move(const_cast<Item&>(queue_.top()));
      queue_.pop();
      lock.unlock();
      item.fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue_;
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

struct Options {
  std::string ns = "default";
  std::string task_queue;
  std::string id_prefix;
  absl::Duration start_to_close = absl::Seconds(60);
  absl::Duration heartbeat_timeout = absl::ZeroDuration();
};

ws::StartActivityExecutionRequest StartRequest(const Options& o,
                                               const std::string& id) {
  ws::StartActivityExecutionRequest req;
  req.set_namespace_(o.ns);
  req.set_identity("errand-loadgen");
  req.set_request_id(id);
  req.set_activity_id(id);
  req.mutable_activity_type()->set_name("noop");
  req.mutable_task_queue()->set_name(o.task_queue);
  req.mutable_start_to_close_timeout()->set_seconds(
      absl::ToInt64Seconds(o.start_to_close));
  if (o.heartbeat_timeout > absl::ZeroDuration()) {
    req.mutable_heartbeat_timeout()->set_seconds(
        absl::ToInt64Seconds(o.heartbeat_timeout));
  }
  auto* payload = req.mutable_input()->add_payloads();
  (*payload->mutable_metadata())["encoding"] = "json/plain";
  payload->set_data(absl::StrCat("\"", id, "\""));
  return req;
}

// Everything a run counts.
struct Counters {
  std::atomic<int64_t> started{0}, completed{0}, results{0}, heartbeats{0},
      errors{0};
  std::mutex error_mu;
  std::string first_error;

  void Error(const grpc::Status& s, const char* what) {
    if (errors.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(error_mu);
      first_error =
          absl::StrCat(what, ": ", s.error_code(), " ", s.error_message());
    }
  }
};

// Workers: each keeps one long poll open; a task is completed at once, or,
// with `work`, handed to it along with the function that completes it.
class Workers {
 public:
  using Complete = std::function<void()>;
  using Work =
      std::function<void(ws::PollActivityTaskQueueResponse&, Complete)>;

  Workers(Connections* conns, const Options& o, Counters* counters,
          std::function<void(const ws::PollActivityTaskQueueResponse&)>
              on_task = nullptr,
          Work work = nullptr)
      : conns_(conns),
        o_(o),
        c_(counters),
        on_task_(std::move(on_task)),
        work_(std::move(work)) {}

  void Start(int count) {
    for (int i = 0; i < count; ++i) Poll();
  }
  // Stops re-polling; polls in flight end at their deadline.
  void Stop() { stop_ = true; }

 private:
  void Poll() {
    if (stop_) return;
    ws::PollActivityTaskQueueRequest req;
    req.set_namespace_(o_.ns);
    req.mutable_task_queue()->set_name(o_.task_queue);
    req.set_identity("errand-loadgen-worker");
    Unary<ws::PollActivityTaskQueueRequest, ws::PollActivityTaskQueueResponse>(
        [this](auto... a) { conns_->Next()->PollActivityTaskQueue(a...); },
        std::move(req), absl::Seconds(70),
        [this](const grpc::Status& s, ws::PollActivityTaskQueueResponse& r) {
          if (!s.ok()) {
            if (!stop_) c_->Error(s, "PollActivityTaskQueue");
            if (!stop_) absl::SleepFor(absl::Milliseconds(10));
            Poll();
            return;
          }
          if (r.task_token().empty()) {  // the long poll expired
            Poll();
            return;
          }
          if (on_task_) on_task_(r);
          std::string token = r.task_token();
          Complete complete = [this, token = std::move(token)] {
            Respond(token);
          };
          if (work_) {
            work_(r, std::move(complete));
            Poll();  // the activity runs on; this worker takes the next task
          } else {
            complete();
          }
        });
  }

  void Respond(const std::string& token) {
    ws::RespondActivityTaskCompletedRequest req;
    req.set_namespace_(o_.ns);
    req.set_task_token(token);
    req.set_identity("errand-loadgen-worker");
    auto* payload = req.mutable_result()->add_payloads();
    (*payload->mutable_metadata())["encoding"] = "json/plain";
    payload->set_data("\"done\"");
    Unary<ws::RespondActivityTaskCompletedRequest,
          ws::RespondActivityTaskCompletedResponse>(
        [this](auto... a) {
          conns_->Next()->RespondActivityTaskCompleted(a...);
        },
        std::move(req), absl::Seconds(30),
        [this](const grpc::Status& s, auto&) {
          if (s.ok()) {
            c_->completed.fetch_add(1);
          } else {
            c_->Error(s, "RespondActivityTaskCompleted");
          }
          if (!work_) Poll();
        });
  }

  Connections* conns_;
  Options o_;
  Counters* c_;
  std::function<void(const ws::PollActivityTaskQueueResponse&)> on_task_;
  Work work_;
  std::atomic<bool> stop_{false};
};

// Starts one activity and, if `wait`, long-polls its outcome; `done` gets
// whether it all succeeded.
void StartAndWait(Connections* conns, const Options& o, Counters* c,
                  const std::string& id, bool wait,
                  std::function<void(bool)> done) {
  Unary<ws::StartActivityExecutionRequest, ws::StartActivityExecutionResponse>(
      [conns](auto... a) { conns->Next()->StartActivityExecution(a...); },
      StartRequest(o, id), absl::Seconds(30),
      [=](const grpc::Status& s, ws::StartActivityExecutionResponse& r) {
        if (!s.ok()) {
          c->Error(s, "StartActivityExecution");
          done(false);
          return;
        }
        c->started.fetch_add(1);
        if (!wait) {
          done(true);
          return;
        }
        auto poll = std::make_shared<std::function<void()>>();
        *poll = [=, run_id = r.run_id()] {
          ws::PollActivityExecutionRequest req;
          req.set_namespace_(o.ns);
          req.set_activity_id(id);
          req.set_run_id(run_id);
          Unary<ws::PollActivityExecutionRequest,
                ws::PollActivityExecutionResponse>(
              [conns](auto... a) {
                conns->Next()->PollActivityExecution(a...);
              },
              std::move(req), absl::Seconds(70),
              [=](const grpc::Status& s, ws::PollActivityExecutionResponse& r) {
                if (!s.ok() &&
                    s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
                  c->Error(s, "PollActivityExecution");
                  done(false);
                  *poll = nullptr;  // break the cycle
                  return;
                }
                if (!s.ok() || !r.has_outcome()) {
                  (*poll)();  // long poll expired without an outcome
                  return;
                }
                c->results.fetch_add(1);
                done(true);
                *poll = nullptr;
              });
        };
        (*poll)();
      });
}

std::string Unique(const std::string& prefix) {
  return absl::StrCat(prefix, "-", absl::ToUnixMicros(absl::Now()));
}

void PrintResult(const std::string& json) {
  std::printf("RESULT {%s}\n", json.c_str());
  std::fflush(stdout);
}

// --- workloads -------------------------------------------------------------

// Closed loop: each caller starts an activity, waits for its result, repeats.
int Throughput(Connections* conns, const Options& o, const Flags& flags) {
  const int callers = flags.Int("--callers", 64);
  const int workers = flags.Int("--workers", 16);
  const absl::Duration run = absl::Seconds(flags.Double("--seconds", 10));
  const absl::Duration warmup = absl::Seconds(flags.Double("--warmup", 1));
  Counters c;
  Samples latency;
  Workers w(conns, o, &c);
  w.Start(workers);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> next_id{0}, measured{0};
  std::atomic<int> active{callers};
  absl::Notification all_done;
  const absl::Time begin = absl::Now();
  const absl::Time measure_from = begin + warmup;
  std::function<void()> loop = [&] {
    if (stop) {
      if (active.fetch_sub(1) == 1) all_done.Notify();
      return;
    }
    const absl::Time sent = absl::Now();
    StartAndWait(conns, o, &c, absl::StrCat(o.id_prefix, next_id++), true,
                 [&, sent](bool ok) {
                   const absl::Time now = absl::Now();
                   if (ok && sent >= measure_from) {
                     latency.Add(now - sent);
                     measured.fetch_add(1);
                   }
                   loop();
                 });
  };
  for (int i = 0; i < callers; ++i) loop();
  absl::SleepFor(warmup + run);
  stop = true;
  all_done.WaitForNotificationWithTimeout(absl::Seconds(80));
  w.Stop();
  const double seconds = absl::ToDoubleSeconds(run);
  const double per_s = measured / seconds;
  std::printf(
      "throughput: %.0f activities/s end to end (%lld in %.0f s, %d callers, "
      "%d workers), %lld errors; start-to-result p50 %.2f ms p99 %.2f ms\n",
      per_s, static_cast<long long>(measured.load()), seconds, callers, workers,
      static_cast<long long>(c.errors.load()), latency.Percentile(50),
      latency.Percentile(99));
  if (!c.first_error.empty()) {
    std::printf("first error: %s\n", c.first_error.c_str());
  }
  PrintResult(absl::StrCat(R"("workload":"throughput","per_s":)", per_s,
                           R"(,"completed":)", measured.load(), R"(,"errors":)",
                           c.errors.load(), R"(,"callers":)", callers, ",",
                           PercentilesJson("result", latency)));
  return 0;
}

// Open loop at a fixed rate. Latencies count from when each start was due,
// not from when it was sent, so a stalled server is not excused by the load
// generator waiting for it (coordinated omission).
int Latency(Connections* conns, const Options& o, const Flags& flags) {
  const double rate = flags.Double("--rate", 1000);
  const absl::Duration run = absl::Seconds(flags.Double("--seconds", 10));
  const int workers = flags.Int("--workers", 16);
  // Starts due in the first `warmup` also run, at the same rate, but are not
  // measured: connections, HTTP/2 windows and the server's first writes are
  // set up then, as in the throughput workload.
  const absl::Duration warmup = absl::Seconds(flags.Double("--warmup", 0));
  const int64_t warm =
      static_cast<int64_t>(rate * absl::ToDoubleSeconds(warmup));
  const int64_t total =
      warm + static_cast<int64_t>(rate * absl::ToDoubleSeconds(run));
  std::vector<absl::Time> due(total);
  std::vector<std::atomic<int64_t>> dispatched(total);
  Counters c;
  Samples to_dispatch, to_result;
  const std::string prefix = o.id_prefix;
  Workers w(conns, o, &c, [&](const ws::PollActivityTaskQueueResponse& task) {
    int64_t i = -1;
    if (absl::SimpleAtoi(
            absl::string_view(task.activity_id()).substr(prefix.size()), &i) &&
        i >= 0 && i < total) {
      dispatched[i] = absl::ToUnixMicros(absl::Now());
    }
  });
  w.Start(workers);
  std::atomic<int64_t> finished{0};
  absl::Notification all_done;
  {
    Scheduler scheduler;
    const absl::Time t0 = absl::Now() + absl::Milliseconds(100);
    for (int64_t i = 0; i < total; ++i) {
      due[i] = t0 + absl::Seconds(i / rate);
      scheduler.At(due[i], [&, i] {
        StartAndWait(
            conns, o, &c, absl::StrCat(prefix, i), true, [&, i](bool ok) {
              if (ok && i >= warm) {
                const absl::Time now = absl::Now();
                to_result.Add(now - due[i]);
                if (dispatched[i] != 0) {
                  to_dispatch.Add(absl::FromUnixMicros(dispatched[i]) - due[i]);
                }
              }
              if (finished.fetch_add(1) + 1 == total) {
                all_done.Notify();
              }
            });
      });
    }
    all_done.WaitForNotificationWithTimeout(run + absl::Seconds(90));
  }
  w.Stop();
  // When the slowest dispatches were due, from the first measured start:
  // outliers bunched at one moment point at a stall, spread ones at noise.
  std::vector<std::pair<int64_t, int64_t>> worst;  // (micros, index)
  for (int64_t i = warm; i < total; ++i) {
    if (dispatched[i] == 0) continue;
    worst.emplace_back(dispatched[i] - absl::ToUnixMicros(due[i]), i);
  }
  const size_t shown = std::min<size_t>(10, worst.size());
  std::partial_sort(worst.begin(), worst.begin() + shown, worst.end(),
                    std::greater<>());
  std::printf("slowest dispatches (ms @ s after the first measured start):");
  for (size_t k = 0; k < shown; ++k) {
    std::printf(" %.1f@%.2f", worst[k].first / 1000.0,
                static_cast<double>(worst[k].second - warm) / rate);
  }
  std::printf("\n");
  std::printf(
      "latency at %.0f/s for %.0f s: start-to-dispatch p50 %.2f p90 %.2f p99 "
      "%.2f p99.9 %.2f ms; start-to-result p50 %.2f p99 %.2f p99.9 %.2f ms; "
      "%lld errors\n",
      rate, absl::ToDoubleSeconds(run), to_dispatch.Percentile(50),
      to_dispatch.Percentile(90), to_dispatch.Percentile(99),
      to_dispatch.Percentile(99.9), to_result.Percentile(50),
      to_result.Percentile(99), to_result.Percentile(99.9),
      static_cast<long long>(c.errors.load()));
  if (!c.first_error.empty()) {
    std::printf("first error: %s\n", c.first_error.c_str());
  }
  PrintResult(absl::StrCat(R"("workload":"latency","rate":)", rate,
                           R"(,"activities":)", total - warm, R"(,"warmup_s":)",
                           absl::ToDoubleSeconds(warmup), R"(,"errors":)",
                           c.errors.load(), ",",
                           PercentilesJson("dispatch", to_dispatch), ",",
                           PercentilesJson("result", to_result)));
  return 0;
}

// Starts `n` activities with `starters` concurrent callers and no worker;
// returns the seconds it took.
double Enqueue(Connections* conns, const Options& o, Counters* c, int64_t n,
               int starters) {
  std::atomic<int64_t> next{0};
  std::atomic<int> active{starters};
  absl::Notification done;
  std::function<void()> loop = [&] {
    const int64_t i = next++;
    if (i >= n) {
      if (active.fetch_sub(1) == 1) done.Notify();
      return;
    }
    StartAndWait(conns, o, c, absl::StrCat(o.id_prefix, i), false,
                 [&](bool) { loop(); });
  };
  const absl::Time begin = absl::Now();
  for (int i = 0; i < starters; ++i) loop();
  done.WaitForNotification();
  return absl::ToDoubleSeconds(absl::Now() - begin);
}

int Backlog(Connections* conns, const Options& o, const Flags& flags,
            bool drain) {
  const int64_t n = flags.Int("--activities", 1000000);
  const int starters = flags.Int("--starters", 64);
  const int workers = flags.Int("--workers", 16);
  const int64_t pid = flags.Int("--server-pid", 0);
  Counters c;
  const Memory before = ProcessMemory(pid);
  const double enqueue_s = Enqueue(conns, o, &c, n, starters);
  const Memory queued = ProcessMemory(pid);
  const double enqueue_rate = c.started / enqueue_s;
  std::printf("enqueued %lld activities in %.1f s: %.0f/s, %lld errors\n",
              static_cast<long long>(c.started.load()), enqueue_s, enqueue_rate,
              static_cast<long long>(c.errors.load()));
  if (pid > 0) {
    std::printf(
        "server memory: %.1f MiB before, %.1f MiB with the backlog "
        "(%.0f bytes per queued activity)\n",
        before.rss / 1048576.0, queued.rss / 1048576.0,
        static_cast<double>(queued.rss - before.rss) / std::max<int64_t>(1, n));
  }
  if (!drain) {
    PrintResult(absl::StrCat(R"("workload":"fill","activities":)", n,
                             R"(,"enqueue_per_s":)", enqueue_rate,
                             R"(,"errors":)", c.errors.load()));
    return 0;
  }
  Workers w(conns, o, &c);
  const absl::Time begin = absl::Now();
  w.Start(workers);
  while (c.completed < c.started) {
    absl::SleepFor(absl::Milliseconds(20));
    if (absl::Now() - begin > absl::Minutes(30)) break;
  }
  const double drain_s = absl::ToDoubleSeconds(absl::Now() - begin);
  w.Stop();
  const Memory after = ProcessMemory(pid);
  const double drain_rate = c.completed / drain_s;
  std::printf("drained %lld in %.1f s: %.0f/s; server peak RSS %.1f MiB\n",
              static_cast<long long>(c.completed.load()), drain_s, drain_rate,
              after.peak / 1048576.0);
  if (!c.first_error.empty()) {
    std::printf("first error: %s\n", c.first_error.c_str());
  }
  PrintResult(absl::StrCat(
      R"("workload":"backlog","activities":)", n, R"(,"enqueue_per_s":)",
      enqueue_rate, R"(,"drain_per_s":)", drain_rate, R"(,"errors":)",
      c.errors.load(), R"(,"rss_before":)", before.rss, R"(,"rss_queued":)",
      queued.rss, R"(,"peak_rss":)", after.peak, R"(,"bytes_per_queued":)",
      pid > 0 ? static_cast<double>(queued.rss - before.rss) / n : 0.0));
  return 0;
}

// Long activities that heartbeat every 100 ms until they have run for
// --activity-seconds, then complete.
int Heartbeat(Connections* conns, Options o, const Flags& flags) {
  const int64_t n = flags.Int("--activities", 200);
  const absl::Duration length =
      absl::Seconds(flags.Double("--activity-seconds", 5));
  const absl::Duration every = absl::Milliseconds(flags.Int("--every-ms", 100));
  o.heartbeat_timeout = absl::Seconds(10);
  Counters c;
  Samples rpc;
  Scheduler scheduler;
  std::function<void(std::string, absl::Time, Workers::Complete)> beat =
      [&](std::string token, absl::Time end, Workers::Complete complete) {
        if (absl::Now() >= end) {
          complete();
          return;
        }
        ws::RecordActivityTaskHeartbeatRequest req;
        req.set_namespace_(o.ns);
        req.set_task_token(token);
        req.set_identity("errand-loadgen-worker");
        const absl::Time sent = absl::Now();
        Unary<ws::RecordActivityTaskHeartbeatRequest,
              ws::RecordActivityTaskHeartbeatResponse>(
            [conns](auto... a) {
              conns->Next()->RecordActivityTaskHeartbeat(a...);
            },
            std::move(req), absl::Seconds(10),
            [&, token, end, complete, sent](const grpc::Status& s, auto&) {
              if (s.ok()) {
                rpc.Add(absl::Now() - sent);
                c.heartbeats.fetch_add(1);
              } else {
                c.Error(s, "RecordActivityTaskHeartbeat");
              }
              scheduler.At(sent + every, [&, token, end, complete] {
                beat(token, end, complete);
              });
            });
      };
  Workers w(
      conns, o, &c, nullptr,
      [&](ws::PollActivityTaskQueueResponse& task, Workers::Complete complete) {
        beat(task.task_token(), absl::Now() + length, std::move(complete));
      });
  w.Start(flags.Int("--workers", 16));
  const absl::Time begin = absl::Now();
  Enqueue(conns, o, &c, n, flags.Int("--starters", 64));
  while (c.completed < n && absl::Now() - begin < length + absl::Minutes(2)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
  w.Stop();
  const double per_s = c.heartbeats / seconds;
  std::printf(
      "heartbeat: %lld activities, %lld heartbeats in %.1f s (%.0f/s), RPC "
      "p50 %.2f ms p99 %.2f ms, %lld completed, %lld errors\n",
      static_cast<long long>(n), static_cast<long long>(c.heartbeats.load()),
      seconds, per_s, rpc.Percentile(50), rpc.Percentile(99),
      static_cast<long long>(c.completed.load()),
      static_cast<long long>(c.errors.load()));
  if (!c.first_error.empty()) {
    std::printf("first error: %s\n", c.first_error.c_str());
  }
  PrintResult(absl::StrCat(R"("workload":"heartbeat","activities":)", n,
                           R"(,"heartbeats_per_s":)", per_s, R"(,"completed":)",
                           c.completed.load(), R"(,"errors":)", c.errors.load(),
                           ",", PercentilesJson("heartbeat", rpc)));
  return 0;
}

// The floor under every workload: closed-loop GetSystemInfo calls, which the
// server answers inline, measure what the RPC layer alone costs here.
int Rpc(Connections* conns, const Flags& flags) {
  const int callers = flags.Int("--callers", 64);
  const absl::Duration run = absl::Seconds(flags.Double("--seconds", 5));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0};
  std::atomic<int> active{callers};
  absl::Notification all_done;
  std::function<void()> loop = [&] {
    if (stop) {
      if (active.fetch_sub(1) == 1) all_done.Notify();
      return;
    }
    Unary<ws::GetSystemInfoRequest, ws::GetSystemInfoResponse>(
        [conns](auto... a) { conns->Next()->GetSystemInfo(a...); },
        ws::GetSystemInfoRequest(), absl::Seconds(10),
        [&](const grpc::Status& s, auto&) {
          if (s.ok()) calls.fetch_add(1);
          loop();
        });
  };
  for (int i = 0; i < callers; ++i) loop();
  absl::SleepFor(run);
  stop = true;
  all_done.WaitForNotificationWithTimeout(absl::Seconds(20));
  const double per_s = calls / absl::ToDoubleSeconds(run);
  std::printf("rpc: %.0f GetSystemInfo calls/s with %d callers\n", per_s,
              callers);
  PrintResult(absl::StrCat(R"("workload":"rpc","per_s":)", per_s,
                           R"(,"calls":)", calls.load()));
  return 0;
}

// Bytes of the files under `dir` (0 if there is none).
int64_t DiskUsage(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  if (dir.empty()) return 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

// A long, steady run at a fixed rate (open loop) with the mix of a real job
// queue, reporting the server's RSS, its data directory's size and the
// start-to-result latency every --report-seconds. Of every 100 activities:
// 5 fail their first attempt and succeed on the retry (after the default
// 1 s backoff), 10
// heartbeat twice before completing, 3 get a cancel request right after
// their start, and the rest complete at once. Every start waits for its
// outcome. The namespace (created if missing) has a short retention, so
// closed runs are deleted throughout: memory and disk must level off.
int Soak(Connections* conns, Options o, const Flags& flags) {
  const double rate = flags.Double("--rate", 1000);
  const absl::Duration run = absl::Seconds(flags.Double("--seconds", 1800));
  const absl::Duration every =
      absl::Seconds(flags.Double("--report-seconds", 60));
  const int64_t pid = flags.Int("--server-pid", 0);
  const std::string data_dir = flags.Get("--data-dir", "");
  const int workers = flags.Int("--workers", 32);
  o.ns = flags.Get("--namespace", "soak");
  o.heartbeat_timeout = absl::Seconds(10);
  {
    ws::RegisterNamespaceRequest req;
    req.set_namespace_(o.ns);
    req.mutable_workflow_execution_retention_period()->set_seconds(
        flags.Int("--retention-seconds", 120));
    absl::Notification done;
    Unary<ws::RegisterNamespaceRequest, ws::RegisterNamespaceResponse>(
        [conns](auto... a) { conns->Next()->RegisterNamespace(a...); },
        std::move(req), absl::Seconds(10),
        [&](const grpc::Status& s, auto&) {
          if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
            std::fprintf(stderr, "register namespace: %s\n",
                         s.error_message().c_str());
          }
          done.Notify();
        });
    done.WaitForNotification();
  }
  const std::string prefix = o.id_prefix;
  auto kind_of = [&](const std::string& activity_id) {
    int64_t i = 0;
    absl::SimpleAtoi(absl::string_view(activity_id).substr(prefix.size()), &i);
    return i % 100;
  };
  Counters c;
  std::atomic<int64_t> failed_attempts{0}, cancels{0};
  Scheduler timers;
  auto respond_failed = [&, conns](const std::string& token) {
    ws::RespondActivityTaskFailedRequest req;
    req.set_namespace_(o.ns);
    req.set_task_token(token);
    req.set_identity("errand-loadgen-worker");
    req.mutable_failure()->set_message("soak: first attempt fails");
    req.mutable_failure()->mutable_application_failure_info()->set_type(
        "SoakError");
    Unary<ws::RespondActivityTaskFailedRequest,
          ws::RespondActivityTaskFailedResponse>(
        [conns](auto... a) { conns->Next()->RespondActivityTaskFailed(a...); },
        std::move(req), absl::Seconds(30),
        [&](const grpc::Status& s, auto&) {
          if (s.ok()) {
            failed_attempts.fetch_add(1);
          } else {
            c.Error(s, "RespondActivityTaskFailed");
          }
        });
  };
  auto heartbeat = [&, conns](const std::string& token,
                              std::function<void()> then) {
    ws::RecordActivityTaskHeartbeatRequest req;
    req.set_namespace_(o.ns);
    req.set_task_token(token);
    req.set_identity("errand-loadgen-worker");
    Unary<ws::RecordActivityTaskHeartbeatRequest,
          ws::RecordActivityTaskHeartbeatResponse>(
        [conns](auto... a) {
          conns->Next()->RecordActivityTaskHeartbeat(a...);
        },
        std::move(req), absl::Seconds(30),
        [&, then = std::move(then)](const grpc::Status& s, auto&) {
          if (s.ok()) {
            c.heartbeats.fetch_add(1);
          } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
            c.Error(s, "RecordActivityTaskHeartbeat");
          }
          then();
        });
  };
  Workers w(
      conns, o, &c, nullptr,
      [&](ws::PollActivityTaskQueueResponse& task, Workers::Complete complete) {
        const int64_t kind = kind_of(task.activity_id());
        if (kind < 5 && task.attempt() == 1) {
          respond_failed(task.task_token());
          return;
        }
        if (kind >= 5 && kind < 15) {
          const std::string token = task.task_token();
          timers.At(absl::Now() + absl::Milliseconds(20), [=, &timers] {
            heartbeat(token, [=, &timers] {
              timers.At(absl::Now() + absl::Milliseconds(20),
                        [=] { heartbeat(token, complete); });
            });
          });
          return;
        }
        complete();
      });
  w.Start(workers);

  struct Report {
    int minute;
    int64_t rss, disk, started, results, errors;
    double p50, p99;
  };
  std::vector<Report> reports;
  auto window = std::make_shared<Samples>();
  std::mutex window_mu;
  const int64_t total = static_cast<int64_t>(rate * absl::ToDoubleSeconds(run));
  std::atomic<int64_t> finished{0};
  absl::Notification all_done;
  const absl::Time t0 = absl::Now() + absl::Milliseconds(100);
  std::printf("soak: %.0f activities/s for %.0f s into namespace %s\n", rate,
              absl::ToDoubleSeconds(run), o.ns.c_str());
  std::printf("%6s %10s %10s %10s %10s %8s %9s %9s\n", "minute", "rss_MiB",
              "disk_MiB", "started", "results", "errors", "p50_ms", "p99_ms");
  std::fflush(stdout);
  {
    Scheduler scheduler;
    // Starts are scheduled a second ahead so the queue stays small.
    std::function<void(int64_t)> plan = [&](int64_t from) {
      const int64_t until =
          std::min<int64_t>(total, from + static_cast<int64_t>(rate));
      for (int64_t i = from; i < until; ++i) {
        const absl::Time due = t0 + absl::Seconds(i / rate);
        scheduler.At(due, [&, i, due] {
          const std::string id = absl::StrCat(prefix, i);
          const bool plain = i % 100 >= 18;
          StartAndWait(conns, o, &c, id, true, [&, due, plain](bool ok) {
            // Latency is of the activities that complete at once; the
            // others wait on purpose (backoff, heartbeats).
            if (ok && plain) {
              std::lock_guard<std::mutex> lock(window_mu);
              window->Add(absl::Now() - due);
            }
            if (finished.fetch_add(1) + 1 == total) all_done.Notify();
          });
          if (i % 100 >= 15 && i % 100 < 18) {
            ws::RequestCancelActivityExecutionRequest req;
            req.set_namespace_(o.ns);
            req.set_activity_id(id);
            req.set_request_id(absl::StrCat(id, "-cancel"));
            req.set_reason("soak");
            timers.At(absl::Now() + absl::Milliseconds(5), [&, req] {
              Unary<ws::RequestCancelActivityExecutionRequest,
                    ws::RequestCancelActivityExecutionResponse>(
                  [conns](auto... a) {
                    conns->Next()->RequestCancelActivityExecution(a...);
                  },
                  req, absl::Seconds(30),
                  [&](const grpc::Status& s, auto&) {
                    // The activity may have completed already.
                    if (s.ok()) cancels.fetch_add(1);
                  });
            });
          }
        });
      }
      if (until < total) {
        scheduler.At(t0 + absl::Seconds(from / rate),
                     [&, until] { plan(until); });
      }
    };
    plan(0);
    for (int minute = 1;; ++minute) {
      const bool done =
          all_done.WaitForNotificationWithDeadline(t0 + minute * every);
      std::shared_ptr<Samples> samples;
      {
        std::lock_guard<std::mutex> lock(window_mu);
        samples = std::exchange(window, std::make_shared<Samples>());
      }
      Report r{minute,
               ProcessMemory(pid).rss,
               DiskUsage(data_dir),
               c.started.load(),
               c.results.load(),
               c.errors.load(),
               samples->Percentile(50),
               samples->Percentile(99)};
      reports.push_back(r);
      std::printf("%6d %10.1f %10.1f %10lld %10lld %8lld %9.2f %9.2f\n",
                  r.minute, r.rss / 1048576.0, r.disk / 1048576.0,
                  static_cast<long long>(r.started),
                  static_cast<long long>(r.results),
                  static_cast<long long>(r.errors), r.p50, r.p99);
      std::fflush(stdout);
      if (done || t0 + minute * every > t0 + run + absl::Seconds(90)) break;
    }
  }
  w.Stop();
  std::printf(
      "soak done: %lld started, %lld outcomes, %lld failed attempts retried, "
      "%lld cancel requests, %lld heartbeats, %lld errors\n",
      static_cast<long long>(c.started.load()),
      static_cast<long long>(c.results.load()),
      static_cast<long long>(failed_attempts.load()),
      static_cast<long long>(cancels.load()),
      static_cast<long long>(c.heartbeats.load()),
      static_cast<long long>(c.errors.load()));
  if (!c.first_error.empty()) {
    std::printf("first error: %s\n", c.first_error.c_str());
  }
  std::string series;
  for (const Report& r : reports) {
    absl::StrAppend(&series, series.empty() ? "" : ",",
                    absl::StrFormat(R"({"minute":%d,"rss":%d,"disk":%d,)"
                                    R"("p50_ms":%.3f,"p99_ms":%.3f})",
                                    r.minute, r.rss, r.disk, r.p50, r.p99));
  }
  PrintResult(absl::StrCat(R"("workload":"soak","rate":)", rate,
                           R"(,"activities":)", total, R"(,"errors":)",
                           c.errors.load(), R"(,"minutes":[)", series, "]"));
  return c.errors.load() == 0 ? 0 : 1;
}

// Many short-lived task queue names, each polled once, as workers with
// per-host or per-run queues produce: a quarter of the polls are activity
// task polls the caller cancels, a quarter activity task polls that run out
// (the server answers empty 1 s before the 2.5 s deadline), and the same two
// for workflow task polls. With --server-pid, reports the server's RSS
// after a warm-up (the baseline), its highest sample while the polls run,
// and after --settle-seconds once they are all over: that last figure
// should be back at the baseline.
int PollChurn(Connections* conns, const Options& o, const Flags& flags) {
  const int64_t n = flags.Int("--queues", 100000);
  const int64_t warmup = flags.Int("--warmup", 10000);
  const int inflight = flags.Int("--inflight", 4000);
  const int64_t pid = flags.Int("--server-pid", 0);
  const absl::Duration settle =
      absl::Seconds(flags.Double("--settle-seconds", 15));
  const std::string prefix = Unique("churn");
  Scheduler scheduler;
  std::atomic<int64_t> errors{0}, empty{0};

  // One poll on queue `name`; `done` runs when it has been answered.
  auto poll = [&](int64_t i, std::function<void()> done) {
    const std::string name = absl::StrCat(prefix, "-", i);
    const bool cancel = i % 2 == 1;
    auto finish = [&, done](const grpc::Status& s, bool has_task) {
      // A cancelled call ends CANCELLED on the client side.
      if (s.ok() && !has_task) {
        empty.fetch_add(1);
      } else if (s.error_code() != grpc::StatusCode::CANCELLED) {
        errors.fetch_add(1);
      }
      done();
    };
    auto start = [&](auto call, auto method) {
      call->ctx.set_deadline(
          absl::ToChronoTime(absl::Now() + absl::Milliseconds(2500)));
      call->req.set_namespace_(o.ns);
      call->req.mutable_task_queue()->set_name(name);
      call->req.set_identity("errand-loadgen-churn");
      method(call);
      if (cancel) {
        scheduler.At(absl::Now() + absl::Milliseconds(20),
                     [call] { call->ctx.TryCancel(); });
      }
    };
    if ((i / 2) % 2 == 0) {
      using C = Call<ws::PollActivityTaskQueueRequest,
                     ws::PollActivityTaskQueueResponse>;
      start(std::make_shared<C>(), [&](std::shared_ptr<C> call) {
        conns->Next()->PollActivityTaskQueue(
            &call->ctx, &call->req, &call->resp,
            [call, finish](grpc::Status s) {
              finish(s, !call->resp.task_token().empty());
            });
      });
    } else {
      using C = Call<ws::PollWorkflowTaskQueueRequest,
                     ws::PollWorkflowTaskQueueResponse>;
      start(std::make_shared<C>(), [&](std::shared_ptr<C> call) {
        conns->Next()->PollWorkflowTaskQueue(
            &call->ctx, &call->req, &call->resp,
            [call, finish](grpc::Status s) {
              finish(s, !call->resp.task_token().empty());
            });
      });
    }
  };

  // Polls queues [first, first + count), `inflight` at a time.
  auto run = [&](int64_t first, int64_t count) {
    std::atomic<int64_t> next{first}, answered{0};
    absl::Notification all;
    std::function<void()> chain = [&] {
      const int64_t i = next.fetch_add(1);
      if (i >= first + count) return;
      poll(i, [&] {
        chain();
        // Last: once every poll is answered, nothing touches these locals.
        if (answered.fetch_add(1) + 1 == count) all.Notify();
      });
    };
    for (int k = 0; k < inflight && k < count; ++k) chain();
    // Every poll ends by its 2.5 s deadline at the latest.
    if (count > 0) all.WaitForNotification();
  };

  run(0, warmup);
  absl::SleepFor(settle);
  const Memory baseline = ProcessMemory(pid);
  std::atomic<bool> sampling{true};
  std::atomic<int64_t> highest{baseline.rss};
  std::thread sampler([&] {
    while (sampling) {
      const int64_t rss = ProcessMemory(pid).rss;
      if (rss > highest) highest = rss;
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  const absl::Time begin = absl::Now();
  run(warmup, n);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
  sampling = false;
  sampler.join();
  absl::SleepFor(settle);
  const Memory after = ProcessMemory(pid);
  std::printf(
      "pollchurn: %lld distinct task queues polled once each in %.1f s "
      "(%lld answered empty, %lld errors)\n",
      static_cast<long long>(n), seconds, static_cast<long long>(empty.load()),
      static_cast<long long>(errors.load()));
  if (pid > 0) {
    std::printf(
        "server RSS: %.1f MiB baseline (after %lld warm-up polls), %.1f MiB "
        "highest while polling, %.1f MiB %.0f s after the last poll\n",
        baseline.rss / 1048576.0, static_cast<long long>(warmup),
        highest / 1048576.0, after.rss / 1048576.0,
        absl::ToDoubleSeconds(settle));
  }
  PrintResult(absl::StrCat(
      R"("workload":"pollchurn","queues":)", n, R"(,"seconds":)", seconds,
      R"(,"errors":)", errors.load(), R"(,"rss_baseline":)", baseline.rss,
      R"(,"rss_highest":)", highest.load(), R"(,"rss_after":)", after.rss));
  return errors == 0 ? 0 : 1;
}

// Succeeds once the server answers a namespace describe: "ready".
int Ping(Connections* conns, const Options& o) {
  ws::DescribeNamespaceRequest req;
  req.set_namespace_(o.ns);
  absl::Notification done;
  grpc::Status status;
  Unary<ws::DescribeNamespaceRequest, ws::DescribeNamespaceResponse>(
      [conns](auto... a) { conns->Next()->DescribeNamespace(a...); },
      std::move(req), absl::Seconds(5),
      [&](const grpc::Status& s, auto&) {
        status = s;
        done.Notify();
      });
  done.WaitForNotification();
  if (!status.ok()) {
    std::fprintf(stderr, "not ready: %s\n", status.error_message().c_str());
    return 1;
  }
  PrintResult(R"("workload":"ping")");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string workload = flags.Get("--workload", "throughput");
  Connections conns(flags.Get("--address", "127.0.0.1:7233"),
                    flags.Int("--channels", 4));
  Options o;
  o.ns = flags.Get("--namespace", "default");
  o.task_queue = flags.Get("--task-queue", Unique("loadgen-" + workload));
  o.id_prefix = Unique(workload) + "-";
  if (workload == "throughput") return Throughput(&conns, o, flags);
  if (workload == "latency") return Latency(&conns, o, flags);
  if (workload == "backlog") return Backlog(&conns, o, flags, true);
  if (workload == "fill") return Backlog(&conns, o, flags, false);
  if (workload == "heartbeat") return Heartbeat(&conns, o, flags);
  if (workload == "ping") return Ping(&conns, o);
  if (workload == "rpc") return Rpc(&conns, flags);
  if (workload == "soak") return Soak(&conns, o, flags);
  if (workload == "pollchurn") return PollChurn(&conns, o, flags);
  std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
  return 2;
}
