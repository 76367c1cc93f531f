// A shard's turns against a real store: commands queued together share one
// turn, and each reply still describes the run as its own command left it.
#include "errand/engine/shard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "errand/common/uuid.h"

namespace errand::engine {
namespace {

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("errand-shard-" + NewUuid());
    store_ = std::move(*store::Store::Open({dir_.string(), true}));
    matcher_ = std::make_unique<matching::Matcher>(&timers_);
    shard_ = std::make_unique<Shard>(0, store_.get(), matcher_.get(), &timers_,
                                     SystemClock::Get());
  }
  void TearDown() override {
    shard_.reset();
    matcher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs `command` in a turn of its own and waits for the turn to end.
  void RunAlone(Shard::Command command) {
    std::promise<void> done;
    shard_->Submit([&](Turn& turn) {
      command(turn);
      turn.AfterCommit([&](const absl::Status&) { done.set_value(); });
    });
    done.get_future().wait();
  }

  // A command that applies `event` to run "a" and replies with its record
  // (or the error, so that a failing test does not hang).
  Shard::Command UpdateA(ActivityEvent event,
                         std::promise<absl::StatusOr<RecordSnapshot>>* out) {
    return [this, event = std::move(event), out](Turn& turn) mutable {
      auto record = turn.Load("ns", "a", run_id_);
      if (!record.ok()) return out->set_value(record.status());
      // A dispatch carries the stamp of the task it answers.
      if (auto* start = std::get_if<StartAttempt>(&event)) {
        start->stamp = (*record)->stamp();
      }
      auto effects = Apply(**record, event, turn.now());
      if (!effects.ok()) return out->set_value(effects.status());
      turn.Changed(*record, *effects);
      turn.ReplyWhenDurable(*record, [out](absl::StatusOr<RecordSnapshot> r) {
        out->set_value(std::move(r));
      });
    };
  }

  void StartRun() {
    RunAlone([this](Turn& turn) {
      ActivityRecord record;
      record.set_namespace_id("ns");
      record.set_activity_id("a");
      record.set_run_id(NewUuid());
      record.add_request_ids("r1");
      record.mutable_activity_type()->set_name("t");
      record.mutable_options()->mutable_task_queue()->set_name("tq");
      run_id_ = record.run_id();
      const Effects effects = ScheduleNew(record, turn.now());
      turn.Create(std::move(record), effects);
    });
  }

  TimerThread timers_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<matching::Matcher> matcher_;
  std::unique_ptr<Shard> shard_;
  std::string run_id_;
};

TEST_F(ShardTest, RepliesInOneTurnEachSeeTheirOwnCommand) {
  StartRun();
  // Hold the shard in a turn so that the next two commands queue together.
  std::promise<void> release;
  std::promise<void> holding;
  shard_->Submit([&](Turn&) {
    holding.set_value();
    release.get_future().wait();
  });
  holding.get_future().wait();
  std::promise<absl::StatusOr<RecordSnapshot>> started, heartbeat;
  shard_->Submit(UpdateA(StartAttempt{0, "worker", "", ""}, &started));
  temporal::api::common::v1::Payloads details;
  details.add_payloads()->set_data("\"step 1\"");
  shard_->Submit(UpdateA(RecordHeartbeat{details}, &heartbeat));
  release.set_value();

  auto first = started.get_future().get();
  auto second = heartbeat.get_future().get();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*first)->status(), store::v1::ACTIVITY_STATUS_STARTED);
  // The first reply was bound before the heartbeat changed the run.
  EXPECT_FALSE((*first)->has_heartbeat_details());
  EXPECT_EQ((*second)->heartbeat_details().payloads(0).data(), "\"step 1\"");
  EXPECT_NE(first->get(), second->get());
}

TEST_F(ShardTest, CachedRunMatchesTheStore) {
  StartRun();
  std::promise<absl::StatusOr<RecordSnapshot>> started;
  RunAlone(UpdateA(StartAttempt{0, "worker", "", ""}, &started));
  ASSERT_TRUE(started.get_future().get().ok());
  // The next turn is served from the cache; the store must say the same.
  std::promise<std::string> cached;
  RunAlone([&](Turn& turn) {
    auto record = turn.Load("ns", "a", run_id_);
    ASSERT_TRUE(record.ok());
    cached.set_value((*record)->SerializeAsString());
  });
  auto stored = store::Executions(store_.get()).Get("ns", "a", run_id_);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  ActivityRecord from_store;
  ASSERT_TRUE(from_store.ParseFromString(**stored));
  EXPECT_EQ(from_store.status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(cached.get_future().get(), from_store.SerializeAsString());
}

}  // namespace
}  // namespace errand::engine
