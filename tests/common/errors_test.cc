#include "errand/common/errors.h"

#include <gtest/gtest.h>

#include "errand/common/uuid.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand {
namespace {

TEST(ErrorsTest, NamespaceNotFoundCarriesTemporalMessageAndDetail) {
  const absl::Status s = NamespaceNotFoundError("missing");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Namespace missing is not found.");
  auto payload = s.GetPayload(
      "type.googleapis.com/"
      "temporal.api.errordetails.v1.NamespaceNotFoundFailure");
  ASSERT_TRUE(payload.has_value());
  temporal::api::errordetails::v1::NamespaceNotFoundFailure detail;
  ASSERT_TRUE(detail.ParseFromString(std::string(*payload)));
  EXPECT_EQ(detail.namespace_(), "missing");
}

TEST(UuidTest, NewUuidsAreCanonicalVersion4AndDistinct) {
  const std::string a = NewUuid();
  const std::string b = NewUuid();
  EXPECT_TRUE(IsUuid(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(a[14], '4');
}

TEST(UuidTest, RejectsMalformed) {
  EXPECT_TRUE(IsUuid("123e4567-E89B-12d3-a456-426614174000"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456_426614174000"));
}

}  // namespace
}  // namespace errand
