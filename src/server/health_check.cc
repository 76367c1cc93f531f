#include "errand/server/health_check.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "errand/server/tls.h"

namespace errand::server {
namespace {

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";

// grpc.health.v1.HealthCheckResponse.ServingStatus values.
constexpr uint64_t kServing = 1;
constexpr uint64_t kNotServing = 2;
constexpr uint64_t kServiceUnknown = 3;

// HealthCheckRequest has one field, `string service = 1`. The messages are
// encoded by hand: two fields do not justify generating code for them, and
// Debian's gRPC ships no C++ stubs for grpc.health.v1.
std::string EncodeRequest(const std::string& service) {
  std::string out;
  if (service.empty()) return out;  // proto3 leaves an empty string out
  out.push_back(static_cast<char>((1 << 3) | 2));  // field 1, length-delimited
  uint64_t n = service.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  out += service;
  return out;
}

// HealthCheckResponse has one field, `ServingStatus status = 1` (a varint;
// absent means 0, UNKNOWN).
std::optional<uint64_t> DecodeStatus(const std::string& bytes) {
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return std::nullopt;
  }
  uint64_t status = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    if (f.number() == 1 &&
        f.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      status = f.varint();
    }
  }
  return status;
}

const char* StatusName(uint64_t status) {
  switch (status) {
    case kServing:
      return "SERVING";
    case kNotServing:
      return "NOT_SERVING";
    case kServiceUnknown:
      return "SERVICE_UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

bool IsWildcardHost(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

}  // namespace

absl::Status CheckHealth(const std::string& address, const std::string& service,
                         absl::Duration timeout, const HealthTls& tls) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (tls.enabled) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = tls.ca;
    options.pem_cert_chain = tls.cert_chain;
    options.pem_private_key = tls.private_key;
    credentials = grpc::SslCredentials(options);
    if (!tls.server_name.empty()) {
      args.SetSslTargetNameOverride(tls.server_name);
    }
  }
  auto channel = grpc::CreateCustomChannel(address, credentials, args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // No wait_for_ready: a refused connection fails at once with gRPC's reason
  // (the caller, e.g. Docker's HEALTHCHECK, retries), and the deadline bounds
  // a server that accepts connections but does not answer.

  const std::string request_bytes = EncodeRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, kCheckMethod, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();

  const std::string target =
      service.empty() ? address
                      : absl::StrCat(address, " (service \"", service, "\")");
  if (!status.ok()) {
    const std::string why =
        absl::StrCat("health check of ", target, ": ", status.error_message());
    switch (status.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return absl::DeadlineExceededError(
            absl::StrCat("health check of ", target, ": no answer within ",
                         absl::FormatDuration(timeout)));
      case grpc::StatusCode::NOT_FOUND:
        return absl::NotFoundError(why);
      case grpc::StatusCode::UNIMPLEMENTED:
        return absl::UnimplementedError(why);
      default:
        return absl::UnavailableError(why);
    }
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  const std::optional<uint64_t> serving = DecodeStatus(bytes);
  if (!serving) {
    return absl::UnavailableError(
        absl::StrCat("health check of ", target, ": unreadable reply"));
  }
  if (*serving != kServing) {
    return absl::UnavailableError(
        absl::StrCat("health check of ", target, ": ", StatusName(*serving)));
  }
  return absl::OkStatus();
}

std::string HealthAddressFor(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return listen;
  if (!IsWildcardHost(listen.substr(0, colon))) return listen;
  return absl::StrCat("127.0.0.1", listen.substr(colon));
}

int HealthCommand(const std::vector<std::string>& flags, const EnvLookup& env) {
  constexpr char kHealthUsage[] =
      R"(Usage: errand health [flags]
Asks a server over gRPC's health protocol whether it is serving; exits 0 when
it is, 1 when it is not or cannot be reached, 2 for bad flags.

  --address HOST:PORT   server to ask [the listen address errand serve takes
                        from ERRAND_CONFIG's file and ERRAND_LISTEN, with a
                        wildcard host replaced by 127.0.0.1]
  --service NAME        a single service, e.g.
                        temporal.api.workflowservice.v1.WorkflowService
                        [the server as a whole]
  --timeout DURATION    how long to wait for an answer [3s]
  --tls                 connect over TLS [on when the config's tls.cert_file
                        is set and --address is not given]
  --tls-ca-file FILE    CA certificates to trust [the config's
                        tls.cert_file, else the system's]
  --tls-cert-file FILE  client certificate, for a server that requires one
  --tls-key-file FILE   its private key
  --tls-server-name N   name to check the server's certificate against
                        [localhost with the config's TLS, else the host]
)";
  std::optional<std::string> address;
  std::string service;
  absl::Duration timeout = absl::Seconds(3);
  bool tls_flag = false;
  std::optional<std::string> ca_file, cert_file, key_file, server_name;
  for (size_t i = 0; i < flags.size(); ++i) {
    std::string name = flags[i];
    std::optional<std::string> value;
    if (name == "--help" || name == "-h") {
      std::fputs(kHealthUsage, stdout);
      return 0;
    }
    if (name == "--tls") {
      tls_flag = true;
      continue;
    }
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < flags.size()) {
      value = flags[++i];
    }
    if (name != "--address" && name != "--service" && name != "--timeout" &&
        name != "--tls-ca-file" && name != "--tls-cert-file" &&
        name != "--tls-key-file" && name != "--tls-server-name") {
      std::fprintf(stderr, "errand health: unknown flag \"%s\"\n\n%s",
                   name.c_str(), kHealthUsage);
      return 2;
    }
    if (!value) {
      std::fprintf(stderr, "errand health: %s needs a value\n", name.c_str());
      return 2;
    }
    if (name == "--address") {
      address = *value;
    } else if (name == "--tls-ca-file") {
      ca_file = *value;
    } else if (name == "--tls-cert-file") {
      cert_file = *value;
    } else if (name == "--tls-key-file") {
      key_file = *value;
    } else if (name == "--tls-server-name") {
      server_name = *value;
    } else if (name == "--service") {
      service = *value;
    } else if (!absl::ParseDuration(*value, &timeout) ||
               timeout <= absl::ZeroDuration()) {
      std::fprintf(stderr,
                   "errand health: --timeout: expected a positive duration "
                   "such as 3s, got \"%s\"\n",
                   value->c_str());
      return 2;
    }
  }
  HealthTls tls;
  tls.enabled = tls_flag || ca_file || cert_file || key_file;
  if (!address) {
    auto config = LoadConfig({}, env);
    if (!config.ok()) {
      std::fprintf(stderr, "errand health: %s\n",
                   std::string(config.status().message()).c_str());
      return 2;
    }
    address = HealthAddressFor(config->listen);
    if (config->tls.enabled()) {
      tls.enabled = true;
      if (!ca_file) ca_file = config->tls.cert_file;
      if (!server_name) server_name = "localhost";
    }
  }
  if (cert_file.has_value() != key_file.has_value()) {
    std::fprintf(stderr,
                 "errand health: --tls-cert-file and --tls-key-file go "
                 "together\n");
    return 2;
  }
  for (auto [flag, file, pem] :
       {std::tuple{"--tls-ca-file", &ca_file, &tls.ca},
        std::tuple{"--tls-cert-file", &cert_file, &tls.cert_chain},
        std::tuple{"--tls-key-file", &key_file, &tls.private_key}}) {
    if (!*file) continue;
    auto text = ReadPemFile(flag, **file);
    if (!text.ok()) {
      std::fprintf(stderr, "errand health: %s\n",
                   std::string(text.status().message()).c_str());
      return 2;
    }
    *pem = *std::move(text);
  }
  tls.server_name = server_name.value_or("");
  const absl::Status status = CheckHealth(*address, service, timeout, tls);
  if (!status.ok()) {
    std::fprintf(stderr, "errand health: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  std::printf("%s: SERVING\n", address->c_str());
  return 0;
}

}  // namespace errand::server
