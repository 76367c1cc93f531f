#include "errand/visibility/lister.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/store/visibility_key.h"

namespace errand::visibility {

absl::StatusOr<ListPage> Lister::List(const std::string& namespace_id,
                                      const CustomAttributes& custom,
                                      absl::string_view query, int page_size,
                                      const std::string& page_token) const {
  auto parsed = ParseQuery(query);
  if (!parsed.ok()) return parsed.status();
  if (parsed->group_by) {
    return absl::InvalidArgumentError(
        "invalid query: 'GROUP BY' clause is only supported by Count");
  }
  auto filter = BindFilter(parsed->where.get(), custom);
  if (!filter.ok()) return filter.status();
  const std::string prefix = store::VisibilityPrefix(namespace_id);
  // The token is the key of the last row returned: opaque to clients, and
  // stable while rows change, since a moved row gets a new key.
  if (!page_token.empty() && !absl::StartsWith(page_token, prefix)) {
    return absl::InvalidArgumentError("invalid next_page_token");
  }
  if (page_size <= 0 || page_size > kMaxPageSize) page_size = kMaxPageSize;

  ListPage page;
  std::string last_key;
  bool more = false;
  absl::Status parse_error;
  absl::Status scan = store_->Scan(
      store::Table::kVisibility, prefix,
      [&](absl::string_view key, absl::string_view value) {
        Row row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        if (!(*filter)(row)) return true;
        if (static_cast<int>(page.executions.size()) == page_size) {
          more = true;
          return false;
        }
        page.executions.push_back(std::move(row));
        last_key.assign(key.data(), key.size());
        return true;
      },
      page_token);
  if (!scan.ok()) return scan;
  if (!parse_error.ok()) return parse_error;
  if (more) page.next_page_token = last_key;
  return page;
}

absl::StatusOr<CountResult> Lister::Count(const std::string& namespace_id,
                                          const CustomAttributes& custom,
                                          absl::string_view query) const {
  auto parsed = ParseQuery(query);
  if (!parsed.ok()) return parsed.status();
  if (parsed->group_by && *parsed->group_by != "ExecutionStatus") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid query: 'GROUP BY' clause is only supported for "
                     "ExecutionStatus, not ",
                     *parsed->group_by));
  }
  auto filter = BindFilter(parsed->where.get(), custom);
  if (!filter.ok()) return filter.status();
  CountResult result;
  std::map<std::string, int64_t> groups;
  absl::Status parse_error;
  absl::Status scan = store_->Scan(
      store::Table::kVisibility, store::VisibilityPrefix(namespace_id),
      [&](absl::string_view, absl::string_view value) {
        Row row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse_error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        if (!(*filter)(row)) return true;
        ++result.count;
        if (parsed->group_by) ++groups[StatusName(row)];
        return true;
      });
  if (!scan.ok()) return scan;
  if (!parse_error.ok()) return parse_error;
  result.groups.assign(groups.begin(), groups.end());
  return result;
}

}  // namespace errand::visibility
