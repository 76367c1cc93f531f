#include "errand/matching/backlog.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"

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

double Backlog::WeightOf(const std::string& key, double task_weight) const {
  std::optional<double> override_weight;
  if (auto it = settings_.weight_overrides.find(key);
      it != settings_.weight_overrides.end()) {
    override_weight = it->second;
  }
  return EffectiveWeight(override_weight, task_weight);
}

void Backlog::Restride(const std::string& name, Key& key) const {
  const double weight = WeightOf(name, key.task_weight);
  key.stride = Stride(weight);
  key.limit.SetRate(
      settings_.key_rate_limit
          ? std::optional<double>(*settings_.key_rate_limit * weight)
          : std::nullopt);
}

void Backlog::Configure(FairnessSettings settings) {
  settings_ = std::move(settings);
  if (!settings_.key_rate_limit) idle_limits_.clear();
  for (Level& level : levels_) {
    for (auto& [name, key] : level.keys) Restride(name, key);
  }
}

void Backlog::Push(TaskRef task) {
  Level& level = levels_[PriorityLevel(task.priority_key, options_.levels)];
  // With fairness off every task of a level shares one key.
  std::string key_name = options_.fairness ? task.fairness_key : std::string();
  const uint64_t arrival = arrivals_++;
  auto [it, joined] = level.keys.try_emplace(key_name);
  Key& key = it->second;
  if (joined) {
    key.pass = level.pass;
    key.joined = arrival;
    level.schedule.emplace(key.pass, key.joined, key_name);
    if (auto idle = idle_limits_.find(key_name); idle != idle_limits_.end()) {
      key.limit = idle->second;
      idle_limits_.erase(idle);
    }
  }
  // The latest task's weight is the key's (an override applies to all).
  key.task_weight = task.fairness_weight;
  Restride(key_name, key);
  const absl::Time ready = task.ready_at;
  key.tasks.push_back(Queued{Order{ready, arrival}, std::move(task)});
  std::push_heap(key.tasks.begin(), key.tasks.end(), Later());
  ++size_;
}

std::optional<TaskRef> Backlog::Pop(absl::Time now) {
  const bool limited = settings_.key_rate_limit.has_value();
  for (Level& level : levels_) {
    // Keys in schedule order; one its limit holds back is passed over and
    // keeps its pass, so it is served first once its limit allows.
    auto next = level.schedule.begin();
    while (limited && next != level.schedule.end() &&
           !level.keys.find(std::get<2>(*next))->second.limit.TryTake(now)) {
      ++next;
    }
    if (next == level.schedule.end()) continue;
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
      if (limited) KeepIdleLimit(name, key.limit, now);
      level.keys.erase(it);
    } else {
      key.pass += key.stride;
      level.schedule.emplace(key.pass, key.joined, name);
    }
    return task;
  }
  return std::nullopt;
}

void Backlog::KeepIdleLimit(const std::string& name, const RateLimiter& limit,
                            absl::Time now) {
  if (limit.Rested(now)) return;  // nothing to remember
  if (idle_limits_.size() >= kMaxIdleKeyLimits) {
    absl::erase_if(idle_limits_, [now](const auto& entry) {
      return entry.second.Rested(now);
    });
    while (idle_limits_.size() >= kMaxIdleKeyLimits) {
      idle_limits_.erase(idle_limits_.begin());
    }
  }
  idle_limits_.insert_or_assign(name, limit);
}

size_t Backlog::key_count() const {
  size_t n = 0;
  for (const Level& level : levels_) n += level.keys.size();
  return n;
}

absl::Time Backlog::OldestReadyAt() const {
  absl::Time oldest = absl::InfiniteFuture();
  for (const Level& level : levels_) {
    for (const auto& [name, key] : level.keys) {
      // Heap fronts hold each key's earliest (ready time, arrival).
      oldest = std::min(oldest, key.tasks.front().order.first);
    }
  }
  return oldest;
}

absl::Time Backlog::NextReady(absl::Time now) const {
  if (empty()) return absl::InfiniteFuture();
  if (!settings_.key_rate_limit) return now;
  absl::Time next = absl::InfiniteFuture();
  for (const Level& level : levels_) {
    for (const auto& [name, key] : level.keys) {
      next = std::min(next, key.limit.NextAllowed(now));
    }
  }
  return next;
}

}  // namespace errand::matching
