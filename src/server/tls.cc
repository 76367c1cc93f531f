#include "errand/server/tls.h"

#include <grpc/grpc.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace errand::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::Status Invalid(const char* key, const std::string& path,
                     const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(key, " ", path, ": ", what));
}

BioPtr MemBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The certificates in PEM `text`, in order; none if it holds none.
std::vector<X509Ptr> ReadCertificates(const std::string& text) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemBio(text);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the read that ended the loop queued an error
  return certs;
}

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const char* key,
                                        const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(key, path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Invalid(key, path, std::strerror(errno));
  return text.str();
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsConfig& config) {
  TlsMaterial material;
  auto cert_text = ReadPemFile("tls.cert_file", config.cert_file);
  if (!cert_text.ok()) return cert_text.status();
  auto key_text = ReadPemFile("tls.key_file", config.key_file);
  if (!key_text.ok()) return key_text.status();

  std::vector<X509Ptr> chain = ReadCertificates(*cert_text);
  if (chain.empty()) {
    return Invalid("tls.cert_file", config.cert_file,
                   "holds no PEM certificate");
  }
  BioPtr key_bio = MemBio(*key_text);
  // A null password callback with no password: an encrypted key fails here
  // instead of prompting on the terminal.
  PkeyPtr key(PEM_read_bio_PrivateKey(
      key_bio.get(), nullptr, [](char*, int, int, void*) { return 0; },
      nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return Invalid("tls.key_file", config.key_file,
                   "holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return Invalid("tls.key_file", config.key_file,
                   absl::StrCat("is not the key of the certificate in "
                                "tls.cert_file ",
                                config.cert_file));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) < 0) {
    spdlog::warn(
        "the certificate in tls.cert_file {} has expired; clients "
        "will refuse it",
        config.cert_file);
  }
  material.cert_chain = std::move(*cert_text);
  material.private_key = std::move(*key_text);

  if (!config.client_ca_file.empty()) {
    auto ca_text = ReadPemFile("tls.client_ca_file", config.client_ca_file);
    if (!ca_text.ok()) return ca_text.status();
    if (ReadCertificates(*ca_text).empty()) {
      return Invalid("tls.client_ca_file", config.client_ca_file,
                     "holds no PEM certificate");
    }
    material.client_ca = std::move(*ca_text);
  }
  return material;
}

namespace {

// Server credentials over a grpc_server_credentials of the C API (here SSL
// credentials with a config fetcher, which grpc++ has no wrapper for).
// AddPortToServer is private in grpc::ServerCredentials, for grpc::Server
// (a friend) to call when it binds a port; overriding it is how a
// credentials class adds its own kind of port, as grpc++'s own
// SecureServerCredentials does, through the public C call
// grpc_server_add_http2_port.
class FetcherServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit FetcherServerCredentials(grpc_server_credentials* creds)
      : creds_(creds) {}
  ~FetcherServerCredentials() override {
    grpc_server_credentials_release(creds_);
  }

  // Errand authorizes calls in its ServiceTable, not through gRPC's
  // metadata processor; nothing calls this.
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    spdlog::critical("TLS credentials: SetAuthMetadataProcessor unsupported");
    std::abort();
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* const creds_;
};

}  // namespace

TlsCredentials::TlsCredentials(TlsConfig config) : config_(std::move(config)) {}

TlsCredentials::~TlsCredentials() = default;

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Create(
    const TlsConfig& config) {
  auto material = LoadTlsMaterial(config);
  if (!material.ok()) return material.status();
  std::unique_ptr<TlsCredentials> creds(new TlsCredentials(config));
  absl::MutexLock lock(&creds->mu_);
  creds->staged_ = std::make_unique<TlsMaterial>(*std::move(material));
  return creds;
}

std::shared_ptr<grpc::ServerCredentials> TlsCredentials::ServerCredentials() {
  // With a client CA, a client must present a certificate it signed; gRPC
  // takes the CA from each config the fetcher hands over.
  const grpc_ssl_client_certificate_request_type request =
      config_.client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  grpc_ssl_server_credentials_options* options =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(
          request, &TlsCredentials::Fetch, this);
  // Takes ownership of `options`; fetches the initial config at once.
  grpc_server_credentials* creds =
      grpc_ssl_server_credentials_create_with_options(options);
  return std::make_shared<FetcherServerCredentials>(creds);
}

absl::Status TlsCredentials::Reload() {
  auto material = LoadTlsMaterial(config_);
  if (!material.ok()) return material.status();
  absl::MutexLock lock(&mu_);
  staged_ = std::make_unique<TlsMaterial>(*std::move(material));
  return absl::OkStatus();
}

int TlsCredentials::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

grpc_ssl_certificate_config_reload_status TlsCredentials::Fetch(
    void* self, grpc_ssl_server_certificate_config** config) {
  auto* creds = static_cast<TlsCredentials*>(self);
  std::unique_ptr<TlsMaterial> material;
  {
    absl::MutexLock lock(&creds->mu_);
    if (creds->staged_ == nullptr) {
      return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    }
    material = std::move(creds->staged_);
    ++creds->generation_;
  }
  const grpc_ssl_pem_key_cert_pair pair = {material->private_key.c_str(),
                                           material->cert_chain.c_str()};
  // gRPC 1.51 asserts that a fetched config has root certificates, even
  // when it does not ask clients for certificates. Then (no client CA) it
  // never uses them: the server's own chain stands in.
  const std::string& roots =
      material->client_ca.empty() ? material->cert_chain : material->client_ca;
  // Copies the strings; gRPC owns (and destroys) the config.
  *config = grpc_ssl_server_certificate_config_create(roots.c_str(), &pair, 1);
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace errand::server
