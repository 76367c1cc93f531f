// Dispatch-order benchmark: the cost of matching::Backlog (priority levels,
// fairness, ready order) against the FIFO deque each task queue used before.
//
//   build/bench/errand_backlog_bench [--tasks 1000000] [--keys 10000]
//
// For each shape, pushes --tasks tasks into one backlog, then pops them all,
// and reports pushes+pops per second (single thread, no lock; the matcher
// adds its lock around each call). Then reports the memory one fairness key
// with one queued task costs (heap growth over 100,000 keys).
#include <malloc.h>

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errand/matching/backlog.h"

namespace {

using errand::matching::Backlog;
using errand::matching::BacklogOptions;
using errand::matching::TaskRef;

std::vector<TaskRef> MakeTasks(int n, int keys, bool priorities) {
  std::vector<TaskRef> tasks(n);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < n; ++i) {
    TaskRef& t = tasks[i];
    t.activity_id = absl::StrCat("activity-", i);
    t.run_id = "0190d9a2-7c1e-7a8b-9f00-000000000000";
    t.stamp = 1;
    t.ready_at = t0 + absl::Microseconds(i);
    if (keys > 0) {
      t.fairness_key = absl::StrCat("tenant-", i % keys);
      t.fairness_weight = 1 + i % 3;
    }
    if (priorities) t.priority_key = 1 + i % 5;
  }
  return tasks;
}

template <typename Push, typename Pop>
double OpsPerSecond(std::vector<TaskRef> tasks, Push push, Pop pop) {
  const absl::Time start = absl::Now();
  for (TaskRef& t : tasks) push(std::move(t));
  size_t popped = 0;
  while (pop()) ++popped;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return 2.0 * static_cast<double>(popped) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1'000'000;
  int keys = 10'000;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--tasks") (void)absl::SimpleAtoi(argv[i + 1], &n);
    if (flag == "--keys") (void)absl::SimpleAtoi(argv[i + 1], &keys);
  }
  std::printf("%d tasks pushed then popped; pushes+pops per second\n", n);

  {
    std::deque<TaskRef> fifo;
    const double ops = OpsPerSecond(
        MakeTasks(n, 0, false),
        [&](TaskRef t) { fifo.push_back(std::move(t)); },
        [&] {
          if (fifo.empty()) return false;
          fifo.pop_front();
          return true;
        });
    std::printf("  FIFO deque (before)                 %12.0f\n", ops);
  }
  struct Shape {
    const char* name;
    int keys;
    bool priorities;
    bool fairness;
  };
  const Shape shapes[] = {
      {"backlog, no priority, no key        ", 0, false, true},
      {"backlog, fairness off               ", 0, false, false},
      {"backlog, 5 priority levels          ", 0, true, true},
      {"backlog, 1 fairness key             ", 1, false, true},
      {"backlog, --keys fairness keys       ", keys, false, true},
      {"backlog, --keys keys x 5 levels     ", keys, true, true},
  };
  for (const Shape& shape : shapes) {
    Backlog backlog(BacklogOptions{.levels = 5, .fairness = shape.fairness});
    const double ops = OpsPerSecond(
        MakeTasks(n, shape.keys, shape.priorities),
        [&](TaskRef t) { backlog.Push(std::move(t)); },
        [&] { return backlog.Pop(absl::UnixEpoch()).has_value(); });
    std::printf("  %s %12.0f\n", shape.name, ops);
  }

  // Memory per key: 100,000 keys with one task each, less the tasks alone.
  const int kKeys = 100'000;
  auto tasks = MakeTasks(kKeys, kKeys, false);
  auto same_key = MakeTasks(kKeys, 1, false);
  Backlog one_key;
  const size_t before_one = mallinfo2().uordblks;
  for (TaskRef& t : same_key) one_key.Push(std::move(t));
  const size_t one = mallinfo2().uordblks - before_one;
  Backlog many_keys;
  const size_t before_many = mallinfo2().uordblks;
  for (TaskRef& t : tasks) many_keys.Push(std::move(t));
  const size_t many = mallinfo2().uordblks - before_many;
  std::printf(
      "memory: %d tasks on 1 key %.0f B/task; on %d keys %.0f B/task; "
      "so about %.0f B per key with a backlog (keys without one: 0)\n",
      kKeys, static_cast<double>(one) / kKeys, kKeys,
      static_cast<double>(many) / kKeys,
      static_cast<double>(many - one) / kKeys);
  return 0;
}
