#include "errand/visibility/writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "errand/common/uuid.h"
#include "errand/store/keys.h"
#include "errand/store/records.h"
#include "support/stored_keys.h"

namespace errand::visibility {
namespace {

using store::ActivityRecord;
using store::Table;

// The writer against a real store: what each table holds after a change.
class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("errand-vw-" + NewUuid());
    store_ = std::move(*store::Store::Open({dir_.string(), false}));
    record_.set_namespace_id("ns");
    record_.set_activity_id("a");
    record_.set_run_id("run");
    record_.mutable_activity_type()->set_name("Type");
    record_.mutable_options()->mutable_task_queue()->set_name("queue");
    *record_.mutable_schedule_time() = store::ToProtoTime(kStart);
    record_.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Writes the change of record_ from `stored`; returns whether the batch
  // held anything.
  bool Write(const std::optional<RowState>& stored, bool deleted = false) {
    store::Batch batch = store_->NewBatch();
    WriteRow(batch, record_, stored, deleted);
    if (batch.empty()) return false;
    EXPECT_TRUE(store_->Write(batch).ok());
    return true;
  }
  std::vector<std::string> Keys(store::Table table) {
    return test_support::StoredKeys(*store_, table);
  }
  void Close() {
    record_.set_status(store::v1::ACTIVITY_STATUS_COMPLETED);
    *record_.mutable_close_time() = store::ToProtoTime(kClose);
  }

  static constexpr absl::Time kStart = absl::FromUnixSeconds(1700000000);
  static constexpr absl::Time kClose = absl::FromUnixSeconds(1700000060);
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  ActivityRecord record_;
};

TEST_F(WriterTest, NewRunGetsItsRowAndIndexEntries) {
  ASSERT_TRUE(Write(std::nullopt));
  const std::string row_key =
      store::VisibilityKey("ns", false, absl::UnixEpoch(), kStart, "run");
  EXPECT_EQ(Keys(Table::kVisibility), std::vector<std::string>{row_key});
  std::vector<std::string> expected = {
      store::IndexKey("ns", "ActivityType", "Type", row_key),
      store::IndexKey("ns", "ExecutionStatus", "Running", row_key),
      store::TimeIndexKey("ns", "StartTime", kStart, row_key),
      store::IndexKey("ns", "TaskQueue", "queue", row_key)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Keys(Table::kVisibilityIndex), expected);
  auto row = store_->Get(Table::kVisibility, row_key);
  ASSERT_TRUE(row.ok() && row->has_value());
  Row parsed;
  ASSERT_TRUE(parsed.ParseFromString(**row));
  EXPECT_EQ(parsed.activity_id(), "a");
  EXPECT_EQ(parsed.status(),
            temporal::api::enums::v1::ACTIVITY_EXECUTION_STATUS_RUNNING);
}

TEST_F(WriterTest, StepWithinOnePublicStatusLeavesTheRow) {
  ASSERT_TRUE(Write(std::nullopt));
  const RowState stored = RowStateOf(record_);
  record_.set_status(store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_FALSE(Write(stored));
}

TEST_F(WriterTest, ClosingMovesTheRowAndItsEntries) {
  ASSERT_TRUE(Write(std::nullopt));
  const RowState stored = RowStateOf(record_);
  Close();
  ASSERT_TRUE(Write(stored));
  const std::string row_key =
      store::VisibilityKey("ns", true, kClose, kStart, "run");
  EXPECT_EQ(Keys(Table::kVisibility), std::vector<std::string>{row_key});
  std::vector<std::string> expected = {
      store::IndexKey("ns", "ActivityType", "Type", row_key),
      store::TimeIndexKey("ns", "CloseTime", kClose, row_key),
      store::IndexKey("ns", "ExecutionStatus", "Completed", row_key),
      store::TimeIndexKey("ns", "StartTime", kStart, row_key),
      store::IndexKey("ns", "TaskQueue", "queue", row_key)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Keys(Table::kVisibilityIndex), expected);
}

TEST_F(WriterTest, DeletingRemovesEverything) {
  Close();
  ASSERT_TRUE(Write(std::nullopt));
  ASSERT_TRUE(Write(RowStateOf(record_), /*deleted=*/true));
  EXPECT_TRUE(Keys(Table::kVisibility).empty());
  EXPECT_TRUE(Keys(Table::kVisibilityIndex).empty());
  // A run created and deleted in one turn never had a row.
  EXPECT_FALSE(Write(std::nullopt, /*deleted=*/true));
}

}  // namespace
}  // namespace errand::visibility
