// The shared test fixture for everything over the engine (engine, retention,
// visibility tests), in the manner of RocksDB's DBTestBase: the engine, its
// matcher and timer thread over a real store in a fresh directory; Open and
// Close (a restart keeps the directory); synchronous forms of the engine's
// calls on one namespace. Fixtures derive from it and adjust the store's
// options or the clock, or add components in AfterOpen/BeforeClose.
// (support/server_harness.h runs the whole server in process instead.)
#ifndef ERRAND_TESTS_SUPPORT_ENGINE_HARNESS_H_
#define ERRAND_TESTS_SUPPORT_ENGINE_HARNESS_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "errand/common/uuid.h"
#include "errand/engine/activity_engine.h"
#include "errand/visibility/writer.h"
#include "support/eventually.h"

namespace errand::engine {

// Turns a callback reply into a value to wait for.
template <typename T>
struct Waiter {
  std::promise<absl::StatusOr<T>> promise;
  Reply<T> reply() {
    return [this](absl::StatusOr<T> v) { promise.set_value(std::move(v)); };
  }
  absl::StatusOr<T> get() { return promise.get_future().get(); }
};

class EngineHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("errand-engine-" + NewUuid());
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  virtual store::StoreOptions StoreOptionsForTest() {
    return {dir_.string(), true};
  }
  virtual const Clock* EngineClock() { return SystemClock::Get(); }
  virtual void AfterOpen() {}
  virtual void BeforeClose() {}

  void Open() {
    auto store = store::Store::Open(StoreOptionsForTest());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // As the server does at start, before anything writes.
    ASSERT_TRUE(visibility::EnsureIndex(*store_).ok());
    ASSERT_TRUE(visibility::EnsureCounts(*store_).ok());
    timers_ = std::make_unique<TimerThread>(EngineClock());
    matcher_ = std::make_unique<matching::Matcher>(timers_.get());
    engine_ = std::make_unique<ActivityEngine>(2, store_.get(), matcher_.get(),
                                               timers_.get(), EngineClock());
    ASSERT_TRUE(engine_->Recover().ok());
    AfterOpen();
  }
  void Close() {
    BeforeClose();
    engine_.reset();
    matcher_.reset();
    timers_.reset();
    store_.reset();
  }
  void Reopen() {
    Close();
    Open();
  }

  // A start of activity `id` on task queue "tq" in namespace ns_.
  StartRequest Request(const std::string& id,
                       const std::string& request_id = NewUuid()) {
    StartRequest r;
    r.record.set_namespace_id(ns_);
    r.record.set_activity_id(id);
    r.record.add_request_ids(request_id);
    r.record.mutable_activity_type()->set_name("t");
    r.record.mutable_options()->mutable_task_queue()->set_name("tq");
    r.reuse_policy =
        temporal::api::enums::v1::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE;
    r.conflict_policy =
        temporal::api::enums::v1::ACTIVITY_ID_CONFLICT_POLICY_FAIL;
    return r;
  }
  absl::StatusOr<StartResult> Start(StartRequest r) {
    Waiter<StartResult> w;
    engine_->Start(std::move(r), w.reply());
    return w.get();
  }
  // The record a reply carried, or its error.
  static absl::StatusOr<ActivityRecord> Copy(
      absl::StatusOr<RecordSnapshot> snapshot) {
    if (!snapshot.ok()) return snapshot.status();
    return **snapshot;
  }
  absl::StatusOr<ActivityRecord> Describe(const std::string& id,
                                          const std::string& run = "") {
    Waiter<RecordSnapshot> w;
    engine_->Describe({ns_, id, run, std::nullopt}, w.reply());
    return Copy(w.get());
  }
  absl::StatusOr<ActivityRecord> Update(const std::string& id,
                                        ActivityEvent e) {
    Waiter<RecordSnapshot> w;
    engine_->Update({ns_, id, "", std::nullopt}, std::move(e), w.reply());
    return Copy(w.get());
  }
  // The next task on "tq" within `wait` (on the engine's clock), if any. On
  // a FakeClock the poll only expires when the test moves time, so the wait
  // is also bounded in real time: a lost task fails the test rather than
  // hanging it.
  std::optional<matching::TaskRef> Poll(
      absl::Duration wait = absl::Seconds(5)) {
    auto got =
        std::make_shared<std::promise<std::optional<matching::TaskRef>>>();
    matcher_->AddPoll(
        {ns_, "tq"}, EngineClock()->Now() + wait,
        [got](std::optional<matching::TaskRef> t) { got->set_value(t); });
    auto answer = got->get_future();
    if (answer.wait_for(std::chrono::seconds(30)) !=
        std::future_status::ready) {
      ADD_FAILURE() << "no answer to a poll within 30 s";
      return std::nullopt;
    }
    return answer.get();
  }
  absl::StatusOr<ActivityRecord> StartTask(const matching::TaskRef& task) {
    Waiter<RecordSnapshot> w;
    engine_->StartTask(ns_, task, StartAttempt{0, "worker", "", ""}, w.reply());
    return Copy(w.get());
  }
  // Polls the queue and starts the task it gets.
  absl::StatusOr<ActivityRecord> PollAndStart() {
    auto task = Poll();
    if (!task) return absl::DeadlineExceededError("no task");
    return StartTask(*task);
  }

  std::string ns_ = "ns";
  std::unique_ptr<TimerThread> timers_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<matching::Matcher> matcher_;
  std::unique_ptr<ActivityEngine> engine_;
};

}  // namespace errand::engine

#endif  // ERRAND_TESTS_SUPPORT_ENGINE_HARNESS_H_
