// TLS on the gRPC port, with certificates reloaded on SIGHUP.
//
// gRPC 1.51 (Debian's) offers two certificate providers for its TLS
// credentials: one with fixed data, and one that re-reads files on a timer,
// neither of which can be told to reload now. Its SSL server credentials
// instead take a certificate-config fetcher, which gRPC calls at each new
// handshake: it answers "unchanged" until a reload has been checked and
// staged, then hands over the new config once. Handshakes that follow use
// it; connections already open keep theirs, so a reload drops nothing.
#ifndef ERRAND_SERVER_TLS_H_
#define ERRAND_SERVER_TLS_H_

#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace errand::server {

struct TlsConfig {
  // PEM files: the server's certificate chain (leaf first) and its private
  // key. Both set, or neither (plaintext).
  std::string cert_file;
  std::string key_file;
  // PEM CA certificates. When set, clients must present a certificate that
  // one of them signed (mTLS).
  std::string client_ca_file;

  bool enabled() const { return !cert_file.empty(); }
};

// The PEM text of a TlsConfig's files, read and checked: each file readable
// and holding what it should, and the key the certificate's.
struct TlsMaterial {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;
};
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsConfig& config);

// The text of the PEM file at `path`; INVALID_ARGUMENT "<key> <path>: <why>"
// when it cannot be read (`key` names the setting or flag that gave it).
absl::StatusOr<std::string> ReadPemFile(const char* key,
                                        const std::string& path);

class TlsCredentials {
 public:
  // Reads and checks the files (LoadTlsMaterial); INVALID_ARGUMENT names the
  // file at fault and why.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Create(
      const TlsConfig& config);
  // Must outlive the gRPC server the credentials are given to.
  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  // For ServerBuilder::AddListeningPort; call once.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials();

  // Reads and checks the same files again. On success, handshakes from now
  // on use them; on failure, nothing changes and the error says why. Does
  // file I/O: call it from the signal-handling thread, never from gRPC's.
  absl::Status Reload();

  // Configs handed to gRPC so far (the initial one included); for tests.
  int generation() const;

 private:
  explicit TlsCredentials(TlsConfig config);
  // gRPC's fetcher callback: hands over the staged material, if any.
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config);

  const TlsConfig config_;
  mutable absl::Mutex mu_;
  // Checked material not yet handed to gRPC.
  std::unique_ptr<TlsMaterial> staged_ ABSL_GUARDED_BY(mu_);
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace errand::server

#endif  // ERRAND_SERVER_TLS_H_
