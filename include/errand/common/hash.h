// A fixed 64-bit hash, for values that must be the same in every process
// and every release: which shard a run belongs to (docs/cluster.md, §2.1).
// absl::Hash is seeded per process and suits in-memory tables only.
#ifndef ERRAND_COMMON_HASH_H_
#define ERRAND_COMMON_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace errand {

// XXH64 of `data` with `seed`, as specified by the xxHash project (the
// 64-bit variant, little-endian reads). Pinned by tests/common/hash_test.cc:
// a change here moves runs between shards.
uint64_t Xxh64(absl::string_view data, uint64_t seed = 0);

}  // namespace errand

#endif  // ERRAND_COMMON_HASH_H_
