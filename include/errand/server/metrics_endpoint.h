// Serves GET /metrics (Prometheus text format 0.0.4) over HTTP on its own
// address, with cpp-httplib: a small fixed pool of threads, so a scrape never
// runs on a gRPC or shard thread, and bounded requests (URI and headers 8
// KiB, no body; 5 s read and write timeouts, so a slow client holds a thread
// for at most that long).
#ifndef ERRAND_SERVER_METRICS_ENDPOINT_H_
#define ERRAND_SERVER_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "errand/metrics/metrics.h"

namespace httplib {
class Server;
}

namespace errand::server {

class MetricsEndpoint {
 public:
  // Listens on `address` (HOST:PORT; port 0 picks one) and serves
  // `registry`, which must outlive the endpoint. UNAVAILABLE with the reason
  // when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, const metrics::Registry* registry);
  ~MetricsEndpoint();

  // The address actually bound.
  const std::string& address() const { return address_; }
  void Stop();

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string address_;
};

}  // namespace errand::server

#endif  // ERRAND_SERVER_METRICS_ENDPOINT_H_
