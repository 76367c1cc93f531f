// TLS, mTLS, API keys and roles, over real gRPC channels to the server in
// process. The certificates are made for each test by
// tests/support/make_test_certs.sh (a throwaway CA; nothing committed).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/common/uuid.h"
#include "errand/frontend/auth.h"
#include "errand/server/health_check.h"
#include "errand/server/server.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "support/server_harness.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace errand::server {
namespace {

namespace ws = temporal::api::workflowservice::v1;
namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr char kReaderKey[] = "reader-key-0123456789abcdef";
constexpr char kWriterKey[] = "writer-key-0123456789abcdef";
constexpr char kAdminKey[] = "admin-key-0123456789abcdef";

class SecurityTest : public ServerHarness {
 protected:
  void SetUp() override {
    pki_ = fs::temp_directory_path() / ("errand-pki-" + NewUuid());
    const std::string script = absl::StrCat(
        ERRAND_SOURCE_DIR, "/tests/support/make_test_certs.sh ", pki_.string());
    ASSERT_EQ(std::system(script.c_str()), 0) << script;
  }
  void TearDown() override {
    ServerHarness::TearDown();
    fs::remove_all(pki_);
  }
  // Starts the server with config_ as the test set it.
  void StartServer() { ServerHarness::SetUp(); }

  void UseTls(bool require_client_cert) {
    config_.tls.cert_file = (pki_ / "server.pem").string();
    config_.tls.key_file = (pki_ / "server.key").string();
    if (require_client_cert) {
      config_.tls.client_ca_file = (pki_ / "ca.pem").string();
    }
  }

  static frontend::Principal KeyPrincipal(
      const std::string& name, const std::string& key,
      std::map<std::string, frontend::Role> roles) {
    frontend::Principal p;
    p.name = name;
    p.api_key_sha256 = frontend::HashApiKey(key);
    p.roles = std::move(roles);
    return p;
  }
  void UsePrincipals() {
    using frontend::Role;
    config_.principals = {
        KeyPrincipal("ci-reader", kReaderKey, {{"default", Role::kReader}}),
        KeyPrincipal("ci-writer", kWriterKey, {{"default", Role::kWriter}}),
        KeyPrincipal("ops", kAdminKey, {{"*", Role::kAdmin}}),
    };
    frontend::Principal worker;
    worker.name = "worker-fleet";
    worker.tls_identity = "errand-test-client";
    worker.roles = {{"default", Role::kWriter}};
    config_.principals.push_back(worker);
  }

  // A channel of its own (own subchannel pool: a new connection, never one
  // another channel opened), trusting `ca` (a file in pki_), presenting
  // `client` (.pem/.key in pki_) if not empty.
  std::shared_ptr<grpc::Channel> TlsChannel(const std::string& ca,
                                            const std::string& client = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(pki_ / ca);
    if (!client.empty()) {
      options.pem_private_key = ReadFile(pki_ / (client + ".key"));
      options.pem_cert_chain = ReadFile(pki_ / (client + ".pem"));
    }
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(server_->address(),
                                     grpc::SslCredentials(options), args);
  }
  static std::shared_ptr<grpc::Channel> PlainChannel(
      const std::string& address) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(address,
                                     grpc::InsecureChannelCredentials(), args);
  }

  static grpc::Status SystemInfo(const std::shared_ptr<grpc::Channel>& ch) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    ws::GetSystemInfoResponse resp;
    return WorkflowService::NewStub(ch)->GetSystemInfo(&ctx, {}, &resp);
  }

  // StartActivityExecution of `id` on "default", with API key `key` if set.
  static grpc::Status Start(const std::shared_ptr<grpc::Channel>& ch,
                            const std::string& id, const std::string& key) {
    const ws::StartActivityExecutionRequest req = StartRequest(id);
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
    ws::StartActivityExecutionResponse resp;
    return WorkflowService::NewStub(ch)->StartActivityExecution(&ctx, req,
                                                                &resp);
  }

  static grpc::Status UpdateDescription(
      const std::shared_ptr<grpc::Channel>& ch, const std::string& key) {
    ws::UpdateNamespaceRequest req;
    req.set_namespace_("default");
    req.mutable_update_info()->set_description("changed");
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(10));
    if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
    ws::UpdateNamespaceResponse resp;
    return WorkflowService::NewStub(ch)->UpdateNamespace(&ctx, req, &resp);
  }

  fs::path pki_;
};

TEST_F(SecurityTest, TlsServesAndRefusesPlaintext) {
  UseTls(false);
  StartServer();
  const grpc::Status ok = SystemInfo(TlsChannel("ca.pem"));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(SystemInfo(PlainChannel(server_->address())).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A client that trusts another CA does not accept the server.
  EXPECT_EQ(SystemInfo(TlsChannel("other-ca.pem")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, HealthCheckSpeaksTlsAndPresentsAClientCertificate) {
  UseTls(/*require_client_cert=*/true);
  StartServer();
  HealthTls tls;
  tls.enabled = true;
  tls.ca = ReadFile(pki_ / "ca.pem");
  tls.server_name = "localhost";
  // mTLS: refused without a client certificate, serving with one.
  EXPECT_FALSE(CheckHealth(server_->address(), "", absl::Seconds(5), tls).ok());
  tls.cert_chain = ReadFile(pki_ / "client.pem");
  tls.private_key = ReadFile(pki_ / "client.key");
  const absl::Status ok =
      CheckHealth(server_->address(), "", absl::Seconds(5), tls);
  EXPECT_TRUE(ok.ok()) << ok;
  // Plaintext against a TLS port is not serving.
  EXPECT_FALSE(CheckHealth(server_->address(), "", absl::Seconds(5)).ok());
}

TEST_F(SecurityTest, StartUpErrorsNameTheFileAndWhy) {
  dir_ = fs::temp_directory_path() / ("errand-srv-" + NewUuid());
  auto start = [&](const std::string& cert, const std::string& key,
                   const std::string& ca) {
    Config config;
    config.listen = "127.0.0.1:0";
    config.http_listen = "";
    config.data_dir = dir_.string();
    config.tls.cert_file = (pki_ / cert).string();
    config.tls.key_file = (pki_ / key).string();
    if (!ca.empty()) config.tls.client_ca_file = (pki_ / ca).string();
    return Server::Start(config).status();
  };
  absl::Status s = start("absent.pem", "server.key", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(
      s.message(),
      absl::StrCat("tls.cert_file ", (pki_ / "absent.pem").string(),
                   ": No such file or directory")))
      << s;
  s = start("server.pem", "other-server.key", "");
  EXPECT_TRUE(absl::StrContains(s.message(),
                                "is not the key of the certificate in "
                                "tls.cert_file"))
      << s;
  s = start("server.key", "server.key", "");
  EXPECT_TRUE(absl::StrContains(s.message(), "holds no PEM certificate")) << s;
  s = start("server.pem", "server.pem", "");
  EXPECT_TRUE(absl::StrContains(
      s.message(), "tls.key_file " + (pki_ / "server.pem").string() +
                       ": holds no unencrypted PEM private key"))
      << s;
  s = start("server.pem", "server.key", "client.key");
  EXPECT_TRUE(absl::StrContains(s.message(), "tls.client_ca_file")) << s;
  fs::permissions(pki_ / "server.key", fs::perms::none);
  if (ReadFile(pki_ / "server.key").empty()) {  // not when running as root
    s = start("server.pem", "server.key", "");
    EXPECT_TRUE(absl::StrContains(s.message(), "Permission denied")) << s;
  }
  fs::permissions(pki_ / "server.key", fs::perms::owner_read);
  EXPECT_TRUE(start("server.pem", "server.key", "ca.pem").ok());
}

// A reload swaps the certificate for new connections; connections already
// open keep working. The files are replaced in place, as a certificate
// manager would, and read again by ReloadTls (which SIGHUP calls).
TEST_F(SecurityTest, ReloadServesNewCertificatesWithoutDroppingConnections) {
  UseTls(false);
  StartServer();
  EXPECT_EQ(server_->TlsGeneration(), 1);
  auto before = TlsChannel("ca.pem");
  ASSERT_TRUE(SystemInfo(before).ok());

  fs::copy_file(pki_ / "other-server.pem", pki_ / "server.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki_ / "other-server.key", pki_ / "server.key",
                fs::copy_options::overwrite_existing);
  // Until the reload, new connections still get the old certificate.
  EXPECT_TRUE(SystemInfo(TlsChannel("ca.pem")).ok());
  ASSERT_TRUE(server_->ReloadTls().ok());

  const grpc::Status rotated = SystemInfo(TlsChannel("other-ca.pem"));
  EXPECT_TRUE(rotated.ok()) << rotated.error_message();
  EXPECT_EQ(server_->TlsGeneration(), 2);
  EXPECT_EQ(SystemInfo(TlsChannel("ca.pem")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The connection opened before the reload is still up and serving.
  EXPECT_EQ(before->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_TRUE(SystemInfo(before).ok());

  // A broken file is refused, and the current certificate stays.
  {
    std::ofstream out(pki_ / "server.key", std::ios::trunc);
    out << "not a key\n";
  }
  const absl::Status broken = server_->ReloadTls();
  EXPECT_TRUE(absl::StrContains(broken.message(), "tls.key_file")) << broken;
  EXPECT_TRUE(SystemInfo(TlsChannel("other-ca.pem")).ok());
  EXPECT_EQ(server_->TlsGeneration(), 2);
}

TEST_F(SecurityTest, ReloadWithoutTlsIsAnError) {
  StartServer();
  EXPECT_EQ(server_->ReloadTls().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  UseTls(true);
  StartServer();
  EXPECT_EQ(SystemInfo(TlsChannel("ca.pem")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  const grpc::Status ok = SystemInfo(TlsChannel("ca.pem", "client"));
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  // No principals configured: a verified client may do anything.
  const grpc::Status started =
      Start(TlsChannel("ca.pem", "client"), "mtls-no-auth", "");
  EXPECT_TRUE(started.ok()) << started.error_message();
}

TEST_F(SecurityTest, ApiKeysAuthenticateAndRolesAuthorize) {
  UsePrincipals();
  StartServer();
  auto ch = PlainChannel(server_->address());

  // Open to all: GetSystemInfo and health.
  EXPECT_TRUE(SystemInfo(ch).ok());
  std::string response;
  EXPECT_TRUE(RawCall("/grpc.health.v1.Health/Check", "", &response).ok());

  grpc::Status s = Start(ch, "a1", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "credentials required"))
      << s.error_message();
  s = Start(ch, "a1", "not-a-key");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid API key");

  s = Start(ch, "a1", kReaderKey);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "principal \"ci-reader\" may not call StartActivityExecution on "
            "namespace \"default\": it needs the writer role there");
  s = Start(ch, "a1", kWriterKey);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = Start(ch, "a2", kAdminKey);  // admin on "*" covers writer on default
  EXPECT_TRUE(s.ok()) << s.error_message();

  s = UpdateDescription(ch, kWriterKey);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "needs the admin role"))
      << s.error_message();
  EXPECT_TRUE(UpdateDescription(ch, kAdminKey).ok());

  // Reads: the reader may describe what the writer started.
  {
    ws::DescribeActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id("a1");
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("bearer ") + kReaderKey);
    ws::DescribeActivityExecutionResponse resp;
    const grpc::Status d =
        WorkflowService::NewStub(ch)->DescribeActivityExecution(&ctx, req,
                                                                &resp);
    EXPECT_TRUE(d.ok()) << d.error_message();
  }
  // ListNamespaces names no namespace: it takes a role on "*".
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kReaderKey);
    ws::ListNamespacesResponse resp;
    const grpc::Status l =
        WorkflowService::NewStub(ch)->ListNamespaces(&ctx, {}, &resp);
    EXPECT_EQ(l.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(absl::StrContains(l.error_message(), "namespace \"*\""))
        << l.error_message();
  }
  // A malformed header is no credential.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", kWriterKey);
    ws::ListNamespacesResponse resp;
    EXPECT_EQ(WorkflowService::NewStub(ch)
                  ->ListNamespaces(&ctx, {}, &resp)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(SecurityTest, OperatorActionsAreAudited) {
  UsePrincipals();
  StartServer();
  auto ch = PlainChannel(server_->address());
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "audit", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  ASSERT_TRUE(Start(ch, "to-end", kWriterKey).ok());
  {
    ws::TerminateActivityExecutionRequest req;
    req.set_namespace_("default");
    req.set_activity_id("to-end");
    req.set_reason("test");
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", std::string("Bearer ") + kWriterKey);
    ws::TerminateActivityExecutionResponse resp;
    EXPECT_TRUE(WorkflowService::NewStub(ch)
                    ->TerminateActivityExecution(&ctx, req, &resp)
                    .ok());
  }
  EXPECT_EQ(UpdateDescription(ch, kReaderKey).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(UpdateDescription(ch, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  spdlog::set_default_logger(previous);
  const std::string log = out.str();
  EXPECT_TRUE(
      absl::StrContains(log, "audit principal=ci-writer peer=ipv4:127.0.0.1:"))
      << log;
  EXPECT_TRUE(
      absl::StrContains(log,
                        "method=TerminateActivityExecution namespace=default "
                        "activity_id=to-end status=OK"))
      << log;
  EXPECT_TRUE(absl::StrContains(log, "audit principal=ci-reader peer=")) << log;
  EXPECT_TRUE(absl::StrContains(
      log, "method=UpdateNamespace namespace=default status=PERMISSION_DENIED"))
      << log;
  EXPECT_TRUE(absl::StrContains(
      log, "method=UpdateNamespace namespace=default status=UNAUTHENTICATED"))
      << log;
  // Starts are not operator actions.
  EXPECT_FALSE(absl::StrContains(log, "StartActivityExecution")) << log;
}

TEST_F(SecurityTest, ClientCertificatesIdentifyPrincipals) {
  UseTls(true);
  UsePrincipals();
  StartServer();
  auto ch = TlsChannel("ca.pem", "client");
  // The certificate's CN (and DNS SAN) errand-test-client is worker-fleet,
  // a writer on default.
  grpc::Status s = Start(ch, "by-cert", "");
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = UpdateDescription(ch, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "\"worker-fleet\""))
      << s.error_message();
  // An API key on the same connection decides instead.
  s = Start(ch, "by-key", kReaderKey);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "\"ci-reader\""))
      << s.error_message();
}

TEST_F(SecurityTest, ClientCertificateSubjectIdentifiesAPrincipal) {
  UseTls(true);
  UsePrincipals();
  config_.principals.back().tls_identity = "CN=errand-test-client";
  StartServer();
  const grpc::Status s = Start(TlsChannel("ca.pem", "client"), "by-dn", "");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(SecurityTest, UnknownClientCertificateIsUnauthenticated) {
  UseTls(true);
  UsePrincipals();
  config_.principals.pop_back();  // no principal for the client certificate
  StartServer();
  const grpc::Status s = Start(TlsChannel("ca.pem", "client"), "x", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "errand-test-client"))
      << s.error_message();
}

}  // namespace
}  // namespace errand::server

namespace errand::server {
namespace {

// The HTTP port speaks TLS with the gRPC port's files, reloads them with it,
// and asks for client certificates when the gRPC port does.
class HttpsTest : public SecurityTest {
 protected:
  std::unique_ptr<httplib::SSLClient> Client(const std::string& ca,
                                             const std::string& client = "") {
    const std::string address = server_->http_address();
    const size_t colon = address.rfind(':');
    const std::string host = address.substr(0, colon);
    const int port = std::stoi(address.substr(colon + 1));
    auto https = client.empty()
                     ? std::make_unique<httplib::SSLClient>(host, port)
                     : std::make_unique<httplib::SSLClient>(
                           host, port, (pki_ / (client + ".pem")).string(),
                           (pki_ / (client + ".key")).string());
    https->set_ca_cert_path((pki_ / ca).string().c_str());
    https->enable_server_certificate_verification(true);
    https->set_connection_timeout(5, 0);
    return https;
  }
  static int SystemInfoStatus(
      const std::unique_ptr<httplib::SSLClient>& https) {
    auto reply = https->Get("/api/v1/system-info");
    return reply ? reply->status : -1;
  }
};

TEST_F(HttpsTest, ServesTheGrpcPortsCertificateAndReloadsIt) {
  UseTls(false);
  config_.http_listen = "127.0.0.1:0";
  StartServer();
  auto https = Client("ca.pem");
  EXPECT_EQ(SystemInfoStatus(https), 200);
  // Plain HTTP gets no answer from a TLS port.
  const std::string address = server_->http_address();
  httplib::Client plain(address.substr(0, address.rfind(':')),
                        std::stoi(address.substr(address.rfind(':') + 1)));
  plain.set_connection_timeout(5, 0);
  plain.set_read_timeout(5, 0);
  auto refused = plain.Get("/api/v1/system-info");
  EXPECT_TRUE(!refused || refused->status != 200);

  fs::copy_file(pki_ / "other-server.pem", pki_ / "server.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki_ / "other-server.key", pki_ / "server.key",
                fs::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  auto rotated = Client("other-ca.pem");
  EXPECT_EQ(SystemInfoStatus(rotated), 200);
  auto stale = Client("ca.pem");
  EXPECT_EQ(SystemInfoStatus(stale), -1);
}

TEST_F(HttpsTest, MutualTlsAsksForAClientCertificate) {
  UseTls(true);
  config_.http_listen = "127.0.0.1:0";
  StartServer();
  auto anonymous = Client("ca.pem");
  EXPECT_EQ(SystemInfoStatus(anonymous), -1);
  auto client = Client("ca.pem", "client");
  EXPECT_EQ(SystemInfoStatus(client), 200);
}

// Over HTTPS, a verified client certificate identifies a principal as it
// does over gRPC (CN, SAN, or the whole subject), and an API key decides
// over it.
TEST_F(HttpsTest, ClientCertificatesIdentifyPrincipalsOverHttps) {
  UseTls(true);
  UsePrincipals();
  config_.http_listen = "127.0.0.1:0";
  StartServer();
  auto client = Client("ca.pem", "client");
  const std::string start = R"({"activityType": {"name": "t"},
      "taskQueue": {"name": "q"}, "startToCloseTimeout": "10s"})";
  auto by_cert = client->Post("/api/v1/namespaces/default/activities/c1", start,
                              "application/json");
  ASSERT_TRUE(by_cert);
  EXPECT_EQ(by_cert->status, 200) << by_cert->body;
  auto denied = client->Post("/api/v1/namespaces/other/activities/c1", start,
                             "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_TRUE(absl::StrContains(denied->body, "worker-fleet")) << denied->body;
  auto by_key =
      client->Post("/api/v1/namespaces/default/activities/c2",
                   {{"Authorization", std::string("Bearer ") + kReaderKey}},
                   start, "application/json");
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->status, 403) << by_key->body;
  EXPECT_TRUE(absl::StrContains(by_key->body, "ci-reader")) << by_key->body;
}

TEST_F(HttpsTest, ACertificateOfNoPrincipalIsUnauthenticated) {
  UseTls(true);
  UsePrincipals();
  config_.principals.pop_back();  // no principal for the client certificate
  config_.http_listen = "127.0.0.1:0";
  StartServer();
  auto client = Client("ca.pem", "client");
  auto reply = client->Get("/api/v1/namespaces/default/activities/x");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401) << reply->body;
  EXPECT_TRUE(absl::StrContains(reply->body, "errand-test-client"))
      << reply->body;
}

// The identity metadata is the server's own: a caller cannot send it, over
// HTTP headers or gRPC metadata, to pass as a certificate's principal.
TEST_F(SecurityTest, IdentityMetadataFromCallersIsIgnored) {
  UsePrincipals();
  config_.http_listen = "127.0.0.1:0";
  StartServer();
  const std::string address = server_->http_address();
  httplib::Client http(address.substr(0, address.rfind(':')),
                       std::stoi(address.substr(address.rfind(':') + 1)));
  auto forged = http.Post(
      "/api/v1/namespaces/default/activities/f1",
      {{"Grpc-Metadata-Errand-Gateway-Client-Identity", "errand-test-client"},
       {"Grpc-Metadata-Errand-Gateway-Secret", "guess"}},
      R"({"activityType": {"name": "t"}, "taskQueue": {"name": "q"},
          "startToCloseTimeout": "10s"})",
      "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401) << forged->body;

  grpc::ClientContext ctx;
  ctx.AddMetadata(frontend::kGatewayIdentityKey, "errand-test-client");
  ctx.AddMetadata(frontend::kGatewaySecretKey, "guess");
  ws::StartActivityExecutionRequest request;
  request.set_namespace_("default");
  request.set_activity_id("f2");
  ws::StartActivityExecutionResponse response;
  const grpc::Status s =
      stub_->StartActivityExecution(&ctx, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << s.error_message();
}

}  // namespace
}  // namespace errand::server
