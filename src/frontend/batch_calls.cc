// Batch operations (StartBatchOperation, DescribeBatchOperation,
// ListBatchOperations, StopBatchOperation) over standalone activities; the
// jobs themselves are batch/batch_runner.h's. Requests are checked here
// with Temporal's messages; everything that touches the store runs on the
// scan executor, never on gRPC's threads.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "activity_calls.h"
#include "errand/common/errors.h"
#include "errand/frontend/activity_validation.h"
#include "errand/store/records.h"
#include "errand/visibility/filter.h"
#include "errand/visibility/query.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;
using Request = ws::StartBatchOperationRequest;

// The activity operations: the type Describe reports, and the name
// Temporal's frontend gives the operation in messages (its Go type).
struct Operation {
  Request::OperationCase which;
  enums::BatchOperationType type;
  const char* name;
};
constexpr Operation kOperations[] = {
    {Request::kTerminateActivitiesOperation,
     enums::BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY,
     "TerminateActivitiesOperation"},
    {Request::kCancelActivitiesOperation,
     enums::BATCH_OPERATION_TYPE_CANCEL_ACTIVITY, "CancelActivitiesOperation"},
    {Request::kDeleteActivitiesOperation,
     enums::BATCH_OPERATION_TYPE_DELETE_ACTIVITY, "DeleteActivitiesOperation"},
    {Request::kUnpauseActivitiesOperation,
     enums::BATCH_OPERATION_TYPE_UNPAUSE_ACTIVITY,
     "UnpauseActivitiesOperation"},
    {Request::kResetActivitiesOperation,
     enums::BATCH_OPERATION_TYPE_RESET_ACTIVITY, "ResetActivitiesOperation"},
    {Request::kUpdateActivityOptionsOperation,
     enums::BATCH_OPERATION_TYPE_UPDATE_ACTIVITY_OPTIONS,
     "UpdateActivityOptionsOperation"},
};

// Null for the workflow operations, which Errand does not run.
const Operation* OperationOf(const Request& req) {
  for (const Operation& op : kOperations) {
    if (op.which == req.operation_case()) return &op;
  }
  return nullptr;
}

enums::BatchOperationType TypeOf(const Request& req) {
  const Operation* op = OperationOf(req);
  return op ? op->type : enums::BATCH_OPERATION_TYPE_UNSPECIFIED;
}

std::string IdentityOf(const Request& req) {
  switch (req.operation_case()) {
    case Request::kTerminateActivitiesOperation:
      return req.terminate_activities_operation().identity();
    case Request::kCancelActivitiesOperation:
      return req.cancel_activities_operation().identity();
    case Request::kUnpauseActivitiesOperation:
      return req.unpause_activities_operation().identity();
    case Request::kResetActivitiesOperation:
      return req.reset_activities_operation().identity();
    case Request::kUpdateActivityOptionsOperation:
      return req.update_activity_options_operation().identity();
    default:
      return "";
  }
}

// The activity type a per-type operation (unpause, reset, update options)
// is limited to; empty for all.
std::string ActivityTypeOf(const Request& req) {
  switch (req.operation_case()) {
    case Request::kUnpauseActivitiesOperation:
      return req.unpause_activities_operation().type();
    case Request::kResetActivitiesOperation:
      return req.reset_activities_operation().type();
    case Request::kUpdateActivityOptionsOperation:
      return req.update_activity_options_operation().type();
    default:
      return "";
  }
}

// "invalid visibility query: <what is wrong>", as Temporal words it for a
// batch (the query calls' own prefixes dropped).
absl::Status CheckQuery(const std::string& query,
                        const visibility::CustomAttributes& custom) {
  auto parsed = visibility::ParseQuery(query);
  absl::Status s = parsed.status();
  if (s.ok()) s = visibility::BindFilter(parsed->where.get(), custom).status();
  if (s.ok()) return absl::OkStatus();
  absl::string_view what = s.message();
  for (absl::string_view prefix :
       {"invalid query: ", "malformed SQL query: "}) {
    absl::ConsumePrefix(&what, prefix);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid visibility query: ", what));
}

// The query a job selects its runs with: the caller's, narrowed (as
// Temporal's batcher does) to the runs the operation can still apply to,
// and to the operation's activity type if it names one.
std::string SelectionQuery(const Request& req) {
  std::string query = absl::StrCat("(", req.visibility_query(), ")");
  if (req.operation_case() != Request::kDeleteActivitiesOperation) {
    absl::StrAppend(&query,
                    " AND (ExecutionStatus = 'Running' OR ExecutionStatus = "
                    "'Paused')");
  }
  if (const std::string type = ActivityTypeOf(req); !type.empty()) {
    absl::StrAppend(&query,
                    " AND ActivityType = ", visibility::QuoteString(type));
  }
  return query;
}

absl::Status ValidateStartBatch(const Request& req,
                                const store::NamespaceRecord& ns) {
  const int selectors = !req.visibility_query().empty() +
                        (req.executions_size() > 0) +
                        (req.target_executions_size() > 0);
  if (req.operation_case() == Request::OPERATION_NOT_SET ||
      req.reason().empty() || selectors == 0) {
    return absl::InvalidArgumentError(
        "must provide required parameters: BatchType,Reason,Namespace, AND "
        "one of (Query OR Executions OR TargetExecutions)");
  }
  if (req.job_id().empty()) {
    return absl::InvalidArgumentError("JobId is not set on request.");
  }
  if (req.job_id().size() > kMaxIdLength ||
      req.job_id().find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("JobId exceeds length limit or holds a NUL byte. Length=",
                     req.job_id().size(), " Limit=", kMaxIdLength));
  }
  if (selectors > 1) {
    return absl::InvalidArgumentError(
        "visibility query, executions, and target executions are mutually "
        "exclusive");
  }
  if (OperationOf(req) == nullptr) {
    return absl::InvalidArgumentError(
        "batch operations on workflows are not supported: Errand runs "
        "standalone activities only");
  }
  for (int i = 0; i < req.target_executions_size(); ++i) {
    const auto& e = req.target_executions(i);
    if (e.type() != enums::EXECUTION_TYPE_ACTIVITY) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target_executions[", i, "] has type ",
          e.type() == enums::EXECUTION_TYPE_WORKFLOW ? "Workflow"
                                                     : "Unspecified",
          ", but operation *workflowservice.StartBatchOperationRequest_",
          OperationOf(req)->name, " requires Activity"));
    }
    if (absl::Status s = ValidateActivityId(e.business_id()); !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateRunId(e.run_id()); !s.ok()) return s;
  }
  for (const auto& e : req.executions()) {
    if (absl::Status s = ValidateActivityId(e.workflow_id()); !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateRunId(e.run_id()); !s.ok()) return s;
  }
  if (req.reason().size() > kBlobSizeLimit) {
    return absl::InvalidArgumentError("reason exceeds length limit");
  }
  if (req.max_operations_per_second() < 0) {
    return absl::InvalidArgumentError(
        "max_operations_per_second cannot be negative");
  }
  switch (req.operation_case()) {
    case Request::kUnpauseActivitiesOperation:
      if (absl::Status s =
              ValidateJitter(req.unpause_activities_operation().jitter());
          !s.ok()) {
        return s;
      }
      break;
    case Request::kResetActivitiesOperation:
      if (absl::Status s =
              ValidateJitter(req.reset_activities_operation().jitter());
          !s.ok()) {
        return s;
      }
      break;
    case Request::kUpdateActivityOptionsOperation: {
      const auto& op = req.update_activity_options_operation();
      auto update = engine::ParseOptionsUpdate(
          op.has_activity_options() ? &op.activity_options() : nullptr,
          op.has_update_mask() ? &op.update_mask() : nullptr,
          op.restore_original());
      if (!update.ok()) return update.status();
      break;
    }
    default:
      break;
  }
  if (!req.visibility_query().empty()) {
    if (absl::Status s =
            CheckQuery(req.visibility_query(), ns.search_attributes());
        !s.ok()) {
      return s;
    }
    return CheckQuery(SelectionQuery(req), ns.search_attributes());
  }
  return absl::OkStatus();
}

enums::BatchOperationState StateOf(store::v1::BatchState state) {
  switch (state) {
    case store::v1::BATCH_STATE_RUNNING:
      return enums::BATCH_OPERATION_STATE_RUNNING;
    case store::v1::BATCH_STATE_COMPLETED:
      return enums::BATCH_OPERATION_STATE_COMPLETED;
    default:  // stopped: Temporal reports a terminated batch job FAILED
      return enums::BATCH_OPERATION_STATE_FAILED;
  }
}

void FillDescribe(const batch::BatchView& view,
                  ws::DescribeBatchOperationResponse* resp) {
  const Request& req = view.spec.request();
  const auto& p = view.progress;
  resp->set_operation_type(TypeOf(req));
  resp->set_job_id(view.spec.job_id());
  resp->set_state(StateOf(p.state()));
  *resp->mutable_start_time() = view.spec.start_time();
  if (p.has_close_time()) *resp->mutable_close_time() = p.close_time();
  resp->set_total_operation_count(p.total());
  resp->set_complete_operation_count(p.completed());
  resp->set_failure_operation_count(p.failed());
  resp->set_identity(IdentityOf(req));
  resp->set_reason(req.reason());
  resp->set_query(req.visibility_query());
  *resp->mutable_executions() = req.target_executions();
  for (const auto& e : req.executions()) {
    auto* out = resp->add_executions();
    out->set_type(enums::EXECUTION_TYPE_ACTIVITY);
    out->set_business_id(e.workflow_id());
    out->set_run_id(e.run_id());
  }
}

// Runs `work` (which reads or writes the store) on the scan executor and
// finishes `call` with its status.
template <typename Work>
void OffStoreThread(const ActivityServiceDeps& deps, UnaryCall* call,
                    Work work) {
  const bool queued = deps.scan_executor->Submit(
      [call, work = std::move(work)]() mutable { call->Finish(work()); });
  if (!queued) {
    call->Finish(absl::ResourceExhaustedError(
        "too many calls waiting for the store; retry later"));
  }
}

}  // namespace

void RegisterBatchCalls(ServiceTable& table, const ActivityServiceDeps& deps) {
  table.HandleAsync<Request, ws::StartBatchOperationResponse>(
      "StartBatchOperation", [deps](UnaryCall* call, const Request& req,
                                    ws::StartBatchOperationResponse*) {
        if (req.namespace_().empty()) {
          return call->Finish(absl::InvalidArgumentError(
              "must provide required parameters: BatchType,Reason,Namespace, "
              "AND one of (Query OR Executions OR TargetExecutions)"));
        }
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        if (absl::Status s = ValidateStartBatch(req, *ns); !s.ok()) {
          return call->Finish(s);
        }
        batch::BatchSpec spec;
        spec.set_namespace_id(ns->id());
        spec.set_namespace_name(ns->name());
        spec.set_job_id(req.job_id());
        *spec.mutable_request() = req;
        if (!req.visibility_query().empty()) {
          spec.set_selection_query(SelectionQuery(req));
        }
        *spec.mutable_start_time() = store::ToProtoTime(deps.clock->Now());
        OffStoreThread(deps, call, [deps, spec = std::move(spec)]() mutable {
          return deps.batches->StartJob(std::move(spec));
        });
      });

  table.HandleAsync<ws::DescribeBatchOperationRequest,
                    ws::DescribeBatchOperationResponse>(
      "DescribeBatchOperation",
      [deps](UnaryCall* call, const ws::DescribeBatchOperationRequest& req,
             ws::DescribeBatchOperationResponse* resp) {
        if (req.job_id().empty()) {
          return call->Finish(
              absl::InvalidArgumentError("JobId is not set on request."));
        }
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        OffStoreThread(deps, call,
                       [deps, ns_id = ns->id(), job_id = req.job_id(), resp] {
                         auto view = deps.batches->Describe(ns_id, job_id);
                         if (!view.ok()) return view.status();
                         FillDescribe(*view, resp);
                         return absl::OkStatus();
                       });
      });

  table.HandleAsync<ws::ListBatchOperationsRequest,
                    ws::ListBatchOperationsResponse>(
      "ListBatchOperations",
      [deps](UnaryCall* call, const ws::ListBatchOperationsRequest& req,
             ws::ListBatchOperationsResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        OffStoreThread(deps, call, [deps, ns_id = ns->id(), &req, resp] {
          std::string next;
          auto page = deps.batches->List(ns_id, req.page_size(),
                                         req.next_page_token(), &next);
          if (!page.ok()) return page.status();
          for (const auto& view : *page) {
            auto* info = resp->add_operation_info();
            info->set_job_id(view.spec.job_id());
            info->set_state(StateOf(view.progress.state()));
            *info->mutable_start_time() = view.spec.start_time();
            if (view.progress.has_close_time()) {
              *info->mutable_close_time() = view.progress.close_time();
            }
            info->set_operation_type(TypeOf(view.spec.request()));
          }
          resp->set_next_page_token(next);
          return absl::OkStatus();
        });
      });

  table.HandleAsync<ws::StopBatchOperationRequest,
                    ws::StopBatchOperationResponse>(
      "StopBatchOperation",
      [deps](UnaryCall* call, const ws::StopBatchOperationRequest& req,
             ws::StopBatchOperationResponse*) {
        if (req.job_id().empty()) {
          return call->Finish(
              absl::InvalidArgumentError("JobId is not set on request."));
        }
        if (req.reason().empty()) {
          return call->Finish(
              absl::InvalidArgumentError("Reason is not set on request."));
        }
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        OffStoreThread(deps, call, [deps, ns_id = ns->id(), req] {
          return deps.batches->StopJob(ns_id, req.job_id(), req.reason(),
                                       req.identity());
        });
      });
}

}  // namespace errand::frontend
