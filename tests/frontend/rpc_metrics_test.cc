#include "errand/frontend/rpc_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "errand/common/errors.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand::frontend {
namespace {

using ::testing::HasSubstr;

TEST(RpcMetricsTest, CountsCallsErrorsByTemporalsTypeAndLatency) {
  metrics::Registry registry;
  RpcMetrics rpc(&registry);
  rpc.Record("StartActivityExecution", "default", absl::OkStatus(),
             absl::Milliseconds(2));
  rpc.Record("StartActivityExecution", "default",
             WithDetail(absl::AlreadyExistsError("activity execution already "
                                                 "started"),
                        temporal::api::errordetails::v1::
                            ActivityExecutionAlreadyStartedFailure()),
             absl::Milliseconds(1));
  rpc.Record("StartActivityExecution", "default",
             absl::InvalidArgumentError("bad"), absl::Milliseconds(1));
  rpc.Record("DescribeActivityExecution", "default", NotFoundError("gone"),
             absl::Milliseconds(1));
  rpc.Record("GetSystemInfo", "", absl::OkStatus(), absl::Milliseconds(1));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("service_requests{service_name=\"frontend\","
                              "namespace=\"default\",operation="
                              "\"StartActivityExecution\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("error_type=\"serviceerror_"
                              "ActivityExecutionAlreadyStarted\",namespace="
                              "\"default\",operation=\"StartActivityExecution\""
                              "} 1\n"));
  EXPECT_THAT(text, HasSubstr("error_type=\"serviceerror_InvalidArgument\","
                              "namespace=\"default\",operation="
                              "\"StartActivityExecution\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("error_type=\"serviceerror_NotFound\","
                              "namespace=\"default\",operation="
                              "\"DescribeActivityExecution\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("namespace=\"_unknown_\",operation="
                              "\"GetSystemInfo\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("service_latency_count{service_name="
                              "\"frontend\",namespace=\"default\",operation="
                              "\"StartActivityExecution\"} 3\n"));
}

}  // namespace
}  // namespace errand::frontend
