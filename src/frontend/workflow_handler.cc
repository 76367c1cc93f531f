#include "errand/frontend/workflow_handler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/limits.h"
#include "errand/store/records.h"
#include "spdlog/spdlog.h"
#include "temporal/api/enums/v1/namespace.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

constexpr int kDefaultNamespacePageSize = 100;

void FillNamespace(const store::NamespaceRecord& record,
                   const ServerIdentity& identity,
                   ws::DescribeNamespaceResponse* out) {
  auto* info = out->mutable_namespace_info();
  info->set_name(record.name());
  info->set_state(enums::NAMESPACE_STATE_REGISTERED);
  info->set_description(record.description());
  info->set_owner_email(record.owner_email());
  info->mutable_data()->insert(record.data().begin(), record.data().end());
  info->set_id(record.id());
  // Only what Errand really does; workers change behaviour on these flags.
  info->mutable_capabilities()->set_standalone_activities(true);
  info->mutable_capabilities()->set_standalone_activity_start_delay(true);
  info->mutable_limits()->set_blob_size_limit_error(kBlobSizeLimit);
  info->mutable_limits()->set_memo_size_limit_error(kBlobSizeLimit);

  auto* config = out->mutable_config();
  *config->mutable_workflow_execution_retention_ttl() = record.retention();
  config->set_history_archival_state(enums::ARCHIVAL_STATE_DISABLED);
  config->set_visibility_archival_state(enums::ARCHIVAL_STATE_DISABLED);

  auto* replication = out->mutable_replication_config();
  replication->set_active_cluster_name(identity.cluster_name);
  replication->add_clusters()->set_cluster_name(identity.cluster_name);
  replication->set_state(enums::REPLICATION_STATE_NORMAL);
  out->set_is_global_namespace(false);
  out->set_failover_version(0);
}

absl::Status ValidateRetention(const google::protobuf::Duration& retention) {
  if (retention.seconds() < 0 || retention.nanos() < 0 ||
      (retention.seconds() == 0 && retention.nanos() == 0)) {
    return absl::InvalidArgumentError(
        "A valid retention period is not set on request.");
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterWorkflowService(ServiceTable& table,
                             const WorkflowServiceDeps& deps) {
  const ServerIdentity identity = deps.identity;
  engine::NamespaceRegistry* namespaces = deps.namespaces;

  table.Handle<ws::GetSystemInfoRequest, ws::GetSystemInfoResponse>(
      "GetSystemInfo", [identity](const ws::GetSystemInfoRequest&,
                                  ws::GetSystemInfoResponse* resp) {
        resp->set_server_version(identity.version);
        auto* caps = resp->mutable_capabilities();
        // INTERNAL from Errand means a bug, not a transient fault: do not
        // let the Go SDK retry it.
        caps->set_internal_error_differentiation(true);
        caps->set_encoded_failure_attributes(true);
        caps->set_activity_failure_include_heartbeat(true);
        caps->set_count_group_by_execution_status(true);
        return absl::OkStatus();
      });

  table.Handle<ws::GetClusterInfoRequest, ws::GetClusterInfoResponse>(
      "GetClusterInfo", [identity](const ws::GetClusterInfoRequest&,
                                   ws::GetClusterInfoResponse* resp) {
        resp->set_server_version(identity.version);
        resp->set_cluster_id(identity.cluster_id);
        resp->set_cluster_name(identity.cluster_name);
        resp->set_history_shard_count(identity.shard_count);
        resp->set_persistence_store("rocksdb");
        resp->set_visibility_store("rocksdb");
        resp->set_initial_failover_version(1);
        resp->set_failover_version_increment(10);
        return absl::OkStatus();
      });

  table.Handle<ws::RegisterNamespaceRequest, ws::RegisterNamespaceResponse>(
      "RegisterNamespace",
      [namespaces](const ws::RegisterNamespaceRequest& req,
                   ws::RegisterNamespaceResponse*) -> absl::Status {
        if (req.is_global_namespace()) {
          return absl::InvalidArgumentError(
              "Errand serves local namespaces only; is_global_namespace must "
              "be false.");
        }
        engine::NamespaceSpec spec;
        spec.name = req.namespace_();
        spec.description = req.description();
        spec.owner_email = req.owner_email();
        spec.data.insert(req.data().begin(), req.data().end());
        // Temporal requires a retention on register (the CLI sends 72h by
        // default); only namespaces from the config get a default.
        const auto& retention = req.workflow_execution_retention_period();
        if (absl::Status s = ValidateRetention(retention); !s.ok()) return s;
        spec.retention = store::FromProtoDuration(retention);
        return namespaces->Register(spec).status();
      });

  table.Handle<ws::DescribeNamespaceRequest, ws::DescribeNamespaceResponse>(
      "DescribeNamespace",
      [namespaces, identity](
          const ws::DescribeNamespaceRequest& req,
          ws::DescribeNamespaceResponse* resp) -> absl::Status {
        if (req.namespace_().empty() && req.id().empty()) {
          return absl::InvalidArgumentError("Namespace is empty.");
        }
        auto record = req.namespace_().empty()
                          ? namespaces->GetById(req.id())
                          : namespaces->Get(req.namespace_());
        if (!record.ok()) return record.status();
        FillNamespace(*record, identity, resp);
        return absl::OkStatus();
      });

  table.Handle<ws::ListNamespacesRequest, ws::ListNamespacesResponse>(
      "ListNamespaces",
      [namespaces, identity](const ws::ListNamespacesRequest& req,
                             ws::ListNamespacesResponse* resp) {
        const int page_size =
            req.page_size() > 0 ? req.page_size() : kDefaultNamespacePageSize;
        // The page token is the last name returned; names sort stably.
        const std::string& after = req.next_page_token();
        for (const auto& record : namespaces->List()) {
          if (!after.empty() && record.name() <= after) continue;
          if (resp->namespaces_size() == page_size) {
            resp->set_next_page_token(
                resp->namespaces(page_size - 1).namespace_info().name());
            break;
          }
          FillNamespace(record, identity, resp->add_namespaces());
        }
        return absl::OkStatus();
      });

  table.Handle<ws::UpdateNamespaceRequest, ws::UpdateNamespaceResponse>(
      "UpdateNamespace",
      [namespaces, identity](
          const ws::UpdateNamespaceRequest& req,
          ws::UpdateNamespaceResponse* resp) -> absl::Status {
        if (req.has_config() &&
            req.config().has_workflow_execution_retention_ttl()) {
          if (absl::Status s = ValidateRetention(
                  req.config().workflow_execution_retention_ttl());
              !s.ok()) {
            return s;
          }
        }
        auto updated = namespaces->Update(
            req.namespace_(), [&](store::NamespaceRecord& record) {
              if (req.has_update_info()) {
                const auto& info = req.update_info();
                if (!info.description().empty()) {
                  record.set_description(info.description());
                }
                if (!info.owner_email().empty()) {
                  record.set_owner_email(info.owner_email());
                }
                for (const auto& [k, v] : info.data()) {
                  (*record.mutable_data())[k] = v;
                }
              }
              if (req.has_config() &&
                  req.config().has_workflow_execution_retention_ttl()) {
                *record.mutable_retention() =
                    req.config().workflow_execution_retention_ttl();
              }
              return absl::OkStatus();
            });
        if (!updated.ok()) return updated.status();
        ws::DescribeNamespaceResponse described;
        FillNamespace(*updated, identity, &described);
        *resp->mutable_namespace_info() = described.namespace_info();
        *resp->mutable_config() = described.config();
        *resp->mutable_replication_config() = described.replication_config();
        resp->set_is_global_namespace(false);
        return absl::OkStatus();
      });

  table.Handle<ws::ShutdownWorkerRequest, ws::ShutdownWorkerResponse>(
      "ShutdownWorker", [namespaces](const ws::ShutdownWorkerRequest& req,
                                     ws::ShutdownWorkerResponse*) {
        return namespaces->Get(req.namespace_()).status();
      });
}

}  // namespace errand::frontend
