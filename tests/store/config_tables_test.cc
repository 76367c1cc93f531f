#include "errand/store/config_tables.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "errand/common/uuid.h"
#include "errand/store/keys.h"

namespace errand::store {
namespace {

class ConfigTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("errand-config-tables-" + NewUuid());
    auto store = Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

// Namespaces are stored by name and task queue configs by TaskQueueKey
// (storage format 5); a later Put of the same name or queue replaces.
TEST_F(ConfigTablesTest, RecordsRoundTripUnderTheFormatsKeys) {
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

TEST_F(ConfigTablesTest, ACorruptRecordIsDataLoss) {
  Batch batch = store_->NewBatch();
  batch.Put(Table::kNamespaces, "broken", "\xff\xff\xff");
  ASSERT_TRUE(store_->Write(batch).ok());
  absl::Status s = Namespaces(store_.get()).ScanAll([](NamespaceRecord) {});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("broken"), std::string::npos) << s;
}

}  // namespace
}  // namespace errand::store
