#include "errand/engine/activity_engine.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/errors.h"
#include "errand/common/hash.h"
#include "errand/common/uuid.h"
#include "errand/store/executions.h"
#include "spdlog/spdlog.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand::engine {
namespace {

namespace enums = temporal::api::enums::v1;

absl::Status AlreadyStarted(const ActivityRecord& existing) {
  temporal::api::errordetails::v1::ActivityExecutionAlreadyStartedFailure
      detail;
  if (!existing.request_ids().empty()) {
    detail.set_start_request_id(existing.request_ids(0));
  }
  detail.set_run_id(existing.run_id());
  return WithDetail(
      absl::AlreadyExistsError("activity execution already started"), detail);
}

bool HasRequestId(const ActivityRecord& record, const std::string& id) {
  return std::find(record.request_ids().begin(), record.request_ids().end(),
                   id) != record.request_ids().end();
}

// Validates a task token's attempt against the run.
absl::Status CheckAttempt(const RunRef& ref, const ActivityRecord& record) {
  if (!ref.attempt) return absl::OkStatus();
  if (!HasAttemptInProgress(record.status()) ||
      ref.attempt->attempt != record.attempt() ||
      (ref.attempt->stamp != 0 && record.started_stamp() != 0 &&
       ref.attempt->stamp != record.started_stamp())) {
    return ActivityNotFound(record.activity_id());
  }
  return absl::OkStatus();
}

}  // namespace

ActivityEngine::ActivityEngine(int shard_count, store::Store* store,
                               matching::Matcher* matcher, TimerThread* timers,
                               const Clock* clock, ActivityMetrics* metrics)
    : store_(store), timers_(timers) {
  for (int i = 0; i < shard_count; ++i) {
    shards_.push_back(
        std::make_unique<Shard>(i, store, matcher, timers, clock, metrics));
  }
}

ActivityEngine::~ActivityEngine() { Stop(); }

void ActivityEngine::ReleaseWatchers() {
  for (auto& shard : shards_) shard->ReleaseWatchers();
}

void ActivityEngine::Stop() {
  for (auto& shard : shards_) shard->Stop();
}

int ShardOfRun(absl::string_view namespace_id, absl::string_view activity_id,
               int shard_count) {
  std::string ids;
  ids.reserve(namespace_id.size() + 1 + activity_id.size());
  absl::StrAppend(&ids, namespace_id, absl::string_view("\0", 1), activity_id);
  return static_cast<int>(Xxh64(ids) % static_cast<uint64_t>(shard_count));
}

Shard& ActivityEngine::ShardFor(absl::string_view namespace_id,
                                absl::string_view activity_id) {
  return *shards_[ShardOfRun(namespace_id, activity_id,
                             static_cast<int>(shards_.size()))];
}

absl::Status ActivityEngine::Recover() {
  size_t open = 0;
  absl::Status parse_error;
  absl::Status scan =
      store::Executions(store_).ScanAll([&](absl::string_view value) {
        ActivityRecord record;
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError(absl::StrCat(
              "corrupt activity record of ", value.size(), " bytes"));
          return false;
        }
        if (IsTerminal(record.status())) return true;
        ++open;
        ShardFor(record.namespace_id(), record.activity_id())
            .Recover(std::move(record));
        return true;
      });
  if (!scan.ok()) return scan;
  if (!parse_error.ok()) return parse_error;
  // Wait until every shard has re-queued what it was given, so that serving
  // starts with the backlog in place.
  OnEveryShard([](Shard&) {});
  spdlog::info("recovered {} open activity executions", open);
  return absl::OkStatus();
}

void ActivityEngine::Start(StartRequest request, Reply<StartResult> reply) {
  Shard& shard =
      ShardFor(request.record.namespace_id(), request.record.activity_id());
  shard.Submit([request = std::move(request),
                reply = std::move(reply)](Turn& turn) mutable {
    const ActivityRecord& incoming = request.record;
    const std::string& request_id = incoming.request_ids(0);
    auto existing =
        turn.Load(incoming.namespace_id(), incoming.activity_id(), "");
    if (existing.ok()) {
      const ActivityRecord& current = **existing;
      // A replayed request gets its original answer, open or closed.
      if (HasRequestId(current, request_id)) {
        return reply(StartResult{current.run_id(), false});
      }
      if (!IsTerminal(current.status())) {
        if (request.conflict_policy ==
            enums::ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING) {
          return reply(StartResult{current.run_id(), false});
        }
        return reply(AlreadyStarted(current));
      }
      const bool allowed =
          request.reuse_policy ==
              enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE ||
          (request.reuse_policy ==
               enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY &&
           current.status() != store::v1::ACTIVITY_STATUS_COMPLETED);
      if (!allowed) return reply(AlreadyStarted(current));
    } else if (!absl::IsNotFound(existing.status())) {
      return reply(existing.status());
    }
    ActivityRecord record = std::move(request.record);
    record.set_run_id(NewUuid());
    const Effects effects = ScheduleNew(record, turn.now());
    const std::string run_id = record.run_id();
    turn.Create(std::move(record), effects);
    turn.AfterCommit([reply = std::move(reply), run_id](const absl::Status& s) {
      if (!s.ok()) return reply(s);
      reply(StartResult{run_id, true});
    });
  });
}

void ActivityEngine::Describe(const RunRef& ref, Reply<RecordSnapshot> reply) {
  ShardFor(ref.namespace_id, ref.activity_id)
      .Submit([ref, reply = std::move(reply)](Turn& turn) {
        auto record = turn.Load(ref.namespace_id, ref.activity_id, ref.run_id);
        if (!record.ok()) return reply(record.status());
        reply(std::make_shared<const ActivityRecord>(**record));
      });
}

std::function<void()> ActivityEngine::Watch(const RunRef& ref,
                                            int64_t seen_version,
                                            bool closed_only,
                                            absl::Time expire_at,
                                            Reply<RecordSnapshot> reply) {
  // The watcher settles once: from the shard (change or error), from the
  // timer (expiry) or from the caller (cancel).
  auto watcher =
      std::make_shared<Watcher>(seen_version, closed_only, std::move(reply));
  std::weak_ptr<Watcher> weak = watcher;
  TimerThread* timers = timers_;
  ShardFor(ref.namespace_id, ref.activity_id)
      .Submit([ref, watcher, expire_at, timers](Turn& turn) {
        if (watcher->settled()) return;
        auto record = turn.Load(ref.namespace_id, ref.activity_id, ref.run_id);
        if (!record.ok()) {
          watcher->Settle(record.status());
          return;
        }
        if (watcher->Wants(**record)) {
          watcher->Settle(std::make_shared<const ActivityRecord>(**record));
          return;
        }
        std::weak_ptr<Watcher> weak_w = watcher;
        const TimerThread::TimerId timer =
            timers->Schedule(expire_at, [weak_w] {
              if (auto w = weak_w.lock()) w->Settle(RecordSnapshot());
            });
        watcher->set_timer(timer);
        // A cancel that settled the watcher before the timer was recorded
        // cancelled no timer; cancel it here so it does not stay pending
        // until its deadline. (Settling comes before reading the timer, and
        // recording it before this check, so one side sees the other.)
        if (watcher->settled()) {
          timers->Cancel(timer);
          return;
        }
        turn.Watch(**record, watcher);
      });
  return [weak, timers] {
    if (auto w = weak.lock()) {
      if (w->Settle(RecordSnapshot())) timers->Cancel(w->timer());
    }
  };
}

void ActivityEngine::StartTask(const std::string& namespace_id,
                               const matching::TaskRef& task,
                               StartAttempt attempt,
                               Reply<RecordSnapshot> reply) {
  ShardFor(namespace_id, task.activity_id)
      .Submit([namespace_id, task, attempt = std::move(attempt),
               reply = std::move(reply)](Turn& turn) mutable {
        auto record = turn.Load(namespace_id, task.activity_id, task.run_id);
        if (absl::IsNotFound(record.status())) {
          return reply(absl::AbortedError("task for a deleted activity"));
        }
        if (!record.ok()) {
          // The store could not be read: the task must not be lost.
          turn.ReturnTaskUnlessWritten(namespace_id, task.activity_id,
                                       task.run_id, task.stamp,
                                       /*even_if_written=*/true);
          return reply(record.status());
        }
        attempt.stamp = task.stamp;
        auto effects = turn.Apply(*record, attempt);
        if (!effects.ok()) return reply(effects.status());
        turn.ReturnTaskUnlessWritten(namespace_id, task.activity_id,
                                     task.run_id, task.stamp);
        turn.ReplyWhenDurable(*record, std::move(reply));
      });
}

void ActivityEngine::Update(const RunRef& ref, ActivityEvent event,
                            Reply<RecordSnapshot> reply) {
  ShardFor(ref.namespace_id, ref.activity_id)
      .Submit([ref, event = std::move(event),
               reply = std::move(reply)](Turn& turn) {
        auto record = turn.Load(ref.namespace_id, ref.activity_id, ref.run_id);
        if (!record.ok()) return reply(record.status());
        if (absl::Status s = CheckAttempt(ref, **record); !s.ok()) {
          return reply(s);
        }
        auto effects = turn.Apply(*record, event);
        if (!effects.ok()) return reply(effects.status());
        turn.ReplyWhenDurable(*record, std::move(reply));
      });
}

void ActivityEngine::Delete(const RunRef& ref, Reply<RecordSnapshot> reply) {
  ShardFor(ref.namespace_id, ref.activity_id)
      .Submit([ref, reply = std::move(reply)](Turn& turn) {
        auto record = turn.Load(ref.namespace_id, ref.activity_id, ref.run_id);
        if (!record.ok()) return reply(record.status());
        if (!IsTerminal((*record)->status())) {
          auto effects = turn.Apply(
              *record, Terminate{NewUuid(), "Delete activity execution", ""});
          if (!effects.ok()) return reply(effects.status());
        }
        turn.ReplyWhenDurable(*record, std::move(reply));
        turn.Delete(*record);
      });
}

void ActivityEngine::OnEveryShard(const std::function<void(Shard&)>& fn) {
  std::vector<std::future<void>> done;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    Shard* s = shard.get();
    s->Submit([promise, s, &fn](Turn&) {
      fn(*s);
      promise->set_value();
    });
  }
  for (auto& f : done) f.wait();
}

size_t ActivityEngine::PendingTimers() {
  std::atomic<size_t> total{0};
  OnEveryShard([&total](Shard& shard) { total += shard.PendingTimers(); });
  return total;
}

void ActivityEngine::Expire(const RunRef& ref, absl::Time closed_by,
                            Reply<bool> reply) {
  ShardFor(ref.namespace_id, ref.activity_id)
      .Submit([ref, closed_by, reply = std::move(reply)](Turn& turn) {
        auto record = turn.Load(ref.namespace_id, ref.activity_id, ref.run_id);
        if (absl::IsNotFound(record.status())) return reply(false);
        if (!record.ok()) return reply(record.status());
        if (!IsTerminal((*record)->status()) ||
            store::FromProtoTime((*record)->close_time()) > closed_by) {
          return reply(false);
        }
        turn.Delete(*record);
        turn.AfterCommit([reply](const absl::Status& written) {
          if (!written.ok()) return reply(written);
          reply(true);
        });
      });
}

}  // namespace errand::engine
