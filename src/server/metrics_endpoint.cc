#include "errand/server/metrics_endpoint.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "errand/http/listen.h"
#include "spdlog/spdlog.h"

namespace errand::server {
namespace {

// Scrapes are rare; two threads let one slow client not block the next.
constexpr int kThreads = 2;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const metrics::Registry* registry) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->http_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *endpoint->http_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http.set_payload_max_length(0);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.Get("/metrics",
           [registry](const httplib::Request&, httplib::Response& response) {
             response.set_content(registry->Render(),
                                  "text/plain; version=0.0.4; charset=utf-8");
           });
  auto bound = errand::http::Bind(http, address, "metrics.listen", "metrics");
  if (!bound.ok()) return bound.status();
  endpoint->address_ = *std::move(bound);
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
