// The HTTP port of a real server in process, over real HTTP: the API's
// round trip, its error replies and limits, and the same authentication as
// gRPC.
#include "errand/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "errand/frontend/auth.h"
#include "errand/http/json_transcoding.h"
#include "errand/http/ui_assets.h"
#include "support/server_harness.h"

namespace errand::server {
namespace {

using http::Json;

constexpr char kReaderKey[] = "http-reader-key-0123456789";
constexpr char kWriterKey[] = "http-writer-key-0123456789";

class HttpServerTest : public ServerHarness {
 protected:
  void SetUp() override {
    config_.http_listen = "127.0.0.1:0";
    ServerHarness::SetUp();
  }

  httplib::Client Client() {
    const std::string address = server_->http_address();
    const size_t colon = address.rfind(':');
    httplib::Client client(address.substr(0, colon),
                           std::stoi(address.substr(colon + 1)));
    client.set_read_timeout(30, 0);
    return client;
  }

  static Json Body(const httplib::Result& result) {
    return Json::parse(result->body);
  }

  static frontend::Principal KeyPrincipal(const std::string& name,
                                          const std::string& key,
                                          frontend::Role role) {
    frontend::Principal p;
    p.name = name;
    p.api_key_sha256 = frontend::HashApiKey(key);
    p.roles = {{"default", role}};
    return p;
  }
};

constexpr char kStart[] = R"({"activityType": {"name": "greet"},
    "taskQueue": {"name": "http-q"}, "startToCloseTimeout": "10s",
    "input": [{"name": "Ada"}]})";

TEST_F(HttpServerTest, StartDescribeCompleteOutcomeListCount) {
  httplib::Client client = Client();
  auto started = client.Post("/api/v1/namespaces/default/activities/h1", kStart,
                             "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 200) << started->body;
  const std::string run_id = Body(started)["runId"];
  EXPECT_FALSE(run_id.empty());

  auto described =
      client.Get("/api/v1/namespaces/default/activities/h1?includeInput=true");
  ASSERT_TRUE(described);
  ASSERT_EQ(described->status, 200) << described->body;
  Json info = Body(described);
  EXPECT_EQ(info["info"]["status"], "ACTIVITY_EXECUTION_STATUS_RUNNING");
  EXPECT_EQ(info["info"]["taskQueue"], "http-q");
  EXPECT_EQ(info["input"], Json::parse(R"([{"name": "Ada"}])"));

  auto completed = client.Post(
      "/api/v1/namespaces/default/activities/h1/complete",
      R"({"result": ["Hello, Ada"], "identity": "curl"})", "application/json");
  ASSERT_TRUE(completed);
  ASSERT_EQ(completed->status, 200) << completed->body;

  auto outcome = client.Get("/api/v1/namespaces/default/activities/h1/outcome");
  ASSERT_TRUE(outcome);
  ASSERT_EQ(outcome->status, 200) << outcome->body;
  EXPECT_EQ(Body(outcome)["outcome"]["result"],
            Json::parse(R"(["Hello, Ada"])"))
      << outcome->body;

  auto listed = client.Get(
      "/api/v1/namespaces/default/"
      "activities?query=ActivityId%20%3D%20%27h1%27&pageSize=10");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  Json rows = Body(listed)["executions"];
  ASSERT_EQ(rows.size(), 1u) << listed->body;
  EXPECT_EQ(rows[0]["status"], "ACTIVITY_EXECUTION_STATUS_COMPLETED");

  auto counted = client.Get(
      "/api/v1/namespaces/default/activity-count?query=ExecutionStatus%3D%27"
      "Completed%27");
  ASSERT_TRUE(counted);
  ASSERT_EQ(counted->status, 200) << counted->body;
  EXPECT_EQ(Body(counted)["count"], "1");
}

TEST_F(HttpServerTest, ErrorsHaveGrpcGatewaysShape) {
  httplib::Client client = Client();
  auto missing = client.Get("/api/v1/namespaces/default/activities/none");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  Json body = Body(missing);
  EXPECT_EQ(body["code"], 5);
  EXPECT_EQ(body["details"][0]["@type"],
            "type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure");

  ASSERT_EQ(client
                .Post("/api/v1/namespaces/default/activities/dup", kStart,
                      "application/json")
                ->status,
            200);
  auto dup = client.Post("/api/v1/namespaces/default/activities/dup", kStart,
                         "application/json");
  EXPECT_EQ(dup->status, 409);
  EXPECT_EQ(Body(dup)["code"], 6);

  auto bad_json = client.Post("/api/v1/namespaces/default/activities/b", "{bad",
                              "application/json");
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(Body(bad_json)["code"], 3);

  auto unknown_field = client.Post("/api/v1/namespaces/default/activities/b",
                                   R"({"bogusField": 1})", "application/json");
  EXPECT_EQ(unknown_field->status, 400);

  auto no_route = client.Get("/api/v1/nothing");
  EXPECT_EQ(no_route->status, 404);
  EXPECT_EQ(Body(no_route), Json::parse(R"({"code":5,"message":"Not Found"})"));

  auto wrong_method = client.Put("/api/v1/namespaces/default/activities/b",
                                 "{}", "application/json");
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(Body(wrong_method)["code"], 12);

  const std::string huge(http::HttpServer::kMaxBodyBytes + 1, ' ');
  auto too_big = client.Post("/api/v1/namespaces/default/activities/b", huge,
                             "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(Body(too_big)["code"], 8);
}

TEST_F(HttpServerTest, TaskQueuesAndDeleteExtensions) {
  httplib::Client client = Client();
  ASSERT_EQ(client
                .Post("/api/v1/namespaces/default/activities/tq", kStart,
                      "application/json")
                ->status,
            200);
  auto queues = client.Get("/errand/v1/namespaces/default/task-queues");
  ASSERT_TRUE(queues);
  ASSERT_EQ(queues->status, 200) << queues->body;
  Json list = Body(queues)["taskQueues"];
  ASSERT_EQ(list.size(), 1u) << queues->body;
  EXPECT_EQ(list[0]["name"], "http-q");
  EXPECT_EQ(list[0]["backlogCount"], 1);

  EXPECT_EQ(client.Get("/errand/v1/namespaces/nope/task-queues")->status, 404);

  auto deleted = client.Delete("/errand/v1/namespaces/default/activities/tq");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_EQ(client.Get("/api/v1/namespaces/default/activities/tq")->status,
            404);
}

class HttpAuthTest : public HttpServerTest {
 protected:
  void SetUp() override {
    config_.principals = {
        KeyPrincipal("reader", kReaderKey, frontend::Role::kReader),
        KeyPrincipal("writer", kWriterKey, frontend::Role::kWriter)};
    HttpServerTest::SetUp();
  }
};

TEST_F(HttpAuthTest, ApiKeysAndRolesAsOnGrpc) {
  httplib::Client client = Client();
  auto anonymous = client.Post("/api/v1/namespaces/default/activities/x",
                               kStart, "application/json");
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(Body(anonymous)["code"], 16);
  EXPECT_EQ(client.Get("/errand/v1/namespaces/default/task-queues")->status,
            401);

  httplib::Headers reader = {
      {"Authorization", std::string("Bearer ") + kReaderKey}};
  auto denied = client.Post("/api/v1/namespaces/default/activities/x", reader,
                            kStart, "application/json");
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(Body(denied)["code"], 7);

  httplib::Headers writer = {
      {"Authorization", std::string("Bearer ") + kWriterKey}};
  auto allowed = client.Post("/api/v1/namespaces/default/activities/x", writer,
                             kStart, "application/json");
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  EXPECT_EQ(
      client.Get("/errand/v1/namespaces/default/task-queues", reader)->status,
      200);
}

}  // namespace
}  // namespace errand::server

namespace errand::server {
namespace {

TEST_F(HttpServerTest, AnHttpAddressInUseStopsTheStart) {
  Config config;
  config.listen = "127.0.0.1:0";
  config.data_dir = (dir_ / "second").string();
  config.http_listen = server_->http_address();
  auto second = Server::Start(config, clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(), "cannot listen on " +
                                           server_->http_address() +
                                           " for HTTP: Address already in use");
}

}  // namespace
}  // namespace errand::server

namespace errand::server {
namespace {

// The UI's budget (docs/http-api.md): all its files together, uncompressed.
constexpr size_t kUiBudgetBytes = 60 * 1024;

TEST(UiAssets, AreEmbeddedAndWithinTheirBudget) {
  size_t total = 0;
  for (const http::UiAsset& asset : http::UiAssets()) {
    total += asset.content.size();
  }
  EXPECT_LE(total, kUiBudgetBytes);
  ASSERT_NE(http::FindUiAsset("/"), nullptr);
  EXPECT_EQ(http::FindUiAsset("/")->path, "/index.html");
  EXPECT_NE(http::FindUiAsset("/app.js"), nullptr);
  EXPECT_NE(http::FindUiAsset("/app.css"), nullptr);
  EXPECT_EQ(http::FindUiAsset("/nothing.js"), nullptr);
}

TEST_F(HttpServerTest, ServesTheUiWithAStrictContentSecurityPolicy) {
  httplib::Client client = Client();
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("app.js"), std::string::npos);
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  auto script = client.Get("/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->get_header_value("Content-Type"),
            "text/javascript; charset=utf-8");
}

}  // namespace
}  // namespace errand::server
