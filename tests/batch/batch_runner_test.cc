// The batch runner over a real engine and store: selection by query, the
// counts, an explicit list, stop, the limits on starting jobs, and a
// restart in the middle of a job (which must apply each item once). Steps
// are taken with StepOnce, on the test's thread, so nothing here waits on
// time.
#include "errand/batch/batch_runner.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "errand/store/keys.h"
#include "support/engine_harness.h"

namespace errand::batch {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using engine::ActivityRecord;

class BatchRunnerTest : public engine::EngineHarness {
 protected:
  void AfterOpen() override {
    auto namespaces =
        engine::NamespaceRegistry::Load(store_.get(), SystemClock::Get());
    ASSERT_TRUE(namespaces.ok()) << namespaces.status();
    namespaces_ = std::move(*namespaces);
    ASSERT_TRUE(namespaces_->EnsureRegistered({.name = "default"}).ok());
    ns_ = namespaces_->Get("default")->id();
    lister_ = std::make_unique<visibility::Lister>(store_.get(), &clock_);
    runner_ = std::make_unique<BatchRunner>(
        store_.get(), namespaces_.get(), engine_.get(), lister_.get(), &clock_,
        BatchOptions{.checkpoint_items = 5});
    ASSERT_TRUE(runner_->Recover().ok());
  }
  void BeforeClose() override {
    runner_.reset();
    lister_.reset();
    namespaces_.reset();
  }

  void StartActivities(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = Request(prefix + std::to_string(i));
      r.record.mutable_options()->mutable_start_to_close_timeout()->set_seconds(
          60);
      ASSERT_TRUE(Start(std::move(r)).ok());
    }
  }

  BatchSpec TerminateSpec(const std::string& job_id, const std::string& query) {
    BatchSpec spec;
    spec.set_namespace_id(ns_);
    spec.set_namespace_name("default");
    spec.set_job_id(job_id);
    ws::StartBatchOperationRequest& req = *spec.mutable_request();
    req.set_namespace_("default");
    req.set_job_id(job_id);
    // The runs' failure message is the operation's reason, not the batch's.
    req.set_reason("nightly sweep");
    req.set_visibility_query(query);
    req.mutable_terminate_activities_operation()->set_identity("operator");
    req.mutable_terminate_activities_operation()->set_reason("cleanup");
    if (!query.empty()) {
      spec.set_selection_query(
          "(" + query +
          ") AND (ExecutionStatus = 'Running' OR ExecutionStatus = 'Paused')");
    }
    return spec;
  }

  int RunToEnd() {
    int steps = 0;
    while (runner_->StepOnce()) ++steps;
    return steps;
  }

  BatchProgress Progress(const std::string& job_id) {
    auto view = runner_->Describe(ns_, job_id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->progress : BatchProgress();
  }

  size_t ItemsLeft(const std::string& job_id) {
    size_t n = 0;
    EXPECT_TRUE(store_
                    ->Scan(store::Table::kBatches,
                           store::BatchItemPrefix(ns_, job_id),
                           [&](absl::string_view, absl::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  }

  // The runner's clock does not move: checkpoints come by count alone (after
  // the first item, then every 5).
  FakeClock clock_;
  std::unique_ptr<engine::NamespaceRegistry> namespaces_;
  std::unique_ptr<visibility::Lister> lister_;
  std::unique_ptr<BatchRunner> runner_;
};

TEST_F(BatchRunnerTest, TerminateByQuerySkipsClosedRunsAndCountsEachOnce) {
  StartActivities("a", 10);
  // Two are closed already: the query is narrowed to open runs.
  ASSERT_TRUE(Update("a0", engine::Terminate{"other", "", ""}).ok());
  ASSERT_TRUE(Update("a1", engine::Terminate{"other", "", ""}).ok());
  ASSERT_TRUE(runner_->StartJob(TerminateSpec("job", "TaskQueue = 'tq'")).ok());
  RunToEnd();
  const BatchProgress p = Progress("job");
  EXPECT_EQ(p.state(), store::v1::BATCH_STATE_COMPLETED);
  EXPECT_EQ(p.total(), 8);
  EXPECT_EQ(p.completed(), 8);
  EXPECT_EQ(p.failed(), 0);
  EXPECT_TRUE(p.has_close_time());
  for (int i = 2; i < 10; ++i) {
    auto r = Describe("a" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status(), store::v1::ACTIVITY_STATUS_TERMINATED);
    EXPECT_EQ(r->terminate_request_id(), "batch:job");
    EXPECT_EQ(r->outcome().failure().message(), "cleanup");
  }
  EXPECT_EQ(Describe("a0")->terminate_request_id(), "other");
  EXPECT_EQ(ItemsLeft("job"), 0u);
}

TEST_F(BatchRunnerTest, RestartMidJobResumesAndAppliesEachItemOnce) {
  StartActivities("r", 23);
  ASSERT_TRUE(runner_->StartJob(TerminateSpec("job", "TaskQueue = 'tq'")).ok());
  // Selection (one page), then 12 items: checkpoints after items 1, 6, 11.
  for (int i = 0; i < 13; ++i) ASSERT_TRUE(runner_->StepOnce());
  EXPECT_EQ(Progress("job").next_item(), 12);
  // A restart loses what was not checkpointed: item 11 is applied again, as
  // a repeat.
  Reopen();
  const BatchProgress resumed = Progress("job");
  EXPECT_EQ(resumed.state(), store::v1::BATCH_STATE_RUNNING);
  EXPECT_EQ(resumed.next_item(), 11);
  EXPECT_EQ(resumed.completed(), 11);
  RunToEnd();
  const BatchProgress p = Progress("job");
  EXPECT_EQ(p.state(), store::v1::BATCH_STATE_COMPLETED);
  EXPECT_EQ(p.total(), 23);
  EXPECT_EQ(p.completed(), 23);
  EXPECT_EQ(p.failed(), 0);
  for (int i = 0; i < 23; ++i) {
    auto r = Describe("r" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status(), store::v1::ACTIVITY_STATUS_TERMINATED);
    // Scheduled, then terminated once: a repeat writes nothing.
    EXPECT_EQ(r->version(), 2) << r->activity_id();
  }
  EXPECT_EQ(ItemsLeft("job"), 0u);
}

TEST_F(BatchRunnerTest, ExplicitListCountsGoneRunsDoneAndClosedOnesFailed) {
  StartActivities("l", 2);
  ASSERT_TRUE(Update("l1", engine::Terminate{"other", "", ""}).ok());
  BatchSpec spec = TerminateSpec("job", "");
  for (const char* id : {"l0", "missing", "l1"}) {
    auto* e = spec.mutable_request()->add_target_executions();
    e->set_type(temporal::api::enums::v1::EXECUTION_TYPE_ACTIVITY);
    e->set_business_id(id);
  }
  ASSERT_TRUE(runner_->StartJob(std::move(spec)).ok());
  EXPECT_EQ(Progress("job").total(), 3);
  RunToEnd();
  const BatchProgress p = Progress("job");
  EXPECT_EQ(p.completed(), 2);  // l0, and "missing" (NotFound)
  EXPECT_EQ(p.failed(), 1);     // l1: terminated by another request
  EXPECT_EQ(Describe("l0")->status(), store::v1::ACTIVITY_STATUS_TERMINATED);
}

TEST_F(BatchRunnerTest, StopEndsAJobAndLeavesTheRestAlone) {
  StartActivities("s", 12);
  ASSERT_TRUE(runner_->StartJob(TerminateSpec("job", "TaskQueue = 'tq'")).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(runner_->StepOnce());
  ASSERT_TRUE(runner_->StopJob(ns_, "job", "enough", "admin").ok());
  EXPECT_FALSE(runner_->StepOnce());
  const BatchProgress p = Progress("job");
  EXPECT_EQ(p.state(), store::v1::BATCH_STATE_STOPPED);
  EXPECT_EQ(p.completed(), 3);
  EXPECT_EQ(p.stop_reason(), "enough");
  EXPECT_EQ(ItemsLeft("job"), 0u);
  int terminated = 0;
  for (int i = 0; i < 12; ++i) {
    terminated += Describe("s" + std::to_string(i))->status() ==
                  store::v1::ACTIVITY_STATUS_TERMINATED;
  }
  EXPECT_EQ(terminated, 3);
  absl::Status again = runner_->StopJob(ns_, "job", "enough", "admin");
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "workflow execution already completed");
  EXPECT_EQ(runner_->StopJob(ns_, "nope", "r", "").code(),
            absl::StatusCode::kNotFound);
  // Stopped stays stopped across a restart.
  Reopen();
  EXPECT_EQ(Progress("job").state(), store::v1::BATCH_STATE_STOPPED);
  EXPECT_FALSE(runner_->StepOnce());
}

TEST_F(BatchRunnerTest, OneRunningJobPerNamespaceAndJobIdsAreNotReused) {
  StartActivities("c", 1);
  ASSERT_TRUE(runner_->StartJob(TerminateSpec("one", "TaskQueue = 'tq'")).ok());
  absl::Status second =
      runner_->StartJob(TerminateSpec("two", "TaskQueue = 'tq'"));
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(second.message(), "Max concurrent batch operations is reached");
  RunToEnd();
  EXPECT_EQ(runner_->StartJob(TerminateSpec("one", "TaskQueue = 'tq'")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(runner_->StartJob(TerminateSpec("two", "TaskQueue = 'tq'")).ok());
  RunToEnd();
  std::string next;
  auto listed = runner_->List(ns_, 1, "", &next);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_FALSE(next.empty());
  auto rest = runner_->List(ns_, 1, next, &next);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_TRUE(next.empty());
  EXPECT_NE((*listed)[0].spec.job_id(), (*rest)[0].spec.job_id());
}

TEST_F(BatchRunnerTest, UnpauseAndResetOperationsApplyToPausedRuns) {
  StartActivities("p", 3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Update("p" + std::to_string(i), engine::Pause{"pause", "", ""}).ok());
  }
  BatchSpec spec = TerminateSpec("unpause", "TaskQueue = 'tq'");
  spec.mutable_request()->mutable_unpause_activities_operation()->set_identity(
      "operator");
  ASSERT_TRUE(runner_->StartJob(std::move(spec)).ok());
  RunToEnd();
  EXPECT_EQ(Progress("unpause").completed(), 3);
  for (int i = 0; i < 3; ++i) {
    auto r = Describe("p" + std::to_string(i));
    EXPECT_EQ(r->status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
    EXPECT_EQ(r->unpause_request_id(), "batch:unpause");
  }
}

}  // namespace
}  // namespace errand::batch
