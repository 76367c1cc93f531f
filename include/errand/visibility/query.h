// Temporal's List Filter: the SQL-like language of List/Count queries, e.g.
//   ActivityType = 'send_email' AND ExecutionStatus = 'Failed'
//     AND StartTime > '2026-11-01T00:00:00Z'
// parsed into a tree. The parser knows the grammar only; which attributes
// exist and how literals convert to their types is decided when the query is
// bound to a namespace's schema.
#ifndef ERRAND_VISIBILITY_QUERY_H_
#define ERRAND_VISIBILITY_QUERY_H_

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace errand::visibility {

// A literal as written: quoted text, a number, or true/false.
struct Literal {
  enum class Kind { kString, kInteger, kFloat, kBool };
  Kind kind = Kind::kString;
  std::string text;  // the string's content, or the number as written
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;

  bool operator==(const Literal&) const = default;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kStartsWith };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Compare {
  std::string attribute;
  CompareOp op;
  Literal value;
};
struct InList {
  std::string attribute;
  std::vector<Literal> values;
  bool negated = false;  // NOT IN
};
struct Between {
  std::string attribute;
  Literal low, high;
  bool negated = false;  // NOT BETWEEN
};
struct IsNull {
  std::string attribute;
  bool negated = false;  // IS NOT NULL
};
// A chain of terms joined by one operator is one node with two or more
// operands, not a chain of binary nodes: a flat `A OR B OR ...` then adds no
// depth, so the tree is only as deep as the query's nesting (parentheses and
// NOTs), which the parser bounds. Every walk of the tree may recurse.
struct And {
  std::vector<ExprPtr> operands;
};
struct Or {
  std::vector<ExprPtr> operands;
};
struct Not {
  ExprPtr operand;
};

struct Expr {
  std::variant<Compare, InList, Between, IsNull, And, Or, Not> node;
};

struct Query {
  ExprPtr where;  // null: every execution
  std::optional<std::string> group_by;
};

// Limits on what one List/Count query may hold. They keep a hostile query
// from exhausting the stack (the parser and every walk of the tree recurse
// once per nesting level) or the CPU (the filter runs on every row scanned),
// and sit far above what a person or a UI writes: Temporal's Elasticsearch
// visibility stops at 1,024 clauses by default (max_clause_count), and the
// deepest query a UI builds nests a handful of levels.
//  - bytes of query text: 32 KiB holds 1,000 short predicates or an IN list
//    of several hundred IDs, and bounds the tokens held while parsing;
inline constexpr size_t kMaxQueryBytes = 32 * 1024;
//  - parentheses and NOTs open at once; a 100-deep query is a few hundred
//    small frames, far inside any thread's stack;
inline constexpr int kMaxQueryDepth = 100;
//  - predicates (comparisons, IN, BETWEEN, IS NULL) in the whole query.
inline constexpr int kMaxQueryPredicates = 1000;

// Parses `text`. A malformed query is INVALID_ARGUMENT with a message that
// says what was expected and at which character position; so is one past
// the limits above.
absl::StatusOr<Query> ParseQuery(absl::string_view text);

// A string literal as query text: quoted, with quotes and backslashes
// escaped so that it reads back as `text`.
std::string QuoteString(absl::string_view text);

// Renders a tree back to canonical query text (every AND and OR chain in
// parentheses); used by tests and in error messages.
std::string ToString(const Expr& expr);

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_QUERY_H_
