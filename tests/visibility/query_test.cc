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

TEST(QueryParserTest, ErrorsSayWhatAndWhere) {
  EXPECT_EQ(ErrorOf("ActivityType = "),
            "invalid query: expected a value (a quoted string, a number, true "
            "or false), found end of query at position 16");
  EXPECT_EQ(ErrorOf("ActivityType 'x'"),
            "invalid query: expected an operator (=, !=, <, <=, >, >=, IN, NOT "
            "IN, BETWEEN, STARTS_WITH, IS NULL) after ActivityType, found "
            "string 'x' at position 14");
  EXPECT_EQ(ErrorOf("A = 'unterminated"),
            "invalid query: unterminated string at position 5");
  EXPECT_EQ(ErrorOf("(A = 1"),
            "invalid query: expected ')', found end of query at position 7");
  EXPECT_EQ(
      ErrorOf("A = 1 B = 2"),
      "invalid query: expected AND, OR, GROUP BY or the end of the query, "
      "found 'B' at position 7");
  EXPECT_EQ(ErrorOf("A IN ()"),
            "invalid query: expected a value (a quoted string, a number, true "
            "or false), found ')' at position 7");
  EXPECT_EQ(ErrorOf("A == 1"),
            "invalid query: use = for equality, not == at position 3");
  EXPECT_EQ(ErrorOf("A = 1 ORDER BY StartTime"),
            "invalid query: 'ORDER BY' clause is not supported at position 7");
  EXPECT_EQ(ErrorOf("A = 1 LIMIT 3"),
            "invalid query: 'LIMIT' clause is not supported at position 7");
  EXPECT_EQ(ErrorOf("GROUP BY A, B"),
            "invalid query: 'GROUP BY' clause supports only a single field at "
            "position 11");
  EXPECT_EQ(ErrorOf("A = 1 AND"),
            "invalid query: expected a search attribute name, found end of "
            "query at position 10");
  EXPECT_EQ(ErrorOf("A = 1 ; DROP"),
            "invalid query: unexpected character ';' at position 7");
  EXPECT_EQ(
      ErrorOf("A BETWEEN 1 OR 2"),
      "invalid query: expected AND between the BETWEEN bounds, found 'OR' "
      "at position 13");
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
