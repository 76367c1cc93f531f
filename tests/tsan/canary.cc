// Checks that scripts/tsan.sh's ThreadSanitizer setup sees the locks of the
// third-party libraries Errand relies on. Two threads write one counter,
// guarded by absl::Mutex, by gRPC's gpr_mu (which wraps absl::Mutex inside
// Debian's libgpr) or by nothing. With the TSan-built Abseil loaded, the
// guarded runs must be silent and the unguarded one must be reported; if
// Debian's uninstrumented Abseil were loaded instead, the guarded runs would
// be reported too. Usage: errand_tsan_canary absl|gpr|none
#include <grpc/support/sync.h>

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {

long counter = 0;

template <typename Lock, typename Unlock>
void Race(Lock lock, Unlock unlock) {
  auto add = [&] {
    for (int i = 0; i < 1000; ++i) {
      lock();
      ++counter;
      unlock();
    }
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "absl") == 0) {
    absl::Mutex mu;
    Race([&] { mu.Lock(); }, [&] { mu.Unlock(); });
  } else if (std::strcmp(mode, "gpr") == 0) {
    gpr_mu mu;
    gpr_mu_init(&mu);
    Race([&] { gpr_mu_lock(&mu); }, [&] { gpr_mu_unlock(&mu); });
    gpr_mu_destroy(&mu);
  } else if (std::strcmp(mode, "none") == 0) {
    Race([] {}, [] {});
  } else {
    std::fprintf(stderr, "usage: %s absl|gpr|none\n", argv[0]);
    return 2;
  }
  std::printf("%ld\n", counter);
  return 0;
}
