// Recovery benchmark: how long a restart takes with N pending activities,
// and what each pending timer and queued task costs in memory.
//
//   build/bench/errand_recovery_bench [--activities N] [--shards S]
//
// It fills a fresh store through the engine (every activity scheduled, with a
// schedule-to-close timeout so each one also has a durable deadline), closes
// it, then times a cold start: opening the store, scanning it, and re-arming
// every timer and queued task. Memory is read from mallinfo2 around recovery.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errand/common/uuid.h"
#include "errand/engine/activity_engine.h"
#include "spdlog/spdlog.h"

namespace {

using errand::engine::ActivityEngine;
using errand::engine::StartRequest;
using errand::engine::StartResult;

size_t HeapInUse() { return mallinfo2().uordblks; }

int FlagValue(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    int v = 0;
    if (argv[i] == name && absl::SimpleAtoi(argv[i + 1], &v)) return v;
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int activities = FlagValue(argc, argv, "--activities", 100000);
  const int shards = FlagValue(argc, argv, "--shards", 4);
  // With --deadlines 0 the activities have no schedule-to-close timeout, so
  // recovery holds queued tasks only; the difference between the two runs is
  // what the timers cost.
  const bool deadlines = FlagValue(argc, argv, "--deadlines", 1) != 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("errand-recovery-" + errand::NewUuid());

  {  // Fill: starts go through the engine, so records are exactly as served.
    auto store = errand::store::Store::Open({dir.string(), /*sync=*/false});
    if (!store.ok()) return 1;
    errand::TimerThread timers;
    errand::matching::Matcher matcher(&timers);
    ActivityEngine engine(shards, store->get(), &matcher, &timers,
                          errand::SystemClock::Get());
    const absl::Time start = absl::Now();
    std::vector<std::future<void>> pending;
    constexpr int kWindow = 2000;
    for (int i = 0; i < activities; ++i) {
      StartRequest r;
      r.record.set_namespace_id("bench-ns");
      r.record.set_activity_id(absl::StrCat("activity-", i));
      r.record.add_request_ids(errand::NewUuid());
      r.record.mutable_activity_type()->set_name("noop");
      auto* o = r.record.mutable_options();
      o->mutable_task_queue()->set_name("bench-tq");
      o->mutable_start_to_close_timeout()->set_seconds(60);
      if (deadlines) o->mutable_schedule_to_close_timeout()->set_seconds(3600);
      r.reuse_policy =
          temporal::api::enums::v1::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
      r.conflict_policy =
          temporal::api::enums::v1::ACTIVITY_ID_CONFLICT_POLICY_FAIL;
      auto done = std::make_shared<std::promise<void>>();
      pending.push_back(done->get_future());
      engine.Start(std::move(r),
                   [done](absl::StatusOr<StartResult>) { done->set_value(); });
      if (pending.size() == kWindow) {
        for (auto& f : pending) f.wait();
        pending.clear();
      }
    }
    for (auto& f : pending) f.wait();
    engine.Stop();
    std::printf("fill: %d activities in %.2f s\n", activities,
                absl::ToDoubleSeconds(absl::Now() - start));
  }

  const size_t heap_before = HeapInUse();
  const absl::Time start = absl::Now();
  auto store = errand::store::Store::Open({dir.string(), true});
  if (!store.ok()) return 1;
  errand::TimerThread timers;
  errand::matching::Matcher matcher(&timers);
  ActivityEngine engine(shards, store->get(), &matcher, &timers,
                        errand::SystemClock::Get());
  if (!engine.Recover().ok()) return 1;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const size_t heap_after = HeapInUse();
  const size_t backlog = matcher.BacklogSize({"bench-ns", "bench-tq"});
  std::printf(
      "recovery: %d pending activities in %.3f s (%.0f activities/s); "
      "backlog %zu\n",
      activities, seconds, activities / seconds, backlog);
  // Each pending activity holds one queued task and one schedule-to-close
  // timer in memory after recovery (plus RocksDB's caches).
  std::printf(
      "memory after recovery: %.1f MiB heap, %.0f bytes per pending "
      "activity (its queued task and timers, plus store caches)\n",
      (heap_after - heap_before) / 1048576.0,
      static_cast<double>(heap_after - heap_before) / activities);
  engine.Stop();
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
