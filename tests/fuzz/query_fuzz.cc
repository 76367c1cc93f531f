// Fuzz target for the List Filter parser.
//
// Properties: parsing never crashes, and whatever parses prints back
// (ToString) to text that parses to the same tree.
//
// With clang, build a libFuzzer binary:
//   clang++ -std=c++20 -fsanitize=fuzzer,address -Iinclude \
//     tests/visibility/query_fuzz.cc src/visibility/query.cc -labsl_...
// With any compiler, the same file builds a bounded driver (ctest runs it)
// that feeds mutations of seed queries through the same entry point.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "errand/visibility/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto query = errand::visibility::ParseQuery(text);
  if (!query.ok() || query->where == nullptr) return 0;
  const std::string printed = errand::visibility::ToString(*query->where);
  auto again = errand::visibility::ParseQuery(printed);
  if (!again.ok() || again->where == nullptr ||
      errand::visibility::ToString(*again->where) != printed) {
    std::fprintf(stderr, "round trip failed\n  input:   %s\n  printed: %s\n",
                 text.c_str(), printed.c_str());
    std::abort();
  }
  return 0;
}

#ifndef ERRAND_LIBFUZZER
int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 50000;
  const std::vector<std::string> seeds = {
      "ActivityType = 'send_email' AND ExecutionStatus = 'Failed' AND "
      "StartTime > '2026-11-01T00:00:00Z'",
      "ExecutionStatus IN ('Running', 'TimedOut') OR NOT (A != 3)",
      "StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'",
      "`Custom Field` STARTS_WITH 'x''y' AND CloseTime IS NOT NULL",
      "X NOT BETWEEN -1.5 AND 2e3 GROUP BY ExecutionStatus",
      "A NOT IN (1, 2, true) AND (B <= \"q\" OR C <> 7)",
  };
  const std::string alphabet =
      " ()',`\"=<>!-.0123456789abcANDORNOTINISNULLBETWEENGROUPBY_\\";
  std::mt19937 rng(12345);  // fixed: the run is reproducible
  for (int i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      const size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input.erase(at, 1 + rng() % 3);
          break;
        case 1:
          input.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          input[at] = alphabet[rng() % alphabet.size()];
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::printf("query fuzz driver: %d inputs, no crash, every round trip held\n",
              iterations);
  return 0;
}
#endif
