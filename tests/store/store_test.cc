#include "errand/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "errand/common/uuid.h"

namespace errand::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("errand-store-" + NewUuid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, WritesSurviveReopen) {
  {
    auto store = Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    Batch batch = (*store)->NewBatch();
    batch.Put(Table::kNamespaces, "a", "1");
    batch.Put(Table::kNamespaces, "b", "2");
    batch.Put(Table::kMeta, "a", "meta");
    ASSERT_TRUE((*store)->Write(batch).ok());
  }
  auto store = Store::Open({dir_.string(), true});
  ASSERT_TRUE(store.ok()) << store.status();
  auto a = (*store)->Get(Table::kNamespaces, "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(**a, "1");
  auto meta = (*store)->Get(Table::kMeta, "a");
  EXPECT_EQ(**meta, "meta");
  auto missing = (*store)->Get(Table::kNamespaces, "zzz");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StoreTest, ScanVisitsPrefixInOrderAndStopsEarly) {
  auto store = Store::Open({dir_.string(), false});
  ASSERT_TRUE(store.ok());
  Batch batch = (*store)->NewBatch();
  for (const char* k : {"p/3", "p/1", "q/1", "p/2"}) {
    batch.Put(Table::kNamespaces, k, k);
  }
  batch.Delete(Table::kNamespaces, "p/2");
  ASSERT_TRUE((*store)->Write(batch).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE((*store)
                  ->Scan(Table::kNamespaces, "p/",
                         [&](absl::string_view k, absl::string_view) {
                           keys.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"p/1", "p/3"}));
  keys.clear();
  ASSERT_TRUE((*store)
                  ->Scan(Table::kNamespaces, "",
                         [&](absl::string_view k, absl::string_view) {
                           keys.emplace_back(k);
                           return false;
                         })
                  .ok());
  EXPECT_EQ(keys.size(), 1u);
}

TEST_F(StoreTest, SecondOpenOfSameDirectoryFailsClearly) {
  auto first = Store::Open({dir_.string(), true});
  ASSERT_TRUE(first.ok());
  auto second = Store::Open({dir_.string(), true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("already in use"), std::string::npos)
      << second.status();
  first->reset();
  EXPECT_TRUE(Store::Open({dir_.string(), true}).ok());
}

}  // namespace
}  // namespace errand::store
