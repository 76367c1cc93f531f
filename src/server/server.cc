#include "errand/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errand/common/uuid.h"
#include "errand/frontend/activity_handler.h"
#include "errand/frontend/operator_handler.h"
#include "errand/frontend/workflow_handler.h"
#include "errand/metrics/process.h"
#include "errand/store/keys.h"
#include "errand/visibility/writer.h"
#include "spdlog/spdlog.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace errand::server {
namespace {

constexpr char kWorkflowServiceName[] =
    "temporal.api.workflowservice.v1.WorkflowService";
constexpr char kOperatorServiceName[] =
    "temporal.api.operatorservice.v1.OperatorService";
// Requests carry payloads of up to 2 MiB each (the blob limit) plus headers.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;
// Task queues GET /errand/v1/namespaces/{ns}/task-queues looks through.
constexpr size_t kMaxListedTaskQueues = 10000;
// List and Count scans: two threads, so that one long count does not stop
// every other query, and few enough to leave the shards' writers the CPU on
// a small machine. 32 waiting calls at most; beyond that a caller is told
// to retry (RESOURCE_EXHAUSTED) instead of queueing without bound.
constexpr int kScanThreads = 2;
constexpr size_t kMaxQueuedScans = 32;

absl::StatusOr<std::string> LoadOrCreateClusterId(store::Store& store) {
  auto existing = store.Get(store::Table::kMeta, store::kClusterIdKey);
  if (!existing.ok()) return existing.status();
  if (*existing) return **existing;
  std::string id = NewUuid();
  store::Batch batch = store.NewBatch();
  batch.Put(store::Table::kMeta, store::kClusterIdKey, id);
  if (absl::Status s = store.Write(batch); !s.ok()) return s;
  return id;
}

// The service descriptors live in the generated service.pb.cc files, which
// nothing else references; naming their descriptor tables keeps the linker
// from dropping them (and with them the pool's registration).
const google::protobuf::ServiceDescriptor* FindService(
    const google::protobuf::internal::DescriptorTable& file, const char* name) {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          name);
  if (descriptor == nullptr) {
    spdlog::critical("service {} missing from {}", name, file.filename);
    std::abort();
  }
  return descriptor;
}

// Why gRPC could not listen on `listen` (HOST:PORT): a bind of our own to
// the same address says, as Temporal's "bind: address already in use".
std::string WhyNotBindable(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "not a HOST:PORT address";
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(),
                           &hints, &found);
      rc != 0) {
    return absl::StrCat("address: ", gai_strerror(rc));
  }
  std::string why = "the address is not available";
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  if (fd >= 0) {
    const int yes = 1;  // as gRPC: a port in TIME_WAIT is not "in use"
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
      why = absl::StrCat("bind: ", absl::AsciiStrToLower(strerror(errno)));
    }
    close(fd);
  }
  freeaddrinfo(found);
  return why;
}

// Figures read at scrape time: task queue backlogs and pollers (with
// Temporal's matching names where it has them) and the store's.
void AddServerCollectors(metrics::Registry* registry, store::Store* store,
                         matching::Matcher* matcher,
                         engine::NamespaceRegistry* namespaces) {
  registry->AddCollector([matcher, namespaces] {
    using metrics::CollectedFamily;
    CollectedFamily count{"approximate_backlog_count",
                          "Tasks waiting in a task queue.",
                          metrics::Type::kGauge,
                          {}};
    CollectedFamily age{"approximate_backlog_age_seconds",
                        "Age of a task queue's oldest waiting task.",
                        metrics::Type::kGauge,
                        {}};
    CollectedFamily pollers{"errand_task_queue_waiting_polls",
                            "Worker polls waiting on a task queue.",
                            metrics::Type::kGauge,
                            {}};
    absl::flat_hash_map<std::string, std::string> names;
    for (const auto& g : matcher->Gauges(metrics::Registry::kMaxSeries)) {
      auto [it, added] = names.try_emplace(g.queue.namespace_id);
      if (added) {
        auto ns = namespaces->GetById(g.queue.namespace_id);
        it->second = ns.ok() ? ns->name() : g.queue.namespace_id;
      }
      const metrics::LabelPairs labels = {{"namespace", it->second},
                                          {"service_name", "matching"},
                                          {"task_type", "Activity"},
                                          {"taskqueue", g.queue.task_queue}};
      count.samples.push_back({labels, static_cast<double>(g.backlog_count)});
      age.samples.push_back({labels, absl::ToDoubleSeconds(g.backlog_age)});
      pollers.samples.push_back({labels, static_cast<double>(g.waiting_polls)});
    }
    return std::vector<CollectedFamily>{std::move(count), std::move(age),
                                        std::move(pollers)};
  });
  registry->AddCollector([store] {
    const store::StoreFigures f = store->Figures();
    auto gauge = [](std::string name, std::string help, double value) {
      return metrics::CollectedFamily{std::move(name),
                                      std::move(help),
                                      metrics::Type::kGauge,
                                      {{{}, value}}};
    };
    return std::vector<metrics::CollectedFamily>{
        gauge("errand_store_disk_bytes",
              "Bytes of every file in the data directory.",
              static_cast<double>(f.disk_bytes)),
        gauge("errand_store_write_stopped",
              "1 while RocksDB stops writes (a write stall).",
              f.write_stopped ? 1 : 0),
        gauge("errand_store_delayed_write_rate_bytes",
              "Bytes per second RocksDB lets writes through while it slows "
              "them down; 0 when it does not.",
              static_cast<double>(f.delayed_write_rate)),
        gauge("errand_store_pending_compaction_bytes",
              "Bytes RocksDB estimates compaction has yet to rewrite.",
              static_cast<double>(f.pending_compaction_bytes)),
        gauge("errand_store_memtable_bytes", "Bytes held in memtables.",
              static_cast<double>(f.memtable_bytes)),
        gauge("errand_store_writes_failing",
              "1 from a failed write until writes succeed again.",
              f.writes_failing ? 1 : 0),
    };
  });
}

// Whether `listen` (HOST:PORT) only accepts connections from this machine.
bool IsLoopback(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config,
                                                      const Clock* clock) {
  std::unique_ptr<Server> server(new Server());
  server->config_ = config;
  // TLS files are checked before anything else is opened, so that a wrong
  // path fails at once, naming the file.
  if (config.tls.enabled()) {
    auto tls = TlsCredentials::Create(config.tls);
    if (!tls.ok()) return tls.status();
    server->tls_ = *std::move(tls);
  }
  if (absl::Status s = frontend::ValidatePrincipals(config.principals);
      !s.ok()) {
    return s;
  }
  server->authorizer_ =
      std::make_unique<frontend::Authorizer>(config.principals);
  // The HTTP gateway's proof, to the services, that a client certificate's
  // identities in a call's metadata were verified by its TLS handshake.
  std::string gateway_secret;
  if (!config.http_listen.empty() && config.tls.enabled()) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof(random)) != 1) {
      return absl::InternalError("no randomness for the HTTP gateway secret");
    }
    gateway_secret = absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(random), sizeof(random)));
    server->authorizer_->TrustGateway(gateway_secret);
  }
  metrics::Histogram* write_latency = nullptr;
  if (!config.metrics_listen.empty()) {
    server->metrics_ = std::make_unique<metrics::Registry>();
    server->rpc_metrics_ =
        std::make_unique<frontend::RpcMetrics>(server->metrics_.get());
    write_latency =
        &server->metrics_
             ->AddHistogram("errand_store_write_latency",
                            "Seconds per store write (one group commit), "
                            "including its fsync when sync is on.",
                            {}, &metrics::LatencyBuckets())
             .With({});
  }

  store::StoreOptions store_options;
  store_options.data_dir = config.data_dir;
  store_options.sync = config.sync;
  store_options.min_free_bytes = config.min_free_space;
  store_options.clock = clock;
  store_options.write_latency = write_latency;
  auto store = store::Store::Open(store_options);
  if (!store.ok()) return store.status();
  server->store_ = std::move(*store);

  if (absl::Status s = visibility::EnsureIndex(*server->store_); !s.ok()) {
    return s;
  }
  if (absl::Status s = visibility::EnsureCounts(*server->store_); !s.ok()) {
    return s;
  }
  auto cluster_id = LoadOrCreateClusterId(*server->store_);
  if (!cluster_id.ok()) return cluster_id.status();
  server->cluster_id_ = *cluster_id;

  auto namespaces =
      engine::NamespaceRegistry::Load(server->store_.get(), clock);
  if (!namespaces.ok()) return namespaces.status();
  server->namespaces_ = std::move(*namespaces);
  for (const NamespaceConfig& ns : config.namespaces) {
    engine::NamespaceSpec spec;
    spec.name = ns.name;
    spec.description = ns.description;
    spec.retention = ns.retention;
    if (absl::Status s = server->namespaces_->EnsureRegistered(spec); !s.ok()) {
      return s;
    }
  }

  server->timers_ = std::make_unique<TimerThread>(clock);
  server->matcher_ = std::make_unique<matching::Matcher>(
      server->timers_.get(),
      matching::BacklogOptions{.levels = config.priority_levels,
                               .fairness = config.fairness});
  auto task_queue_configs = matching::TaskQueueConfigs::Load(
      server->store_.get(), server->matcher_.get());
  if (!task_queue_configs.ok()) return task_queue_configs.status();
  server->task_queue_configs_ = *std::move(task_queue_configs);
  server->pollers_ = std::make_unique<matching::PollerHistory>();
  if (server->metrics_) {
    engine::NamespaceRegistry* namespaces = server->namespaces_.get();
    server->activity_metrics_ = std::make_unique<engine::ActivityMetrics>(
        server->metrics_.get(), [namespaces](absl::string_view id) {
          auto ns = namespaces->GetById(id);
          return ns.ok() ? ns->name() : std::string(id);
        });
  }
  server->engine_ = std::make_unique<engine::ActivityEngine>(
      config.shards, server->store_.get(), server->matcher_.get(),
      server->timers_.get(), clock, server->activity_metrics_.get());
  if (absl::Status s = server->engine_->Recover(); !s.ok()) return s;
  server->retention_ = std::make_unique<engine::RetentionSweeper>(
      server->store_.get(), server->namespaces_.get(), server->engine_.get(),
      clock,
      engine::RetentionOptions{.interval = config.retention_sweep_interval,
                               .jitter = config.retention_jitter});
  server->retention_->Start();
  server->lister_ =
      std::make_unique<visibility::Lister>(server->store_.get(), clock);
  server->batches_ = std::make_unique<batch::BatchRunner>(
      server->store_.get(), server->namespaces_.get(), server->engine_.get(),
      server->lister_.get(), clock);
  if (absl::Status s = server->batches_->Recover(); !s.ok()) return s;
  server->batches_->Start();
  server->scan_executor_ =
      std::make_unique<BoundedExecutor>(kScanThreads, kMaxQueuedScans);
  server->empty_polls_ =
      std::make_unique<frontend::EmptyPolls>(server->timers_.get());

  server->workflow_service_ = std::make_unique<frontend::ServiceTable>(
      FindService(
          descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto,
          kWorkflowServiceName),
      clock, server->rpc_metrics_.get());
  server->operator_service_ = std::make_unique<frontend::ServiceTable>(
      FindService(
          descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto,
          kOperatorServiceName),
      clock, server->rpc_metrics_.get());

  server->workflow_service_->SetAuthorizer(server->authorizer_.get());
  server->operator_service_->SetAuthorizer(server->authorizer_.get());

  frontend::WorkflowServiceDeps deps;
  deps.identity.version = ERRAND_VERSION;
  deps.identity.cluster_id = server->cluster_id_;
  deps.identity.shard_count = config.shards;
  deps.namespaces = server->namespaces_.get();
  frontend::RegisterWorkflowService(*server->workflow_service_, deps);
  frontend::ActivityServiceDeps activity_deps;
  activity_deps.namespaces = server->namespaces_.get();
  activity_deps.engine = server->engine_.get();
  activity_deps.matcher = server->matcher_.get();
  activity_deps.pollers = server->pollers_.get();
  activity_deps.task_queue_configs = server->task_queue_configs_.get();
  activity_deps.lister = server->lister_.get();
  activity_deps.clock = clock;
  activity_deps.scan_executor = server->scan_executor_.get();
  activity_deps.list_scan_rows = config.list_scan_rows;
  activity_deps.count_scan_rows = config.count_scan_rows;
  activity_deps.empty_polls = server->empty_polls_.get();
  activity_deps.store = server->store_.get();
  activity_deps.batches = server->batches_.get();
  frontend::RegisterActivityService(*server->workflow_service_, activity_deps);

  frontend::RegisterOperatorService(*server->operator_service_,
                                    server->namespaces_.get());

  // Before the gRPC port: a metrics address that cannot be bound stops the
  // start before any client can connect.
  if (server->metrics_) {
    AddServerCollectors(server->metrics_.get(), server->store_.get(),
                        server->matcher_.get(), server->namespaces_.get());
    metrics::AddProcessCollector(server->metrics_.get());
    auto endpoint =
        MetricsEndpoint::Start(config.metrics_listen, server->metrics_.get());
    if (!endpoint.ok()) return endpoint.status();
    server->metrics_endpoint_ = *std::move(endpoint);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC lets processes share a port by default (SO_REUSEPORT): a second
  // errand on a port in use would start, and take a share of the calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int bound_port = 0;
  builder.AddListeningPort(config.listen,
                           server->tls_ ? server->tls_->ServerCredentials()
                                        : grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(server->workflow_service_.get());
  builder.RegisterService(server->operator_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || bound_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                               config.listen, ": ",
                                               WhyNotBindable(config.listen)));
  }
  const size_t colon = config.listen.rfind(':');
  server->address_ =
      absl::StrCat(config.listen.substr(0, colon), ":", bound_port);

  if (!IsLoopback(config.listen)) {
    if (!server->tls_) {
      spdlog::warn(
          "listening on {} without TLS: calls, API keys included, "
          "cross the network in plain text (see tls.cert_file)",
          config.listen);
    }
    if (!server->authorizer_->enabled()) {
      spdlog::warn(
          "listening on {} without auth: anyone who can reach it "
          "may do anything (see auth.principals)",
          config.listen);
    }
  }

  if (!config.http_listen.empty()) {
    http::HttpServerOptions http_options;
    http_options.listen = config.http_listen;
    http_options.channel =
        server->grpc_server_->InProcessChannel(grpc::ChannelArguments());
    http_options.services = {server->workflow_service_->descriptor(),
                             server->operator_service_->descriptor()};
    matching::Matcher* matcher = server->matcher_.get();
    if (server->tls_) {
      auto material = LoadTlsMaterial(config.tls);
      if (!material.ok()) return material.status();
      http_options.tls = http::PemMaterial{
          material->cert_chain, material->private_key, material->client_ca};
    }
    http_options.gateway_secret = gateway_secret;
    http_options.task_queues = [matcher](const std::string& namespace_id) {
      std::vector<http::TaskQueueSummary> queues;
      for (const matching::Matcher::QueueGauges& g :
           matcher->Gauges(kMaxListedTaskQueues)) {
        if (g.queue.namespace_id != namespace_id) continue;
        queues.push_back({g.queue.task_queue, g.backlog_count, g.backlog_age,
                          g.waiting_polls});
      }
      return queues;
    };
    auto http_server = http::HttpServer::Start(std::move(http_options));
    if (!http_server.ok()) return http_server.status();
    server->http_server_ = *std::move(http_server);
  }

  auto* health = server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kWorkflowServiceName, true);
  health->SetServingStatus(kOperatorServiceName, true);
  return server;
}

absl::Status Server::ReloadTls() {
  if (!tls_) {
    return absl::FailedPreconditionError("TLS is not configured");
  }
  if (absl::Status s = tls_->Reload(); !s.ok()) return s;
  if (!http_server_) return absl::OkStatus();
  // The files were just checked; read again for the HTTP port.
  auto material = LoadTlsMaterial(config_.tls);
  if (!material.ok()) return material.status();
  return http_server_->ReloadTls(http::PemMaterial{
      material->cert_chain, material->private_key, material->client_ca});
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  if (metrics_endpoint_) metrics_endpoint_->Stop();
  // Before the gRPC server: its calls go through it.
  if (http_server_) http_server_->Stop();
  // Answer parked polls now so that workers are not left waiting for the
  // grace period to run out.
  matcher_->Shutdown();
  empty_polls_->ReleaseAll();
  engine_->ReleaseWatchers();
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  grpc_server_->Wait();
  // The sweep and batch jobs wait on the shards; they end before them.
  retention_->Stop();
  batches_->Stop();
  // Every call has been answered, so no scan is queued any more.
  scan_executor_->Stop();
  // Queued engine work finishes (and is written) before the store closes.
  engine_->Stop();
  if (absl::Status s = store_->Flush(); !s.ok()) {
    spdlog::warn("flushing the store on shutdown: {}", s.ToString());
  }
}

Server::~Server() {
  if (grpc_server_) Shutdown(absl::ZeroDuration());
}

}  // namespace errand::server
