// Temporal's HTTP API over the gRPC services: each request is matched to a
// method by its route (routes.h), its path variables, query string and JSON
// body become the request message (json_transcoding.h), and the method is
// called on the server's in-process channel, so HTTP calls pass through the
// very same authentication, validation, metrics and error details as gRPC
// ones. Replies and errors use grpc-gateway's shapes, as Temporal's own HTTP
// API does.
#ifndef ERRAND_HTTP_GATEWAY_H_
#define ERRAND_HTTP_GATEWAY_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "errand/http/json_transcoding.h"
#include "errand/http/routes.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace errand::http {

struct HttpRequest {
  std::string verb;
  // The raw request target: path and query string, still percent-encoded.
  std::string target;
  std::string body;
  // Header names in any case.
  std::vector<std::pair<std::string, std::string>> headers;
  // Metadata the server adds itself (never from the caller's headers): the
  // verified client certificate's identities and the secret vouching for
  // them (frontend/auth.h, kGatewayIdentityKey).
  std::vector<std::pair<std::string, std::string>> trusted_metadata;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

// The HTTP status grpc-gateway gives a gRPC code (NOT_FOUND 404,
// ALREADY_EXISTS 409, UNAUTHENTICATED 401, ...).
int HttpStatusFor(grpc::StatusCode code);

// grpc-gateway's error reply: {"code": N, "message": "...", "details": [...]}
// with the status's Temporal error details, and HttpStatusFor(code).
HttpResponse ErrorResponse(const grpc::Status& status,
                           const JsonOptions& options = {});

// The query string options every route takes: ?pretty and
// ?noPayloadShorthand.
JsonOptions OptionsFromQuery(absl::string_view query);

class Gateway {
 public:
  // Serves the routes of `services` by calling them on `channel`.
  static absl::StatusOr<std::unique_ptr<Gateway>> Create(
      std::shared_ptr<grpc::Channel> channel,
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // Answers one request: a route's reply, or 404 and 405 for unknown paths
  // and methods, 400 for a body or query that is not the method's request.
  // Blocks the calling (HTTP server) thread until the call returns; calls
  // get a deadline, so a long poll gives up in time.
  HttpResponse Handle(const HttpRequest& request) const;

  // Calls `method` as Handle does, forwarding the same headers (API key,
  // client name) as metadata, and the trusted metadata as it is.
  grpc::Status Call(const google::protobuf::MethodDescriptor* method,
                    const google::protobuf::Message& request,
                    const HttpRequest& metadata_source,
                    google::protobuf::Message* response) const;

  const RouteTable& routes() const { return routes_; }

 private:
  Gateway(std::shared_ptr<grpc::Channel> channel, RouteTable routes);

  // Longer than any long poll reachable over HTTP holds a call (20 s for
  // PollActivityExecution and long-poll Describe): those answer in time.
  static constexpr absl::Duration kCallDeadline = absl::Seconds(30);

  const std::shared_ptr<grpc::Channel> channel_;
  const RouteTable routes_;
};

}  // namespace errand::http

#endif  // ERRAND_HTTP_GATEWAY_H_
