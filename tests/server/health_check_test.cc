// `errand health` against real peers on loopback: a running server (SERVING),
// one answering NOT_SERVING, an unknown service, a closed port and a peer
// that accepts but never answers.
#include "errand/server/health_check.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "support/server_harness.h"

namespace errand::server {
namespace {

using HealthCheckTest = ServerHarness;

std::optional<std::string> NoEnv(const std::string&) { return std::nullopt; }

EnvLookup EnvWith(const std::string& name, const std::string& value) {
  return [name, value](const std::string& n) -> std::optional<std::string> {
    if (n == name) return value;
    return std::nullopt;
  };
}

TEST_F(HealthCheckTest, ARunningServerIsServing) {
  EXPECT_TRUE(CheckHealth(server_->address(), "", absl::Seconds(5)).ok());
  EXPECT_TRUE(CheckHealth(server_->address(),
                          "temporal.api.workflowservice.v1.WorkflowService",
                          absl::Seconds(5))
                  .ok());
  EXPECT_EQ(HealthCommand({"--address", server_->address()}, NoEnv), 0);
  // Without --address: the listen address errand serve would use.
  const std::string port =
      server_->address().substr(server_->address().rfind(':') + 1);
  EXPECT_EQ(HealthCommand({}, EnvWith("ERRAND_LISTEN", "0.0.0.0:" + port)), 0);
  EXPECT_EQ(
      HealthCommand({"--timeout=300ms"}, EnvWith("ERRAND_LISTEN", "0.0.0.0:1")),
      1);
}

TEST_F(HealthCheckTest, AnUnknownServiceIsNotFound) {
  const absl::Status s =
      CheckHealth(server_->address(), "no.such.Service", absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "no.such.Service")) << s;
}

TEST_F(HealthCheckTest, NothingListeningFailsAtOnceWithTheReason) {
  const std::string address = server_->address();
  server_.reset();  // the port is closed now
  const absl::Status s = CheckHealth(address, "", absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), address)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "onnection refused")) << s;
  EXPECT_EQ(HealthCommand({"--address", address}, NoEnv), 1);
}

// A peer that accepts the connection but never speaks: the timeout bounds
// the check.
TEST(HealthCheckSilentPeerTest, NoAnswerFailsAfterTheTimeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  const absl::Status s = CheckHealth(address, "", absl::Milliseconds(300));
  close(fd);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "no answer within 300ms")) << s;
}

// A server that answers NOT_SERVING, as errand does while it shuts down.
TEST(HealthCheckNotServingTest, NotServingIsUnavailable) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(port, 0);
  server->GetHealthCheckService()->SetServingStatus(false);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const absl::Status s = CheckHealth(address, "", absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "NOT_SERVING")) << s;
  server->GetHealthCheckService()->SetServingStatus(true);
  EXPECT_TRUE(CheckHealth(address, "", absl::Seconds(5)).ok());
  server->Shutdown();
}

TEST(HealthCheckFlagsTest, AWildcardListenAddressIsCheckedOnLoopback) {
  EXPECT_EQ(HealthAddressFor("0.0.0.0:8233"), "127.0.0.1:8233");
  EXPECT_EQ(HealthAddressFor("[::]:8233"), "127.0.0.1:8233");
  EXPECT_EQ(HealthAddressFor(":8233"), "127.0.0.1:8233");
  EXPECT_EQ(HealthAddressFor("10.1.2.3:7233"), "10.1.2.3:7233");
}

TEST(HealthCheckFlagsTest, BadFlagsExitTwo) {
  EXPECT_EQ(HealthCommand({"--bogus", "x"}, NoEnv), 2);
  EXPECT_EQ(HealthCommand({"--address"}, NoEnv), 2);
  EXPECT_EQ(HealthCommand({"--timeout", "soon"}, NoEnv), 2);
  EXPECT_EQ(HealthCommand({"--timeout", "0s"}, NoEnv), 2);
  EXPECT_EQ(HealthCommand({}, EnvWith("ERRAND_LISTEN", "no-port")), 2);
}

}  // namespace
}  // namespace errand::server
