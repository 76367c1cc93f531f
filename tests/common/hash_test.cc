#include "errand/common/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace errand {
namespace {

// Values of the reference xxHash implementation (XXH64). They are pinned: a
// run's shard is this hash of its IDs, so changing it would move runs
// between shards in a cluster's database.
TEST(Xxh64Test, MatchesTheReferenceImplementation) {
  EXPECT_EQ(Xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Xxh64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(Xxh64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(Xxh64("errand"), 0x67F1B964D74AA107ULL);
  // 4- and 8-byte tails, and one 32-byte stripe.
  EXPECT_EQ(Xxh64(std::string("ns\0act-1", 8)), 0x9300C9B32AB48AEDULL);
  EXPECT_EQ(Xxh64("0123456789abcdef0123456789abcdef0123456789"),
            0xA76190C3ACF08A1CULL);
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(Xxh64(bytes), 0x6AC1E58032166597ULL);
  EXPECT_EQ(Xxh64("abc", 7), 0x9E755206156676D7ULL);
}

}  // namespace
}  // namespace errand
