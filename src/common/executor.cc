#include "errand/common/executor.h"

#include <utility>

namespace errand {

BoundedExecutor::BoundedExecutor(int threads, size_t max_queued)
    : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

BoundedExecutor::~BoundedExecutor() { Stop(); }

bool BoundedExecutor::Submit(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || jobs_.size() >= max_queued_) return false;
  jobs_.push_back(std::move(job));
  return true;
}

void BoundedExecutor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

size_t BoundedExecutor::queued() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

void BoundedExecutor::Work() {
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !jobs_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      // Queued jobs still run after Stop: each owes someone an answer.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace errand
