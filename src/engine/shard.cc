#include "errand/engine/shard.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace errand::engine {

Watcher::Callback Watcher::Claim() {
  if (settled_.exchange(true, std::memory_order_acq_rel)) return nullptr;
  return std::move(done_);
}

bool Watcher::Settle(Result result) {
  Callback done = Claim();
  if (!done) return false;
  done(std::move(result));
  return true;
}

std::string RunKeyOf(absl::string_view namespace_id,
                     absl::string_view activity_id, absl::string_view run_id) {
  const absl::string_view nul("\0", 1);
  return absl::StrCat(namespace_id, nul, activity_id, nul, run_id);
}

std::string ActivityKeyOf(absl::string_view namespace_id,
                          absl::string_view activity_id) {
  return absl::StrCat(namespace_id, absl::string_view("\0", 1), activity_id);
}

absl::StatusOr<Turn::CurrentRun*> Turn::LoadCurrentRun(
    absl::string_view namespace_id, absl::string_view activity_id) {
  const std::string key = ActivityKeyOf(namespace_id, activity_id);
  auto it = current_runs_.find(key);
  if (it == current_runs_.end()) {
    auto stored = shard_->executions_.CurrentRun(namespace_id, activity_id);
    if (!stored.ok()) return stored.status();
    it = current_runs_
             .emplace(key, CurrentRun{std::string(namespace_id),
                                      std::string(activity_id),
                                      stored->value_or(""), false})
             .first;
  }
  return &it->second;
}

absl::StatusOr<ActivityRecord*> Turn::Load(absl::string_view namespace_id,
                                           absl::string_view activity_id,
                                           absl::string_view run_id) {
  std::string run(run_id);
  if (run.empty()) {
    auto current = LoadCurrentRun(namespace_id, activity_id);
    if (!current.ok()) return current.status();
    if ((*current)->run_id.empty()) return ActivityNotFound(activity_id);
    run = (*current)->run_id;
  }
  const std::string key = RunKeyOf(namespace_id, activity_id, run);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    Entry entry;
    if (auto cached = shard_->cache_.Take(key)) {
      entry.record = Unshare(std::move(cached->record));
      entry.bytes = cached->bytes;
    } else {
      auto stored = shard_->executions_.Get(namespace_id, activity_id, run);
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) return ActivityNotFound(activity_id);
      if (!entry.record.ParseFromString(**stored)) {
        return absl::DataLossError(
            absl::StrCat("activity record for ", activity_id, " is corrupt"));
      }
      entry.bytes = (*stored)->size();
    }
    entry.stored_row = visibility::RowStateOf(entry.record);
    entry.loaded_version = entry.record.version();
    it = entries_.emplace(key, std::move(entry)).first;
  } else if (!it->second.replies.empty()) {
    // This command may change the run: earlier replies keep what they saw.
    BindReplies(it->second);
  }
  if (it->second.deleted) return ActivityNotFound(activity_id);
  return &it->second.record;
}

Turn::Entry* Turn::Find(const ActivityRecord& record) {
  return &entries_.at(
      RunKeyOf(record.namespace_id(), record.activity_id(), record.run_id()));
}

void Turn::BindReplies(Entry& entry) {
  auto snapshot = std::make_shared<const ActivityRecord>(entry.record);
  for (auto& reply : entry.replies) {
    AfterCommit(
        [reply = std::move(reply), snapshot](const absl::Status& written) {
          if (!written.ok()) return reply(written);
          reply(snapshot);
        });
  }
  entry.replies.clear();
}

void Turn::ReplyWhenDurable(const ActivityRecord* record,
                            Reply<RecordSnapshot> reply) {
  Find(*record)->replies.push_back(std::move(reply));
}

ActivityRecord* Turn::Create(ActivityRecord record, const Effects& effects) {
  const std::string key =
      RunKeyOf(record.namespace_id(), record.activity_id(), record.run_id());
  CurrentRun& current =
      current_runs_[ActivityKeyOf(record.namespace_id(), record.activity_id())];
  current = CurrentRun{record.namespace_id(), record.activity_id(),
                       record.run_id(), true};
  Entry& entry = entries_[key];
  entry.record = std::move(record);
  entry.changed = true;
  entry.is_new = true;
  if (shard_->metrics_ != nullptr) {
    entry.measures.push_back(MeasureNewRun(entry.record));
  }
  entry.dispatch = effects.dispatch;
  entry.timers = effects.timers;
  return &entry.record;
}

void Turn::Changed(ActivityRecord* record, const Effects& effects) {
  Entry& entry = *Find(*record);
  if (!effects.unchanged) entry.changed = true;
  if (effects.dispatch) entry.dispatch = true;
  entry.timers.insert(entry.timers.end(), effects.timers.begin(),
                      effects.timers.end());
}

absl::StatusOr<Effects> Turn::Apply(ActivityRecord* record,
                                    const ActivityEvent& event) {
  const RunBefore before =
      shard_->metrics_ != nullptr ? BeforeOf(*record) : RunBefore();
  auto effects = engine::Apply(*record, event, now_);
  if (!effects.ok()) return effects;
  Changed(record, *effects);
  if (shard_->metrics_ != nullptr && !effects->unchanged) {
    Find(*record)->measures.push_back(Measure(before, *record, event, now_));
  }
  return effects;
}

void Turn::Delete(ActivityRecord* record) {
  Entry& entry = *Find(*record);
  entry.deleted = true;
  entry.dispatch = false;
  entry.timers.clear();
  // Only the current run's pointer goes; an older run leaves it alone. (If
  // it cannot be read, the pointer is left: a pointer to a deleted run reads
  // as no run.)
  auto current = LoadCurrentRun(record->namespace_id(), record->activity_id());
  if (current.ok() && (*current)->run_id == record->run_id()) {
    (*current)->run_id.clear();
    (*current)->changed = true;
  }
}

void Turn::Watch(const ActivityRecord& record,
                 std::shared_ptr<Watcher> watcher) {
  if (shard_->watchers_released_.load()) {
    watcher->Settle(RecordSnapshot());
    return;
  }
  auto& list = shard_->watchers_[RunKeyOf(
      record.namespace_id(), record.activity_id(), record.run_id())];
  std::erase_if(list, [](const auto& w) { return w->settled(); });
  list.push_back(std::move(watcher));
}

void Turn::ReturnTaskUnlessWritten(absl::string_view namespace_id,
                                   absl::string_view activity_id,
                                   absl::string_view run_id, int64_t stamp,
                                   bool even_if_written) {
  taken_tasks_.push_back({std::string(namespace_id), std::string(activity_id),
                          std::string(run_id), stamp, even_if_written});
}

Shard::Shard(int index, store::Store* store, matching::Matcher* matcher,
             TimerThread* timers, const Clock* clock, ActivityMetrics* metrics)
    : index_(index),
      store_(store),
      executions_(store),
      matcher_(matcher),
      timers_(timers),
      clock_(clock),
      metrics_(metrics),
      cache_(kCachedRecords, kCachedBytes),
      sender_(1, kMaxQueuedSends),
      thread_([this] { Run(); }) {}

Shard::~Shard() { Stop(); }

namespace {
// The shard whose turn is open for commands on this thread: from its first
// command until its batch is written.
thread_local Shard* open_turn_shard = nullptr;
}  // namespace

void Shard::Submit(Command command) {
  if (open_turn_shard == this) {
    // Submitted from within the open turn (a poll that a task handed out
    // by this turn has reached): it joins the turn, and its change the
    // turn's write.
    joining_.push_back(std::move(command));
    return;
  }
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(command));
}

void Shard::Recover(ActivityRecord record) {
  Submit([this, record = std::move(record)](Turn& turn) {
    for (const Timer& timer : TimersFor(record)) {
      Arm(record, timer, turn.now());
    }
  });
}

void Shard::ReleaseWatchers() {
  watchers_released_.store(true);
  Submit([this](Turn&) {
    for (auto& [key, list] : watchers_) {
      for (auto& w : list) {
        if (w->Settle(RecordSnapshot())) timers_->Cancel(w->timer());
      }
    }
    watchers_.clear();
  });
}

void Shard::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  thread_.join();
  // Every answer of a finished turn goes out before Stop returns.
  sender_.Stop();
  // Whoever still waits gets an empty answer rather than none at all.
  for (auto& [key, list] : watchers_) {
    for (auto& w : list) w->Settle(RecordSnapshot());
  }
  watchers_.clear();
}

void Shard::Run() {
  while (true) {
    std::deque<Command> commands;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time wake = timers_by_deadline_.empty()
                                  ? absl::InfiniteFuture()
                                  : timers_by_deadline_.begin()->first;
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      clock_->AwaitWithDeadline(mu_, absl::Condition(&ready), wake);
      commands.swap(queue_);
      stopping = stopping_;
    }
    std::vector<PendingTimer> due;
    const absl::Time now = clock_->Now();
    while (!timers_by_deadline_.empty() &&
           timers_by_deadline_.begin()->first <= now) {
      auto first = timers_by_deadline_.begin();
      if (auto run = timers_of_run_.find(KeyOf(first->second));
          run != timers_of_run_.end()) {
        std::erase(run->second, first);
        if (run->second.empty()) timers_of_run_.erase(run);
      }
      due.push_back(std::move(first->second));
      timers_by_deadline_.erase(first);
    }
    if (!commands.empty() || !due.empty()) {
      RunTurn(std::move(commands), std::move(due));
    }
    if (stopping) {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) return;
    }
  }
}

void Shard::RunTurn(std::deque<Command> commands,
                    std::vector<PendingTimer> due_timers) {
  // A due reopen first, so that the turn reads what it will write over.
  store_->ReopenIfDue();
  Reconcile(clock_->Now());
  Turn turn(this, clock_->Now(), store_->generation());
  // Due timers whose run could not be read (the store failing, not the run
  // gone) are tried again later, as those of a failed turn are: a task put
  // back after a failed start must not be lost to a second failure.
  std::vector<bool> unread(due_timers.size(), false);
  for (size_t i = 0; i < due_timers.size(); ++i) {
    const PendingTimer& timer = due_timers[i];
    auto record =
        turn.Load(timer.namespace_id, timer.activity_id, timer.run_id);
    if (!record.ok()) {
      // Deleted since (or corrupt, which no retry mends): nothing to do.
      unread[i] = !absl::IsNotFound(record.status()) &&
                  !absl::IsDataLoss(record.status());
      continue;
    }
    // An error is a stale timer: nothing to do.
    (void)turn.Apply(*record, TimerFired{timer.kind, timer.stamp});
  }
  open_turn_shard = this;
  for (Command& command : commands) command(turn);
  // Sync match: a task due now that a waiting poll can take at once goes
  // to that poll before the turn's write, and the poll's start (submitted
  // from here) joins the turn: one write and one turn for start and
  // dispatch instead of two. Safe before the write, because the task can
  // only be started by a command of this shard, and it is one of this turn.
  // If the write fails, the start fails with it. Any other task is queued
  // in matching only once the write has landed (in Commit).
  while (true) {
    for (auto& [key, entry] : turn.entries_) {
      if (entry.deleted || entry.offered) continue;
      // A dispatch due now (a start without delay, a retry whose backoff
      // has passed) is a kDispatch timer at or before now.
      bool due = entry.dispatch;
      std::erase_if(entry.timers, [&](const Timer& timer) {
        if (timer.kind != TimerKind::kDispatch || timer.deadline > turn.now()) {
          return false;
        }
        due = true;
        return true;
      });
      if (!due) continue;
      entry.offered = true;
      entry.dispatch =
          !matcher_->OfferTask(QueueOf(entry.record), TaskOf(entry.record));
    }
    if (joining_.empty()) break;
    std::vector<Command> joined;
    joined.swap(joining_);
    for (Command& command : joined) command(turn);
  }
  open_turn_shard = nullptr;
  const bool written = Commit(turn).ok();
  // Nothing of a failed turn happened. Its due timers and the tasks it took
  // from matching are tried again later against the stored state; the
  // stamps fence whatever has moved on meanwhile.
  const absl::Time retry_at = clock_->Now() + kRetryAfterFailedWrite;
  for (size_t i = 0; i < due_timers.size(); ++i) {
    if (written && !unread[i]) continue;
    PendingTimer& timer = due_timers[i];
    std::string key = KeyOf(timer);
    AddTimer(std::move(key), retry_at, std::move(timer));
  }
  for (Turn::TakenTask& task : turn.taken_tasks_) {
    if (written && !task.even_if_written) continue;
    PendingTimer dispatch{std::move(task.namespace_id),
                          std::move(task.activity_id), std::move(task.run_id),
                          TimerKind::kDispatch, task.stamp};
    std::string key = KeyOf(dispatch);
    AddTimer(std::move(key), retry_at, std::move(dispatch));
  }
}

absl::Status Shard::Commit(Turn& turn) {
  store::Batch batch = store_->NewBatch();
  for (auto& [key, entry] : turn.entries_) {
    if (entry.deleted) {
      executions_.Delete(batch, entry.record);
    } else if (entry.changed) {
      const std::string value = entry.record.SerializeAsString();
      entry.bytes = value.size();
      executions_.Put(batch, entry.record, value);
    }
    // The visibility row goes in the same batch (read-your-writes).
    if (entry.changed || entry.deleted) {
      visibility::WriteRow(batch, entry.record, entry.stored_row,
                           entry.deleted);
    }
  }
  for (const auto& [key, current] : turn.current_runs_) {
    if (!current.changed) continue;
    executions_.SetCurrentRun(batch, current.namespace_id, current.activity_id,
                              current.run_id);
  }
  absl::Status written = absl::OkStatus();
  if (!batch.empty()) {
    // A turn whose reads may predate a reopen (NewBatch starts a due one)
    // must not write what it decided from them: the reopen may have brought
    // back a change it did not see. The caller retries against fresh state.
    if (store_->generation() != turn.generation_) {
      written = absl::UnavailableError(
          "the store reopened while this change was prepared; try again");
    } else {
      written = store_->Write(batch);
      if (!written.ok()) Unsettle(turn);
    }
  }
  if (!written.ok()) {
    // One line per failed turn would flood the log while a disk is full
    // (the store logs when writes stop and resume): at most one per
    // kWriteErrorLogInterval, with a count of the others.
    ++failed_turns_unlogged_;
    if (turn.now() - last_write_error_log_ >= kWriteErrorLogInterval) {
      spdlog::error(
          "shard {}: {} turns failed to write, their replies get "
          "the error: {}",
          index_, failed_turns_unlogged_, written.ToString());
      last_write_error_log_ = turn.now();
      failed_turns_unlogged_ = 0;
    }
  }
  // What the turn owes callers once its write is settled. They run on the
  // shard's sender thread, not here: serializing and sending answers is a
  // fifth of a turn's CPU, and the next turn's write need not wait for it.
  std::vector<std::function<void()>> sends;
  if (written.ok()) {
    // Tasks reach matching before the replies go out (the turn's new ones
    // before its write, see RunTurn; those of due timers here), so a client
    // that has its answer can count on the task being queued.
    for (auto& [key, entry] : turn.entries_) {
      // One snapshot per run serves matching, timers, watchers, replies and
      // the cache; the turn's copy is moved into it, not copied.
      auto snapshot =
          std::make_shared<const ActivityRecord>(std::move(entry.record));
      if (entry.deleted || IsTerminal(snapshot->status())) DropTimers(key);
      if (entry.dispatch) Dispatch(*snapshot);
      for (const Timer& timer : entry.timers) {
        Arm(*snapshot, timer, turn.now());
      }
      if (entry.changed || entry.deleted) NotifyWatchers(snapshot, sends);
      // Closed runs are rarely touched again (their result poll is usually
      // waiting already); the cache keeps the ones still in flight.
      if (!entry.deleted && !IsTerminal(snapshot->status())) {
        cache_.Put(key, snapshot, entry.bytes);
      }
      for (auto& reply : entry.replies) {
        sends.push_back(
            [reply = std::move(reply), snapshot] { reply(snapshot); });
      }
      for (const ActivityMeasures& m : entry.measures) {
        metrics_->Record(*snapshot, m);
      }
    }
  } else {
    for (auto& [key, entry] : turn.entries_) {
      for (auto& reply : entry.replies) {
        sends.push_back(
            [reply = std::move(reply), written] { reply(written); });
      }
    }
  }
  for (auto& fn : turn.after_commit_) {
    sends.push_back([fn = std::move(fn), written] { fn(written); });
  }
  Send(std::move(sends));
  return written;
}

void Shard::Unsettle(const Turn& turn) {
  for (const auto& [key, entry] : turn.entries_) {
    if (!entry.changed && !entry.deleted) continue;
    // An earlier failure's entry keeps its (older) version and generation.
    unsettled_.try_emplace(
        key, UnsettledRun{entry.record.namespace_id(),
                          entry.record.activity_id(), entry.record.run_id(),
                          turn.generation_, entry.loaded_version});
  }
}

void Shard::Reconcile(absl::Time now) {
  if (unsettled_.empty()) return;
  const uint64_t generation = store_->generation();
  for (auto it = unsettled_.begin(); it != unsettled_.end();) {
    const std::string& key = it->first;
    if (it->second.generation >= generation) {
      ++it;  // not reopened since: the store has not replayed it yet
      continue;
    }
    const UnsettledRun& run = it->second;
    auto stored =
        executions_.Get(run.namespace_id, run.activity_id, run.run_id);
    if (!stored.ok()) {
      ++it;  // reads fail: try again next turn
      continue;
    }
    auto record = std::make_shared<ActivityRecord>();
    if (stored->has_value() && !record->ParseFromString(**stored)) {
      it = unsettled_.erase(it);  // corrupt: nothing a retry mends
      continue;
    }
    const int64_t version = stored->has_value() ? record->version() : -1;
    if (version != it->second.loaded_version) {
      cache_.Take(key);
      DropTimers(key);
      if (stored->has_value()) {
        for (const Timer& timer : TimersFor(*record)) Arm(*record, timer, now);
        std::vector<std::function<void()>> sends;
        NotifyWatchers(std::move(record), sends);
        Send(std::move(sends));
      }
    }
    it = unsettled_.erase(it);
  }
}

void Shard::Arm(const ActivityRecord& record, const Timer& timer,
                absl::Time now) {
  if (timer.kind == TimerKind::kDispatch && timer.deadline <= now) {
    Dispatch(record);
    return;
  }
  const std::string key =
      RunKeyOf(record.namespace_id(), record.activity_id(), record.run_id());
  if (auto run = timers_of_run_.find(key); run != timers_of_run_.end()) {
    // Timers of earlier attempts would only be ignored when they fire, and
    // so would a schedule-to-close timer an options update has moved.
    std::erase_if(run->second, [&](TimerMap::iterator it) {
      const bool replaced =
          it->second.stamp == 0
              ? timer.kind == TimerKind::kScheduleToClose &&
                    it->second.kind == TimerKind::kScheduleToClose
              : it->second.stamp != record.stamp();
      if (!replaced) return false;
      timers_by_deadline_.erase(it);
      return true;
    });
  }
  AddTimer(std::move(key), timer.deadline,
           PendingTimer{record.namespace_id(), record.activity_id(),
                        record.run_id(), timer.kind, timer.stamp});
}

void Shard::AddTimer(std::string key, absl::Time deadline, PendingTimer timer) {
  auto it = timers_by_deadline_.emplace(deadline, std::move(timer));
  timers_of_run_[std::move(key)].push_back(it);
}

void Shard::DropTimers(const std::string& key) {
  auto run = timers_of_run_.find(key);
  if (run == timers_of_run_.end()) return;
  for (TimerMap::iterator it : run->second) timers_by_deadline_.erase(it);
  timers_of_run_.erase(run);
}

matching::QueueKey Shard::QueueOf(const ActivityRecord& record) {
  return {record.namespace_id(), record.options().task_queue().name()};
}

matching::TaskRef Shard::TaskOf(const ActivityRecord& record) {
  const auto& priority = record.options().priority();
  return {.activity_id = record.activity_id(),
          .run_id = record.run_id(),
          .stamp = record.stamp(),
          .ready_at = record.has_dispatch_time()
                          ? store::FromProtoTime(record.dispatch_time())
                          : absl::InfinitePast(),
          .priority_key = priority.priority_key(),
          .fairness_key = priority.fairness_key(),
          .fairness_weight = priority.fairness_weight()};
}

void Shard::Dispatch(const ActivityRecord& record) {
  matcher_->AddTask(QueueOf(record), TaskOf(record));
}

void Shard::Send(std::vector<std::function<void()>> sends) {
  if (sends.empty()) return;
  // Shared, so that handing the job to the executor (a std::function, taken
  // by copy) does not copy every answer with it.
  auto job = [sends =
                  std::make_shared<const std::vector<std::function<void()>>>(
                      std::move(sends))] {
    for (const auto& send : *sends) send();
  };
  // Refused only once the sender stops (or is absurdly far behind): then
  // the answers go out here, late rather than never.
  if (!sender_.Submit(job)) job();
}

void Shard::NotifyWatchers(const RecordSnapshot& record,
                           std::vector<std::function<void()>>& sends) {
  auto it = watchers_.find(RunKeyOf(record->namespace_id(),
                                    record->activity_id(), record->run_id()));
  if (it == watchers_.end()) return;
  std::vector<std::shared_ptr<Watcher>> keep;
  for (auto& w : it->second) {
    if (w->settled()) continue;
    if (w->Wants(*record)) {
      // Claimed here, so that no later turn or timer answers it too; the
      // answer itself goes out with the turn's other sends.
      if (auto done = w->Claim()) {
        timers_->Cancel(w->timer());
        sends.push_back([done = std::move(done), record] { done(record); });
      }
    } else {
      keep.push_back(std::move(w));
    }
  }
  if (keep.empty()) {
    watchers_.erase(it);
  } else {
    it->second = std::move(keep);
  }
}

}  // namespace errand::engine
