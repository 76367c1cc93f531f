#include "errand/visibility/query.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(Parsed("A = 1 AND B = 2 AND C = 3"),
            "((A = 1 AND B = 2) AND C = 3)");
}

TEST(QueryParserTest, QuotingAndBackticks) {
  EXPECT_EQ(Parsed("`Activity Type` = 'it''s'"), "`Activity Type` = 'it''s'");
  EXPECT_EQ(Parsed("Name = 'back\\'slash'"), "Name = 'back''slash'");
  EXPECT_EQ(Parsed("`AND` = 'x'"), "`AND` = 'x'");
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
  const auto& a = std::get<Compare>(both.left->node);
  const auto& b = std::get<Compare>(both.right->node);
  EXPECT_EQ(a.value.kind, Literal::Kind::kInteger);
  EXPECT_EQ(a.value.integer, 42);
  EXPECT_EQ(b.value.kind, Literal::Kind::kFloat);
  EXPECT_DOUBLE_EQ(b.value.number, 2.5);
}

}  // namespace
}  // namespace errand::visibility
