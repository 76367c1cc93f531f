// Authentication and authorization of gRPC calls.
//
// A caller proves who it is with an API key (metadata "authorization:
// Bearer <key>") or, on an mTLS connection, with its client certificate
// (subject common name or a subject alternative name). Either maps to a
// configured principal, which holds a role per namespace. The role a method
// needs comes from one table, RequiredRole; ServiceTable asks the Authorizer
// before it runs any handler.
//
// Keys are configured as their SHA-256 (hex), never in plain text: the
// server hashes what a caller sends and looks the hash up. API keys are
// meant to be long random strings, so an unsalted hash is enough to keep a
// leaked config file from revealing them.
#ifndef ERRAND_FRONTEND_AUTH_H_
#define ERRAND_FRONTEND_AUTH_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace errand::frontend {

// Roles are ordered: each grants everything the ones below it grant.
enum class Role {
  kNone = 0,
  kReader = 1,  // describe, list, count, poll results
  kWriter = 2,  // start, cancel, terminate, pause, reset, worker calls
  kAdmin = 3,   // delete, namespaces, search attributes, batch, task queues
};

// "reader", "writer", "admin" ("none" for kNone).
absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);

// The namespace name that stands for every namespace in a principal's roles.
inline constexpr absl::string_view kAnyNamespace = "*";

// What calling a method takes.
struct MethodPolicy {
  // Open methods (health-like: GetSystemInfo, which SDKs call on connect)
  // need no credential at all.
  bool open = false;
  // With kNone, any authenticated principal may call the method.
  Role role = Role::kAdmin;
  // Operator actions, logged at info level with the caller, whatever the
  // outcome ("audit ..."), with or without auth configured.
  bool audit = false;
};

// The one table from method name (WorkflowService and OperatorService alike,
// their names do not clash) to what it needs. A method missing from the
// table needs kAdmin; ServiceTable refuses to serve one (Classified), so a
// method added later fails at start-up until it has its row.
MethodPolicy PolicyFor(absl::string_view method);
bool Classified(absl::string_view method);

struct Principal {
  std::string name;
  // SHA-256 of the API key, 64 lowercase hex digits; empty if none.
  std::string api_key_sha256;
  // Matched against a verified client certificate's subject CN, whole subject
  // (RFC 2253: "CN=w,O=Example") and subject alternative names; or empty.
  std::string tls_identity;
  // Namespace (or kAnyNamespace) to role.
  std::map<std::string, Role> roles;
};

// SHA-256 of `key` as 64 lowercase hex digits (OpenSSL's libcrypto).
std::string HashApiKey(absl::string_view key);

// Checks a list of principals: names present and unique, each with at least
// one credential and one role, hashes well formed and unique.
absl::Status ValidatePrincipals(const std::vector<Principal>& principals);

// Who made a call, once authenticated.
struct Caller {
  // The principal's name; empty when auth is off.
  std::string principal;
};

class Authorizer {
 public:
  // No principals: auth is off, every call is allowed (as before auth
  // existed). Principals must have passed ValidatePrincipals.
  explicit Authorizer(std::vector<Principal> principals);

  // The HTTP gateway (errand/http/gateway.h) calls the services on an
  // in-process channel, where the client certificate of an HTTPS caller is
  // not the channel's. It passes the certificate's identities as
  // kGatewayIdentityKey metadata with `secret` as kGatewaySecretKey: only
  // calls carrying the secret, which never leaves the process, are taken to
  // come from a verified certificate. Call before serving; empty (the
  // default) trusts no such metadata.
  void TrustGateway(std::string secret) { gateway_secret_ = std::move(secret); }

  bool enabled() const { return !principals_.empty(); }

  // Authenticates the caller of `method` (whose policy is PolicyFor(method))
  // and checks it may call it on the request's namespace (its top-level
  // "namespace" field; methods without one, such as ListNamespaces, check
  // the role on "*"). Fills `caller` once the principal is known, also when
  // the role check then fails.
  // UNAUTHENTICATED: no credential, or one that matches no principal.
  // PERMISSION_DENIED: the principal lacks the role; the message names the
  // namespace and the role needed.
  // Reads only the call's metadata and auth context: never blocks.
  absl::Status Authorize(const grpc::ServerContextBase& context,
                         absl::string_view method, const MethodPolicy& policy,
                         const google::protobuf::Message& request,
                         Caller* caller) const;

  // The role `principal` holds on `ns`: the higher of its role there and its
  // role on "*".
  static Role RoleOn(const Principal& principal, absl::string_view ns);

 private:
  absl::StatusOr<const Principal*> Authenticate(
      const grpc::ServerContextBase& context) const;

  const std::vector<Principal> principals_;
  std::string gateway_secret_;
  // Indexes into principals_.
  absl::flat_hash_map<std::string, size_t> by_key_hash_;
  absl::flat_hash_map<std::string, size_t> by_tls_identity_;
};

// Metadata the HTTP gateway adds for an HTTPS caller's verified client
// certificate: one kGatewayIdentityKey entry per identity (subject CN, whole
// subject, each subject alternative name), and the secret that vouches for
// them. The gateway never forwards a caller's own "errand-" headers.
inline constexpr char kGatewayIdentityKey[] = "errand-gateway-client-identity";
inline constexpr char kGatewaySecretKey[] = "errand-gateway-secret";

// The request's top-level string field "namespace"; empty if it has none.
std::string RequestNamespace(const google::protobuf::Message& request);

// The audit log line of an operator action: principal (or "-" with auth
// off), peer address, method, namespace, the activity or job it names and
// the outcome.
void LogAudit(const grpc::ServerContextBase& context, absl::string_view method,
              const google::protobuf::Message& request,
              const std::string& principal, const absl::Status& outcome);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_AUTH_H_
