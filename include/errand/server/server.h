// Wires the components into one running daemon: store, namespaces, matching,
// the gRPC services, health and reflection.
#ifndef ERRAND_SERVER_SERVER_H_
#define ERRAND_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "errand/batch/batch_runner.h"
#include "errand/common/clock.h"
#include "errand/common/executor.h"
#include "errand/common/timer_thread.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/activity_metrics.h"
#include "errand/engine/namespace_registry.h"
#include "errand/engine/retention_sweeper.h"
#include "errand/frontend/auth.h"
#include "errand/frontend/empty_polls.h"
#include "errand/frontend/rpc_metrics.h"
#include "errand/frontend/service_table.h"
#include "errand/http/http_server.h"
#include "errand/matching/matcher.h"
#include "errand/matching/poller_history.h"
#include "errand/matching/task_queue_configs.h"
#include "errand/metrics/metrics.h"
#include "errand/server/config.h"
#include "errand/server/metrics_endpoint.h"
#include "errand/server/tls.h"
#include "errand/store/store.h"
#include "errand/visibility/lister.h"

namespace errand::server {

class Server {
 public:
  // Opens the store, creates the configured namespaces and starts serving.
  // `clock` drives every wait on time (shard timers, long polls, retention,
  // the store's resume pacing); tests pass a FakeClock.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const Config& config, const Clock* clock = SystemClock::Get());
  ~Server();

  // The address actually bound (the port is resolved when 0 was asked for).
  const std::string& address() const { return address_; }
  const std::string& cluster_id() const { return cluster_id_; }
  // Where /metrics is served; empty when metrics are off.
  std::string metrics_address() const {
    return metrics_endpoint_ ? metrics_endpoint_->address() : "";
  }
  // Where the web UI and HTTP API are served; empty when off.
  std::string http_address() const {
    return http_server_ ? http_server_->address() : "";
  }
  // Activity task polls waiting for a task (for tests and stats).
  size_t WaitingTaskPolls() const { return matcher_->WaitingPolls(); }
  // Task queues the matcher holds state for (for tests and stats).
  size_t ActiveTaskQueues() const { return matcher_->QueueCount(); }
  // Workflow task polls waiting to be answered empty (for tests and stats).
  size_t WaitingWorkflowPolls() const { return empty_polls_->size(); }

  // Reads the TLS files again (tls.*, on SIGHUP): new connections use them,
  // open ones keep theirs. On error the current ones stay. FAILED_PRECONDITION
  // without TLS.
  absl::Status ReloadTls();
  // TLS configs handed to gRPC so far (0 without TLS); for tests.
  int TlsGeneration() const { return tls_ ? tls_->generation() : 0; }

  // Stops accepting calls, answers waiting long polls, lets in-flight calls
  // finish for up to `grace`, then flushes the store. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;

  Config config_;
  // Both outlive the gRPC server and the service tables that use them.
  std::unique_ptr<TlsCredentials> tls_;
  std::unique_ptr<frontend::Authorizer> authorizer_;
  std::string address_;
  std::string cluster_id_;
  // Null when metrics are off. Declared first: everything records into it.
  std::unique_ptr<metrics::Registry> metrics_;
  std::unique_ptr<engine::ActivityMetrics> activity_metrics_;
  std::unique_ptr<frontend::RpcMetrics> rpc_metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::NamespaceRegistry> namespaces_;
  std::unique_ptr<TimerThread> timers_;
  std::unique_ptr<matching::Matcher> matcher_;
  std::unique_ptr<matching::TaskQueueConfigs> task_queue_configs_;
  std::unique_ptr<matching::PollerHistory> pollers_;
  std::unique_ptr<engine::ActivityEngine> engine_;
  std::unique_ptr<engine::RetentionSweeper> retention_;
  std::unique_ptr<visibility::Lister> lister_;
  // Declared after the engine and lister it uses, so destroyed before them.
  std::unique_ptr<batch::BatchRunner> batches_;
  std::unique_ptr<BoundedExecutor> scan_executor_;
  std::unique_ptr<frontend::EmptyPolls> empty_polls_;
  std::unique_ptr<frontend::ServiceTable> workflow_service_;
  std::unique_ptr<frontend::ServiceTable> operator_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Last: its scrapes read the matcher and the store, so it goes first.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  // Calls the gRPC server in-process: stopped before it.
  std::unique_ptr<http::HttpServer> http_server_;
  bool shut_down_ = false;
};

}  // namespace errand::server

#endif  // ERRAND_SERVER_SERVER_H_
