// What every fuzz target under tests/fuzz defines: libFuzzer's entry point
// (which aborts on a property violation, so that libFuzzer and the bounded
// driver both report it as a crash) and the seed inputs its committed corpus
// was written from.
#ifndef ERRAND_TESTS_FUZZ_FUZZ_TARGET_H_
#define ERRAND_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

std::vector<std::string> FuzzSeeds();

// Aborts with `what` when `ok` is false: a property of the target failed.
#define FUZZ_CHECK(ok, what)                                                   \
  do {                                                                         \
    if (!(ok)) {                                                               \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   what);                                                      \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

#endif  // ERRAND_TESTS_FUZZ_FUZZ_TARGET_H_
