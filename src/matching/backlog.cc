#include "errand/matching/backlog.h"

#include <algorithm>
#include <cmath>

namespace errand::matching {

int PriorityLevel(int priority_key, int levels) {
  if (priority_key <= 0) priority_key = (levels + 1) / 2;
  return std::clamp(priority_key, 1, levels) - 1;
}

double EffectiveWeight(std::optional<double> override_weight,
                       double task_weight) {
  const double w = override_weight.value_or(task_weight);
  if (!(w > 0)) return 1.0;  // also NaN
  return std::max(w, 0.001);
}

int64_t Stride(double weight) {
  const double stride = static_cast<double>(kStrideFactor) / weight;
  // Weights are at least 0.001, so the stride is at most 10^6.
  return std::max<int64_t>(1, static_cast<int64_t>(stride));
}

Backlog::Backlog(BacklogOptions options) : options_(options) {
  options_.levels = std::clamp(options_.levels, 1, kMaxPriorityLevels);
  levels_.resize(options_.levels);
}

void Backlog::Push(TaskRef task, std::optional<double> weight_override) {
  Level& level = levels_[PriorityLevel(task.priority_key, options_.levels)];
  // With fairness off every task of a level shares one key.
  std::string key_name = options_.fairness ? task.fairness_key : std::string();
  const int64_t stride =
      Stride(EffectiveWeight(weight_override, task.fairness_weight));
  const uint64_t arrival = arrivals_++;
  auto [it, joined] = level.keys.try_emplace(key_name);
  Key& key = it->second;
  if (joined) {
    key.pass = level.pass;
    key.joined = arrival;
    level.schedule.emplace(key.pass, key.joined, key_name);
  }
  // The latest task's weight is the key's (an override applies to all).
  key.stride = stride;
  const absl::Time ready = task.ready_at;
  key.tasks.push_back(Queued{Order{ready, arrival}, std::move(task)});
  std::push_heap(key.tasks.begin(), key.tasks.end(), Later());
  ++size_;
}

std::optional<TaskRef> Backlog::Pop() {
  for (Level& level : levels_) {
    if (level.schedule.empty()) continue;
    auto next = level.schedule.begin();
    const std::string name = std::get<2>(*next);
    level.schedule.erase(next);
    auto it = level.keys.find(name);
    Key& key = it->second;
    std::pop_heap(key.tasks.begin(), key.tasks.end(), Later());
    TaskRef task = std::move(key.tasks.back().task);
    key.tasks.pop_back();
    --size_;
    level.pass = key.pass;
    if (key.tasks.empty()) {
      level.keys.erase(it);
    } else {
      key.pass += key.stride;
      level.schedule.emplace(key.pass, key.joined, name);
    }
    return task;
  }
  return std::nullopt;
}

size_t Backlog::key_count() const {
  size_t n = 0;
  for (const Level& level : levels_) n += level.keys.size();
  return n;
}

}  // namespace errand::matching
