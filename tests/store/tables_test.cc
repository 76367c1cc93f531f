// The typed tables over RocksDB (store/executions.h, store/config_tables.h):
// each stores what it is given under the keys of the storage format
// (keys.h), so moving their users onto them changed no stored byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "errand/common/uuid.h"
#include "errand/store/config_tables.h"
#include "errand/store/executions.h"
#include "errand/store/keys.h"

namespace errand::store {
namespace {

class TablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("errand-tables-" + NewUuid());
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
TEST_F(TablesTest, ExecutionsStoreRecordsAndCurrentRunsUnderTheFormatsKeys) {
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

// Namespaces are stored by name and task queue configs by TaskQueueKey
// (storage format 5); a later Put of the same name or queue replaces.
TEST_F(TablesTest, NamespacesAndTaskQueuesRoundTripUnderTheFormatsKeys) {
  const Namespaces namespaces(store_.get());
  const TaskQueues task_queues(store_.get());
  NamespaceRecord billing;
  billing.set_id("id-1");
  billing.set_name("billing");
  TaskQueueRecord queue;
  queue.set_namespace_id("id-1");
  queue.set_name("invoices");
  queue.set_type(2);
  Batch batch = store_->NewBatch();
  namespaces.Put(batch, billing);
  billing.set_description("second");
  namespaces.Put(batch, billing);
  task_queues.Put(batch, queue);
  ASSERT_TRUE(store_->Write(batch).ok());

  EXPECT_TRUE(store_->Get(Table::kNamespaces, "billing")->has_value());
  EXPECT_TRUE(
      store_->Get(Table::kTaskQueues, TaskQueueKey("id-1", 2, "invoices"))
          ->has_value());
  std::map<std::string, std::string> seen;
  ASSERT_TRUE(
      namespaces
          .ScanAll([&](NamespaceRecord r) { seen[r.name()] = r.description(); })
          .ok());
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"billing", "second"}}));
  int queues = 0;
  ASSERT_TRUE(task_queues
                  .ScanAll([&](TaskQueueRecord r) {
                    ++queues;
                    EXPECT_EQ(r.name(), "invoices");
                    EXPECT_EQ(r.type(), 2);
                  })
                  .ok());
  EXPECT_EQ(queues, 1);
}

TEST_F(TablesTest, ACorruptNamespaceRecordIsDataLoss) {
  Batch batch = store_->NewBatch();
  batch.Put(Table::kNamespaces, "broken", "\xff\xff\xff");
  ASSERT_TRUE(store_->Write(batch).ok());
  absl::Status s = Namespaces(store_.get()).ScanAll([](NamespaceRecord) {});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("broken"), std::string::npos) << s;
}

}  // namespace
}  // namespace errand::store
