#include "errand/store/executions.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "errand/common/uuid.h"
#include "errand/store/keys.h"

namespace errand::store {
namespace {

class ExecutionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("errand-executions-" + NewUuid());
    auto store = Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  static ActivityRecord Run(const std::string& activity_id,
                            const std::string& run_id) {
    ActivityRecord r;
    r.set_namespace_id("ns");
    r.set_activity_id(activity_id);
    r.set_run_id(run_id);
    return r;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

// Records and current-run pointers, named by IDs, land in the executions and
// current_runs tables under the keys of storage format 5 (keys.h), so the
// typed table changes no stored byte.
TEST_F(ExecutionsTest, StoresRecordsAndCurrentRunsUnderTheFormatsKeys) {
  const Executions executions(store_.get());
  Batch batch = store_->NewBatch();
  executions.Put(batch, Run("a", "r1"), "one");
  executions.Put(batch, Run("a", "r2"), "two");
  executions.Put(batch, Run("b", "r3"), "three");
  executions.SetCurrentRun(batch, "ns", "a", "r2");
  ASSERT_TRUE(store_->Write(batch).ok());

  EXPECT_EQ(*executions.Get("ns", "a", "r1"), "one");
  EXPECT_EQ(*executions.Get("ns", "a", "r9"), std::nullopt);
  EXPECT_EQ(*executions.CurrentRun("ns", "a"), "r2");
  EXPECT_EQ(*executions.CurrentRun("ns", "b"), std::nullopt);
  EXPECT_EQ(*store_->Get(Table::kExecutions, ExecutionKey("ns", "b", "r3")),
            "three");
  EXPECT_EQ(*store_->Get(Table::kCurrentRuns, CurrentRunKey("ns", "a")), "r2");

  std::set<std::string> seen;
  ASSERT_TRUE(executions
                  .ScanAll([&](absl::string_view record) {
                    seen.emplace(record);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, (std::set<std::string>{"one", "two", "three"}));

  Batch remove = store_->NewBatch();
  executions.Delete(remove, Run("a", "r2"));
  executions.SetCurrentRun(remove, "ns", "a", "");
  ASSERT_TRUE(store_->Write(remove).ok());
  EXPECT_EQ(*executions.Get("ns", "a", "r2"), std::nullopt);
  EXPECT_EQ(*executions.CurrentRun("ns", "a"), std::nullopt);
  EXPECT_EQ(*executions.Get("ns", "a", "r1"), "one");
}

}  // namespace
}  // namespace errand::store
