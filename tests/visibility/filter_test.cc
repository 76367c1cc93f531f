#include "errand/visibility/filter.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "errand/visibility/query.h"

namespace errand::visibility {
namespace {

namespace enums = temporal::api::enums::v1;
using temporal::api::common::v1::Payload;

Payload JsonPayload(absl::string_view text) {
  Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(std::string(text));
  return p;
}

TEST(CheckCustomValueTest, IntValuesMustFitInAnInt64) {
  for (const char* text :
       {"9223372036854775807", "-9223372036854775808", "0"}) {
    EXPECT_TRUE(CheckCustomValue("Big", enums::INDEXED_VALUE_TYPE_INT,
                                 JsonPayload(text))
                    .ok())
        << text;
  }
  for (const char* text : {"9223372036854775808", "-9223372036854775809",
                           "1e19", "-1e19", "1e300", "inf", "-inf"}) {
    absl::Status s = CheckCustomValue("Big", enums::INDEXED_VALUE_TYPE_INT,
                                      JsonPayload(text));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(
        s.message(),
        absl::StrCat("invalid value for search attribute Big of type Int: ",
                     text));
  }
}

// Whether `query` matches a row whose Int attribute "Big" holds `json`.
bool Matches(absl::string_view query, absl::string_view json) {
  CustomAttributes custom;
  custom["Big"] = enums::INDEXED_VALUE_TYPE_INT;
  auto q = ParseQuery(query);
  EXPECT_TRUE(q.ok()) << q.status();
  auto filter = BindFilter(q->where.get(), custom);
  EXPECT_TRUE(filter.ok()) << filter.status();
  Row row;
  (*row.mutable_search_attributes()->mutable_indexed_fields())["Big"] =
      JsonPayload(json);
  return (*filter)(row);
}

TEST(BindFilterTest, IntAttributesCompareExactlyAtTheEdgesOfInt64) {
  EXPECT_TRUE(Matches("Big = 9223372036854775807", "9223372036854775807"));
  EXPECT_FALSE(Matches("Big = 9223372036854775806", "9223372036854775807"));
  EXPECT_TRUE(Matches("Big = -9223372036854775808", "-9223372036854775808"));
}

// Rows stored before start requests were range-checked can hold an Int value
// no int64 can represent; it reads as NULL, which no comparison matches.
TEST(BindFilterTest, IntValuesOutsideInt64ReadAsNull) {
  for (const char* json : {"1e30", "-1e30", "inf", "9223372036854775808"}) {
    EXPECT_FALSE(Matches("Big > 0", json)) << json;
    EXPECT_FALSE(Matches("Big < 0", json)) << json;
    EXPECT_TRUE(Matches("Big IS NULL", json)) << json;
  }
}

TEST(ListedSearchAttributesTest, TypesMappedValuesAndDropsTheOthers) {
  CustomAttributes custom;
  custom["Color"] = enums::INDEXED_VALUE_TYPE_KEYWORD;
  custom["Size"] = enums::INDEXED_VALUE_TYPE_INT;
  temporal::api::common::v1::SearchAttributes attributes;
  auto& fields = *attributes.mutable_indexed_fields();
  fields["Color"] = JsonPayload(R"("red")");
  fields["Size"] = JsonPayload("3");
  (*fields["Size"].mutable_metadata())["type"] = "Int";
  fields["TemporalChangeVersion"] = JsonPayload(R"(["v1"])");
  fields["Removed"] = JsonPayload(R"("x")");

  ListedSearchAttributes(custom, &attributes);

  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields.at("Color").metadata().at("type"), "Keyword");
  EXPECT_EQ(fields.at("Color").data(), R"("red")");
  EXPECT_EQ(fields.at("Size").metadata().at("type"), "Int");
  EXPECT_EQ(fields.at("Size").metadata().size(), 2u);
}

}  // namespace
}  // namespace errand::visibility
