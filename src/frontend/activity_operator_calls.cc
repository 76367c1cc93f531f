// Operator calls on one activity: pause, unpause, reset and update options
// (shared/spec/temporal-semantics.md §1.9). Temporal gates these behind a
// flag that is off by default; Errand always serves them. The transitions
// are the state machine's; this file checks requests and draws jitter.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "activity_calls.h"
#include "errand/common/errors.h"
#include "errand/common/jitter.h"
#include "errand/engine/activity_options.h"
#include "errand/frontend/activity_validation.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using engine::ActivityRecord;
using engine::RunRef;

// The checks every operator call makes: the namespace exists, the IDs are
// well formed and bounded, and the target is a standalone activity (Errand
// runs no workflows, so a workflow's activity is never found).
template <typename Req>
absl::StatusOr<RunRef> OperatorRunRef(const ActivityServiceDeps& deps,
                                      const Req& req) {
  auto ns = Namespace(deps, req);
  if (!ns.ok()) return ns.status();
  // In Temporal's order: request ID, activity ID, identity, run ID.
  for (absl::Status s : {ValidateRequestIdAndIdentity(req.request_id(), ""),
                         ValidateActivityId(req.activity_id()),
                         ValidateRequestIdAndIdentity("", req.identity()),
                         ValidateRunId(req.run_id())}) {
    if (!s.ok()) return s;
  }
  if (!req.workflow_id().empty()) {
    return NotFoundError(
        absl::StrCat("workflow not found for ID: ", req.workflow_id()));
  }
  return RunRef{ns->id(), req.activity_id(), req.run_id(), std::nullopt};
}

// The delay drawn from a request's jitter.
absl::StatusOr<absl::Duration> Jitter(const google::protobuf::Duration& d) {
  if (absl::Status s = ValidateJitter(d); !s.ok()) return s;
  return RandomJitter(store::FromProtoDuration(d));
}

}  // namespace

void RegisterOperatorCalls(ServiceTable& table,
                           const ActivityServiceDeps& deps) {
  table.HandleAsync<ws::PauseActivityExecutionRequest,
                    ws::PauseActivityExecutionResponse>(
      "PauseActivityExecution",
      [deps](UnaryCall* call, const ws::PauseActivityExecutionRequest& req,
             ws::PauseActivityExecutionResponse*) {
        auto ref = OperatorRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        if (req.reason().size() > kBlobSizeLimit) {
          return call->Finish(
              absl::InvalidArgumentError("reason exceeds length limit"));
        }
        deps.engine->Update(*ref,
                            engine::Pause{RequestIdOrNew(req.request_id()),
                                          req.reason(), req.identity()},
                            Answer(call, [](const ActivityRecord&) {}));
      });

  table.HandleAsync<ws::UnpauseActivityExecutionRequest,
                    ws::UnpauseActivityExecutionResponse>(
      "UnpauseActivityExecution",
      [deps](UnaryCall* call, const ws::UnpauseActivityExecutionRequest& req,
             ws::UnpauseActivityExecutionResponse*) {
        auto ref = OperatorRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        auto delay = Jitter(req.jitter());
        if (!delay.ok()) return call->Finish(delay.status());
        deps.engine->Update(*ref,
                            engine::Unpause{RequestIdOrNew(req.request_id()),
                                            req.identity(), *delay},
                            Answer(call, [](const ActivityRecord&) {}));
      });

  table.HandleAsync<ws::ResetActivityExecutionRequest,
                    ws::ResetActivityExecutionResponse>(
      "ResetActivityExecution",
      [deps](UnaryCall* call, const ws::ResetActivityExecutionRequest& req,
             ws::ResetActivityExecutionResponse*) {
        auto ref = OperatorRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        auto delay = Jitter(req.jitter());
        if (!delay.ok()) return call->Finish(delay.status());
        engine::Reset event{
            .request_id = RequestIdOrNew(req.request_id()),
            .identity = req.identity(),
            .keep_paused = req.keep_paused(),
            .reset_heartbeat = req.reset_heartbeat(),
            .restore_original_options = req.restore_original_options(),
            .delay = *delay};
        deps.engine->Update(*ref, std::move(event),
                            Answer(call, [](const ActivityRecord&) {}));
      });

  table.HandleAsync<ws::UpdateActivityExecutionOptionsRequest,
                    ws::UpdateActivityExecutionOptionsResponse>(
      "UpdateActivityExecutionOptions",
      [deps](UnaryCall* call,
             const ws::UpdateActivityExecutionOptionsRequest& req,
             ws::UpdateActivityExecutionOptionsResponse* resp) {
        auto ref = OperatorRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        auto update = engine::ParseOptionsUpdate(
            req.has_activity_options() ? &req.activity_options() : nullptr,
            req.has_update_mask() ? &req.update_mask() : nullptr,
            req.restore_original());
        if (!update.ok()) return call->Finish(update.status());
        engine::UpdateOptions event{RequestIdOrNew(req.request_id()),
                                    req.identity(), std::move(update->options),
                                    std::move(update->paths),
                                    update->restore_original};
        deps.engine->Update(*ref, std::move(event),
                            Answer(call, [resp](const ActivityRecord& r) {
                              *resp->mutable_activity_options() = r.options();
                            }));
      });
}

}  // namespace errand::frontend
