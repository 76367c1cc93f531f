#include "errand/http/http_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>
#include <vector>

namespace errand::http {

struct HttpTls::Parsed {
  X509* leaf = nullptr;
  std::vector<X509*> chain;
  EVP_PKEY* key = nullptr;
  X509_STORE* client_cas = nullptr;

  ~Parsed() {
    X509_free(leaf);
    for (X509* cert : chain) X509_free(cert);
    EVP_PKEY_free(key);
    X509_STORE_free(client_cas);
  }
};

namespace {

std::vector<X509*> ReadCertificates(const std::string& text) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    certs.push_back(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  BIO_free(bio);
  return certs;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const HttpTls::Parsed>> HttpTls::Parse(
    const PemMaterial& material) {
  auto parsed = std::make_shared<Parsed>();
  std::vector<X509*> certs = ReadCertificates(material.cert_chain);
  if (certs.empty()) {
    return absl::InvalidArgumentError("HTTP TLS: no certificate in the chain");
  }
  parsed->leaf = certs.front();
  parsed->chain.assign(certs.begin() + 1, certs.end());
  BIO* bio = BIO_new_mem_buf(material.private_key.data(),
                             static_cast<int>(material.private_key.size()));
  parsed->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (parsed->key == nullptr ||
      X509_check_private_key(parsed->leaf, parsed->key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "HTTP TLS: the key is not the certificate's");
  }
  if (!material.client_ca.empty()) {
    parsed->client_cas = X509_STORE_new();
    std::vector<X509*> cas = ReadCertificates(material.client_ca);
    bool ok = !cas.empty();
    for (X509* ca : cas) {
      ok = ok && X509_STORE_add_cert(parsed->client_cas, ca) == 1;
      X509_free(ca);
    }
    if (!ok) {
      ERR_clear_error();
      return absl::InvalidArgumentError("HTTP TLS: unreadable client CA");
    }
  }
  return std::shared_ptr<const Parsed>(std::move(parsed));
}

absl::StatusOr<std::unique_ptr<HttpTls>> HttpTls::Create(
    const PemMaterial& material) {
  auto parsed = Parse(material);
  if (!parsed.ok()) return parsed.status();
  std::unique_ptr<HttpTls> tls(new HttpTls(!material.client_ca.empty()));
  absl::MutexLock lock(&tls->mu_);
  tls->current_ = *std::move(parsed);
  return tls;
}

HttpTls::~HttpTls() = default;

absl::Status HttpTls::Update(const PemMaterial& material) {
  if (material.client_ca.empty() == verify_clients_) {
    return absl::FailedPreconditionError(
        "HTTP TLS: turning client certificates on or off takes a restart");
  }
  auto parsed = Parse(material);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&mu_);
  current_ = *std::move(parsed);
  return absl::OkStatus();
}

bool HttpTls::Configure(SSL_CTX& ctx) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (verify_clients_) {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
  }
  SSL_CTX_set_client_hello_cb(&ctx, &HttpTls::OnClientHello, this);
  return true;
}

// Runs first in each handshake, on the connection's HTTP thread.
int HttpTls::OnClientHello(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<HttpTls*>(arg);
  std::shared_ptr<const Parsed> parsed;
  {
    absl::MutexLock lock(&self->mu_);
    parsed = self->current_;
  }
  bool ok = SSL_use_certificate(ssl, parsed->leaf) == 1 &&
            SSL_use_PrivateKey(ssl, parsed->key) == 1;
  for (X509* cert : parsed->chain) {
    ok = ok && SSL_add1_chain_cert(ssl, cert) == 1;
  }
  if (ok && parsed->client_cas != nullptr) {
    ok = SSL_set1_verify_cert_store(ssl, parsed->client_cas) == 1;
  }
  if (!ok) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace errand::http
