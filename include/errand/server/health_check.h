// The client side of gRPC's health protocol (grpc.health.v1.Health/Check),
// for `errand health`: container HEALTHCHECKs and orchestrator probes run it
// against a server.
#ifndef ERRAND_SERVER_HEALTH_CHECK_H_
#define ERRAND_SERVER_HEALTH_CHECK_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "errand/server/config.h"

namespace errand::server {

// Asks the server at `address` (HOST:PORT) whether `service` is serving ("":
// the server as a whole). OK only when the answer is SERVING. Otherwise the
// status says why: UNAVAILABLE when the reply is NOT_SERVING or UNKNOWN or
// the server cannot be reached (at once, with gRPC's reason, e.g. connection
// refused), DEADLINE_EXCEEDED when a connected server did not answer within
// `timeout`, NOT_FOUND for a service the server does not know; the message
// names the address.
// How `errand health` connects: plaintext unless `enabled`. PEM text, not
// paths: `ca` to trust (empty: the system's roots), and a client certificate
// and key for a server that requires one (mTLS). `server_name` overrides the
// name checked against the server's certificate (empty: the address's host).
struct HealthTls {
  bool enabled = false;
  std::string ca;
  std::string cert_chain;
  std::string private_key;
  std::string server_name;
};

absl::Status CheckHealth(const std::string& address, const std::string& service,
                         absl::Duration timeout, const HealthTls& tls = {});

// The address to check for a server listening on `listen`: a wildcard host
// (0.0.0.0, [::] or none) is replaced by the loopback address.
std::string HealthAddressFor(const std::string& listen);

// `errand health [--address HOST:PORT] [--service NAME] [--timeout DURATION]
// [--tls] [--tls-ca-file F] [--tls-cert-file F] [--tls-key-file F]
// [--tls-server-name NAME]`:
// prints the outcome and returns the process exit code (0 when serving, 1 when
// not, 2 for bad flags or configuration). Without --address it checks the
// listen address `errand serve` would use with the same environment
// (ERRAND_CONFIG's file, then ERRAND_LISTEN), so that a container's health
// check follows a port changed by configuration; when that configuration
// turns TLS on (tls.cert_file), so does the check, trusting the server's own
// certificate file unless --tls-ca-file names a CA, with the server name
// "localhost" unless --tls-server-name says otherwise.
int HealthCommand(const std::vector<std::string>& flags, const EnvLookup& env);

}  // namespace errand::server

#endif  // ERRAND_SERVER_HEALTH_CHECK_H_
