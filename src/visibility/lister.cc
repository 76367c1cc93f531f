#include "errand/visibility/lister.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/store/activity_record.h"
#include "errand/store/keys.h"
#include "errand/visibility/writer.h"
#include "spdlog/spdlog.h"

namespace errand::visibility {
namespace {

// Where the rows a query may match come from:
//  - kScan: the namespace's whole visibility table, in List order;
//  - kEquality: the index entries of one attribute value, in List order;
//  - kTimeRange: a StartTime or CloseTime range of a time index. Its entries
//    are in time order, so List uses it only when the range is small enough
//    to collect and sort (`row_keys`); Count streams it in any order.
struct Plan {
  enum class Kind { kScan, kEquality, kTimeRange };
  Kind kind = Kind::kScan;
  std::string prefix;  // of the keys to scan: visibility or index keys
  std::string high;    // kTimeRange: the last time (index bytes) in range
  std::string after;   // kTimeRange: scan starts after this key
  // kTimeRange, when the whole range was probed: the rows' keys, sorted,
  // which is List order.
  std::optional<std::vector<std::string>> row_keys;
};

// How many index entries the planner reads to size an access path. Below
// it, the path with the fewest entries wins; the cost of probing is a key
// scan, no row reads.
constexpr size_t kProbeLimit = 4096;

// The top-level AND chain's terms, the only ones that can narrow a scan.
// Recurses only into parenthesized AND chains, so no deeper than the query
// nests (which the parser bounds).
void Conjuncts(const Expr* expr, std::vector<const Expr*>& out) {
  if (expr == nullptr) return;
  if (const auto* all = std::get_if<And>(&expr->node)) {
    for (const auto& operand : all->operands) Conjuncts(operand.get(), out);
    return;
  }
  out.push_back(expr);
}

template <size_t N>
bool OneOf(const char* const (&names)[N], const std::string& attribute) {
  return std::find(std::begin(names), std::end(names), attribute) !=
         std::end(names);
}

struct Equality {
  std::string attribute, value;
};

// Inclusive bounds in Unix nanoseconds.
struct TimeRange {
  int64_t low = std::numeric_limits<int64_t>::min();
  int64_t high = std::numeric_limits<int64_t>::max();
};

struct Candidates {
  std::vector<Equality> equalities;
  std::map<std::string, TimeRange> ranges;  // by attribute
};

// A custom attribute of the same name shadows the system one, whose index
// then says nothing about it.
Candidates FindCandidates(const Expr* where, const CustomAttributes& custom) {
  std::vector<const Expr*> terms;
  Conjuncts(where, terms);
  Candidates found;
  auto narrow = [&](const std::string& attribute, int64_t low, int64_t high) {
    TimeRange& r = found.ranges[attribute];
    r.low = std::max(r.low, low);
    r.high = std::min(r.high, high);
  };
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (const Expr* term : terms) {
    if (const auto* cmp = std::get_if<Compare>(&term->node)) {
      if (custom.contains(cmp->attribute)) continue;
      if (OneOf(kIndexedAttributes, cmp->attribute) &&
          cmp->op == CompareOp::kEq &&
          cmp->value.kind == Literal::Kind::kString &&
          Indexable(cmp->value.text)) {
        found.equalities.push_back({cmp->attribute, cmp->value.text});
      }
      if (!OneOf(kTimeIndexedAttributes, cmp->attribute)) continue;
      const std::optional<int64_t> t = DatetimeNanos(cmp->value);
      if (!t) continue;
      switch (cmp->op) {
        case CompareOp::kEq:
          narrow(cmp->attribute, *t, *t);
          break;
        case CompareOp::kGt:  // nothing is later than kMax
          *t == kMax ? narrow(cmp->attribute, kMax, kMin)
                     : narrow(cmp->attribute, *t + 1, kMax);
          break;
        case CompareOp::kGe:
          narrow(cmp->attribute, *t, kMax);
          break;
        case CompareOp::kLt:
          *t == kMin ? narrow(cmp->attribute, kMax, kMin)
                     : narrow(cmp->attribute, kMin, *t - 1);
          break;
        case CompareOp::kLe:
          narrow(cmp->attribute, kMin, *t);
          break;
        default:
          break;
      }
    } else if (const auto* between = std::get_if<Between>(&term->node)) {
      if (between->negated || custom.contains(between->attribute) ||
          !OneOf(kTimeIndexedAttributes, between->attribute)) {
        continue;
      }
      const auto low = DatetimeNanos(between->low);
      const auto high = DatetimeNanos(between->high);
      if (low && high) narrow(between->attribute, *low, *high);
    }
  }
  return found;
}

Plan ScanPlan(const std::string& namespace_id) {
  return {Plan::Kind::kScan, store::VisibilityPrefix(namespace_id)};
}

Plan EqualityPlan(const std::string& namespace_id, const Equality& eq) {
  return {Plan::Kind::kEquality,
          store::IndexPrefix(namespace_id, eq.attribute, eq.value)};
}

Plan RangePlan(const std::string& namespace_id, const std::string& attribute,
               const TimeRange& range) {
  Plan plan{Plan::Kind::kTimeRange,
            store::TimeIndexPrefix(namespace_id, attribute)};
  plan.high = store::TimeBytes(absl::FromUnixNanos(range.high));
  // Every entry has a row key after its time, so the first entry at `low`
  // sorts after the bare time.
  plan.after = plan.prefix + store::TimeBytes(absl::FromUnixNanos(range.low));
  return plan;
}

// The keys of an index, counted up to kProbeLimit; nullopt beyond.
absl::StatusOr<std::optional<size_t>> CountEntries(const store::Store* store,
                                                   const Plan& plan) {
  size_t n = 0;
  absl::Status scan = store->Scan(
      store::Table::kVisibilityIndex, plan.prefix,
      [&](absl::string_view, absl::string_view) { return ++n <= kProbeLimit; });
  if (!scan.ok()) return scan;
  if (n > kProbeLimit) return std::nullopt;
  return n;
}

// Visits the row keys of a time range plan, in time order, until `visit`
// returns false.
absl::Status ScanRange(const store::Store* store,
                       const std::string& namespace_id, const Plan& plan,
                       const std::function<bool(std::string)>& visit) {
  const std::string row_prefix = store::VisibilityPrefix(namespace_id);
  const size_t time_at = plan.prefix.size();
  return store->Scan(
      store::Table::kVisibilityIndex, plan.prefix,
      [&](absl::string_view key, absl::string_view) {
        if (key.size() <= time_at + store::kTimeBytes ||
            key.substr(time_at, store::kTimeBytes) > plan.high) {
          return false;
        }
        return visit(
            absl::StrCat(row_prefix, key.substr(time_at + store::kTimeBytes)));
      },
      plan.after);
}

// Collects a range's row keys, sorted into List order, if there are at most
// kProbeLimit of them.
absl::StatusOr<std::optional<std::vector<std::string>>> CollectRange(
    const store::Store* store, const std::string& namespace_id,
    const Plan& plan) {
  std::vector<std::string> keys;
  bool exhausted = true;
  absl::Status scan =
      ScanRange(store, namespace_id, plan, [&](std::string row_key) {
        if (keys.size() == kProbeLimit) {
          exhausted = false;
          return false;
        }
        keys.push_back(std::move(row_key));
        return true;
      });
  if (!scan.ok()) return scan;
  if (!exhausted) return std::nullopt;
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The planner. Each equality on an indexed attribute and each time range in
// the top-level AND chain is a candidate; the one with the fewest entries,
// if any has at most kProbeLimit, wins. Otherwise List streams an equality
// index (a closed ExecutionStatus first: every index lists running rows
// first, so another would walk past all of them) or the whole namespace, and
// Count may also stream a time range. The full filter is applied either way.
absl::StatusOr<Plan> MakePlan(const store::Store* store,
                              const std::string& namespace_id,
                              const Expr* where, const CustomAttributes& custom,
                              bool ordered) {
  const Candidates candidates = FindCandidates(where, custom);
  std::optional<Plan> best;
  size_t best_size = 0;
  auto consider = [&](Plan plan, size_t size) {
    if (!best || size < best_size) {
      best = std::move(plan);
      best_size = size;
    }
  };
  for (const Equality& eq : candidates.equalities) {
    Plan plan = EqualityPlan(namespace_id, eq);
    auto size = CountEntries(store, plan);
    if (!size.ok()) return size.status();
    if (*size) consider(std::move(plan), **size);
  }
  for (const auto& [attribute, range] : candidates.ranges) {
    Plan plan = RangePlan(namespace_id, attribute, range);
    if (range.low > range.high) {
      plan.row_keys.emplace();  // matches nothing
      return plan;
    }
    auto keys = CollectRange(store, namespace_id, plan);
    if (!keys.ok()) return keys.status();
    if (!*keys) continue;
    const size_t size = (*keys)->size();
    plan.row_keys = std::move(**keys);
    consider(std::move(plan), size);
  }
  if (best) return *best;
  for (const Equality& eq : candidates.equalities) {
    if (eq.attribute == "ExecutionStatus" &&
        eq.value !=
            store::ExecutionStatusName(
                temporal::api::enums::v1::ACTIVITY_EXECUTION_STATUS_RUNNING)) {
      return EqualityPlan(namespace_id, eq);
    }
  }
  if (!candidates.equalities.empty()) {
    return EqualityPlan(namespace_id, candidates.equalities.front());
  }
  if (!ordered && !candidates.ranges.empty()) {
    const auto& [attribute, range] = *candidates.ranges.begin();
    return RangePlan(namespace_id, attribute, range);
  }
  return ScanPlan(namespace_id);
}

// Reads the row at `row_key` and passes it on; false stops the scan.
bool VisitRow(const store::Store* store, const std::string& row_key,
              absl::Status& error,
              const std::function<bool(absl::string_view, const Row&)>& visit) {
  auto got = store->Get(store::Table::kVisibility, row_key);
  if (!got.ok()) {
    error = got.status();
    return false;
  }
  if (!got->has_value()) return true;  // raced with a delete
  Row row;
  if (!row.ParseFromString(**got)) {
    error = absl::DataLossError("corrupt visibility row");
    return false;
  }
  return visit(row_key, row);
}

// Visits the (visibility key, row) pairs the plan covers, starting after
// `after` (a visibility key), until `visit` returns false. Every plan but a
// streamed time range visits in List order.
absl::Status Scan(
    const store::Store* store, const std::string& namespace_id,
    const Plan& plan, absl::string_view after,
    const std::function<bool(absl::string_view, const Row&)>& visit) {
  absl::Status error;
  if (plan.kind == Plan::Kind::kTimeRange) {
    if (plan.row_keys) {
      auto it = std::upper_bound(plan.row_keys->begin(), plan.row_keys->end(),
                                 std::string(after));
      for (; it != plan.row_keys->end(); ++it) {
        if (!VisitRow(store, *it, error, visit)) break;
      }
      return error;
    }
    absl::Status scan =
        ScanRange(store, namespace_id, plan, [&](std::string row_key) {
          return VisitRow(store, row_key, error, visit);
        });
    return scan.ok() ? error : scan;
  }
  const std::string row_prefix = store::VisibilityPrefix(namespace_id);
  std::string resume;
  if (!after.empty()) {
    resume = plan.kind == Plan::Kind::kScan
                 ? std::string(after)
                 : absl::StrCat(plan.prefix, after.substr(row_prefix.size()));
  }
  const store::Table table = plan.kind == Plan::Kind::kScan
                                 ? store::Table::kVisibility
                                 : store::Table::kVisibilityIndex;
  absl::Status scan = store->Scan(
      table, plan.prefix,
      [&](absl::string_view key, absl::string_view value) {
        if (plan.kind == Plan::Kind::kEquality) {
          return VisitRow(
              store, absl::StrCat(row_prefix, key.substr(plan.prefix.size())),
              error, visit);
        }
        Row row;
        if (!row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt visibility row");
          return false;
        }
        return visit(key, row);
      },
      resume);
  return scan.ok() ? error : scan;
}

// Counts the rows one call examines against its ScanLimits.
class Budget {
 public:
  Budget(const ScanLimits& limits, const Clock* clock)
      : limits_(limits), clock_(clock) {}

  // Whether the call may still start (its deadline has not passed).
  bool Open() {
    if (DeadlinePassed()) stop_ = Stop::kDeadline;
    return stop_ == Stop::kNo;
  }
  // Whether the next row may be examined; false once the call must stop.
  bool Take() {
    if (limits_.max_rows > 0 && examined_ >= limits_.max_rows) {
      stop_ = Stop::kRows;
    } else if (DeadlinePassed()) {
      stop_ = Stop::kDeadline;
    }
    if (stop_ != Stop::kNo) return false;
    ++examined_;
    return true;
  }
  bool stopped() const { return stop_ != Stop::kNo; }
  int64_t examined() const { return examined_; }

  // Why the scan stopped, for a call that cannot answer in part.
  absl::Status Error() const {
    constexpr absl::string_view kNarrow =
        "; narrow the query, for example with ExecutionStatus, ActivityType, "
        "TaskQueue or a StartTime/CloseTime range";
    if (stop_ == Stop::kRows) {
      return absl::ResourceExhaustedError(
          absl::StrCat("query scanned more than ", limits_.max_rows,
                       " rows without finishing", kNarrow));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("query did not finish before the call's deadline (",
                     examined_, " rows scanned)", kNarrow));
  }

 private:
  enum class Stop { kNo, kRows, kDeadline };

  bool DeadlinePassed() const {
    return limits_.deadline != absl::InfiniteFuture() &&
           clock_->Now() >= limits_.deadline;
  }

  const ScanLimits limits_;
  const Clock* const clock_;
  int64_t examined_ = 0;
  Stop stop_ = Stop::kNo;
};

// Only ExecutionStatus can group activities (Temporal's allow-list has no
// other activity attribute).
absl::Status CheckGroupBy(const Query& query) {
  if (query.group_by && *query.group_by != "ExecutionStatus") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid query: operation is not supported: 'GROUP BY' "
                     "clause is not supported for search attribute ",
                     *query.group_by));
  }
  return absl::OkStatus();
}

// What the status counts can answer: every run of the namespace, or those
// of one TaskQueue or ActivityType value, each narrowed or not to one
// ExecutionStatus, with or without GROUP BY ExecutionStatus.
struct CountsQuery {
  std::string attribute, value;       // empty: the whole namespace
  std::optional<std::string> status;  // ExecutionStatus = 'status'
  bool grouped = false;
};

// The query as a CountsQuery; nullopt when the counts cannot answer it. The
// filter must be an AND of at most one equality on the system
// ExecutionStatus and at most one on the system TaskQueue or ActivityType
// (not on custom attributes of those names), with string values, compared
// as the filter compares them: a value that is no status name matches no
// row, and has no count. A TaskQueue or ActivityType value that is not
// Indexable has no count (the writer leaves such rows out), so it scans.
std::optional<CountsQuery> CountsQueryOf(const Query& query,
                                         const CustomAttributes& custom) {
  CountsQuery counts;
  counts.grouped = query.group_by.has_value();  // CheckGroupBy passed
  std::vector<const Expr*> terms;
  Conjuncts(query.where.get(), terms);
  for (const Expr* term : terms) {
    const auto* cmp = std::get_if<Compare>(&term->node);
    if (cmp == nullptr || custom.contains(cmp->attribute) ||
        cmp->op != CompareOp::kEq ||
        cmp->value.kind != Literal::Kind::kString) {
      return std::nullopt;
    }
    if (cmp->attribute == "ExecutionStatus" && !counts.status) {
      counts.status = cmp->value.text;
    } else if ((cmp->attribute == "TaskQueue" ||
                cmp->attribute == "ActivityType") &&
               counts.attribute.empty() && Indexable(cmp->value.text)) {
      counts.attribute = cmp->attribute;
      counts.value = cmp->value.text;
    } else {
      return std::nullopt;
    }
  }
  return counts;
}

// Answers from the status counts (store/keys.h, CountKey): a point read for
// one status, or the counts of the namespace or of one attribute value in
// key order, which is status name order, the order of the scan's groups. Like
// the scan, statuses with no runs are left out. nullopt when the counts were
// never built (visibility::EnsureCounts) or hold a value no writer makes: the
// caller scans instead.
absl::StatusOr<std::optional<CountResult>> CountFromCounts(
    const store::Store* store, const std::string& namespace_id,
    const CountsQuery& query) {
  auto version = store->Get(store::Table::kMeta, kCountsVersionKey);
  if (!version.ok()) return version.status();
  if (!*version || **version != kCountsVersion) return std::nullopt;
  std::vector<std::pair<std::string, int64_t>> counts;  // non-zero only
  bool malformed = false;
  auto take = [&](absl::string_view status, absl::string_view value) {
    const std::optional<int64_t> n = store::DecodeCount(value);
    if (!n || *n < 0) {
      malformed = true;
      return false;
    }
    if (*n > 0) counts.emplace_back(std::string(status), *n);
    return true;
  };
  if (query.status) {
    auto got = store->Get(store::Table::kVisibilityCounts,
                          store::CountKey(namespace_id, query.attribute,
                                          query.value, *query.status));
    if (!got.ok()) return got.status();
    if (*got) take(*query.status, **got);
  } else {
    const std::string prefix =
        store::CountPrefix(namespace_id, query.attribute, query.value);
    absl::Status scan =
        store->Scan(store::Table::kVisibilityCounts, prefix,
                    [&](absl::string_view key, absl::string_view value) {
                      return take(key.substr(prefix.size()), value);
                    });
    if (!scan.ok()) return scan;
  }
  if (malformed) {
    spdlog::error(
        "visibility counts of namespace {} hold a malformed or negative "
        "value; counting by scan",
        namespace_id);
    return std::nullopt;
  }
  CountResult result;
  for (const auto& [status, n] : counts) result.count += n;
  if (query.grouped) result.groups = std::move(counts);
  return result;
}

}  // namespace

absl::StatusOr<ListPage> Lister::List(const std::string& namespace_id,
                                      const CustomAttributes& custom,
                                      absl::string_view query, int page_size,
                                      const std::string& page_token,
                                      const ScanLimits& limits) const {
  Budget budget(limits, clock_);
  if (!budget.Open()) return budget.Error();
  auto parsed = ParseQuery(query);
  if (!parsed.ok()) return parsed.status();
  // Like Temporal, List accepts a valid GROUP BY and lists the rows
  // ungrouped.
  if (absl::Status s = CheckGroupBy(*parsed); !s.ok()) return s;
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
  std::string last_key;      // of the last row returned
  std::string examined_key;  // of the last row examined
  bool more = false;
  auto plan = MakePlan(store_, namespace_id, parsed->where.get(), custom,
                       /*ordered=*/true);
  if (!plan.ok()) return plan.status();
  absl::Status scan =
      Scan(store_, namespace_id, *plan, page_token,
           [&](absl::string_view key, const Row& row) {
             if (!budget.Take()) return false;
             if (!(*filter)(row)) {
               examined_key.assign(key.data(), key.size());
               return true;
             }
             if (static_cast<int>(page.executions.size()) == page_size) {
               more = true;
               return false;
             }
             page.executions.push_back(row);
             last_key.assign(key.data(), key.size());
             examined_key = last_key;
             return true;
           });
  if (!scan.ok()) return scan;
  if (more) page.next_page_token = last_key;
  if (budget.stopped()) {
    if (budget.examined() == 0) return budget.Error();
    // Every row up to examined_key was looked at: resume after it. Keys
    // sort in List order on every ordered plan, so this is a valid token.
    page.next_page_token = examined_key;
  }
  return page;
}

absl::StatusOr<CountResult> Lister::Count(const std::string& namespace_id,
                                          const CustomAttributes& custom,
                                          absl::string_view query,
                                          const ScanLimits& limits) const {
  return Count(namespace_id, custom, query, limits, /*use_counts=*/true);
}

absl::StatusOr<CountResult> Lister::CountByScan(
    const std::string& namespace_id, const CustomAttributes& custom,
    absl::string_view query, const ScanLimits& limits) const {
  return Count(namespace_id, custom, query, limits, /*use_counts=*/false);
}

absl::StatusOr<CountResult> Lister::Count(const std::string& namespace_id,
                                          const CustomAttributes& custom,
                                          absl::string_view query,
                                          const ScanLimits& limits,
                                          bool use_counts) const {
  Budget budget(limits, clock_);
  if (!budget.Open()) return budget.Error();
  auto parsed = ParseQuery(query);
  if (!parsed.ok()) return parsed.status();
  if (absl::Status s = CheckGroupBy(*parsed); !s.ok()) return s;
  // Bound before the counts are read, so that a query they could answer
  // fails as the scan would.
  auto filter = BindFilter(parsed->where.get(), custom);
  if (!filter.ok()) return filter.status();
  const std::optional<CountsQuery> counts =
      use_counts ? CountsQueryOf(*parsed, custom) : std::nullopt;
  if (counts) {
    auto counted = CountFromCounts(store_, namespace_id, *counts);
    if (!counted.ok()) return counted.status();
    if (*counted) return **std::move(counted);
  }
  CountResult result;
  std::map<std::string, int64_t> groups;
  auto plan = MakePlan(store_, namespace_id, parsed->where.get(), custom,
                       /*ordered=*/false);
  if (!plan.ok()) return plan.status();
  absl::Status scan = Scan(store_, namespace_id, *plan, "",
                           [&](absl::string_view, const Row& row) {
                             if (!budget.Take()) return false;
                             if (!(*filter)(row)) return true;
                             ++result.count;
                             if (parsed->group_by) ++groups[StatusName(row)];
                             return true;
                           });
  if (!scan.ok()) return scan;
  if (budget.stopped()) return budget.Error();
  result.groups.assign(groups.begin(), groups.end());
  return result;
}

}  // namespace errand::visibility
