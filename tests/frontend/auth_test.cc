#include "errand/frontend/auth.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace errand::frontend {
namespace {

TEST(AuthTest, HashIsSha256Hex) {
  // FIPS 180-2's test vector for "abc".
  EXPECT_EQ(HashApiKey("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashApiKey(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AuthTest, RoleTable) {
  EXPECT_TRUE(PolicyFor("GetSystemInfo").open);
  EXPECT_FALSE(PolicyFor("GetClusterInfo").open);
  EXPECT_EQ(PolicyFor("GetClusterInfo").role, Role::kNone);
  for (const char* m :
       {"DescribeActivityExecution", "ListActivityExecutions",
        "CountActivityExecutions", "PollActivityExecution", "DescribeNamespace",
        "DescribeTaskQueue", "ListSearchAttributes", "DescribeBatchOperation",
        "ListBatchOperations"}) {
    EXPECT_EQ(PolicyFor(m).role, Role::kReader) << m;
    EXPECT_FALSE(PolicyFor(m).audit) << m;
  }
  for (const char* m : {"StartActivityExecution", "PollActivityTaskQueue",
                        "RespondActivityTaskCompleted",
                        "RecordActivityTaskHeartbeatById", "ShutdownWorker"}) {
    EXPECT_EQ(PolicyFor(m).role, Role::kWriter) << m;
    EXPECT_FALSE(PolicyFor(m).audit) << m;
  }
  for (const char* m :
       {"RequestCancelActivityExecution", "TerminateActivityExecution",
        "PauseActivityExecution", "UnpauseActivityExecution",
        "ResetActivityExecution", "UpdateActivityExecutionOptions"}) {
    EXPECT_EQ(PolicyFor(m).role, Role::kWriter) << m;
    EXPECT_TRUE(PolicyFor(m).audit) << m;
  }
  for (const char* m :
       {"DeleteActivityExecution", "RegisterNamespace", "UpdateNamespace",
        "AddSearchAttributes", "RemoveSearchAttributes",
        "UpdateTaskQueueConfig", "StartBatchOperation", "StopBatchOperation"}) {
    EXPECT_EQ(PolicyFor(m).role, Role::kAdmin) << m;
    EXPECT_TRUE(PolicyFor(m).audit) << m;
  }
  // Not classified: closed to all but admins (and never served).
  EXPECT_FALSE(Classified("SignalWorkflowExecution"));
  EXPECT_TRUE(Classified("StartActivityExecution"));
  EXPECT_EQ(PolicyFor("SignalWorkflowExecution").role, Role::kAdmin);
}

TEST(AuthTest, RoleOnTakesTheHigherOfNamespaceAndWildcard) {
  Principal p;
  p.roles = {{"*", Role::kReader}, {"billing", Role::kAdmin}};
  EXPECT_EQ(Authorizer::RoleOn(p, "billing"), Role::kAdmin);
  EXPECT_EQ(Authorizer::RoleOn(p, "default"), Role::kReader);
  p.roles = {{"*", Role::kWriter}, {"billing", Role::kReader}};
  EXPECT_EQ(Authorizer::RoleOn(p, "billing"), Role::kWriter);
  p.roles = {{"billing", Role::kWriter}};
  EXPECT_EQ(Authorizer::RoleOn(p, "default"), Role::kNone);
  EXPECT_EQ(Authorizer::RoleOn(p, "*"), Role::kNone);
}

TEST(AuthTest, ParseRole) {
  EXPECT_EQ(ParseRole("reader"), Role::kReader);
  EXPECT_EQ(ParseRole("writer"), Role::kWriter);
  EXPECT_EQ(ParseRole("admin"), Role::kAdmin);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_EQ(ParseRole("none"), std::nullopt);
}

TEST(AuthTest, ValidatePrincipals) {
  Principal good;
  good.name = "ci";
  good.api_key_sha256 = HashApiKey("k");
  good.roles = {{"default", Role::kWriter}};
  EXPECT_TRUE(ValidatePrincipals({good}).ok());

  Principal p = good;
  p.api_key_sha256 = "k";  // the key itself, not its hash
  EXPECT_TRUE(absl::StrContains(ValidatePrincipals({p}).message(),
                                "64 lowercase hex digits"));
  p = good;
  p.api_key_sha256[0] = 'A';
  EXPECT_FALSE(ValidatePrincipals({p}).ok());
  p = good;
  p.api_key_sha256.clear();
  EXPECT_TRUE(absl::StrContains(ValidatePrincipals({p}).message(),
                                "needs an api_key_sha256 or a tls_identity"));
  p.tls_identity = "worker.example.com";
  EXPECT_TRUE(ValidatePrincipals({p}).ok());
  p = good;
  p.roles.clear();
  EXPECT_FALSE(ValidatePrincipals({p}).ok());
  p = good;
  p.name.clear();
  EXPECT_FALSE(ValidatePrincipals({p}).ok());
  p = good;
  p.name = "other";
  EXPECT_TRUE(absl::StrContains(ValidatePrincipals({good, p}).message(),
                                "same API key"));
  EXPECT_TRUE(absl::StrContains(ValidatePrincipals({good, good}).message(),
                                "appears twice"));
}

TEST(AuthTest, NoPrincipalsMeansAuthOff) {
  EXPECT_FALSE(Authorizer({}).enabled());
  Principal p;
  p.name = "x";
  p.tls_identity = "x";
  p.roles = {{"*", Role::kReader}};
  EXPECT_TRUE(Authorizer({p}).enabled());
}

}  // namespace
}  // namespace errand::frontend
