#include "errand/visibility/query.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace errand::visibility {
namespace {

std::string Parsed(absl::string_view text) {
  auto q = ParseQuery(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  if (!q.ok() || !q->where) return "";
  return ToString(*q->where);
}

std::string ErrorOf(absl::string_view text) {
  auto q = ParseQuery(text);
  EXPECT_FALSE(q.ok()) << text;
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(q.status().message());
}

TEST(QueryParserTest, EveryComparisonOperator) {
  EXPECT_EQ(Parsed("ActivityType = 'send_email'"),
            "ActivityType = 'send_email'");
  EXPECT_EQ(Parsed("Attempts != 3"), "Attempts != 3");
  EXPECT_EQ(Parsed("Attempts <> 3"), "Attempts != 3");
  EXPECT_EQ(Parsed("Score < 1.5"), "Score < 1.5");
  EXPECT_EQ(Parsed("Score <= -2"), "Score <= -2");
  EXPECT_EQ(Parsed("StartTime > '2026-11-01T00:00:00Z'"),
            "StartTime > '2026-11-01T00:00:00Z'");
  EXPECT_EQ(Parsed("StartTime >= \"2026-11-01T00:00:00Z\""),
            "StartTime >= '2026-11-01T00:00:00Z'");
  EXPECT_EQ(Parsed("ActivityId STARTS_WITH 'order-'"),
            "ActivityId STARTS_WITH 'order-'");
  EXPECT_EQ(Parsed("Urgent = true"), "Urgent = true");
}

TEST(QueryParserTest, SetRangeAndNullPredicates) {
  EXPECT_EQ(Parsed("ExecutionStatus IN ('Failed', 'TimedOut')"),
            "ExecutionStatus IN ('Failed', 'TimedOut')");
  EXPECT_EQ(Parsed("ExecutionStatus not in ('Running')"),
            "ExecutionStatus NOT IN ('Running')");
  EXPECT_EQ(
      Parsed("StartTime BETWEEN '2026-01-01T00:00:00Z' AND "
             "'2026-02-01T00:00:00Z'"),
      "StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'");
  EXPECT_EQ(Parsed("Score NOT BETWEEN 1 AND 2"), "Score NOT BETWEEN 1 AND 2");
  EXPECT_EQ(Parsed("CloseTime IS NULL"), "CloseTime IS NULL");
  EXPECT_EQ(Parsed("CloseTime is not null"), "CloseTime IS NOT NULL");
}

TEST(QueryParserTest, AndBindsTighterThanOrAndParenthesesOverride) {
  EXPECT_EQ(Parsed("A = 1 OR B = 2 AND C = 3"), "(A = 1 OR (B = 2 AND C = 3))");
  EXPECT_EQ(Parsed("(A = 1 OR B = 2) AND C = 3"),
            "((A = 1 OR B = 2) AND C = 3)");
  EXPECT_EQ(Parsed("NOT A = 1 AND B = 2"), "(NOT A = 1 AND B = 2)");
  EXPECT_EQ(Parsed("NOT (A = 1 OR B = 2)"), "NOT (A = 1 OR B = 2)");
  // A chain is one node; parentheses keep their own group.
  EXPECT_EQ(Parsed("A = 1 AND B = 2 AND C = 3"), "(A = 1 AND B = 2 AND C = 3)");
  EXPECT_EQ(Parsed("(A = 1 AND B = 2) AND C = 3"),
            "((A = 1 AND B = 2) AND C = 3)");
  EXPECT_EQ(Parsed("A = 1 OR B = 2 OR C = 3 AND D = 4 OR E = 5"),
            "(A = 1 OR B = 2 OR (C = 3 AND D = 4) OR E = 5)");
}

TEST(QueryParserTest, QuotingAndBackticks) {
  EXPECT_EQ(Parsed("`Activity Type` = 'it''s'"), "`Activity Type` = 'it''s'");
  EXPECT_EQ(Parsed("Name = 'back\\'slash'"), "Name = 'back''slash'");
  EXPECT_EQ(Parsed("`AND` = 'x'"), "`AND` = 'x'");
}

// A backslash in a value or a backticked name prints escaped, so the text
// parses back to the same value (a round trip the query fuzzer broke).
TEST(QueryParserTest, BackslashesPrintEscaped) {
  EXPECT_EQ(Parsed("Name = 'a\\\\b'"), "Name = 'a\\\\b'");
  EXPECT_EQ(Parsed("`x\\\\y` = 'a\\\\''b'"), "`x\\\\y` = 'a\\\\''b'");
  EXPECT_EQ(Parsed(Parsed("Name = 'a\\\\b'")), "Name = 'a\\\\b'");
}

TEST(QueryParserTest, GroupByAndEmptyQuery) {
  auto q = ParseQuery("GROUP BY ExecutionStatus");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->where, nullptr);
  EXPECT_EQ(*q->group_by, "ExecutionStatus");
  auto filtered = ParseQuery("TaskQueue = 'tq' group by ExecutionStatus");
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(*filtered->group_by, "ExecutionStatus");
  auto empty = ParseQuery("   ");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->where, nullptr);
  EXPECT_FALSE(empty->group_by.has_value());
}

// Syntax errors start as Temporal's do ("malformed SQL query: syntax error
// at position N") and then say what was wrong.
TEST(QueryParserTest, ErrorsSayWhatAndWhere) {
  const std::string syntax =
      "invalid query: malformed SQL query: syntax error at position ";
  EXPECT_EQ(ErrorOf("ActivityType = "),
            syntax +
                "16: expected a value (a quoted string, a number, true or "
                "false), found end of query");
  EXPECT_EQ(
      ErrorOf("ActivityType 'x'"),
      syntax +
          "14: expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, BETWEEN, "
          "STARTS_WITH, IS NULL) after ActivityType, found string 'x'");
  EXPECT_EQ(ErrorOf("A = 'unterminated"), syntax + "5: unterminated string");
  EXPECT_EQ(ErrorOf("(A = 1"), syntax + "7: expected ')', found end of query");
  EXPECT_EQ(
      ErrorOf("A = 1 B = 2"),
      syntax +
          "7: expected AND, OR, GROUP BY or the end of the query, found 'B'");
  EXPECT_EQ(ErrorOf("A IN ()"), syntax +
                                    "7: expected a value (a quoted string, a "
                                    "number, true or false), found ')'");
  EXPECT_EQ(ErrorOf("A == 1"), syntax + "3: use = for equality, not ==");
  EXPECT_EQ(
      ErrorOf("A = 1 AND"),
      syntax + "10: expected a search attribute name, found end of query");
  EXPECT_EQ(ErrorOf("A = 1 ; DROP"), syntax + "7: unexpected character ';'");
  EXPECT_EQ(ErrorOf("A BETWEEN 1 OR 2"),
            syntax + "13: expected AND between the BETWEEN bounds, found 'OR'");
  // Valid syntax the server does not support, in Temporal's words.
  EXPECT_EQ(ErrorOf("A = 1 ORDER BY StartTime"),
            "invalid query: operation is not supported: 'ORDER BY' clause");
  EXPECT_EQ(ErrorOf("A = 1 LIMIT 3"),
            "invalid query: operation is not supported: 'LIMIT' clause");
  EXPECT_EQ(ErrorOf("GROUP BY A, B"),
            "invalid query: operation is not supported: 'GROUP BY' clause "
            "supports only a single field");
}

TEST(QueryParserTest, NumbersAreTyped) {
  auto q = ParseQuery("A = 42 AND B = 2.5");
  ASSERT_TRUE(q.ok());
  const auto& both = std::get<And>(q->where->node);
  ASSERT_EQ(both.operands.size(), 2u);
  const auto& a = std::get<Compare>(both.operands[0]->node);
  const auto& b = std::get<Compare>(both.operands[1]->node);
  EXPECT_EQ(a.value.kind, Literal::Kind::kInteger);
  EXPECT_EQ(a.value.integer, 42);
  EXPECT_EQ(b.value.kind, Literal::Kind::kFloat);
  EXPECT_DOUBLE_EQ(b.value.number, 2.5);
}

// Queries a client can send to knock the server over: each used to overflow
// the stack (parser, binder, printer or destructor). Past a limit the query
// is refused with INVALID_ARGUMENT; just under it, it parses and prints.
std::string Repeat(absl::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

std::string Nested(int depth) {
  return absl::StrCat(Repeat("(", depth), "A = 1", Repeat(")", depth));
}

std::string Chain(absl::string_view op, int terms) {
  std::string out = "A = 1";
  for (int i = 1; i < terms; ++i) absl::StrAppend(&out, " ", op, " A = 1");
  return out;
}

TEST(QueryLimitsTest, TooLongIsRefusedBeforeParsing) {
  // The probe's inputs: 7,000 nested parentheses (14 KB) is refused for its
  // depth; 15,000 NOTs and a 40,000-term chain for their length.
  EXPECT_EQ(ErrorOf(Repeat("NOT ", 15000) + "A = 1"),
            "invalid query: query length exceeds limit. Length=60005 "
            "Limit=32768");
  EXPECT_EQ(ErrorOf(Chain("OR", 40000)),
            "invalid query: query length exceeds limit. Length=359996 "
            "Limit=32768");
  EXPECT_EQ(ErrorOf(Chain("AND", 40000)),
            "invalid query: query length exceeds limit. Length=399995 "
            "Limit=32768");
  // Exactly at the limit is fine: the text is only spaces around a term.
  const std::string padded = "A = 1" + std::string(kMaxQueryBytes - 5, ' ');
  ASSERT_EQ(padded.size(), kMaxQueryBytes);
  EXPECT_EQ(Parsed(padded), "A = 1");
  EXPECT_EQ(ErrorOf(padded + " "),
            "invalid query: query length exceeds limit. Length=32769 "
            "Limit=32768");
}

TEST(QueryLimitsTest, NestingDeeperThanTheLimitIsRefused) {
  const std::string depth_error =
      "invalid query: malformed SQL query: max nesting level reached at "
      "position 101: at most 100 parentheses and NOTs may be open at once";
  EXPECT_EQ(ErrorOf(Nested(7000)), depth_error);
  EXPECT_EQ(ErrorOf(Nested(101)), depth_error);
  EXPECT_EQ(ErrorOf(Repeat("NOT ", 101) + "A = 1"),
            "invalid query: malformed SQL query: max nesting level reached at "
            "position 401: at most 100 parentheses and NOTs may be open at "
            "once");
  // NOTs and parentheses count together.
  EXPECT_EQ(ErrorOf(Repeat("NOT (", 51) + "A = 1" + Repeat(")", 51)),
            "invalid query: malformed SQL query: max nesting level reached at "
            "position 251: at most 100 parentheses and NOTs may be open at "
            "once");
  // At the limit, both parse; parentheses that close give their level back.
  EXPECT_EQ(Parsed(Nested(kMaxQueryDepth)), "A = 1");
  EXPECT_EQ(Parsed(Repeat("NOT ", kMaxQueryDepth) + "A = 1"),
            Repeat("NOT ", kMaxQueryDepth) + "A = 1");
  const std::string siblings = Nested(kMaxQueryDepth) + " AND " +
                               Nested(kMaxQueryDepth) + " OR " +
                               Nested(kMaxQueryDepth);
  EXPECT_EQ(Parsed(siblings), "((A = 1 AND A = 1) OR A = 1)");
}

TEST(QueryLimitsTest, MorePredicatesThanTheLimitAreRefused) {
  // 1,001 terms fit in the byte limit, so the count is what stops them.
  ASSERT_LT(Chain("OR", kMaxQueryPredicates + 1).size(), kMaxQueryBytes);
  EXPECT_EQ(ErrorOf(Chain("OR", kMaxQueryPredicates + 1)),
            "invalid query: predicate count exceeds limit at position 9001. "
            "Limit=1000");
  EXPECT_EQ(ErrorOf(Chain("AND", kMaxQueryPredicates + 1)),
            "invalid query: predicate count exceeds limit at position 10001. "
            "Limit=1000");
  // Every kind of predicate counts, wherever it is in the tree.
  std::string mixed = "A IN (1, 2) AND (B BETWEEN 1 AND 2 OR C IS NULL)";
  for (int i = 3; i < kMaxQueryPredicates; ++i)
    absl::StrAppend(&mixed, " OR D = 1");
  EXPECT_TRUE(ParseQuery(mixed).ok());
  EXPECT_EQ(ErrorOf(mixed + " OR NOT E = 1"),
            absl::StrCat("invalid query: predicate count exceeds limit at "
                         "position ",
                         mixed.size() + 9, ". Limit=1000"));
}

// A chain at the limit is one node: it parses, prints, and is destroyed
// without recursing per term.
TEST(QueryLimitsTest, LongestChainIsOneNode) {
  for (const absl::string_view op : {"OR", "AND"}) {
    const std::string text = Chain(op, kMaxQueryPredicates);
    auto q = ParseQuery(text);
    ASSERT_TRUE(q.ok()) << q.status();
    const auto& operands = op == "OR" ? std::get<Or>(q->where->node).operands
                                      : std::get<And>(q->where->node).operands;
    EXPECT_EQ(operands.size(), static_cast<size_t>(kMaxQueryPredicates));
    EXPECT_EQ(ToString(*q->where), absl::StrCat("(", text, ")"));
  }
}

}  // namespace
}  // namespace errand::visibility
