#include "errand/engine/record_cache.h"

#include <gtest/gtest.h>

namespace errand::engine {
namespace {

RecordSnapshot Record(const std::string& id) {
  auto r = std::make_shared<store::ActivityRecord>();
  r->set_activity_id(id);
  return r;
}

TEST(RecordCacheTest, TakeHandsOverAndForgets) {
  RecordCache cache(10, 1000);
  cache.Put("a", Record("a"), 100);
  EXPECT_EQ(cache.bytes(), 100u);
  auto taken = cache.Take("a");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->record->activity_id(), "a");
  EXPECT_EQ(taken->bytes, 100u);
  EXPECT_FALSE(cache.Take("a").has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(RecordCacheTest, EvictsOldestBeyondCount) {
  RecordCache cache(2, 1000);
  cache.Put("a", Record("a"), 1);
  cache.Put("b", Record("b"), 1);
  cache.Put("c", Record("c"), 1);
  EXPECT_FALSE(cache.Take("a").has_value());
  EXPECT_TRUE(cache.Take("b").has_value());
  EXPECT_TRUE(cache.Take("c").has_value());
}

TEST(RecordCacheTest, EvictsOldestBeyondBytesAndSkipsHugeRecords) {
  RecordCache cache(100, 250);
  cache.Put("a", Record("a"), 100);
  cache.Put("b", Record("b"), 100);
  cache.Put("c", Record("c"), 100);  // 300 > 250: "a" goes
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 200u);
  EXPECT_FALSE(cache.Take("a").has_value());
  cache.Put("huge", Record("huge"), 251);
  EXPECT_FALSE(cache.Take("huge").has_value());
  EXPECT_EQ(cache.size(), 2u);  // "b" and "c" stay
  EXPECT_EQ(cache.bytes(), 200u);
}

TEST(RecordCacheTest, PutReplacesTheSameKey) {
  RecordCache cache(10, 1000);
  cache.Put("a", Record("old"), 10);
  cache.Put("a", Record("new"), 20);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), 20u);
  EXPECT_EQ(cache.Take("a")->record->activity_id(), "new");
}

TEST(RecordCacheTest, UnshareMovesWhenAloneAndCopiesWhenShared) {
  auto alone = Record("a");
  store::ActivityRecord moved = Unshare(std::move(alone));
  EXPECT_EQ(moved.activity_id(), "a");

  auto shared = Record("b");
  RecordSnapshot reply_holds = shared;
  store::ActivityRecord copied = Unshare(std::move(shared));
  copied.set_activity_id("changed");
  EXPECT_EQ(reply_holds->activity_id(), "b");  // the other holder is intact
}

}  // namespace
}  // namespace errand::engine
