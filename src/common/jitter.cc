#include "errand/common/jitter.h"

#include <cstdint>

#include "absl/random/random.h"

namespace errand {

absl::Duration RandomJitter(absl::Duration max) {
  if (max <= absl::ZeroDuration()) return absl::ZeroDuration();
  // absl::BitGen is seeded from the OS and not thread-safe; one per thread.
  thread_local absl::BitGen gen;
  const int64_t nanos = absl::ToInt64Nanoseconds(max);
  if (nanos <= 0) return absl::ZeroDuration();
  return absl::Nanoseconds(absl::Uniform<int64_t>(gen, 0, nanos));
}

}  // namespace errand
