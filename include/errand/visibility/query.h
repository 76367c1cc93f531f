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
struct And {
  ExprPtr left, right;
};
struct Or {
  ExprPtr left, right;
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

// Parses `text`. A malformed query is INVALID_ARGUMENT with a message that
// says what was expected and at which character position.
absl::StatusOr<Query> ParseQuery(absl::string_view text);

// Renders a tree back to canonical query text (fully parenthesized); used by
// tests and in error messages.
std::string ToString(const Expr& expr);

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_QUERY_H_
