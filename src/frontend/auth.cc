#include "errand/frontend/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace errand::frontend {
namespace {

struct MethodEntry {
  absl::string_view method;
  MethodPolicy policy;
};

constexpr MethodPolicy Open() { return {.open = true, .role = Role::kNone}; }
constexpr MethodPolicy Authenticated() { return {.role = Role::kNone}; }
constexpr MethodPolicy Reader() { return {.role = Role::kReader}; }
constexpr MethodPolicy Writer() { return {.role = Role::kWriter}; }
constexpr MethodPolicy WriterAudited() {
  return {.role = Role::kWriter, .audit = true};
}
constexpr MethodPolicy AdminAudited() {
  return {.role = Role::kAdmin, .audit = true};
}

// Roles follow Temporal Cloud's namespace permissions where they map:
// read-only callers describe and list; writers start and act on executions
// (cancel, terminate, pause, unpause, reset and update options, as Cloud's
// "write" permission signals, cancels, terminates and resets workflows) and
// run workers; namespace admins manage the namespace itself: its settings,
// search attributes, task queue configuration, batch jobs over many
// executions, and deletion.
constexpr MethodEntry kMethods[] = {
    // Called by the SDKs on connect, before any namespace is involved.
    {"GetSystemInfo", Open()},
    {"GetClusterInfo", Authenticated()},
    // Namespaces. RegisterNamespace checks admin on the new name (or "*").
    {"DescribeNamespace", Reader()},
    {"ListNamespaces", Reader()},
    {"RegisterNamespace", AdminAudited()},
    {"UpdateNamespace", AdminAudited()},
    {"DeleteNamespace", AdminAudited()},
    // Search attributes (OperatorService).
    {"ListSearchAttributes", Reader()},
    {"AddSearchAttributes", AdminAudited()},
    {"RemoveSearchAttributes", AdminAudited()},
    // Activity executions: reads.
    {"DescribeActivityExecution", Reader()},
    {"PollActivityExecution", Reader()},
    {"ListActivityExecutions", Reader()},
    {"CountActivityExecutions", Reader()},
    // Activity executions: client and operator writes.
    {"StartActivityExecution", Writer()},
    {"RequestCancelActivityExecution", WriterAudited()},
    {"TerminateActivityExecution", WriterAudited()},
    {"PauseActivityExecution", WriterAudited()},
    {"UnpauseActivityExecution", WriterAudited()},
    {"ResetActivityExecution", WriterAudited()},
    {"UpdateActivityExecutionOptions", WriterAudited()},
    {"DeleteActivityExecution", AdminAudited()},
    // Workers.
    {"PollActivityTaskQueue", Writer()},
    {"PollWorkflowTaskQueue", Writer()},
    {"RecordActivityTaskHeartbeat", Writer()},
    {"RecordActivityTaskHeartbeatById", Writer()},
    {"RespondActivityTaskCompleted", Writer()},
    {"RespondActivityTaskCompletedById", Writer()},
    {"RespondActivityTaskFailed", Writer()},
    {"RespondActivityTaskFailedById", Writer()},
    {"RespondActivityTaskCanceled", Writer()},
    {"RespondActivityTaskCanceledById", Writer()},
    {"ShutdownWorker", Writer()},
    // Task queues.
    {"DescribeTaskQueue", Reader()},
    {"UpdateTaskQueueConfig", AdminAudited()},
    // Batch operations.
    {"DescribeBatchOperation", Reader()},
    {"ListBatchOperations", Reader()},
    {"StartBatchOperation", AdminAudited()},
    {"StopBatchOperation", AdminAudited()},
};

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(why);
}

// The first value of metadata `key` (lowercase), if any.
std::optional<absl::string_view> Metadata(
    const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

// A string field of `request` by name; empty if there is none.
std::string StringField(const google::protobuf::Message& request,
                        const char* name) {
  const auto* field = request.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return request.GetReflection()->GetString(request, field);
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kReader:
      return "reader";
    case Role::kWriter:
      return "writer";
    case Role::kAdmin:
      return "admin";
  }
  return "none";
}

std::optional<Role> ParseRole(absl::string_view name) {
  if (name == "reader") return Role::kReader;
  if (name == "writer") return Role::kWriter;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool Classified(absl::string_view method) {
  for (const MethodEntry& entry : kMethods) {
    if (entry.method == method) return true;
  }
  return false;
}

MethodPolicy PolicyFor(absl::string_view method) {
  for (const MethodEntry& entry : kMethods) {
    if (entry.method == method) return entry.policy;
  }
  return AdminAudited();
}

std::string HashApiKey(absl::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP_Digest with SHA-256 cannot fail short of memory exhaustion.
  EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

absl::Status ValidatePrincipals(const std::vector<Principal>& principals) {
  absl::flat_hash_set<std::string> names, hashes, identities;
  for (const Principal& p : principals) {
    const std::string who = absl::StrCat("principal \"", p.name, "\"");
    if (p.name.empty()) {
      return absl::InvalidArgumentError("every principal needs a name");
    }
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(who, " appears twice"));
    }
    if (p.api_key_sha256.empty() && p.tls_identity.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, " needs an api_key_sha256 or a tls_identity"));
    }
    if (!p.api_key_sha256.empty()) {
      if (p.api_key_sha256.size() != 64 ||
          !std::all_of(
              p.api_key_sha256.begin(), p.api_key_sha256.end(), [](char c) {
                return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
              })) {
        return absl::InvalidArgumentError(absl::StrCat(
            who,
            ": api_key_sha256 must be 64 lowercase hex digits (the output "
            "of errand hash-key), not the key itself"));
      }
      if (!hashes.insert(p.api_key_sha256).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(who, ": another principal has the same API key"));
      }
    }
    if (!p.tls_identity.empty() && !identities.insert(p.tls_identity).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": another principal has the same tls_identity"));
    }
    if (p.roles.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, " needs at least one role"));
    }
    for (const auto& [ns, role] : p.roles) {
      if (ns.empty() || role == Role::kNone) {
        return absl::InvalidArgumentError(
            absl::StrCat(who,
                         ": every role needs a namespace (or \"*\") "
                         "and one of reader, writer, admin"));
      }
    }
  }
  return absl::OkStatus();
}

Authorizer::Authorizer(std::vector<Principal> principals)
    : principals_(std::move(principals)) {
  for (size_t i = 0; i < principals_.size(); ++i) {
    if (!principals_[i].api_key_sha256.empty()) {
      by_key_hash_.emplace(principals_[i].api_key_sha256, i);
    }
    if (!principals_[i].tls_identity.empty()) {
      by_tls_identity_.emplace(principals_[i].tls_identity, i);
    }
  }
}

Role Authorizer::RoleOn(const Principal& principal, absl::string_view ns) {
  Role role = Role::kNone;
  if (auto it = principal.roles.find(std::string(kAnyNamespace));
      it != principal.roles.end()) {
    role = it->second;
  }
  if (auto it = principal.roles.find(std::string(ns));
      it != principal.roles.end() && it->second > role) {
    role = it->second;
  }
  return role;
}

absl::StatusOr<const Principal*> Authorizer::Authenticate(
    const grpc::ServerContextBase& context) const {
  // An API key, when sent, decides: a client with a certificate may still
  // act as another principal by its key.
  if (auto header = Metadata(context, "authorization")) {
    absl::string_view value = absl::StripAsciiWhitespace(*header);
    if (value.size() < 7 ||
        !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
      return Unauthenticated(
          "the authorization header must be \"Bearer <API key>\"");
    }
    const absl::string_view key = absl::StripAsciiWhitespace(value.substr(7));
    auto it = by_key_hash_.find(HashApiKey(key));
    if (key.empty() || it == by_key_hash_.end()) {
      return Unauthenticated("invalid API key");
    }
    return &principals_[it->second];
  }
  // A verified client certificate of an HTTPS caller, vouched for by the
  // gateway's secret (compared in constant time).
  if (auto secret = Metadata(context, kGatewaySecretKey);
      secret && !gateway_secret_.empty() &&
      secret->size() == gateway_secret_.size() &&
      CRYPTO_memcmp(secret->data(), gateway_secret_.data(),
                    gateway_secret_.size()) == 0) {
    std::string first_identity;
    const auto [begin, end] = context.client_metadata().equal_range(
        grpc::string_ref(kGatewayIdentityKey));
    for (auto it = begin; it != end; ++it) {
      const std::string identity(it->second.data(), it->second.size());
      if (first_identity.empty()) first_identity = identity;
      if (auto found = by_tls_identity_.find(identity);
          found != by_tls_identity_.end()) {
        return &principals_[found->second];
      }
    }
    if (!first_identity.empty()) {
      return Unauthenticated(
          absl::StrCat("the client certificate (", first_identity,
                       ") matches no principal, and no API key was sent"));
    }
  }
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::string first_identity;
    for (const char* property :
         {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SUBJECT_PROPERTY_NAME,
          GRPC_X509_SAN_PROPERTY_NAME}) {
      for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
        const std::string identity(value.data(), value.size());
        if (first_identity.empty()) first_identity = identity;
        if (auto it = by_tls_identity_.find(identity);
            it != by_tls_identity_.end()) {
          return &principals_[it->second];
        }
      }
    }
    return Unauthenticated(
        absl::StrCat("the client certificate (", first_identity,
                     ") matches no principal, and no API key was sent"));
  }
  return Unauthenticated(
      "credentials required: send \"authorization: Bearer <API key>\" "
      "metadata, or connect with a client certificate");
}

absl::Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method,
                                   const MethodPolicy& policy,
                                   const google::protobuf::Message& request,
                                   Caller* caller) const {
  if (!enabled() || policy.open) return absl::OkStatus();
  auto principal = Authenticate(context);
  if (!principal.ok()) return principal.status();
  const Principal& p = **principal;
  caller->principal = p.name;
  if (policy.role != Role::kNone) {
    std::string ns = RequestNamespace(request);
    if (ns.empty()) ns = std::string(kAnyNamespace);
    if (RoleOn(p, ns) < policy.role) {
      return absl::PermissionDeniedError(
          absl::StrCat("principal \"", p.name, "\" may not call ", method,
                       " on namespace \"", ns, "\": it needs the ",
                       RoleName(policy.role), " role there"));
    }
  }
  return absl::OkStatus();
}

std::string RequestNamespace(const google::protobuf::Message& request) {
  return StringField(request, "namespace");
}

void LogAudit(const grpc::ServerContextBase& context, absl::string_view method,
              const google::protobuf::Message& request,
              const std::string& principal, const absl::Status& outcome) {
  std::string target;
  for (const char* field : {"activity_id", "run_id", "job_id", "task_queue"}) {
    std::string value = StringField(request, field);
    if (!value.empty()) absl::StrAppend(&target, " ", field, "=", value);
  }
  const std::string ns = RequestNamespace(request);
  spdlog::info("audit principal={} peer={} method={} namespace={}{} status={}",
               principal.empty() ? "-" : principal, context.peer(),
               std::string(method), ns.empty() ? "-" : ns, target,
               absl::StatusCodeToString(outcome.code()));
}

}  // namespace errand::frontend
