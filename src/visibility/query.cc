#include "errand/visibility/query.h"

#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace errand::visibility {
namespace {

enum class TokenKind {
  kEnd,
  kIdentifier,  // bare word that is not a keyword, or `backticked`
  kKeyword,     // upper-cased in `text`
  kString,
  kNumber,
  kOperator,  // = != <> < <= > >=
  kLeftParen,
  kRightParen,
  kComma,
};

struct Token {
  TokenKind kind;
  std::string text;
  size_t position;  // 1-based character position, for error messages
};

constexpr const char* kKeywords[] = {
    "AND",         "OR",    "NOT", "IN",    "BETWEEN", "IS",   "NULL",
    "STARTS_WITH", "GROUP", "BY",  "ORDER", "LIMIT",   "TRUE", "FALSE"};

bool IsKeyword(const std::string& upper) {
  for (const char* k : kKeywords) {
    if (upper == k) return true;
  }
  return false;
}

// Temporal's wording ("invalid query: malformed SQL query: syntax error at
// position N"), followed by what was wrong there.
absl::Status Error(size_t position, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid query: malformed SQL query: syntax error at "
                   "position ",
                   position, ": ", what));
}

// Valid syntax the server does not support.
absl::Status Unsupported(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid query: operation is not supported: ", what));
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const size_t pos = i + 1;
    if (absl::ascii_isspace(c)) {
      ++i;
    } else if (c == '(') {
      tokens.push_back({TokenKind::kLeftParen, "(", pos});
      ++i;
    } else if (c == ')') {
      tokens.push_back({TokenKind::kRightParen, ")", pos});
      ++i;
    } else if (c == ',') {
      tokens.push_back({TokenKind::kComma, ",", pos});
      ++i;
    } else if (c == '\'' || c == '"' || c == '`') {
      // Quotes escape themselves by doubling ('it''s') or by backslash.
      std::string value;
      size_t j = i + 1;
      bool closed = false;
      while (j < text.size()) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          value.push_back(text[j + 1]);
          j += 2;
        } else if (text[j] == c) {
          if (j + 1 < text.size() && text[j + 1] == c) {
            value.push_back(c);
            j += 2;
          } else {
            closed = true;
            ++j;
            break;
          }
        } else {
          value.push_back(text[j++]);
        }
      }
      if (!closed) {
        return Error(pos, c == '`' ? "unterminated backticked name"
                                   : "unterminated string");
      }
      tokens.push_back(
          {c == '`' ? TokenKind::kIdentifier : TokenKind::kString, value, pos});
      i = j;
    } else if (absl::ascii_isdigit(c) ||
               ((c == '-' || c == '+' || c == '.') && i + 1 < text.size() &&
                (absl::ascii_isdigit(text[i + 1]) || text[i + 1] == '.'))) {
      size_t j = i + 1;
      while (j < text.size() &&
             (absl::ascii_isalnum(text[j]) || text[j] == '.' ||
              ((text[j] == '-' || text[j] == '+') &&
               (text[j - 1] == 'e' || text[j - 1] == 'E')))) {
        ++j;
      }
      tokens.push_back(
          {TokenKind::kNumber, std::string(text.substr(i, j - i)), pos});
      i = j;
    } else if (absl::ascii_isalpha(c) || c == '_') {
      size_t j = i + 1;
      while (j < text.size() && (absl::ascii_isalnum(text[j]) ||
                                 text[j] == '_' || text[j] == '.')) {
        ++j;
      }
      std::string word(text.substr(i, j - i));
      std::string upper = absl::AsciiStrToUpper(word);
      if (IsKeyword(upper)) {
        tokens.push_back({TokenKind::kKeyword, upper, pos});
      } else {
        tokens.push_back({TokenKind::kIdentifier, word, pos});
      }
      i = j;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < text.size() &&
          (text[i + 1] == '=' || (c == '<' && text[i + 1] == '>'))) {
        op.push_back(text[i + 1]);
      }
      if (op == "!") return Error(pos, "expected != after !");
      if (op == "==") return Error(pos, "use = for equality, not ==");
      tokens.push_back({TokenKind::kOperator, op, pos});
      i += op.size();
    } else {
      return Error(
          pos, absl::StrCat("unexpected character '", std::string(1, c), "'"));
    }
  }
  tokens.push_back({TokenKind::kEnd, "", text.size() + 1});
  return tokens;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd:
      return "end of query";
    case TokenKind::kString:
      return absl::StrCat("string '", t.text, "'");
    default:
      return absl::StrCat("'", t.text, "'");
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<Query> ParseAll() {
    Query query;
    if (!AtKeyword("GROUP") && !AtKeyword("ORDER") && !AtKeyword("LIMIT") &&
        Peek().kind != TokenKind::kEnd) {
      auto where = ParseOr();
      if (!where.ok()) return where.status();
      query.where = std::move(*where);
    }
    if (AtKeyword("GROUP")) {
      Next();
      if (!AtKeyword("BY")) return Expected("BY after GROUP");
      Next();
      if (Peek().kind != TokenKind::kIdentifier) {
        return Expected("a search attribute name after GROUP BY");
      }
      query.group_by = Next().text;
      if (Peek().kind == TokenKind::kComma) {
        return Unsupported("'GROUP BY' clause supports only a single field");
      }
    }
    if (AtKeyword("ORDER")) {
      return Unsupported("'ORDER BY' clause");
    }
    if (AtKeyword("LIMIT")) {
      return Unsupported("'LIMIT' clause");
    }
    if (Peek().kind != TokenKind::kEnd) {
      return Expected("AND, OR, GROUP BY or the end of the query");
    }
    return query;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_++]; }
  bool AtKeyword(const char* k) const {
    return Peek().kind == TokenKind::kKeyword && Peek().text == k;
  }
  absl::Status Expected(absl::string_view what) const {
    return Error(Peek().position,
                 absl::StrCat("expected ", what, ", found ", Describe(Peek())));
  }

  // A chain of ORs (or ANDs) becomes one node: a long flat chain adds no
  // depth to the tree, and its operands are gathered in a loop.
  absl::StatusOr<ExprPtr> ParseOr() {
    std::vector<ExprPtr> operands;
    while (true) {
      auto operand = ParseAnd();
      if (!operand.ok()) return operand;
      operands.push_back(*std::move(operand));
      if (!AtKeyword("OR")) break;
      Next();
    }
    if (operands.size() == 1) return std::move(operands.front());
    return std::make_unique<Expr>(Expr{Or{std::move(operands)}});
  }

  absl::StatusOr<ExprPtr> ParseAnd() {
    std::vector<ExprPtr> operands;
    while (true) {
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      operands.push_back(*std::move(operand));
      if (!AtKeyword("AND")) break;
      Next();
    }
    if (operands.size() == 1) return std::move(operands.front());
    return std::make_unique<Expr>(Expr{And{std::move(operands)}});
  }

  // NOT and '(' are the only ways to recurse, so counting them bounds the
  // parser's stack, and with it the tree's depth: each level adds at most an
  // OR, an AND and a NOT node.
  absl::StatusOr<ExprPtr> ParseUnary() {
    const bool is_not = AtKeyword("NOT");
    if (!is_not && Peek().kind != TokenKind::kLeftParen) {
      return ParsePredicate();
    }
    if (depth_ == kMaxQueryDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid query: malformed SQL query: max nesting level reached at "
          "position ",
          Peek().position, ": at most ", kMaxQueryDepth,
          " parentheses and NOTs may be open at once"));
    }
    Next();
    ++depth_;
    absl::StatusOr<ExprPtr> result;
    if (is_not) {
      result = ParseUnary();
      if (result.ok()) {
        result = std::make_unique<Expr>(Expr{Not{*std::move(result)}});
      }
    } else {
      result = ParseOr();
      if (result.ok()) {
        if (Peek().kind != TokenKind::kRightParen) {
          result = Expected("')'");
        } else {
          Next();
        }
      }
    }
    --depth_;
    return result;
  }

  absl::StatusOr<Literal> ParseLiteral() {
    const Token& t = Peek();
    Literal lit;
    if (t.kind == TokenKind::kString) {
      lit.kind = Literal::Kind::kString;
      lit.text = t.text;
    } else if (t.kind == TokenKind::kNumber) {
      lit.text = t.text;
      if (absl::SimpleAtoi(t.text, &lit.integer)) {
        lit.kind = Literal::Kind::kInteger;
        lit.number = static_cast<double>(lit.integer);
      } else if (absl::SimpleAtod(t.text, &lit.number)) {
        lit.kind = Literal::Kind::kFloat;
      } else {
        return Error(t.position, absl::StrCat("invalid number '", t.text, "'"));
      }
    } else if (t.kind == TokenKind::kKeyword &&
               (t.text == "TRUE" || t.text == "FALSE")) {
      lit.kind = Literal::Kind::kBool;
      lit.boolean = t.text == "TRUE";
      lit.text = t.text == "TRUE" ? "true" : "false";
    } else {
      return Expected("a value (a quoted string, a number, true or false)");
    }
    Next();
    return lit;
  }

  absl::StatusOr<ExprPtr> ParsePredicate() {
    if (Peek().kind != TokenKind::kIdentifier) {
      return Expected("a search attribute name");
    }
    if (predicates_ == kMaxQueryPredicates) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid query: predicate count exceeds limit at "
                       "position ",
                       Peek().position, ". Limit=", kMaxQueryPredicates));
    }
    ++predicates_;
    const std::string attribute = Next().text;
    auto make = [](auto node) {
      return std::make_unique<Expr>(Expr{std::move(node)});
    };

    if (Peek().kind == TokenKind::kOperator) {
      const std::string op = Next().text;
      auto value = ParseLiteral();
      if (!value.ok()) return value.status();
      CompareOp cmp = CompareOp::kEq;
      if (op == "=")
        cmp = CompareOp::kEq;
      else if (op == "!=" || op == "<>")
        cmp = CompareOp::kNe;
      else if (op == "<")
        cmp = CompareOp::kLt;
      else if (op == "<=")
        cmp = CompareOp::kLe;
      else if (op == ">")
        cmp = CompareOp::kGt;
      else
        cmp = CompareOp::kGe;
      return make(Compare{attribute, cmp, std::move(*value)});
    }
    if (AtKeyword("STARTS_WITH")) {
      Next();
      if (Peek().kind != TokenKind::kString) {
        return Expected("a quoted string after STARTS_WITH");
      }
      auto value = ParseLiteral();
      if (!value.ok()) return value.status();
      return make(
          Compare{attribute, CompareOp::kStartsWith, std::move(*value)});
    }
    bool negated = false;
    if (AtKeyword("NOT")) {
      Next();
      negated = true;
      if (!AtKeyword("IN") && !AtKeyword("BETWEEN")) {
        return Expected("IN or BETWEEN after NOT");
      }
    }
    if (AtKeyword("IN")) {
      Next();
      if (Peek().kind != TokenKind::kLeftParen) return Expected("'(' after IN");
      Next();
      InList in{attribute, {}, negated};
      while (true) {
        auto value = ParseLiteral();
        if (!value.ok()) return value.status();
        in.values.push_back(std::move(*value));
        if (Peek().kind == TokenKind::kComma) {
          Next();
          continue;
        }
        if (Peek().kind == TokenKind::kRightParen) {
          Next();
          break;
        }
        return Expected("',' or ')' in the IN list");
      }
      return make(std::move(in));
    }
    if (AtKeyword("BETWEEN")) {
      Next();
      auto low = ParseLiteral();
      if (!low.ok()) return low.status();
      if (!AtKeyword("AND")) return Expected("AND between the BETWEEN bounds");
      Next();
      auto high = ParseLiteral();
      if (!high.ok()) return high.status();
      return make(
          Between{attribute, std::move(*low), std::move(*high), negated});
    }
    if (AtKeyword("IS")) {
      Next();
      bool not_null = false;
      if (AtKeyword("NOT")) {
        Next();
        not_null = true;
      }
      if (!AtKeyword("NULL")) return Expected("NULL after IS");
      Next();
      return make(IsNull{attribute, not_null});
    }
    return Expected(absl::StrCat(
        "an operator (=, !=, <, <=, >, >=, IN, NOT IN, BETWEEN, STARTS_WITH, "
        "IS NULL) after ",
        attribute));
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;       // parentheses and NOTs open at the current token
  int predicates_ = 0;  // parsed so far
};

// Backticks a name unless it reads back as the same bare identifier.
std::string NameText(const std::string& name) {
  bool bare = !name.empty() &&
              (absl::ascii_isalpha(name[0]) || name[0] == '_') &&
              !IsKeyword(absl::AsciiStrToUpper(name));
  for (char c : name) {
    bare = bare && (absl::ascii_isalnum(c) || c == '_' || c == '.');
  }
  if (bare) return name;
  std::string quoted = "`";
  for (char c : name) {
    // The lexer reads a backslash as an escape: double it to keep it.
    if (c == '`' || c == '\\') quoted.push_back(c);
    quoted.push_back(c);
  }
  quoted.push_back('`');
  return quoted;
}

std::string LiteralText(const Literal& l) {
  if (l.kind == Literal::Kind::kString) return QuoteString(l.text);
  return l.text;
}

const char* OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kStartsWith:
      return "STARTS_WITH";
  }
  return "?";
}

}  // namespace

absl::StatusOr<Query> ParseQuery(absl::string_view text) {
  // Checked before anything is tokenized, so a huge query costs nothing.
  if (text.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid query: query length exceeds limit. Length=", text.size(),
        " Limit=", kMaxQueryBytes));
  }
  auto tokens = Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(*tokens)).ParseAll();
}

std::string QuoteString(absl::string_view text) {
  std::string escaped;
  for (char c : text) {
    // Quotes double; a backslash would escape what follows, so it is
    // escaped itself (found by tests/fuzz/query_fuzz.cc).
    if (c == '\'') escaped.push_back('\'');
    if (c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return absl::StrCat("'", escaped, "'");
}

std::string ToString(const Expr& expr) {
  return std::visit(
      [](const auto& n) -> std::string {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, Compare>) {
          return absl::StrCat(NameText(n.attribute), " ", OpText(n.op), " ",
                              LiteralText(n.value));
        } else if constexpr (std::is_same_v<N, InList>) {
          std::vector<std::string> values;
          for (const auto& v : n.values) values.push_back(LiteralText(v));
          return absl::StrCat(NameText(n.attribute),
                              n.negated ? " NOT IN (" : " IN (",
                              absl::StrJoin(values, ", "), ")");
        } else if constexpr (std::is_same_v<N, Between>) {
          return absl::StrCat(NameText(n.attribute),
                              n.negated ? " NOT BETWEEN " : " BETWEEN ",
                              LiteralText(n.low), " AND ", LiteralText(n.high));
        } else if constexpr (std::is_same_v<N, IsNull>) {
          return absl::StrCat(NameText(n.attribute),
                              n.negated ? " IS NOT NULL" : " IS NULL");
        } else if constexpr (std::is_same_v<N, And> || std::is_same_v<N, Or>) {
          // Recurses once per nesting level of the tree, which the parser
          // bounds; the operands of a chain are joined in a loop.
          std::vector<std::string> operands;
          operands.reserve(n.operands.size());
          for (const auto& operand : n.operands) {
            operands.push_back(ToString(*operand));
          }
          return absl::StrCat(
              "(",
              absl::StrJoin(operands,
                            std::is_same_v<N, And> ? " AND " : " OR "),
              ")");
        } else {
          return absl::StrCat("NOT ", ToString(*n.operand));
        }
      },
      expr.node);
}

}  // namespace errand::visibility
