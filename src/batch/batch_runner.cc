#include "errand/batch/batch_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "errand/common/errors.h"
#include "errand/common/jitter.h"
#include "errand/engine/activity_options.h"
#include "errand/store/keys.h"
#include "errand/store/records.h"
#include "spdlog/spdlog.h"

namespace errand::batch {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using store::Table;
using store::v1::BatchItem;
using store::v1::BatchState;

// A store or engine error that lasts: the job waits this long before it
// tries its step again.
constexpr absl::Duration kRetryAfter = absl::Seconds(1);
// A checkpoint at least this often while items are applied.
constexpr absl::Duration kCheckpointInterval = absl::Seconds(1);
// Closed jobs are swept (after their namespace's retention) this often.
constexpr absl::Duration kPruneInterval = absl::Minutes(1);

std::string JobKey(absl::string_view namespace_id, absl::string_view job_id) {
  return absl::StrCat(namespace_id, absl::string_view("\0", 1), job_id);
}

// The request ID every operation of a job carries: a repeat of an item
// (after a restart) is then a no-op for the state machine.
std::string RequestIdOf(const BatchSpec& spec) {
  return absl::StrCat("batch:", spec.job_id());
}

double RateOf(const BatchSpec& spec, double default_rate) {
  const double rate = spec.request().max_operations_per_second();
  return rate > 0 ? rate : default_rate;
}

// Waits for the engine's answer: the runner has a thread of its own.
template <typename T>
absl::StatusOr<T> Await(const std::function<void(engine::Reply<T>)>& call) {
  absl::Notification done;
  absl::StatusOr<T> result = absl::UnknownError("no answer");
  call([&](absl::StatusOr<T> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

// How an item's outcome counts: applied (or gone: NotFound, as Temporal's
// batcher counts it), refused for good, or worth another attempt.
enum class Outcome { kDone, kFailed, kRetry };
Outcome Classify(const absl::Status& s) {
  if (s.ok() || s.code() == absl::StatusCode::kNotFound) return Outcome::kDone;
  switch (s.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
      return Outcome::kFailed;
    default:
      return Outcome::kRetry;
  }
}

}  // namespace

BatchRunner::BatchRunner(store::Store* store,
                         const engine::NamespaceRegistry* namespaces,
                         engine::ActivityEngine* engine,
                         const visibility::Lister* lister, const Clock* clock,
                         BatchOptions options)
    : store_(store),
      namespaces_(namespaces),
      engine_(engine),
      lister_(lister),
      clock_(clock),
      options_(options) {}

BatchRunner::~BatchRunner() { Stop(); }

absl::Status BatchRunner::ScanJobs(
    const std::string& namespace_id,
    const std::function<void(std::string job_id, BatchProgress progress)>&
        visit) const {
  const std::string prefix = store::BatchJobPrefix(namespace_id);
  absl::Status error;
  absl::Status scan = store_->Scan(
      Table::kBatches, prefix,
      [&](absl::string_view key, absl::string_view value) {
        BatchProgress progress;
        if (!progress.ParseFromArray(value.data(),
                                     static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt batch progress record");
          return false;
        }
        visit(std::string(key.substr(prefix.size())), std::move(progress));
        return true;
      });
  return scan.ok() ? error : scan;
}

absl::Status BatchRunner::Recover() {
  for (const auto& ns : namespaces_->List()) {
    std::vector<std::pair<std::string, BatchProgress>> running;
    if (absl::Status s =
            ScanJobs(ns.id(),
                     [&](std::string job_id, BatchProgress p) {
                       if (p.state() == store::v1::BATCH_STATE_RUNNING) {
                         running.emplace_back(std::move(job_id), std::move(p));
                       }
                     });
        !s.ok()) {
      return s;
    }
    for (auto& [job_id, progress] : running) {
      auto stored =
          store_->Get(Table::kBatches, store::BatchSpecKey(ns.id(), job_id));
      if (!stored.ok()) return stored.status();
      BatchSpec spec;
      if (!stored->has_value() || !spec.ParseFromString(**stored)) {
        return absl::DataLossError(
            absl::StrCat("batch job ", job_id, " has no readable spec"));
      }
      spdlog::info("batch job {} resumes at item {} of {}", job_id,
                   progress.next_item(), progress.total());
      const std::string key = JobKey(ns.id(), job_id);
      absl::MutexLock lock(&mu_);
      running_[key] =
          std::make_shared<Job>(std::move(spec), std::move(progress));
      order_.push_back(key);
    }
  }
  return absl::OkStatus();
}

void BatchRunner::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void BatchRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status BatchRunner::StartJob(BatchSpec spec) {
  absl::MutexLock lock(&mu_);
  const std::string key = JobKey(spec.namespace_id(), spec.job_id());
  int running = 0;
  for (const auto& [k, job] : running_) {
    if (job->spec.namespace_id() == spec.namespace_id()) ++running;
  }
  if (running >= options_.max_running_per_namespace) {
    return NamespaceConcurrencyLimitError(
        "Max concurrent batch operations is reached");
  }
  auto existing =
      store_->Get(Table::kBatches,
                  store::BatchProgressKey(spec.namespace_id(), spec.job_id()));
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("a batch operation with job ID ", spec.job_id(),
                     " already exists in this namespace"));
  }
  BatchProgress progress;
  progress.set_state(store::v1::BATCH_STATE_RUNNING);
  // An explicit list is the job's items as given; a query is resolved by
  // the job itself.
  store::BoundedWriter writer(*store_);
  const auto& req = spec.request();
  int64_t items = 0;
  auto add = [&](const std::string& activity_id, const std::string& run_id) {
    BatchItem item;
    item.set_activity_id(activity_id);
    item.set_run_id(run_id);
    return writer.Put(
        Table::kBatches,
        store::BatchItemKey(spec.namespace_id(), spec.job_id(), items++),
        item.SerializeAsString());
  };
  if (req.visibility_query().empty()) {
    for (const auto& e : req.target_executions()) {
      if (absl::Status s = add(e.business_id(), e.run_id()); !s.ok()) return s;
    }
    for (const auto& e : req.executions()) {
      if (absl::Status s = add(e.workflow_id(), e.run_id()); !s.ok()) return s;
    }
    progress.set_selected(true);
    progress.set_total(items);
  }
  // The spec and progress go last: a job whose write is cut short leaves
  // only items, which no job reads (and a retry of the start rewrites).
  if (absl::Status s =
          writer.Put(Table::kBatches,
                     store::BatchSpecKey(spec.namespace_id(), spec.job_id()),
                     spec.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Put(
          Table::kBatches,
          store::BatchProgressKey(spec.namespace_id(), spec.job_id()),
          progress.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  auto job = std::make_shared<Job>(std::move(spec), std::move(progress));
  running_[key] = job;
  order_.push_back(key);
  wake_ = true;
  return absl::OkStatus();
}

void BatchRunner::RetryLater(Job& job) {
  absl::MutexLock lock(&mu_);
  job.next_step = clock_->Now() + kRetryAfter;
}

absl::Status BatchRunner::StopJob(const std::string& namespace_id,
                                  const std::string& job_id,
                                  const std::string& reason,
                                  const std::string& identity) {
  std::shared_ptr<Job> job;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(JobKey(namespace_id, job_id));
    if (it != running_.end()) job = it->second;
  }
  if (!job) {
    auto stored = store_->Get(Table::kBatches,
                              store::BatchProgressKey(namespace_id, job_id));
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) {
      return NotFoundError("workflow execution already completed");
    }
    return NotFoundError(
        absl::StrCat("batch operation not found for job ID: ", job_id));
  }
  absl::MutexLock job_lock(&job->mu);  // waits out a step under way
  if (job->progress.state() != store::v1::BATCH_STATE_RUNNING) {
    return NotFoundError("workflow execution already completed");
  }
  job->progress.set_stop_reason(reason);
  job->progress.set_stop_identity(identity);
  Finish(*job, store::v1::BATCH_STATE_STOPPED);
  if (job->progress.state() == store::v1::BATCH_STATE_RUNNING) {
    return absl::UnavailableError(
        "the batch operation could not be stopped: the store refused the "
        "write; retry");
  }
  return absl::OkStatus();
}

absl::StatusOr<BatchView> BatchRunner::ViewOf(const std::string& namespace_id,
                                              const std::string& job_id,
                                              BatchProgress stored) const {
  auto spec =
      store_->Get(Table::kBatches, store::BatchSpecKey(namespace_id, job_id));
  if (!spec.ok()) return spec.status();
  BatchView view;
  if (!spec->has_value() || !view.spec.ParseFromString(**spec)) {
    return absl::DataLossError(
        absl::StrCat("batch job ", job_id, " has no readable spec"));
  }
  view.progress = std::move(stored);
  absl::MutexLock lock(&mu_);
  if (auto it = running_.find(JobKey(namespace_id, job_id));
      it != running_.end()) {
    view.progress = it->second->live;
  }
  return view;
}

absl::StatusOr<BatchView> BatchRunner::Describe(
    const std::string& namespace_id, const std::string& job_id) const {
  auto progress = store_->Get(Table::kBatches,
                              store::BatchProgressKey(namespace_id, job_id));
  if (!progress.ok()) return progress.status();
  BatchProgress stored;
  if (!progress->has_value()) {
    return NotFoundError(
        absl::StrCat("batch operation not found for job ID: ", job_id));
  }
  if (!stored.ParseFromString(**progress)) {
    return absl::DataLossError("corrupt batch progress record");
  }
  return ViewOf(namespace_id, job_id, std::move(stored));
}

absl::StatusOr<std::vector<BatchView>> BatchRunner::List(
    const std::string& namespace_id, int page_size,
    const std::string& page_token, std::string* next_page_token) const {
  int64_t offset = 0;
  if (!page_token.empty() && !absl::SimpleAtoi(page_token, &offset)) {
    return absl::InvalidArgumentError("invalid page token");
  }
  if (page_size <= 0 || page_size > visibility::kMaxPageSize) {
    page_size = visibility::kMaxPageSize;
  }
  std::vector<std::pair<std::string, BatchProgress>> jobs;
  if (absl::Status s = ScanJobs(namespace_id,
                                [&](std::string job_id, BatchProgress p) {
                                  jobs.emplace_back(std::move(job_id),
                                                    std::move(p));
                                });
      !s.ok()) {
    return s;
  }
  std::vector<BatchView> all;
  for (auto& [job_id, progress] : jobs) {
    auto view = ViewOf(namespace_id, job_id, std::move(progress));
    if (!view.ok()) return view.status();
    all.push_back(*std::move(view));
  }
  std::sort(all.begin(), all.end(), [](const BatchView& a, const BatchView& b) {
    const bool a_open = a.progress.state() == store::v1::BATCH_STATE_RUNNING;
    const bool b_open = b.progress.state() == store::v1::BATCH_STATE_RUNNING;
    if (a_open != b_open) return a_open;
    const absl::Time a_start = store::FromProtoTime(a.spec.start_time());
    const absl::Time b_start = store::FromProtoTime(b.spec.start_time());
    if (a_start != b_start) return a_start > b_start;
    return a.spec.job_id() < b.spec.job_id();
  });
  std::vector<BatchView> page;
  for (int64_t i = std::max<int64_t>(offset, 0);
       i < static_cast<int64_t>(all.size()) &&
       static_cast<int>(page.size()) < page_size;
       ++i) {
    page.push_back(std::move(all[i]));
  }
  const int64_t next = std::max<int64_t>(offset, 0) + page.size();
  *next_page_token =
      next < static_cast<int64_t>(all.size()) ? absl::StrCat(next) : "";
  return page;
}

std::shared_ptr<BatchRunner::Job> BatchRunner::NextJob() {
  // Jobs that ended (stopped, or finished) leave the rotation here.
  for (auto it = order_.begin(); it != order_.end();) {
    it = running_.contains(*it) ? it + 1 : order_.erase(it);
  }
  // The job due first; among those due, the one waiting longest in order_.
  std::shared_ptr<Job> best;
  size_t best_index = 0;
  for (size_t i = 0; i < order_.size(); ++i) {
    const std::shared_ptr<Job>& job = running_.at(order_[i]);
    if (!best || job->next_step < best->next_step) {
      best = job;
      best_index = i;
    }
  }
  if (best) {
    std::string key = std::move(order_[best_index]);
    order_.erase(order_.begin() + best_index);
    order_.push_back(std::move(key));
  }
  return best;
}

void BatchRunner::Loop() {
  absl::Time next_prune = clock_->Now();
  while (true) {
    std::shared_ptr<Job> job;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      wake_ = false;
      job = NextJob();
      const absl::Time now = clock_->Now();
      if (!job || job->next_step > now) {
        const absl::Time wake =
            std::min(job ? job->next_step : absl::InfiniteFuture(), next_prune);
        if (wake > now) {
          clock_->AwaitWithDeadline(mu_, absl::Condition(&wake_), wake);
          continue;
        }
        job = nullptr;
      }
    }
    if (job) {
      Step(*job);
    } else {
      next_prune = clock_->Now() + kPruneInterval;
      Prune();
    }
  }
}

void BatchRunner::Prune() {
  for (const auto& ns : namespaces_->List()) {
    const absl::Time expired =
        clock_->Now() - store::FromProtoDuration(ns.retention());
    std::vector<std::string> expired_jobs;
    absl::Status scan =
        ScanJobs(ns.id(), [&](std::string job_id, BatchProgress p) {
          if (p.state() != store::v1::BATCH_STATE_RUNNING &&
              store::FromProtoTime(p.close_time()) < expired) {
            expired_jobs.push_back(std::move(job_id));
          }
        });
    if (!scan.ok() || expired_jobs.empty()) continue;
    store::Batch batch = store_->NewBatch();
    for (const std::string& job_id : expired_jobs) {
      batch.Delete(Table::kBatches, store::BatchProgressKey(ns.id(), job_id));
      batch.Delete(Table::kBatches, store::BatchSpecKey(ns.id(), job_id));
    }
    if (absl::Status s = store_->Write(batch); !s.ok()) {
      spdlog::warn("batch jobs past retention not deleted: {}", s.ToString());
    }
  }
}

bool BatchRunner::StepOnce() {
  std::shared_ptr<Job> job;
  {
    absl::MutexLock lock(&mu_);
    job = NextJob();
  }
  if (!job) return false;
  Step(*job);
  return true;
}

bool BatchRunner::Step(Job& job) {
  absl::MutexLock job_lock(&job.mu);
  if (job.progress.state() != store::v1::BATCH_STATE_RUNNING) return false;
  const bool more = job.progress.selected() ? ApplyNext(job) : Select(job);
  {
    absl::MutexLock lock(&mu_);
    job.live = job.progress;
  }
  return more;
}

bool BatchRunner::Select(Job& job) {
  const BatchSpec& spec = job.spec;
  auto retry_later = [&](const absl::Status& s) {
    spdlog::warn("batch job {}: selecting runs failed, retrying: {}",
                 spec.job_id(), s.ToString());
    RetryLater(job);
    return true;
  };
  auto ns = namespaces_->GetById(spec.namespace_id());
  if (!ns.ok()) {
    // The namespace is gone, and its runs with it.
    Finish(job, store::v1::BATCH_STATE_COMPLETED);
    return false;
  }
  auto page = lister_->List(spec.namespace_id(), ns->search_attributes(),
                            spec.selection_query(), options_.select_page_size,
                            job.progress.select_page_token(),
                            {.deadline = clock_->Now() + absl::Seconds(10)});
  if (!page.ok()) return retry_later(page.status());
  store::Batch batch = store_->NewBatch();
  BatchProgress next = job.progress;
  for (const auto& row : page->executions) {
    BatchItem item;
    item.set_activity_id(row.activity_id());
    item.set_run_id(row.run_id());
    batch.Put(
        Table::kBatches,
        store::BatchItemKey(spec.namespace_id(), spec.job_id(), next.total()),
        item.SerializeAsString());
    next.set_total(next.total() + 1);
  }
  next.set_select_page_token(page->next_page_token);
  if (page->next_page_token.empty()) next.set_selected(true);
  batch.Put(Table::kBatches,
            store::BatchProgressKey(spec.namespace_id(), spec.job_id()),
            next.SerializeAsString());
  if (absl::Status s = store_->Write(batch); !s.ok()) return retry_later(s);
  job.progress = std::move(next);
  return true;
}

bool BatchRunner::ApplyNext(Job& job) {
  const BatchSpec& spec = job.spec;
  BatchProgress& p = job.progress;
  if (p.next_item() >= p.total()) {
    Finish(job, store::v1::BATCH_STATE_COMPLETED);
    return false;
  }
  auto stored = store_->Get(
      Table::kBatches,
      store::BatchItemKey(spec.namespace_id(), spec.job_id(), p.next_item()));
  BatchItem item;
  if (!stored.ok()) {
    RetryLater(job);
    return true;
  }
  bool done = false;
  if (stored->has_value() && item.ParseFromString(**stored)) {
    const absl::Status applied = ApplyItem(spec, item);
    const Outcome outcome = Classify(applied);
    if (outcome == Outcome::kRetry && ++job.item_attempts < options_.attempts) {
      // The same item again a second later (the store may be failing, or
      // the engine shutting down); nothing is counted yet.
      RetryLater(job);
      return true;
    }
    done = outcome == Outcome::kDone;
    if (!done) {
      spdlog::debug("batch job {}: {} failed: {}", spec.job_id(),
                    item.activity_id(), applied.ToString());
    }
  }
  job.item_attempts = 0;
  (done ? p.set_completed(p.completed() + 1) : p.set_failed(p.failed() + 1));
  p.set_next_item(p.next_item() + 1);
  const absl::Time now = clock_->Now();
  {
    // Paced from the later of the last step and now, so that an idle spell
    // does not turn into a burst.
    absl::MutexLock lock(&mu_);
    const absl::Duration gap =
        absl::Seconds(1) / RateOf(spec, options_.default_rate);
    job.next_step = std::max(job.next_step, now - gap) + gap;
  }
  const bool finished = p.selected() && p.next_item() >= p.total();
  if (finished) {
    Finish(job, store::v1::BATCH_STATE_COMPLETED);
    return false;
  }
  if (p.next_item() - job.checkpointed_item >= options_.checkpoint_items ||
      now - job.last_checkpoint >= kCheckpointInterval) {
    if (absl::Status s = Checkpoint(job, false); !s.ok()) {
      spdlog::warn("batch job {}: checkpoint failed: {}", spec.job_id(),
                   s.ToString());
    }
  }
  return true;
}

absl::Status BatchRunner::ApplyItem(const BatchSpec& spec,
                                    const BatchItem& item) {
  const ws::StartBatchOperationRequest& req = spec.request();
  const engine::RunRef ref{spec.namespace_id(), item.activity_id(),
                           item.run_id(), std::nullopt};
  const std::string request_id = RequestIdOf(spec);
  auto update = [&](engine::ActivityEvent event) {
    return Await<engine::RecordSnapshot>(
               [&](engine::Reply<engine::RecordSnapshot> reply) {
                 engine_->Update(ref, std::move(event), std::move(reply));
               })
        .status();
  };
  // The operation's own reason if it has one, else the request's.
  auto reason = [&](const std::string& own) {
    return own.empty() ? req.reason() : own;
  };
  switch (req.operation_case()) {
    case ws::StartBatchOperationRequest::kTerminateActivitiesOperation: {
      // Only the operation's reason, as Temporal does: the request's reason
      // describes the batch, not the terminations (the CLI sets both).
      const auto& op = req.terminate_activities_operation();
      return update(engine::Terminate{request_id, op.reason(), op.identity()});
    }
    case ws::StartBatchOperationRequest::kCancelActivitiesOperation: {
      const auto& op = req.cancel_activities_operation();
      return update(engine::RequestCancel{request_id, reason(op.reason()),
                                          op.identity()});
    }
    case ws::StartBatchOperationRequest::kDeleteActivitiesOperation:
      return Await<engine::RecordSnapshot>(
                 [&](engine::Reply<engine::RecordSnapshot> reply) {
                   engine_->Delete(ref, std::move(reply));
                 })
          .status();
    case ws::StartBatchOperationRequest::kUnpauseActivitiesOperation: {
      const auto& op = req.unpause_activities_operation();
      absl::Status s = update(
          engine::Unpause{request_id, op.identity(),
                          RandomJitter(store::FromProtoDuration(op.jitter()))});
      if (!s.ok() || !(op.reset_attempts() || op.reset_heartbeat())) return s;
      // Unpaused, then back to attempt 1 (and its heartbeat cleared).
      return update(engine::Reset{.request_id = request_id,
                                  .identity = op.identity(),
                                  .reset_heartbeat = op.reset_heartbeat()});
    }
    case ws::StartBatchOperationRequest::kResetActivitiesOperation: {
      const auto& op = req.reset_activities_operation();
      return update(engine::Reset{
          .request_id = request_id,
          .identity = op.identity(),
          .keep_paused = op.keep_paused(),
          .reset_heartbeat = op.reset_heartbeat(),
          .restore_original_options = op.restore_original_options(),
          .delay = RandomJitter(store::FromProtoDuration(op.jitter()))});
    }
    case ws::StartBatchOperationRequest::kUpdateActivityOptionsOperation: {
      const auto& op = req.update_activity_options_operation();
      auto parsed = engine::ParseOptionsUpdate(
          op.has_activity_options() ? &op.activity_options() : nullptr,
          op.has_update_mask() ? &op.update_mask() : nullptr,
          op.restore_original());
      if (!parsed.ok()) return parsed.status();
      return update(engine::UpdateOptions{
          request_id, op.identity(), std::move(parsed->options),
          std::move(parsed->paths), parsed->restore_original});
    }
    default:
      return absl::InvalidArgumentError("unsupported batch operation");
  }
}

absl::Status BatchRunner::Checkpoint(Job& job, bool force) {
  const BatchSpec& spec = job.spec;
  store::BoundedWriter writer(*store_);
  const int64_t upto =
      force ? std::max(job.progress.next_item(), job.progress.total())
            : job.progress.next_item();
  for (int64_t i = job.checkpointed_item; i < upto; ++i) {
    if (absl::Status s = writer.Delete(
            Table::kBatches,
            store::BatchItemKey(spec.namespace_id(), spec.job_id(), i));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = writer.Put(
          Table::kBatches,
          store::BatchProgressKey(spec.namespace_id(), spec.job_id()),
          job.progress.SerializeAsString());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Flush(); !s.ok()) return s;
  job.checkpointed_item = upto;
  job.last_checkpoint = clock_->Now();
  return absl::OkStatus();
}

void BatchRunner::Finish(Job& job, BatchState state) {
  BatchProgress before = job.progress;
  job.progress.set_state(state);
  *job.progress.mutable_close_time() = store::ToProtoTime(clock_->Now());
  if (absl::Status s = Checkpoint(job, /*force=*/true); !s.ok()) {
    // Still running in the store: stay running here too, and try again.
    spdlog::warn("batch job {}: could not record its end: {}",
                 job.spec.job_id(), s.ToString());
    job.progress = std::move(before);
    RetryLater(job);
    return;
  }
  spdlog::info(
      "batch job {} {}: {} done, {} failed of {}", job.spec.job_id(),
      state == store::v1::BATCH_STATE_STOPPED ? "stopped" : "completed",
      job.progress.completed(), job.progress.failed(), job.progress.total());
  absl::MutexLock lock(&mu_);
  job.live = job.progress;
  running_.erase(JobKey(job.spec.namespace_id(), job.spec.job_id()));
}

}  // namespace errand::batch
