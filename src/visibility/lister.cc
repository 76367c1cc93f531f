#include "errand/visibility/lister.h"

#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/store/visibility_key.h"

namespace errand::visibility {
namespace {

// How to read the rows a query may match: a range of the visibility table
// (every row of the namespace, in List order), or the entries of one
// secondary index value (the same order, fewer rows).
struct Plan {
  store::Table table = store::Table::kVisibility;
  std::string prefix;  // of the keys to scan in `table`
};

// The planner: an equality on an indexed attribute anywhere in the top-level
// AND chain narrows the scan to that value's index entries; anything else
// scans the namespace. The full filter is applied either way.
void IndexedEqualities(const Expr* expr,
                       std::vector<std::pair<std::string, std::string>>& out) {
  if (expr == nullptr) return;
  if (const auto* both = std::get_if<And>(&expr->node)) {
    IndexedEqualities(both->left.get(), out);
    IndexedEqualities(both->right.get(), out);
    return;
  }
  const auto* cmp = std::get_if<Compare>(&expr->node);
  if (cmp == nullptr || cmp->op != CompareOp::kEq ||
      cmp->value.kind != Literal::Kind::kString ||
      !store::Indexable(cmp->value.text)) {
    return;
  }
  for (const char* indexed : store::kIndexedAttributes) {
    if (cmp->attribute == indexed) {
      out.emplace_back(cmp->attribute, cmp->value.text);
    }
  }
}

// Among several usable equalities, a closed ExecutionStatus is the best
// bet: every index lists running rows first, so any other index would walk
// past all of them before reaching a closed one.
std::optional<std::pair<std::string, std::string>> IndexedEquality(
    const Expr* expr) {
  std::vector<std::pair<std::string, std::string>> found;
  IndexedEqualities(expr, found);
  if (found.empty()) return std::nullopt;
  for (const auto& eq : found) {
    if (eq.first == "ExecutionStatus" && eq.second != "Running") return eq;
  }
  for (const auto& eq : found) {
    if (eq.first != "ExecutionStatus") return eq;
  }
  return found.front();
}

Plan MakePlan(const std::string& namespace_id, const Expr* where,
              const CustomAttributes& custom) {
  auto eq = IndexedEquality(where);
  // A custom attribute of the same name shadows the system one.
  if (!eq || custom.contains(eq->first)) {
    return {store::Table::kVisibility, store::VisibilityPrefix(namespace_id)};
  }
  return {store::Table::kVisibilityIndex,
          store::IndexPrefix(namespace_id, eq->first, eq->second)};
}

// Visits, in List order, the (visibility key, row) pairs the plan covers,
// starting after `after` (a visibility key), until `visit` returns false.
absl::Status Scan(
    const store::Store* store_, const std::string& namespace_id,
    const Plan& plan, absl::string_view after,
    const std::function<bool(absl::string_view, const Row&)>& visit) {
  const std::string row_prefix = store::VisibilityPrefix(namespace_id);
  absl::Status error;
  std::string resume;
  if (!after.empty()) {
    resume = plan.table == store::Table::kVisibility
                 ? std::string(after)
                 : absl::StrCat(plan.prefix, after.substr(row_prefix.size()));
  }
  absl::Status scan = store_->Scan(
      plan.table, plan.prefix,
      [&](absl::string_view key, absl::string_view value) {
        std::string row_key;
        std::string fetched;
        if (plan.table == store::Table::kVisibilityIndex) {
          row_key = absl::StrCat(row_prefix, key.substr(plan.prefix.size()));
          auto got = store_->Get(store::Table::kVisibility, row_key);
          if (!got.ok()) {
            error = got.status();
            return false;
          }
          if (!got->has_value()) return true;  // raced with a delete
          fetched = std::move(**got);
          value = fetched;
        } else {
          row_key.assign(key.data(), key.size());
        }
        Row row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        return visit(row_key, row);
      },
      resume);
  if (!scan.ok()) return scan;
  return error;
}

}  // namespace

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
  const Plan plan = MakePlan(namespace_id, parsed->where.get(), custom);
  absl::Status scan =
      Scan(store_, namespace_id, plan, page_token,
           [&](absl::string_view key, const Row& row) {
             if (!(*filter)(row)) return true;
             if (static_cast<int>(page.executions.size()) == page_size) {
               more = true;
               return false;
             }
             page.executions.push_back(row);
             last_key.assign(key.data(), key.size());
             return true;
           });
  if (!scan.ok()) return scan;
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
  const Plan plan = MakePlan(namespace_id, parsed->where.get(), custom);
  absl::Status scan = Scan(store_, namespace_id, plan, "",
                           [&](absl::string_view, const Row& row) {
                             if (!(*filter)(row)) return true;
                             ++result.count;
                             if (parsed->group_by) ++groups[StatusName(row)];
                             return true;
                           });
  if (!scan.ok()) return scan;
  result.groups.assign(groups.begin(), groups.end());
  return result;
}

}  // namespace errand::visibility
