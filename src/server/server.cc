#include "errand/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/uuid.h"
#include "errand/frontend/activity_handler.h"
#include "errand/frontend/operator_handler.h"
#include "errand/frontend/workflow_handler.h"
#include "errand/store/visibility_key.h"
#include "spdlog/spdlog.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace errand::server {
namespace {

constexpr char kWorkflowServiceName[] =
    "temporal.api.workflowservice.v1.WorkflowService";
constexpr char kOperatorServiceName[] =
    "temporal.api.operatorservice.v1.OperatorService";
constexpr char kClusterIdKey[] = "cluster_id";
// Requests carry payloads of up to 2 MiB each (the blob limit) plus headers.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

absl::StatusOr<std::string> LoadOrCreateClusterId(store::Store& store) {
  auto existing = store.Get(store::Table::kMeta, kClusterIdKey);
  if (!existing.ok()) return existing.status();
  if (*existing) return **existing;
  std::string id = NewUuid();
  store::Batch batch = store.NewBatch();
  batch.Put(store::Table::kMeta, kClusterIdKey, id);
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

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config) {
  std::unique_ptr<Server> server(new Server());
  server->config_ = config;

  store::StoreOptions store_options;
  store_options.data_dir = config.data_dir;
  store_options.sync = config.sync;
  store_options.min_free_bytes = config.min_free_space;
  auto store = store::Store::Open(store_options);
  if (!store.ok()) return store.status();
  server->store_ = std::move(*store);

  if (absl::Status s = store::EnsureVisibilityIndex(*server->store_); !s.ok()) {
    return s;
  }
  auto cluster_id = LoadOrCreateClusterId(*server->store_);
  if (!cluster_id.ok()) return cluster_id.status();
  server->cluster_id_ = *cluster_id;

  auto namespaces =
      engine::NamespaceRegistry::Load(server->store_.get(), SystemClock::Get());
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

  server->timers_ = std::make_unique<TimerThread>();
  server->matcher_ = std::make_unique<matching::Matcher>(server->timers_.get());
  server->engine_ = std::make_unique<engine::ActivityEngine>(
      config.shards, server->store_.get(), server->matcher_.get(),
      server->timers_.get(), SystemClock::Get());
  if (absl::Status s = server->engine_->Recover(); !s.ok()) return s;
  server->lister_ = std::make_unique<visibility::Lister>(server->store_.get());

  server->workflow_service_ = std::make_unique<
      frontend::ServiceTable>(FindService(
      descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto,
      kWorkflowServiceName));
  server->operator_service_ = std::make_unique<
      frontend::ServiceTable>(FindService(
      descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto,
      kOperatorServiceName));

  frontend::WorkflowServiceDeps deps;
  deps.identity.version = ERRAND_VERSION;
  deps.identity.cluster_id = server->cluster_id_;
  deps.identity.shard_count = config.shards;
  deps.namespaces = server->namespaces_.get();
  frontend::RegisterWorkflowService(*server->workflow_service_, deps);
  frontend::RegisterActivityService(
      *server->workflow_service_,
      {server->namespaces_.get(), server->engine_.get(), server->matcher_.get(),
       server->lister_.get(), SystemClock::Get(), server->store_.get()});

  frontend::RegisterOperatorService(*server->operator_service_,
                                    server->namespaces_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(),
                           &bound_port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(server->workflow_service_.get());
  builder.RegisterService(server->operator_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || bound_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen,
                     " (address in use or not available)"));
  }
  const size_t colon = config.listen.rfind(':');
  server->address_ =
      absl::StrCat(config.listen.substr(0, colon), ":", bound_port);

  auto* health = server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kWorkflowServiceName, true);
  health->SetServingStatus(kOperatorServiceName, true);
  return server;
}

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  // Answer parked polls now so that workers are not left waiting for the
  // grace period to run out.
  matcher_->Shutdown();
  engine_->ReleaseWatchers();
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  grpc_server_->Wait();
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
