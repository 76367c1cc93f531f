#include "errand/engine/record_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

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

// A reply on another thread reads the snapshot and drops it; the shard then
// moves the record out. The reader's last use must happen before the move,
// through the reference count alone (nothing else orders the two threads
// here). Under ThreadSanitizer (scripts/tsan.sh) a missing edge is reported.
TEST(RecordCacheTest, UnshareAfterAReaderOnAnotherThreadDropsIt) {
  auto snapshot = Record(std::string(100, 'x'));
  RecordSnapshot reply_holds = snapshot;
  size_t read_size = 0;
  std::thread reply([&read_size, held = std::move(reply_holds)]() mutable {
    read_size = held->activity_id().size();
    held.reset();
  });
  while (snapshot.use_count() != 1) std::this_thread::yield();
  store::ActivityRecord moved = Unshare(std::move(snapshot));
  moved.set_activity_id("changed");
  reply.join();
  EXPECT_EQ(read_size, 100u);
  EXPECT_EQ(moved.activity_id(), "changed");
}

}  // namespace
}  // namespace errand::engine
