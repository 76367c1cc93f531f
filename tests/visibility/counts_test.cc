// The status counts against the rows they count: after every kind of change
// a run goes through (start, completion, failure, cancellation,
// termination, pause, a task queue change, deletion, retention), over
// several task queues and activity types, the counts must give exactly
// what a scan of the rows gives, for every query shape they answer; and a
// data directory without them gets them rebuilt from the rows at start.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errand/common/uuid.h"
#include "errand/engine/namespace_registry.h"
#include "errand/engine/retention_sweeper.h"
#include "errand/store/keys.h"
#include "errand/visibility/lister.h"
#include "errand/visibility/writer.h"
#include "support/engine_harness.h"
#include "support/stored_keys.h"

namespace errand::visibility {
namespace {

namespace enums = temporal::api::enums::v1;

class CountsTest : public engine::EngineHarness {
 protected:
  void SetUp() override {
    EngineHarness::SetUp();
    engine::NamespaceSpec spec;
    spec.name = "short";
    spec.retention = absl::Hours(1);
    auto ns = namespaces_->Register(spec);
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = ns->id();
  }
  store::StoreOptions StoreOptionsForTest() override {
    return {dir_.string(), false};
  }
  const Clock* EngineClock() override { return &clock_; }
  void AfterOpen() override {
    namespaces_ =
        std::move(*engine::NamespaceRegistry::Load(store_.get(), &clock_));
    sweeper_ = std::make_unique<engine::RetentionSweeper>(
        store_.get(), namespaces_.get(), engine_.get(), &clock_,
        engine::RetentionOptions{.interval = absl::Hours(1),
                                 .jitter = absl::ZeroDuration(),
                                 .batch = 4});
    lister_ = std::make_unique<Lister>(store_.get());
  }
  void BeforeClose() override {
    lister_.reset();
    sweeper_.reset();
    namespaces_.reset();
  }

  // Starts `id` in `ns` with one attempt, so that a failure is final.
  void StartIn(const std::string& ns, const std::string& id,
               const std::string& task_queue = "tq",
               const std::string& type = "t") {
    engine::StartRequest r = Request(id);
    r.record.set_namespace_id(ns);
    r.record.mutable_activity_type()->set_name(type);
    r.record.mutable_options()->mutable_task_queue()->set_name(task_queue);
    auto* options = r.record.mutable_options();
    options->mutable_start_to_close_timeout()->set_seconds(60);
    options->mutable_retry_policy()->set_maximum_attempts(1);
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(Start(std::move(r)).ok()) << id;
  }
  void UpdateIn(const std::string& ns, const std::string& id,
                engine::ActivityEvent event) {
    clock_.Advance(absl::Milliseconds(1));
    engine::Waiter<engine::RecordSnapshot> w;
    engine_->Update({ns, id, "", std::nullopt}, std::move(event), w.reply());
    auto done = w.get();
    EXPECT_TRUE(done.ok()) << id << ": " << done.status();
  }
  void MoveTo(const std::string& id, const std::string& task_queue) {
    engine::UpdateOptions update;
    update.request_id = NewUuid();
    update.options.mutable_task_queue()->set_name(task_queue);
    update.paths = {engine::OptionPath::kTaskQueueName};
    UpdateIn(ns_, id, update);
  }
  void DeleteIn(const std::string& ns, const std::string& id) {
    engine::Waiter<engine::RecordSnapshot> w;
    engine_->Delete({ns, id, "", std::nullopt}, w.reply());
    auto done = w.get();
    EXPECT_TRUE(done.ok()) << id << ": " << done.status();
  }

  static std::vector<std::string> Shapes() {
    std::vector<std::string> shapes = {"", "GROUP BY ExecutionStatus"};
    for (const char* status :
         {"Running", "Paused", "Completed", "Failed", "Canceled", "Terminated",
          "TimedOut", "Unspecified", "running", "Nope", ""}) {
      const std::string eq = absl::StrCat("ExecutionStatus = '", status, "'");
      shapes.push_back(eq);
      shapes.push_back(eq + " GROUP BY ExecutionStatus");
    }
    // Per task queue and type, alone, with a status in either order, and
    // grouped.
    for (const char* attribute : {"TaskQueue", "ActivityType"}) {
      for (const char* value :
           {"tq", "tq-b", "tq-c", "elsewhere", "t", "u", "v", "none", ""}) {
        const std::string eq = absl::StrCat(attribute, " = '", value, "'");
        shapes.push_back(eq);
        shapes.push_back(eq + " GROUP BY ExecutionStatus");
        for (const char* status : {"Running", "Paused", "Completed", "Failed",
                                   "Canceled", "Terminated", "Nope"}) {
          const std::string st =
              absl::StrCat("ExecutionStatus = '", status, "'");
          shapes.push_back(absl::StrCat(eq, " AND ", st));
          shapes.push_back(
              absl::StrCat(st, " AND ", eq, " GROUP BY ExecutionStatus"));
        }
      }
    }
    return shapes;
  }

  // Every shape the counts answer, in every namespace, against a scan of
  // the rows. The counted call may examine at most one row, which a scan of
  // more than one row could not finish within: the answer came from the
  // counts.
  void ExpectCountsMatchTheRows(const std::string& when) {
    for (const std::string& ns :
         {ns_, std::string("other"), std::string("nobody")}) {
      for (const std::string& query : Shapes()) {
        auto scanned = lister_->CountByScan(ns, custom_, query);
        ASSERT_TRUE(scanned.ok())
            << when << ", " << query << ": " << scanned.status();
        auto counted = lister_->Count(ns, custom_, query, {.max_rows = 1});
        ASSERT_TRUE(counted.ok())
            << when << ", " << query << ": " << counted.status();
        EXPECT_EQ(counted->count, scanned->count)
            << when << ", " << ns << ", " << query;
        EXPECT_EQ(counted->groups, scanned->groups)
            << when << ", " << ns << ", " << query;
      }
    }
  }

  // The grouped answer of the scan, for the test's own expectations.
  std::vector<std::pair<std::string, int64_t>> Groups(const std::string& ns) {
    auto scanned =
        lister_->CountByScan(ns, custom_, "GROUP BY ExecutionStatus");
    EXPECT_TRUE(scanned.ok()) << scanned.status();
    return scanned.ok() ? scanned->groups
                        : std::vector<std::pair<std::string, int64_t>>{};
  }

  std::vector<std::string> Keys(store::Table table) {
    return test_support::StoredKeys(*store_, table);
  }

  FakeClock clock_;
  std::unique_ptr<engine::NamespaceRegistry> namespaces_;
  std::unique_ptr<engine::RetentionSweeper> sweeper_;
  std::unique_ptr<Lister> lister_;
  CustomAttributes custom_;
};

TEST_F(CountsTest, CountsEqualTheRowsThroughEveryChange) {
  const char* const kQueues[] = {"tq", "tq-b", "tq-c"};
  const char* const kTypes[] = {"t", "u", "v"};
  for (int i = 0; i < 40; ++i) {
    StartIn(ns_, absl::StrCat("a", i), kQueues[i % 3], kTypes[i / 3 % 3]);
  }
  for (int i = 0; i < 6; ++i) {
    StartIn("other", absl::StrCat("o", i), kQueues[i % 3], kTypes[i % 2]);
  }
  ExpectCountsMatchTheRows("after the starts");

  // Failures need a started attempt: whichever tasks the polls hand out.
  std::set<std::string> failed;
  for (int polls = 0; failed.size() < 5 && polls < 40; ++polls) {
    auto started = PollAndStart();
    if (started.ok()) failed.insert(started->activity_id());
  }
  ASSERT_EQ(failed.size(), 5u);
  ExpectCountsMatchTheRows("after tasks started (no public status change)");
  for (const std::string& id : failed) {
    UpdateIn(ns_, id, engine::FailAttempt{std::nullopt, std::nullopt, "test"});
  }
  // The other runs, still scheduled, in groups for each change.
  std::vector<std::string> open;
  for (int i = 0; i < 40; ++i) {
    if (!failed.contains(absl::StrCat("a", i))) {
      open.push_back(absl::StrCat("a", i));
    }
  }
  auto take = [&](size_t n) {
    std::vector<std::string> ids(open.begin(), open.begin() + n);
    open.erase(open.begin(), open.begin() + n);
    return ids;
  };
  const auto completed = take(5), terminated = take(5), paused = take(5),
             canceled = take(3);
  // Runs moved to another task queue while open, then closed, paused or
  // deleted from there (and one moved twice).
  for (const auto* ids : {&completed, &terminated, &paused}) {
    MoveTo((*ids)[1], "elsewhere");
  }
  MoveTo(open[0], "elsewhere");
  MoveTo(open[0], "tq-c");
  MoveTo(open[1], "elsewhere");
  ExpectCountsMatchTheRows("after task queue moves");
  for (const std::string& id : completed) {
    UpdateIn(ns_, id, engine::CompleteAttempt{{}, "test", /*by_id=*/true});
  }
  for (const std::string& id : terminated) {
    UpdateIn(ns_, id, engine::Terminate{NewUuid(), "stop", "test"});
  }
  for (const std::string& id : paused) {
    UpdateIn(ns_, id, engine::Pause{NewUuid(), "hold", ""});
  }
  UpdateIn(ns_, paused[0],
           engine::Unpause{NewUuid(), "", absl::ZeroDuration()});
  for (const std::string& id : canceled) {
    UpdateIn(ns_, id,
             engine::RequestCancel{NewUuid(), "no longer needed", "test"});
  }
  UpdateIn("other", "o0", engine::Terminate{NewUuid(), "stop", "test"});
  ExpectCountsMatchTheRows("after closes and pauses");

  DeleteIn(ns_, completed[0]);  // closed
  DeleteIn(ns_, completed[1]);  // closed, moved
  DeleteIn(ns_, open[0]);       // open, moved twice
  DeleteIn(ns_, paused[1]);     // paused
  DeleteIn("other", "o1");
  ExpectCountsMatchTheRows("after deletes");

  // The statuses these steps reach, so that the shapes above compared
  // more than zeros.
  std::vector<std::string> statuses;
  for (const auto& [status, n] : Groups(ns_)) statuses.push_back(status);
  for (const char* status :
       {"Completed", "Failed", "Paused", "Running", "Terminated"}) {
    EXPECT_NE(std::find(statuses.begin(), statuses.end(), status),
              statuses.end())
        << status;
  }

  // A run whose record is gone while its row stayed: the retention sweep
  // deletes the leftover row (DeleteRow), the others through their shards.
  std::string record_key;
  ASSERT_TRUE(store_
                  ->Scan(store::Table::kExecutions,
                         store::ExecutionKey(ns_, terminated[0], ""),
                         [&](absl::string_view key, absl::string_view) {
                           record_key = std::string(key);
                           return false;
                         })
                  .ok());
  ASSERT_FALSE(record_key.empty());
  store::Batch batch = store_->NewBatch();
  batch.Delete(store::Table::kExecutions, record_key);
  ASSERT_TRUE(store_->Write(batch).ok());
  clock_.Advance(absl::Hours(2));
  auto swept = sweeper_->SweepOnce();
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_GE(*swept, 4u + 5u + 4u);  // completed, failed, terminated
  ExpectCountsMatchTheRows("after the retention sweep");
  for (const auto& [status, n] : Groups(ns_)) {
    EXPECT_TRUE(status == "Running" || status == "Paused") << status;
  }

  // And across a restart (the counts are read back from disk).
  Reopen();
  ExpectCountsMatchTheRows("after a restart");
}

// An options update that moves a run to another task queue rewrites its row
// and moves it between the task queues' counts, but leaves its status, and
// so the namespace's and the type's counts, as they were.
TEST_F(CountsTest, TaskQueueChangeMovesTheCount) {
  StartIn(ns_, "moved");
  StartIn(ns_, "stays");
  MoveTo("moved", "elsewhere");
  auto moved = lister_->CountByScan(ns_, custom_, "TaskQueue = 'elsewhere'");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->count, 1);
  auto counted =
      lister_->Count(ns_, custom_, "TaskQueue = 'tq'", {.max_rows = 1});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->count, 1);
  ExpectCountsMatchTheRows("after the update");
  UpdateIn(ns_, "moved", engine::Terminate{NewUuid(), "stop", "test"});
  ExpectCountsMatchTheRows("after the moved run closed");
}

// A task queue or type name with a NUL byte has no count of its own (its
// key would not split): such runs count in the namespace's totals only, and
// a query naming such a value scans.
TEST_F(CountsTest, UnindexableValuesScan) {
  const std::string nul_queue("tq\0x", 4), nul_type("t\0y", 3);
  StartIn(ns_, "nul-queue", nul_queue, "t");
  StartIn(ns_, "nul-type", "tq", nul_type);
  StartIn(ns_, "plain");
  ExpectCountsMatchTheRows("with NUL values");
  for (const std::string& query :
       {absl::StrCat("TaskQueue = '", nul_queue, "'"),
        absl::StrCat("ActivityType = '", nul_type,
                     "' GROUP BY ExecutionStatus"),
        absl::StrCat("ExecutionStatus = 'Running' AND TaskQueue = '", nul_queue,
                     "'")}) {
    auto scanned = lister_->CountByScan(ns_, custom_, query);
    ASSERT_TRUE(scanned.ok()) << scanned.status();
    EXPECT_EQ(scanned->count, 1);
    auto counted = lister_->Count(ns_, custom_, query);
    ASSERT_TRUE(counted.ok()) << counted.status();
    EXPECT_EQ(counted->count, scanned->count);
    EXPECT_EQ(counted->groups, scanned->groups);
    EXPECT_EQ(
        lister_->Count(ns_, custom_, query, {.max_rows = 1}).status().code(),
        absl::StatusCode::kResourceExhausted);
  }
  UpdateIn(ns_, "nul-queue", engine::Terminate{NewUuid(), "stop", "test"});
  DeleteIn(ns_, "nul-type");
  MoveTo("plain", nul_queue);
  ExpectCountsMatchTheRows("after changes to NUL-valued runs");
  Reopen();
  ExpectCountsMatchTheRows("after a restart");
}

// A data directory written before the counts existed (or whose rebuild was
// cut short) has no counts version: Count scans until the next start
// rebuilds the counts from the rows, replacing whatever counts it holds.
TEST_F(CountsTest, CountsAreRebuiltFromTheRowsAtStart) {
  for (int i = 0; i < 12; ++i) StartIn(ns_, absl::StrCat("r", i));
  for (int i = 0; i < 4; ++i) {
    UpdateIn(ns_, absl::StrCat("r", i),
             engine::Terminate{NewUuid(), "stop", "test"});
  }
  StartIn("other", "o");
  const auto counts = Keys(store::Table::kVisibilityCounts);
  ASSERT_FALSE(counts.empty());

  store::Batch batch = store_->NewBatch();
  for (const std::string& key : counts) {
    batch.Delete(store::Table::kVisibilityCounts, key);
  }
  // A stale count a cut-short rebuild could leave.
  batch.Put(store::Table::kVisibilityCounts, store::CountKey(ns_, "Failed"),
            store::EncodeCount(99));
  batch.Delete(store::Table::kMeta, kCountsVersionKey);
  ASSERT_TRUE(store_->Write(batch).ok());

  // Without the version the counts are not read: the answer is the scan's,
  // within the scan's budget.
  auto unbuilt = lister_->Count(ns_, custom_, "GROUP BY ExecutionStatus");
  ASSERT_TRUE(unbuilt.ok()) << unbuilt.status();
  EXPECT_EQ(unbuilt->groups, (std::vector<std::pair<std::string, int64_t>>{
                                 {"Running", 8}, {"Terminated", 4}}));
  EXPECT_EQ(lister_->Count(ns_, custom_, "", {.max_rows = 1}).status().code(),
            absl::StatusCode::kResourceExhausted);

  Reopen();  // runs EnsureCounts, as the server does at start
  auto version = store_->Get(store::Table::kMeta, kCountsVersionKey);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, std::string(kCountsVersion));
  const auto rebuilt_keys = Keys(store::Table::kVisibilityCounts);
  EXPECT_EQ(std::set<std::string>(rebuilt_keys.begin(), rebuilt_keys.end()),
            (std::set<std::string>{
                store::CountKey("other", "Running"),
                store::CountKey("other", "TaskQueue", "tq", "Running"),
                store::CountKey("other", "ActivityType", "t", "Running"),
                store::CountKey(ns_, "Running"),
                store::CountKey(ns_, "TaskQueue", "tq", "Running"),
                store::CountKey(ns_, "ActivityType", "t", "Running"),
                store::CountKey(ns_, "Terminated"),
                store::CountKey(ns_, "TaskQueue", "tq", "Terminated"),
                store::CountKey(ns_, "ActivityType", "t", "Terminated")}));
  ExpectCountsMatchTheRows("after the rebuild");
  auto rebuilt =
      lister_->Count(ns_, custom_, "GROUP BY ExecutionStatus", {.max_rows = 1});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->count, 12);
}

// A data directory whose counts an older binary built (layout "1": the
// namespace totals only, as <namespace_id> \0 <status name>) is rebuilt in
// this layout at start, its old keys gone.
TEST_F(CountsTest, OlderCountsLayoutIsRebuiltAtStart) {
  for (int i = 0; i < 5; ++i) {
    StartIn(ns_, absl::StrCat("v", i), i % 2 ? "tq" : "tq-b");
  }
  const std::string old_key =
      absl::StrCat(ns_, std::string("\0", 1), "Running");
  store::Batch batch = store_->NewBatch();
  batch.Put(store::Table::kVisibilityCounts, old_key, store::EncodeCount(5));
  batch.Put(store::Table::kMeta, kCountsVersionKey, "1");
  ASSERT_TRUE(store_->Write(batch).ok());
  // Not this layout: Count reads rows until the rebuild.
  EXPECT_EQ(lister_->Count(ns_, custom_, "TaskQueue = 'tq'", {.max_rows = 1})
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);

  Reopen();
  auto version = store_->Get(store::Table::kMeta, kCountsVersionKey);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, std::string(kCountsVersion));
  const auto keys = Keys(store::Table::kVisibilityCounts);
  EXPECT_EQ(std::find(keys.begin(), keys.end(), old_key), keys.end());
  ExpectCountsMatchTheRows("after the rebuild from layout 1");
  auto counted =
      lister_->Count(ns_, custom_, "TaskQueue = 'tq'", {.max_rows = 1});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->count, 2);
}

// Queries the counts do not answer go the scan's way: two attributes beside
// the status, the same attribute twice, another operator, OR, or a custom
// attribute that shadows one the counts keep. A query that does not bind fails
// as it always did.
TEST_F(CountsTest, OtherQueriesScan) {
  for (int i = 0; i < 3; ++i) StartIn(ns_, absl::StrCat("s", i));
  for (const std::string query :
       {"TaskQueue = 'tq' AND ActivityType = 't'",
        "ExecutionStatus = 'Running' AND ExecutionStatus = 'Running'",
        "TaskQueue = 'tq' AND TaskQueue = 'tq'",
        "TaskQueue = 'tq' OR ActivityType = 'x'", "TaskQueue IN ('tq')",
        "ActivityType != 'x' GROUP BY ExecutionStatus",
        "ExecutionStatus != 'Failed'", "ExecutionStatus IN ('Running')",
        "TemporalExecutionStatus = 'Running'"}) {
    EXPECT_EQ(
        lister_->Count(ns_, custom_, query, {.max_rows = 1}).status().code(),
        absl::StatusCode::kResourceExhausted)
        << query;
    auto counted = lister_->Count(ns_, custom_, query);
    ASSERT_TRUE(counted.ok()) << query << ": " << counted.status();
    EXPECT_EQ(counted->count, 3) << query;
  }
  CustomAttributes shadowing;
  shadowing["ExecutionStatus"] = enums::INDEXED_VALUE_TYPE_KEYWORD;
  auto shadowed = lister_->Count(ns_, shadowing, "ExecutionStatus = 'Running'");
  ASSERT_TRUE(shadowed.ok()) << shadowed.status();
  EXPECT_EQ(shadowed->count, 0);  // no run has that custom attribute
  CustomAttributes shadowing_queue;
  shadowing_queue["TaskQueue"] = enums::INDEXED_VALUE_TYPE_KEYWORD;
  shadowed = lister_->Count(ns_, shadowing_queue, "TaskQueue = 'tq'");
  ASSERT_TRUE(shadowed.ok()) << shadowed.status();
  EXPECT_EQ(shadowed->count, 0);

  EXPECT_EQ(lister_->Count(ns_, custom_, "ExecutionStatus = 5").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lister_->Count(ns_, custom_, "GROUP BY TaskQueue").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace errand::visibility
