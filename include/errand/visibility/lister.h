// List and Count over the visibility table, which the engine keeps in the
// same write batch as the executions (so results are read-your-writes).
#ifndef ERRAND_VISIBILITY_LISTER_H_
#define ERRAND_VISIBILITY_LISTER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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

class Lister {
 public:
  explicit Lister(const store::Store* store) : store_(store) {}

  // Running executions first, then closed ones by close time, newest first.
  // `page_size` <= 0 or above kMaxPageSize means kMaxPageSize.
  absl::StatusOr<ListPage> List(const std::string& namespace_id,
                                const CustomAttributes& custom,
                                absl::string_view query, int page_size,
                                const std::string& page_token) const;
  absl::StatusOr<CountResult> Count(const std::string& namespace_id,
                                    const CustomAttributes& custom,
                                    absl::string_view query) const;

 private:
  const store::Store* const store_;
};

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_LISTER_H_
