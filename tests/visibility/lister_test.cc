// List and Count against rows the engine writes: the index path and the scan
// path must agree, pages must cover every row once, and rows must follow
// their run through status changes and deletion.
#include "errand/visibility/lister.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errand/common/uuid.h"
#include "errand/engine/activity_engine.h"
#include "errand/store/keys.h"
#include "support/engine_harness.h"

namespace errand::visibility {
namespace {

namespace enums = temporal::api::enums::v1;
using engine::ActivityRecord;

class ListerTest : public engine::EngineHarness {
 protected:
  // Starts are not synced: thousands of them make up some tests' data.
  store::StoreOptions StoreOptionsForTest() override {
    return {dir_.string(), false};
  }
  // Start and close times come from it: tests move it to separate them.
  const Clock* EngineClock() override { return &clock_; }
  void AfterOpen() override {
    lister_ = std::make_unique<Lister>(store_.get());
  }
  void BeforeClose() override { lister_.reset(); }

  void Start(const std::string& id, const std::string& type,
             const std::string& queue) {
    engine::StartRequest r = Request(id);
    r.record.mutable_activity_type()->set_name(type);
    r.record.mutable_options()->mutable_task_queue()->set_name(queue);
    r.record.mutable_options()->mutable_start_to_close_timeout()->set_seconds(
        60);
    // Each start a millisecond after the last, as on a real clock.
    clock_.Advance(absl::Milliseconds(1));
    EngineHarness::Start(std::move(r)).IgnoreError();
  }
  void Terminate(const std::string& id) {
    clock_.Advance(absl::Milliseconds(1));
    std::promise<void> done;
    engine_->Update(
        {"ns", id, "", std::nullopt}, engine::Terminate{NewUuid(), "stop", ""},
        [&](absl::StatusOr<engine::RecordSnapshot>) { done.set_value(); });
    done.get_future().wait();
  }
  void Delete(const std::string& id) {
    std::promise<void> done;
    engine_->Delete(
        {"ns", id, "", std::nullopt},
        [&](absl::StatusOr<engine::RecordSnapshot>) { done.set_value(); });
    done.get_future().wait();
  }
  std::vector<std::string> Ids(const std::string& query, int page_size = 0) {
    std::vector<std::string> ids;
    std::string token;
    do {
      auto page = lister_->List("ns", custom_, query, page_size, token);
      EXPECT_TRUE(page.ok()) << query << ": " << page.status();
      if (!page.ok()) break;
      for (const auto& row : page->executions) ids.push_back(row.activity_id());
      token = page->next_page_token;
    } while (!token.empty());
    return ids;
  }

  FakeClock clock_;
  std::unique_ptr<Lister> lister_;
  CustomAttributes custom_;
};

TEST_F(ListerTest, IndexAndScanAgreeAndFollowStatusChanges) {
  for (int i = 0; i < 12; ++i) {
    Start(absl::StrCat("a", i), i % 2 ? "odd" : "even", i < 6 ? "q1" : "q2");
  }
  for (int i : {1, 4, 7}) Terminate(absl::StrCat("a", i));
  Delete("a10");

  // Index path (equality on TaskQueue) vs. scan path (the same set, via a
  // predicate the planner cannot index).
  EXPECT_EQ(Ids("TaskQueue = 'q1'"), Ids("TaskQueue STARTS_WITH 'q1'"));
  EXPECT_EQ(Ids("TaskQueue = 'q1'").size(), 6u);
  EXPECT_EQ(
      Ids("ExecutionStatus = 'Terminated'"),
      (std::vector<std::string>{"a7", "a4", "a1"}));  // newest close first
  EXPECT_EQ(Ids("ExecutionStatus = 'Running' AND ActivityType = 'odd'"),
            (std::vector<std::string>{"a11", "a9", "a5", "a3"}));
  EXPECT_EQ(Ids("ExecutionStatus = 'Running'").size(), 8u);  // 12 - 3 - deleted
  EXPECT_TRUE(Ids("ActivityId = 'a10'").empty());

  // Running rows first (newest start first), then closed.
  auto all = Ids("");
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all.front(), "a11");
  EXPECT_EQ(all.back(), "a1");
}

TEST_F(ListerTest, PagesCoverEveryRowOnceOnBothPaths) {
  for (int i = 0; i < 10; ++i) Start(absl::StrCat("p", i), "t", "q");
  for (const std::string query : {"TaskQueue = 'q'", "ActivityType != 'x'"}) {
    auto ids = Ids(query, 3);
    EXPECT_EQ(ids.size(), 10u) << query;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 10u);
  }
}

TEST_F(ListerTest, CountGroupsByStatus) {
  for (int i = 0; i < 5; ++i) Start(absl::StrCat("c", i), "t", "q");
  Terminate("c0");
  auto counted =
      lister_->Count("ns", custom_, "TaskQueue = 'q' GROUP BY ExecutionStatus");
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->count, 5);
  EXPECT_EQ(counted->groups, (std::vector<std::pair<std::string, int64_t>>{
                                 {"Running", 4}, {"Terminated", 1}}));
  auto bad = lister_->Count("ns", custom_, "GROUP BY TaskQueue");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown = lister_->List("ns", custom_, "Nope = 'x'", 10, "");
  EXPECT_EQ(unknown.status().message(),
            "invalid query: invalid search attribute: Nope");
  // Temporal's workflow-only attributes are known, and activities have no
  // value for them; a value of the wrong type is refused in its words.
  auto workflow_only =
      lister_->List("ns", custom_, "WorkflowType = 'x'", 10, "");
  ASSERT_TRUE(workflow_only.ok()) << workflow_only.status();
  EXPECT_TRUE(workflow_only->executions.empty());
  EXPECT_EQ(
      lister_->List("ns", custom_, "TaskQueue = 5", 10, "").status().message(),
      "invalid query: invalid expression: invalid value type for search "
      "attribute TaskQueue of type Keyword: 5 (type: int64)");
  EXPECT_EQ(lister_->List("ns", custom_, "StartTime > 'yesterday'", 10, "")
                .status()
                .message(),
            "invalid query: invalid expression: unable to parse datetime "
            "'yesterday'");
  // List takes a GROUP BY and ignores it.
  auto grouped = lister_->List(
      "ns", custom_, "TaskQueue = 'q' GROUP BY ExecutionStatus", 10, "");
  ASSERT_TRUE(grouped.ok());
  EXPECT_EQ(grouped->executions.size(), 5u);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// Start times between marks: the time index path must give what a scan of
// the same range over ExecutionTime (equal to the start time here, but not
// indexed) gives, in the same order and across pages.
TEST_F(ListerTest, TimeRangesUseTheIndexAndAgreeWithAScan) {
  std::vector<absl::Time> marks;
  for (int group = 0; group < 4; ++group) {
    marks.push_back(clock_.Now());
    clock_.Advance(absl::Milliseconds(3));
    for (int i = 0; i < 5; ++i) {
      Start(absl::StrCat("g", group, "-", i), "t", group % 2 ? "odd" : "even");
    }
    clock_.Advance(absl::Milliseconds(3));
  }
  marks.push_back(clock_.Now());
  Terminate("g1-2");
  Terminate("g2-0");

  const std::string from = Rfc3339(marks[1]), to = Rfc3339(marks[3]);
  for (const auto& [indexed, scanned] :
       std::vector<std::pair<std::string, std::string>>{
           {absl::StrCat("StartTime >= '", from, "' AND StartTime < '", to,
                         "'"),
            absl::StrCat("ExecutionTime >= '", from, "' AND ExecutionTime < '",
                         to, "'")},
           {absl::StrCat("StartTime BETWEEN '", from, "' AND '", to,
                         "' AND TaskQueue = 'odd'"),
            absl::StrCat("ExecutionTime BETWEEN '", from, "' AND '", to,
                         "' AND TaskQueue STARTS_WITH 'odd'")},
           {absl::StrCat("StartTime > '", from, "'"),
            absl::StrCat("ExecutionTime > '", from, "'")},
       }) {
    const auto expected = Ids(scanned);
    EXPECT_FALSE(expected.empty()) << scanned;
    EXPECT_EQ(Ids(indexed), expected) << indexed;
    EXPECT_EQ(Ids(indexed, 3), expected) << indexed;
    auto counted = lister_->Count("ns", custom_, indexed);
    ASSERT_TRUE(counted.ok()) << counted.status();
    EXPECT_EQ(counted->count, static_cast<int64_t>(expected.size()));
  }
  EXPECT_EQ(
      Ids(absl::StrCat("StartTime >= '", from, "' AND StartTime < '", to, "'"))
          .size(),
      10u);
  // CloseTime is indexed once a run closes; running rows have none.
  EXPECT_EQ(Ids(absl::StrCat("CloseTime > '", Rfc3339(marks[4]), "'")),
            (std::vector<std::string>{"g2-0", "g1-2"}));
  // The rows above came through the index: without its StartTime entries
  // the narrow range finds nothing, while the scan still does.
  store::Batch batch = store_->NewBatch();
  ASSERT_TRUE(store_
                  ->Scan(store::Table::kVisibilityIndex,
                         store::TimeIndexPrefix("ns", "StartTime"),
                         [&](absl::string_view key, absl::string_view) {
                           batch.Delete(store::Table::kVisibilityIndex, key);
                           return true;
                         })
                  .ok());
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_TRUE(
      Ids(absl::StrCat("StartTime >= '", from, "' AND StartTime < '", to, "'"))
          .empty());
  EXPECT_EQ(Ids(absl::StrCat("ExecutionTime >= '", from,
                             "' AND ExecutionTime < '", to, "'"))
                .size(),
            10u);
  // Contradictory bounds match nothing.
  EXPECT_TRUE(
      Ids(absl::StrCat("StartTime > '", to, "' AND StartTime < '", from, "'"))
          .empty());
}

// A range wider than the planner's probe is streamed: Count still sees every
// row, and List falls back to an ordered scan.
TEST_F(ListerTest, WideTimeRangesFallBackToStreaming) {
  const absl::Time before = clock_.Now() - absl::Seconds(1);
  for (int i = 0; i < 4200; ++i) Start(absl::StrCat("w", i), "t", "q");
  const std::string query = absl::StrCat("StartTime > '", Rfc3339(before), "'");
  auto counted = lister_->Count("ns", custom_, query);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->count, 4200);
  auto page = lister_->List("ns", custom_, query, 2, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->executions.size(), 2u);
  EXPECT_EQ(page->executions[0].activity_id(), "w4199");
}

// An index table written by an older layout is rebuilt from the rows at
// start, to exactly what the writer would have produced.
TEST_F(ListerTest, IndexRebuildRecreatesEveryEntry) {
  for (int i = 0; i < 20; ++i) Start(absl::StrCat("r", i), "t", "q");
  Terminate("r3");
  auto dump = [&] {
    std::vector<std::string> keys;
    EXPECT_TRUE(store_
                    ->Scan(store::Table::kVisibilityIndex, "",
                           [&](absl::string_view key, absl::string_view) {
                             keys.emplace_back(key);
                             return true;
                           })
                    .ok());
    return keys;
  };
  const auto written = dump();
  ASSERT_FALSE(written.empty());
  store::Batch batch = store_->NewBatch();
  batch.Delete(store::Table::kVisibilityIndex, written.front());
  batch.Put(store::Table::kVisibilityIndex, "stale entry", "");
  batch.Put(store::Table::kMeta, visibility::kIndexVersionKey, "1");
  ASSERT_TRUE(store_->Write(batch).ok());
  ASSERT_TRUE(visibility::EnsureIndex(*store_).ok());
  EXPECT_EQ(dump(), written);
}

TEST_F(ListerTest, CountFailsPastTheRowBudget) {
  for (int i = 0; i < 30; ++i) Start(absl::StrCat("b", i), "t", "q");
  // Exactly the budget is allowed, on the scan and on the index path. (A
  // count the status counts answer reads no rows: counts_test.cc.)
  for (const std::string query :
       {"ActivityType != 'x'", "TaskQueue = 'q' AND ActivityType = 't'"}) {
    auto counted = lister_->Count("ns", custom_, query, {.max_rows = 30});
    ASSERT_TRUE(counted.ok()) << query << ": " << counted.status();
    EXPECT_EQ(counted->count, 30);
    auto over = lister_->Count("ns", custom_, query, {.max_rows = 29});
    EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted)
        << query;
    EXPECT_TRUE(absl::StrContains(over.status().message(),
                                  "query scanned more than 29 rows"))
        << over.status();
    EXPECT_TRUE(absl::StrContains(over.status().message(), "narrow the query"));
  }
  // Rows that do not match count too: the budget bounds the work.
  auto none = lister_->Count("ns", custom_, "ActivityType STARTS_WITH 'zz'",
                             {.max_rows = 10});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted);
}

// Pages listed with `limits`, each call resuming from the previous token;
// `calls` counts them.
std::vector<std::string> PagedIds(const Lister& lister,
                                  const CustomAttributes& custom,
                                  const std::string& query, int page_size,
                                  const std::function<ScanLimits()>& limits,
                                  int* calls) {
  std::vector<std::string> ids;
  std::string token;
  *calls = 0;
  do {
    if (++*calls > 1000) {
      ADD_FAILURE() << "paging does not end";
      break;
    }
    auto page = lister.List("ns", custom, query, page_size, token, limits());
    EXPECT_TRUE(page.ok()) << query << ": " << page.status();
    if (!page.ok()) break;
    for (const auto& row : page->executions) ids.push_back(row.activity_id());
    token = page->next_page_token;
  } while (!token.empty());
  return ids;
}

TEST_F(ListerTest, ListAnswersShortPagesWithATokenPastTheRowBudget) {
  for (int i = 0; i < 30; ++i) {
    Start(absl::StrCat("s", i), i % 3 == 0 ? "rare" : "common",
          i % 2 ? "q1" : "q2");
  }
  // A filter no index serves (the scan path), and one an index serves.
  for (const std::string query :
       {"ActivityType STARTS_WITH 'rare'", "TaskQueue = 'q1'"}) {
    const auto expected = Ids(query);
    ASSERT_FALSE(expected.empty());
    auto first = lister_->List("ns", custom_, query, 100, "", {.max_rows = 7});
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_LT(first->executions.size(), expected.size());
    EXPECT_FALSE(first->next_page_token.empty());
    int calls = 0;
    const auto paged = PagedIds(
        *lister_, custom_, query, 100, [] { return ScanLimits{.max_rows = 7}; },
        &calls);
    EXPECT_EQ(paged, expected) << query;  // every row once, in List order
    EXPECT_GE(calls, 3) << query;
  }
  // A full page ends the call before the budget does, with its own token.
  auto page = lister_->List("ns", custom_, "", 2, "", {.max_rows = 100});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->executions.size(), 2u);
  EXPECT_FALSE(page->next_page_token.empty());
}

// A clock that moves 1 ms every time it is read, so that a scan's deadline
// passes after a known amount of work, with no sleeping.
class SteppingClock final : public Clock {
 public:
  absl::Time Now() const override {
    return absl::FromUnixSeconds(1'700'000'000) +
           absl::Milliseconds(reads_.fetch_add(1));
  }
  // The lister only reads the time.
  bool AwaitWithDeadline(absl::Mutex& mu, const absl::Condition& cond,
                         absl::Time) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    ADD_FAILURE() << "SteppingClock does not wait";
    return cond.Eval();
  }

 private:
  mutable std::atomic<int64_t> reads_{0};
};

TEST_F(ListerTest, ScansStopAtTheDeadline) {
  for (int i = 0; i < 30; ++i) Start(absl::StrCat("d", i), "t", "q");
  SteppingClock clock;
  Lister lister(store_.get(), &clock);
  auto soon = [&] {
    return ScanLimits{.deadline = clock.Now() + absl::Milliseconds(10)};
  };

  // (A query the status counts cannot answer: they read no rows.)
  auto counted = lister.Count("ns", custom_, "ActivityType != 'x'", soon());
  EXPECT_EQ(counted.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(counted.status().message(),
                                "did not finish before the call's deadline"))
      << counted.status();

  auto page = lister.List("ns", custom_, "", 100, "", soon());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_FALSE(page->executions.empty());
  EXPECT_LT(page->executions.size(), 30u);
  EXPECT_FALSE(page->next_page_token.empty());

  int calls = 0;
  EXPECT_EQ(PagedIds(lister, custom_, "", 100, soon, &calls), Ids(""));
  EXPECT_GE(calls, 3);

  // Past the deadline before anything was examined: an error, not an empty
  // page whose token would not move.
  const ScanLimits past{.deadline = clock.Now()};
  EXPECT_EQ(lister.List("ns", custom_, "", 100, "", past).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(lister.Count("ns", custom_, "", past).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // No deadline, no budget: the whole answer, as before.
  auto all = lister.Count("ns", custom_, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->count, 30);
}

// Queries at the parser's limits bind and filter correctly (chains are
// evaluated in a loop, nesting recursion is bounded); past them, List and
// Count refuse them before touching the store.
TEST_F(ListerTest, QueriesAtTheLimitsFilterAndLargerOnesAreRefused) {
  for (int i = 0; i < 6; ++i) Start(absl::StrCat("l", i), "t", "q");
  Terminate("l2");
  // 1,000 ORed terms, of which two match.
  std::string any = "ActivityId = 'l1'";
  for (int i = 2; i < kMaxQueryPredicates; ++i) {
    absl::StrAppend(&any, " OR ActivityId = 'none", i, "'");
  }
  absl::StrAppend(&any, " OR ActivityId = 'l4'");
  ASSERT_LE(any.size(), kMaxQueryBytes);
  EXPECT_EQ(Ids(any), (std::vector<std::string>{"l4", "l1"}));
  // 1,000 ANDed terms: every row but l3 and the terminated l2.
  std::string all = "TaskQueue = 'q'";
  for (int i = 2; i < kMaxQueryPredicates; ++i) {
    absl::StrAppend(&all, " AND ActivityId != 'l3'");
  }
  absl::StrAppend(&all, " AND ExecutionStatus = 'Running'");
  ASSERT_LE(all.size(), kMaxQueryBytes);
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"l5", "l4", "l1", "l0"}));
  auto counted = lister_->Count("ns", custom_, all);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->count, 4);
  // NOTs around nested parentheses, 100 levels in all: an even number of
  // NOTs selects l0, an odd number the other five.
  auto nested = [](int pairs) {
    std::string text = "ActivityId = 'l0'";
    for (int i = 0; i < pairs; ++i) text = "NOT (" + text + ")";
    return text;
  };
  const std::string deep = nested(kMaxQueryDepth / 2);
  EXPECT_EQ(Ids(deep), std::vector<std::string>{"l0"});
  EXPECT_EQ(Ids(nested(kMaxQueryDepth / 2 - 1)).size(), 5u);

  auto too_deep = lister_->Count("ns", custom_, "NOT " + deep);
  EXPECT_EQ(too_deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(too_deep.status().message(),
                               "invalid query: malformed SQL query: max "
                               "nesting level reached"))
      << too_deep.status();
  auto too_many =
      lister_->List("ns", custom_, any + " OR ActivityId = 'x'", 10, "");
  EXPECT_EQ(too_many.status().message(),
            absl::StrCat("invalid query: predicate count exceeds limit at "
                         "position ",
                         any.size() + 5, ". Limit=1000"));
  auto too_long = lister_->List("ns", custom_,
                                std::string(kMaxQueryBytes + 1, ' '), 10, "");
  EXPECT_EQ(too_long.status().message(),
            "invalid query: query length exceeds limit. Length=32769 "
            "Limit=32768");
}

}  // namespace
}  // namespace errand::visibility
