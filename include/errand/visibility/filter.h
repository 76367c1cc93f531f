// Binds a parsed query to the activity search attributes: checks names and
// converts literals to each attribute's type once, giving a predicate over
// the rows of the visibility table.
#ifndef ERRAND_VISIBILITY_FILTER_H_
#define ERRAND_VISIBILITY_FILTER_H_

#include <google/protobuf/map.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "errand/visibility/query.h"
#include "temporal/api/activity/v1/message.pb.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/enums/v1/common.pb.h"

namespace errand::visibility {

using Row = temporal::api::activity::v1::ActivityExecutionListInfo;
using Filter = std::function<bool(const Row&)>;

// A namespace's custom search attributes: name → IndexedValueType.
using CustomAttributes = google::protobuf::Map<std::string, int32_t>;

// INVALID_ARGUMENT for an unknown attribute or a value of the wrong type.
// A null expression matches every row.
absl::StatusOr<Filter> BindFilter(const Expr* where,
                                  const CustomAttributes& custom);

// The built-in attributes every activity has, with their types.
std::vector<std::pair<std::string, temporal::api::enums::v1::IndexedValueType>>
SystemAttributes();
bool IsSystemAttribute(const std::string& name);

// Turns a run's search attributes into those its List row shows, as
// Temporal's visibility store returns them: each custom value marked with its
// registered type (payload metadata "type": "Keyword", "Int", ...; a value
// already typed is left as it is), and values of attributes `custom` does not
// map dropped. Those are TemporalChangeVersion, which Temporal keeps for
// Describe but does not index for activities (queries read it as NULL), and
// attributes removed from the namespace since the start.
void ListedSearchAttributes(
    const CustomAttributes& custom,
    temporal::api::common::v1::SearchAttributes* attributes);

// A datetime literal as Unix nanoseconds: an RFC 3339 string, or an integer
// taken as nanoseconds already. nullopt if it is neither.
std::optional<int64_t> DatetimeNanos(const Literal& literal);

// Checks a custom search attribute value given at start against the type the
// namespace registered (`indexed_type`, an IndexedValueType): INVALID_ARGUMENT
// "invalid value for search attribute <name> of type <Type>: <value>".
absl::Status CheckCustomValue(const std::string& name, int32_t indexed_type,
                              const temporal::api::common::v1::Payload& value);

// The ExecutionStatus value of a row: Running, Completed, Failed, ...
std::string StatusName(const Row& row);

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_FILTER_H_
