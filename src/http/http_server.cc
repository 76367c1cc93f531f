#include "errand/http/http_server.h"

#include <httplib.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/frontend/auth.h"
#include "errand/http/listen.h"
#include "errand/http/ui_assets.h"
#include "google/protobuf/descriptor.h"
#include "spdlog/spdlog.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::http {
namespace {

// Every reply, the UI's pages above all: scripts and styles only from this
// server's own files (never inline, so nothing a payload or an ID smuggles
// into a page can run), no framing, no referrer.
void AddSecurityHeaders(httplib::Response& response) {
  response.set_header("Content-Security-Policy",
                      "default-src 'self'; script-src 'self'; style-src "
                      "'self'; img-src 'self' data:; connect-src 'self'; "
                      "object-src 'none'; base-uri 'none'; form-action "
                      "'self'; frame-ancestors 'none'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Frame-Options", "DENY");
}

void Reply(const HttpResponse& reply, httplib::Response& response) {
  response.status = reply.status;
  response.set_content(reply.body, reply.content_type.c_str());
  response.set_header("Cache-Control", "no-store");
}

std::vector<std::pair<std::string, std::string>> Headers(
    const httplib::Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(name, value);
  }
  return headers;
}

// gRPC metadata values are printable ASCII; other identities cannot match
// a configured one sent that way and are left out.
bool Printable(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e;
  });
}

// The identities of a verified client certificate, as gRPC names them for
// its own TLS peers: subject CN, whole subject (RFC 2253), and each DNS, URI
// and email subject alternative name. None without one.
std::vector<std::string> PeerIdentities(const SSL* ssl) {
  std::vector<std::string> out;
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return out;
  auto add = [&out](std::string identity) {
    if (Printable(identity)) out.push_back(std::move(identity));
  };
  X509_NAME* subject = X509_get_subject_name(cert);
  const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) {
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn)));
    if (n >= 0) add(std::string(reinterpret_cast<char*>(utf8), n));
    OPENSSL_free(utf8);
  }
  if (BIO* bio = BIO_new(BIO_s_mem()); bio != nullptr) {
    if (X509_NAME_print_ex(bio, subject, 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      if (n > 0) add(std::string(data, n));
    }
    BIO_free(bio);
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS || name->type == GEN_URI ||
        name->type == GEN_EMAIL) {
      const ASN1_IA5STRING* text = name->d.ia5;
      add(std::string(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
          ASN1_STRING_length(text)));
    }
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return out;
}

const char kTaskQueuesPrefix[] = "/errand/v1/namespaces/";
const char kTaskQueuesSuffix[] = "/task-queues";

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpServerOptions options) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->options_ = std::move(options);
  auto gateway =
      Gateway::Create(server->options_.channel, server->options_.services);
  if (!gateway.ok()) return gateway.status();
  server->gateway_ = *std::move(gateway);

  if (server->options_.tls) {
    auto tls = HttpTls::Create(*server->options_.tls);
    if (!tls.ok()) return tls.status();
    server->tls_ = *std::move(tls);
    HttpTls* tls_ptr = server->tls_.get();
    server->http_ = std::make_unique<httplib::SSLServer>(
        [tls_ptr](SSL_CTX& ctx) { return tls_ptr->Configure(ctx); });
    if (!server->http_->is_valid()) {
      return absl::InternalError("HTTP TLS: cannot set up OpenSSL");
    }
  } else {
    server->http_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *server->http_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http.set_payload_max_length(kMaxBodyBytes);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  http.set_keep_alive_timeout(10);
  http.set_keep_alive_max_count(1000);

  HttpServer* self = server.get();
  auto handle = [self](const httplib::Request& request,
                       httplib::Response& response) {
    AddSecurityHeaders(response);
    const size_t question = request.target.find('?');
    const std::string path = request.target.substr(0, question);
    if (request.method == "GET" || request.method == "HEAD") {
      if (const UiAsset* asset = FindUiAsset(path); asset != nullptr) {
        response.set_content(std::string(asset->content),
                             std::string(asset->content_type).c_str());
        response.set_header("Cache-Control", "no-cache");
        return;
      }
      if (absl::StartsWith(path, kTaskQueuesPrefix) &&
          absl::EndsWith(path, kTaskQueuesSuffix)) {
        self->ServeTaskQueues(request, path, response);
        return;
      }
    }
    Reply(self->gateway_->Handle(self->ToCall(request)), response);
  };
  http.Get(".*", handle);
  http.Post(".*", handle);
  http.Put(".*", handle);
  http.Patch(".*", handle);
  http.Delete(".*", handle);
  http.Options(".*", handle);
  // Replies cpp-httplib makes itself (an oversized body: 413; a bad
  // request line: 400) in the same JSON shape as the API's errors.
  http.set_error_handler([](const httplib::Request&,
                            httplib::Response& response) {
    if (!response.body.empty()) return;
    AddSecurityHeaders(response);
    grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
    std::string message = absl::StrCat("HTTP ", response.status);
    if (response.status == 400) message = "Bad Request";
    if (response.status == 414) message = "URI Too Long";
    if (response.status == 404) {
      code = grpc::StatusCode::NOT_FOUND;
      message = "Not Found";
    }
    if (response.status == 405) {
      code = grpc::StatusCode::UNIMPLEMENTED;
      message = "Method Not Allowed";
    }
    if (response.status == 413) {
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      message =
          absl::StrCat("request body larger than ", kMaxBodyBytes, " bytes");
    }
    response.set_content(ErrorResponse(grpc::Status(code, message)).body,
                         "application/json");
  });

  auto bound = Bind(http, server->options_.listen, "http.listen", "HTTP");
  if (!bound.ok()) return bound.status();
  server->address_ = *std::move(bound);
  server->thread_ = std::thread([&http] { http.listen_after_bind(); });
  spdlog::info("serving the web UI and HTTP API on {}://{}/",
               server->tls_ ? "https" : "http", server->address_);
  return server;
}

HttpRequest HttpServer::ToCall(const httplib::Request& request) const {
  HttpRequest call;
  call.verb = request.method;
  call.target = request.target;
  call.body = request.body;
  call.headers = Headers(request);
  if (!options_.gateway_secret.empty()) {
    std::vector<std::string> identities = PeerIdentities(request.ssl);
    if (!identities.empty()) {
      call.trusted_metadata.emplace_back(frontend::kGatewaySecretKey,
                                         options_.gateway_secret);
      for (std::string& identity : identities) {
        call.trusted_metadata.emplace_back(frontend::kGatewayIdentityKey,
                                           std::move(identity));
      }
    }
  }
  return call;
}

void HttpServer::ServeTaskQueues(const httplib::Request& request,
                                 const std::string& path,
                                 httplib::Response& response) const {
  std::string ns;
  const std::string raw =
      path.substr(sizeof(kTaskQueuesPrefix) - 1,
                  path.size() - (sizeof(kTaskQueuesPrefix) - 1) -
                      (sizeof(kTaskQueuesSuffix) - 1));
  if (raw.empty() || raw.find('/') != std::string::npos ||
      !PercentDecode(raw, /*plus_is_space=*/false, &ns)) {
    Reply(ErrorResponse(grpc::Status(grpc::StatusCode::NOT_FOUND, "Not Found")),
          response);
    return;
  }
  // DescribeNamespace checks the caller's credential and role (reader) on
  // the namespace and gives its ID, by the same path as any API call.
  temporal::api::workflowservice::v1::DescribeNamespaceRequest describe;
  describe.set_namespace_(ns);
  temporal::api::workflowservice::v1::DescribeNamespaceResponse described;
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          "temporal.api.workflowservice.v1.WorkflowService.DescribeNamespace");
  const grpc::Status status =
      gateway_->Call(method, describe, ToCall(request), &described);
  if (!status.ok()) {
    Reply(ErrorResponse(status), response);
    return;
  }
  Json queues = Json::array();
  if (options_.task_queues) {
    for (const TaskQueueSummary& queue :
         options_.task_queues(described.namespace_info().id())) {
      queues.push_back(Json::object(
          {{"name", queue.name},
           {"backlogCount", queue.backlog_count},
           {"backlogAgeSeconds", absl::ToDoubleSeconds(queue.backlog_age)},
           {"waitingPolls", queue.waiting_polls}}));
    }
  }
  Reply(HttpResponse{200, Json::object({{"taskQueues", queues}}).dump()},
        response);
}

absl::Status HttpServer::ReloadTls(const PemMaterial& material) {
  if (!tls_) return absl::FailedPreconditionError("HTTP has no TLS");
  return tls_->Update(material);
}

void HttpServer::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpServer::~HttpServer() { Stop(); }

}  // namespace errand::http
