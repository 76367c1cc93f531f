// List and Count over the visibility table, which the engine keeps in the
// same write batch as the executions (so results are read-your-writes).
#ifndef ERRAND_VISIBILITY_LISTER_H_
#define ERRAND_VISIBILITY_LISTER_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"
#include "errand/store/store.h"
#include "errand/visibility/filter.h"

namespace errand::visibility {

inline constexpr int kMaxPageSize = 1000;

struct ListPage {
  std::vector<Row> executions;
  std::string next_page_token;  // empty on the last page
};

struct CountResult {
  int64_t count = 0;
  // (ExecutionStatus value, count) with GROUP BY ExecutionStatus.
  std::vector<std::pair<std::string, int64_t>> groups;
};

// What one List or Count call may spend. A query the indexes cannot narrow
// reads every row of the namespace; these bound how long that holds a
// thread.
struct ScanLimits {
  // Rows examined (read and filtered), whether they match or not; 0 means
  // no limit. Planning reads at most a few thousand index keys per indexed
  // term on top of this.
  int64_t max_rows = 0;
  // Scanning stops at this time (by the lister's clock).
  absl::Time deadline = absl::InfiniteFuture();
};

class Lister {
 public:
  explicit Lister(const store::Store* store,
                  const Clock* clock = SystemClock::Get())
      : store_(store), clock_(clock) {}

  // Running executions first, then closed ones by close time, newest first.
  // `page_size` <= 0 or above kMaxPageSize means kMaxPageSize.
  //
  // When `limits` stop the scan, the page so far comes back with a token
  // that resumes after the last row examined: a short (even empty) page with
  // a token, as Temporal's List allows. Only a call that examined no row at
  // all fails, with DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED, so that paging
  // always moves forward.
  absl::StatusOr<ListPage> List(const std::string& namespace_id,
                                const CustomAttributes& custom,
                                absl::string_view query, int page_size,
                                const std::string& page_token,
                                const ScanLimits& limits = {}) const;
  // A count cannot be partial: past `limits` it fails, RESOURCE_EXHAUSTED
  // for the row budget and DEADLINE_EXCEEDED for the deadline, with a
  // message asking for a narrower query.
  //
  // No query, `ExecutionStatus = '<name>'`, `TaskQueue = '<name>'`,
  // `ActivityType = '<name>'`, either of the last two AND `ExecutionStatus =
  // '<name>'`, and each with `GROUP BY ExecutionStatus`, are answered from
  // the status counts the visibility writer keeps (a read of a few keys,
  // whatever the number of runs, and within no limits); every other query,
  // and a task queue or type name holding a NUL byte, by CountByScan.
  absl::StatusOr<CountResult> Count(const std::string& namespace_id,
                                    const CustomAttributes& custom,
                                    absl::string_view query,
                                    const ScanLimits& limits = {}) const;
  // Count by reading every row the query may match, never the counts: the
  // answer Count must equal for every query (tests compare them).
  absl::StatusOr<CountResult> CountByScan(const std::string& namespace_id,
                                          const CustomAttributes& custom,
                                          absl::string_view query,
                                          const ScanLimits& limits = {}) const;

 private:
  absl::StatusOr<CountResult> Count(const std::string& namespace_id,
                                    const CustomAttributes& custom,
                                    absl::string_view query,
                                    const ScanLimits& limits,
                                    bool use_counts) const;

  const store::Store* const store_;
  const Clock* const clock_;
};

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_LISTER_H_
