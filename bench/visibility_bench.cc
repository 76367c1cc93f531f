// Visibility benchmark: List and Count over N stored executions.
//
//   build/bench/errand_visibility_bench [--executions 1000000]
//
// Fills a fresh store through the engine (10 task queues, 5 activity types;
// a third of the runs terminated, so statuses differ), then times the first
// page of 100 for an indexed equality query, for a wide range on StartTime
// and for a narrow one (~1,000 runs, served by the time index), and counts
// (grouped by status, from the status counts and by reading every row; with
// no query; by status; by task queue, from the counts and from its rows);
// and reports disk and memory per execution.
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errand/common/uuid.h"
#include "errand/engine/activity_engine.h"
#include "errand/visibility/lister.h"
#include "errand/visibility/writer.h"
#include "spdlog/spdlog.h"

namespace {

namespace enums = temporal::api::enums::v1;

uint64_t DirBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

template <typename F>
double Millis(F&& f) {
  const absl::Time start = absl::Now();
  f();
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  int n = 1000000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--executions")
      (void)absl::SimpleAtoi(argv[i + 1], &n);
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("errand-visibility-" + errand::NewUuid());
  const size_t heap_before = mallinfo2().uordblks;
  auto store = errand::store::Store::Open({dir.string(), /*sync=*/false});
  if (!store.ok()) return 1;
  // As the server does at start: the index and the status counters are
  // made current before anything is written.
  if (!errand::visibility::EnsureIndex(**store).ok() ||
      !errand::visibility::EnsureCounts(**store).ok()) {
    return 1;
  }
  errand::TimerThread timers;
  errand::matching::Matcher matcher(&timers);
  errand::engine::ActivityEngine engine(4, store->get(), &matcher, &timers,
                                        errand::SystemClock::Get());

  absl::Time mid_time, window_start, window_end;
  // A narrow StartTime window holding ~1,000 runs, a third of the way in.
  const int window_first = n / 3, window_last = n / 3 + 1000;
  const absl::Time fill_start = absl::Now();
  std::vector<std::future<void>> pending;
  auto wait_window = [&](size_t window) {
    if (pending.size() < window) return;
    for (auto& f : pending) f.wait();
    pending.clear();
  };
  for (int i = 0; i < n; ++i) {
    if (i == n / 2) mid_time = absl::Now();
    if (i == window_first || i == window_last) {
      wait_window(0);  // every earlier start is stored: a clean boundary
      (i == window_first ? window_start : window_end) = absl::Now();
    }
    errand::engine::StartRequest r;
    r.record.set_namespace_id("bench-ns");
    r.record.set_activity_id(absl::StrCat("activity-", i));
    r.record.add_request_ids(errand::NewUuid());
    r.record.mutable_activity_type()->set_name(absl::StrCat("type-", i % 5));
    auto* o = r.record.mutable_options();
    o->mutable_task_queue()->set_name(absl::StrCat("queue-", i % 10));
    o->mutable_start_to_close_timeout()->set_seconds(3600);
    r.reuse_policy = enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    r.conflict_policy = enums::ACTIVITY_ID_CONFLICT_POLICY_FAIL;
    auto done = std::make_shared<std::promise<void>>();
    pending.push_back(done->get_future());
    engine.Start(std::move(r), [done](auto) { done->set_value(); });
    wait_window(4000);
  }
  wait_window(0);
  for (int i = 0; i < n; i += 3) {
    auto done = std::make_shared<std::promise<void>>();
    pending.push_back(done->get_future());
    engine.Update({"bench-ns", absl::StrCat("activity-", i), "", std::nullopt},
                  errand::engine::Terminate{errand::NewUuid(), "bench", ""},
                  [done](auto) { done->set_value(); });
    wait_window(4000);
  }
  wait_window(0);
  engine.Stop();
  (void)(*store)->Flush();
  std::printf("fill: %d executions (%d terminated) in %.1f s\n", n, (n + 2) / 3,
              absl::ToDoubleSeconds(absl::Now() - fill_start));

  errand::visibility::Lister lister(store->get());
  errand::visibility::CustomAttributes custom;
  auto rfc3339 = [](absl::Time t) {
    return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
  };
  // The first run of a query pays for cold caches (SST index blocks, pages
  // not yet in the OS cache); the median of the next five is the steady cost.
  auto first_page = [&](const std::string& query) {
    size_t rows = 0;
    std::vector<double> ms;
    for (int run = 0; run < 6; ++run) {
      ms.push_back(Millis([&] {
        auto page = lister.List("bench-ns", custom, query, 100, "");
        rows = page.ok() ? page->executions.size() : 0;
      }));
    }
    std::sort(ms.begin() + 1, ms.end());
    std::printf(
        "first page of 100, %-55s cold %7.2f ms, warm %6.2f ms (%zu rows)\n",
        query.c_str(), ms[0], ms[3], rows);
  };
  first_page("TaskQueue = 'queue-7'");
  first_page("TaskQueue = 'queue-7' AND ExecutionStatus = 'Terminated'");
  first_page(absl::StrCat("StartTime > '", rfc3339(mid_time), "'"));
  const std::string window =
      absl::StrCat("StartTime BETWEEN '", rfc3339(window_start), "' AND '",
                   rfc3339(window_end), "'");
  first_page(window);
  first_page(absl::StrCat(window, " AND ExecutionStatus = 'Running'"));
  int64_t counted = 0;
  const double count_window_ms = Millis([&] {
    auto c = lister.Count("bench-ns", custom,
                          absl::StrCat(window, " GROUP BY ExecutionStatus"));
    counted = c.ok() ? c->count : -1;
  });
  std::printf("count grouped by status, StartTime window: %.1f ms (%lld)\n",
              count_window_ms, static_cast<long long>(counted));
  const double count_ms = Millis([&] {
    auto c = lister.Count("bench-ns", custom, "GROUP BY ExecutionStatus");
    counted = c.ok() ? c->count : -1;
  });
  std::printf("count grouped by ExecutionStatus: %.2f ms (%lld executions)\n",
              count_ms, static_cast<long long>(counted));
  // The same grouped count read from the rows, which the counts must equal.
  absl::StatusOr<errand::visibility::CountResult> by_counts =
      lister.Count("bench-ns", custom, "GROUP BY ExecutionStatus");
  absl::StatusOr<errand::visibility::CountResult> by_scan;
  const double scan_ms = Millis([&] {
    by_scan =
        lister.CountByScan("bench-ns", custom, "GROUP BY ExecutionStatus");
  });
  const bool same = by_counts.ok() && by_scan.ok() &&
                    by_counts->count == by_scan->count &&
                    by_counts->groups == by_scan->groups;
  std::printf(
      "count grouped by ExecutionStatus, reading every row: %.0f ms (%lld "
      "executions; %s the counts' answer)\n",
      scan_ms, by_scan.ok() ? static_cast<long long>(by_scan->count) : -1LL,
      same ? "equal to" : "DIFFERENT FROM");
  const double count_all_ms = Millis([&] {
    auto c = lister.Count("bench-ns", custom, "");
    counted = c.ok() ? c->count : -1;
  });
  std::printf("count, no query: %.2f ms (%lld executions)\n", count_all_ms,
              static_cast<long long>(counted));
  const double count_status_ms = Millis([&] {
    auto c = lister.Count("bench-ns", custom, "ExecutionStatus = 'Terminated'");
    counted = c.ok() ? c->count : -1;
  });
  std::printf("count, ExecutionStatus = 'Terminated': %.2f ms (%lld)\n",
              count_status_ms, static_cast<long long>(counted));
  const double count_indexed_ms = Millis([&] {
    auto c = lister.Count("bench-ns", custom,
                          "TaskQueue = 'queue-7' GROUP BY ExecutionStatus");
    counted = c.ok() ? c->count : -1;
  });
  std::printf(
      "count grouped by status, TaskQueue = 'queue-7': %.2f ms (%lld)\n",
      count_indexed_ms, static_cast<long long>(counted));
  // The same, reading the queue's rows, which the counts must equal.
  {
    const char* query = "TaskQueue = 'queue-7' GROUP BY ExecutionStatus";
    auto counts = lister.Count("bench-ns", custom, query);
    absl::StatusOr<errand::visibility::CountResult> scan;
    const double ms =
        Millis([&] { scan = lister.CountByScan("bench-ns", custom, query); });
    const bool equal = counts.ok() && scan.ok() &&
                       counts->count == scan->count &&
                       counts->groups == scan->groups;
    std::printf(
        "count grouped by status, TaskQueue = 'queue-7', reading its rows: "
        "%.0f ms (%s the counts' answer)\n",
        ms, equal ? "equal to" : "DIFFERENT FROM");
  }

  const uint64_t disk = DirBytes(dir);
  const size_t heap = mallinfo2().uordblks - heap_before;
  std::printf(
      "disk: %.1f MiB, %.0f bytes per execution (RocksDB, default "
      "compression)\n",
      disk / 1048576.0, static_cast<double>(disk) / n);
  std::printf(
      "heap in use: %.1f MiB, %.0f bytes per execution (RocksDB "
      "memtables and block cache included)\n",
      heap / 1048576.0, static_cast<double>(heap) / n);
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
