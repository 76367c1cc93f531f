#include "errand/server/metrics_endpoint.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace errand::server {
namespace {

// Scrapes are rare; two threads let one slow client not block the next.
constexpr int kThreads = 2;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const metrics::Registry* registry) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics.listen: expected HOST:PORT, got \"", address, "\""));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->http_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *endpoint->http_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http.set_payload_max_length(0);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  // cpp-httplib's default sets SO_REUSEPORT, which would let a second
  // server share the address; SO_REUSEADDR alone makes it fail to bind.
  http.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.Get("/metrics",
           [registry](const httplib::Request&, httplib::Response& response) {
             response.set_content(registry->Render(),
                                  "text/plain; version=0.0.4; charset=utf-8");
           });
  const int bound = port == 0 ? http.bind_to_any_port(host)
                              : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", address, " for metrics: ", std::strerror(errno)));
  }
  endpoint->address_ = absl::StrCat(address.substr(0, colon), ":", bound);
  endpoint->thread_ = std::thread([&http] { http.listen_after_bind(); });
  spdlog::info("serving metrics on http://{}/metrics", endpoint->address_);
  return endpoint;
}

void MetricsEndpoint::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

}  // namespace errand::server
