#include "errand/frontend/grpc_status.h"

#include <gtest/gtest.h>

#include "errand/common/errors.h"
#include "google/rpc/status.pb.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand::frontend {
namespace {

TEST(GrpcStatusTest, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusTest, PlainErrorHasNoDetails) {
  const grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("bad"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "bad");
  EXPECT_TRUE(s.error_details().empty());
}

TEST(GrpcStatusTest, TemporalDetailBecomesFirstGoogleRpcStatusDetail) {
  const grpc::Status s = ToGrpcStatus(NamespaceNotFoundError("ns1"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  EXPECT_EQ(rich.code(), 5);
  EXPECT_EQ(rich.message(), "Namespace ns1 is not found.");
  ASSERT_EQ(rich.details_size(), 1);
  EXPECT_EQ(rich.details(0).type_url(),
            "type.googleapis.com/"
            "temporal.api.errordetails.v1.NamespaceNotFoundFailure");
  temporal::api::errordetails::v1::NamespaceNotFoundFailure detail;
  ASSERT_TRUE(rich.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.namespace_(), "ns1");
}

}  // namespace
}  // namespace errand::frontend
