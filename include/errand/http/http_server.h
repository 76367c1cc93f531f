// The HTTP port (http.listen, default 127.0.0.1:8233, as Temporal's): the web
// UI at /, Temporal's HTTP API under /api/v1/ (and its unprefixed twins),
// and Errand's few additions under /errand/v1/.
//
// cpp-httplib serves it (docs/architecture.md says why): a fixed pool of
// threads, each serving one connection at a time with HTTP/1.1 keep-alive;
// request line and headers up to 8 KiB, bodies up to kMaxBodyBytes (413
// beyond); a client that sends or reads nothing for 10 s is dropped, so a
// slow client holds a thread for that long at most.
#ifndef ERRAND_HTTP_HTTP_SERVER_H_
#define ERRAND_HTTP_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "errand/http/gateway.h"
#include "errand/http/http_tls.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace errand::http {

// A task queue holding tasks or polls, for GET
// /errand/v1/namespaces/{namespace}/task-queues.
struct TaskQueueSummary {
  std::string name;
  int64_t backlog_count = 0;
  absl::Duration backlog_age = absl::ZeroDuration();
  int64_t waiting_polls = 0;
};

struct HttpServerOptions {
  std::string listen;  // HOST:PORT; port 0 picks one
  // Where API calls go: the gRPC server's in-process channel.
  std::shared_ptr<grpc::Channel> channel;
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  // The task queues of a namespace (by ID) that hold tasks or polls.
  std::function<std::vector<TaskQueueSummary>(const std::string&)> task_queues;
  // HTTPS when set: the gRPC port's certificate, key and client CA.
  std::optional<PemMaterial> tls;
  // Vouches for a verified client certificate's identities in the calls'
  // metadata (frontend::Authorizer::TrustGateway); empty: none are passed.
  std::string gateway_secret;
};

class HttpServer {
 public:
  // JSON requests: a 2 MiB payload, base64 in JSON, fits.
  static constexpr size_t kMaxBodyBytes = 4 * 1024 * 1024;
  static constexpr int kThreads = 16;

  // UNAVAILABLE naming the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      HttpServerOptions options);
  ~HttpServer();

  // The address actually bound.
  const std::string& address() const { return address_; }
  // New handshakes use `material` (SIGHUP); FAILED_PRECONDITION without TLS.
  absl::Status ReloadTls(const PemMaterial& material);
  void Stop();

 private:
  HttpServer() = default;

  // The gateway's view of `request`: its headers, and the identities of a
  // verified client certificate with the gateway secret.
  HttpRequest ToCall(const httplib::Request& request) const;

  // GET /errand/v1/namespaces/{namespace}/task-queues.
  void ServeTaskQueues(const httplib::Request& request, const std::string& path,
                       httplib::Response& response) const;

  HttpServerOptions options_;
  std::unique_ptr<Gateway> gateway_;
  // Outlives http_, whose handshakes call it.
  std::unique_ptr<HttpTls> tls_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string address_;
};

}  // namespace errand::http

#endif  // ERRAND_HTTP_HTTP_SERVER_H_
