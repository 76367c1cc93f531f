// The route table read from the Temporal API's google.api.http annotations.
#include "errand/http/routes.h"

#include <gtest/gtest.h>

#include "temporal/api/operatorservice/v1/service.grpc.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace errand::http {
namespace {

const RouteTable& Table() {
  static const RouteTable* const table = [] {
    const google::protobuf::DescriptorPool* pool =
        google::protobuf::DescriptorPool::generated_pool();
    auto built = RouteTable::Build(
        {pool->FindServiceByName(temporal::api::workflowservice::v1::
                                     WorkflowService::service_full_name()),
         pool->FindServiceByName(temporal::api::operatorservice::v1::
                                     OperatorService::service_full_name())});
    EXPECT_TRUE(built.ok()) << built.status();
    return new RouteTable(*std::move(built));
  }();
  return *table;
}

std::string MethodOf(const RouteMatch& m) {
  return m.binding == nullptr ? "" : m.binding->method->name();
}

TEST(Routes, EveryAnnotatedActivityRouteIsThere) {
  struct Case {
    const char* verb;
    const char* path;
    const char* method;
  };
  const Case cases[] = {
      {"POST", "/api/v1/namespaces/ns/activities/a", "StartActivityExecution"},
      {"POST", "/namespaces/ns/activities/a", "StartActivityExecution"},
      {"GET", "/api/v1/namespaces/ns/activities/a",
       "DescribeActivityExecution"},
      {"GET", "/api/v1/namespaces/ns/activities/a/outcome",
       "PollActivityExecution"},
      {"GET", "/api/v1/namespaces/ns/activities", "ListActivityExecutions"},
      {"GET", "/api/v1/namespaces/ns/activity-count",
       "CountActivityExecutions"},
      {"POST", "/api/v1/namespaces/ns/activities/a/cancel",
       "RequestCancelActivityExecution"},
      {"POST", "/api/v1/namespaces/ns/activities/a/terminate",
       "TerminateActivityExecution"},
      {"POST", "/api/v1/namespaces/ns/activities/a/pause",
       "PauseActivityExecution"},
      {"POST", "/api/v1/namespaces/ns/activities/a/complete",
       "RespondActivityTaskCompletedById"},
      {"POST", "/api/v1/namespaces/ns/workflows/w/activities/a/complete",
       "RespondActivityTaskCompletedById"},
      {"GET", "/api/v1/namespaces", "ListNamespaces"},
      {"GET", "/api/v1/namespaces/ns", "DescribeNamespace"},
      {"GET", "/api/v1/system-info", "GetSystemInfo"},
      {"DELETE", "/errand/v1/namespaces/ns/activities/a",
       "DeleteActivityExecution"},
  };
  for (const Case& c : cases) {
    const RouteMatch m = Table().Match(c.verb, c.path);
    EXPECT_EQ(m.result, RouteMatch::Result::kFound) << c.verb << " " << c.path;
    EXPECT_EQ(MethodOf(m), c.method) << c.verb << " " << c.path;
  }
}

TEST(Routes, VariablesArePercentDecodedPerSegment) {
  const RouteMatch m =
      Table().Match("GET", "/api/v1/namespaces/my%20ns/activities/a%2Fb%3F");
  ASSERT_EQ(m.result, RouteMatch::Result::kFound);
  ASSERT_EQ(m.variables.size(), 2u);
  EXPECT_EQ(m.variables[0],
            std::make_pair(std::string("namespace"), std::string("my ns")));
  EXPECT_EQ(m.variables[1],
            std::make_pair(std::string("activity_id"), std::string("a/b?")));
}

TEST(Routes, LiteralBeatsVariable) {
  // /activities-deprecated/pause is literal where .../activities/{id} would
  // not even match; /activity-count against /activities/{id}: different
  // lengths. The interesting case: a literal in the same position.
  const RouteMatch m = Table().Match(
      "POST", "/api/v1/namespaces/ns/activities-deprecated/pause");
  ASSERT_EQ(m.result, RouteMatch::Result::kFound);
  EXPECT_EQ(MethodOf(m), "PauseActivity");
}

TEST(Routes, UnknownPathAndWrongMethod) {
  EXPECT_EQ(Table().Match("GET", "/api/v1/nothing").result,
            RouteMatch::Result::kNotFound);
  EXPECT_EQ(Table().Match("PUT", "/api/v1/namespaces/ns/activities/a").result,
            RouteMatch::Result::kWrongMethod);
  EXPECT_EQ(Table().Match("GET", "/api/v1/namespaces/ns/activities/%zz").result,
            RouteMatch::Result::kNotFound);
  // A variable never matches an empty segment.
  EXPECT_EQ(Table().Match("GET", "/api/v1/namespaces//activities").result,
            RouteMatch::Result::kNotFound);
}

TEST(Routes, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%41+b", false, &out));
  EXPECT_EQ(out, "aA+b");
  EXPECT_TRUE(PercentDecode("a%41+b", true, &out));
  EXPECT_EQ(out, "aA b");
  EXPECT_FALSE(PercentDecode("a%4", false, &out));
  EXPECT_FALSE(PercentDecode("%g0", false, &out));
}

}  // namespace
}  // namespace errand::http
