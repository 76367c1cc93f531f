// TLS on the HTTP port, from the same PEM material as the gRPC port's
// (tls.cert_file, tls.key_file, tls.client_ca_file), reloaded with it.
//
// cpp-httplib's SSLServer hands over its SSL_CTX once, at start. The
// certificate is not put into that context: a callback picks the current
// one at each handshake, so Update (on SIGHUP) takes effect for the next
// connection, and open connections keep theirs.
#ifndef ERRAND_HTTP_HTTP_TLS_H_
#define ERRAND_HTTP_HTTP_TLS_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace errand::http {

struct PemMaterial {
  std::string cert_chain;  // leaf first
  std::string private_key;
  std::string client_ca;  // empty: no client certificate asked for
};

class HttpTls {
 public:
  // INVALID_ARGUMENT when the PEM text does not parse.
  static absl::StatusOr<std::unique_ptr<HttpTls>> Create(
      const PemMaterial& material);
  ~HttpTls();

  // Handshakes from now on use `material`; on error nothing changes. Whether
  // client certificates are required is fixed at Create.
  absl::Status Update(const PemMaterial& material);

  // For SSLServer's set-up callback: protocol floor, client verification,
  // and the per-handshake certificate callback.
  bool Configure(SSL_CTX& ctx);

 private:
  struct Parsed;
  explicit HttpTls(bool verify_clients) : verify_clients_(verify_clients) {}
  static absl::StatusOr<std::shared_ptr<const Parsed>> Parse(
      const PemMaterial& material);
  static int OnClientHello(SSL* ssl, int* alert, void* self);

  const bool verify_clients_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Parsed> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace errand::http

#endif  // ERRAND_HTTP_HTTP_TLS_H_
