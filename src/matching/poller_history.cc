#include "errand/matching/poller_history.h"

#include <algorithm>

namespace errand::matching {

void PollerHistory::Record(const PollerKey& key, absl::string_view identity,
                           double rate_per_second, absl::Time now) {
  if (identity.empty()) return;
  absl::MutexLock lock(&mu_);
  if (now >= next_sweep_ || entries_ >= 2 * entries_after_sweep_ + 1024) {
    Sweep(now);
  }
  auto found = queues_.find(key);
  if (found == queues_.end()) {
    if (entries_ >= kMaxEntries) return;
    found = queues_.try_emplace(key).first;
  }
  Queue& queue = found->second;
  auto it = queue.find(identity);
  if (it == queue.end()) {
    if (queue.size() < kMaxPerQueue && entries_ >= kMaxEntries) return;
    if (queue.size() >= kMaxPerQueue) {
      // Make room by forgetting the queue's least recent poller.
      auto oldest = std::min_element(
          queue.begin(), queue.end(), [](const auto& a, const auto& b) {
            return a.second.last_access < b.second.last_access;
          });
      queue.erase(oldest);
      --entries_;
    }
    it = queue.try_emplace(std::string(identity)).first;
    ++entries_;
  }
  it->second.last_access = std::max(it->second.last_access, now);
  it->second.rate_per_second = rate_per_second;
}

std::vector<PollerRecord> PollerHistory::Pollers(const PollerKey& key,
                                                 absl::Time now) const {
  std::vector<PollerRecord> out;
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(key);
  if (it == queues_.end()) return out;
  for (const auto& [identity, entry] : it->second) {
    if (entry.last_access + kTtl < now) continue;
    out.push_back({identity, entry.last_access, entry.rate_per_second});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.last_access > b.last_access ||
           (a.last_access == b.last_access && a.identity < b.identity);
  });
  return out;
}

size_t PollerHistory::size() const {
  absl::MutexLock lock(&mu_);
  return entries_;
}

void PollerHistory::Sweep(absl::Time now) {
  for (auto it = queues_.begin(); it != queues_.end();) {
    Queue& queue = it->second;
    entries_ -= queue.size();
    absl::erase_if(queue, [now](const auto& entry) {
      return entry.second.last_access + kTtl < now;
    });
    entries_ += queue.size();
    if (queue.empty()) {
      queues_.erase(it++);
    } else {
      ++it;
    }
  }
  entries_after_sweep_ = entries_;
  next_sweep_ = now + kTtl / 5;
}

}  // namespace errand::matching
