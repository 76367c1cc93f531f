// Fuzz target for the List Filter parser.
//
// Properties: parsing never crashes, and whatever parses prints back
// (ToString) to text that parses to the same tree.
#include <string>
#include <vector>

#include "errand/visibility/query.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto query = errand::visibility::ParseQuery(text);
  if (!query.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(query.status()),
               "query refused with a code other than INVALID_ARGUMENT");
    return 0;
  }
  if (query->where == nullptr) return 0;
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

std::vector<std::string> FuzzSeeds() {
  return {
      "ActivityType = 'send_email' AND ExecutionStatus = 'Failed' AND "
      "StartTime > '2026-11-01T00:00:00Z'",
      "ExecutionStatus IN ('Running', 'TimedOut') OR NOT (A != 3)",
      "StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'",
      "`Custom Field` STARTS_WITH 'x''y' AND CloseTime IS NOT NULL",
      "X NOT BETWEEN -1.5 AND 2e3 GROUP BY ExecutionStatus",
      "A NOT IN (1, 2, true) AND (B <= \"q\" OR C <> 7)",
  };
}
