// Client calls: start, describe (and its long poll), wait for the result,
// cancel, terminate, delete.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "activity_calls.h"
#include "errand/frontend/activity_mapping.h"
#include "errand/frontend/activity_validation.h"
#include "errand/frontend/long_poll.h"
#include "errand/frontend/workflow_handler.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using engine::ActivityRecord;
using engine::RunRef;

// Client calls that name a run: the namespace must exist, the activity ID
// be set and bounded, and a run ID, if given, be a UUID.
template <typename Req>
absl::StatusOr<RunRef> ClientRunRef(const ActivityServiceDeps& deps,
                                    const Req& req) {
  auto ns = Namespace(deps, req);
  if (!ns.ok()) return ns.status();
  if (absl::Status s = ValidateActivityId(req.activity_id()); !s.ok()) return s;
  if (absl::Status s = ValidateRunId(req.run_id()); !s.ok()) return s;
  return RunRef{ns->id(), req.activity_id(), req.run_id(), std::nullopt};
}

// RequestCancel and Terminate: the same request shape (IDs, request ID,
// identity, reason) turned into the event `Event`.
template <typename Req, typename Resp, typename Event>
void HandleClientRequest(ServiceTable& table, const char* method,
                         const ActivityServiceDeps& deps) {
  table.HandleAsync<Req, Resp>(method, [deps](UnaryCall* call, const Req& req,
                                              Resp*) {
    auto ns = Namespace(deps, req);
    if (!ns.ok()) return call->Finish(ns.status());
    for (absl::Status s :
         {ValidateActivityId(req.activity_id()), ValidateRunId(req.run_id()),
          ValidateRequestIdAndIdentity(req.request_id(), req.identity())}) {
      if (!s.ok()) return call->Finish(s);
    }
    if (req.reason().size() > kBlobSizeLimit) {
      return call->Finish(
          absl::InvalidArgumentError("reason exceeds length limit"));
    }
    Event event{RequestIdOrNew(req.request_id()), req.reason(), req.identity()};
    deps.engine->Update(
        {ns->id(), req.activity_id(), req.run_id(), std::nullopt}, event,
        Answer(call, [](const ActivityRecord&) {}));
  });
}

}  // namespace

void RegisterClientCalls(ServiceTable& table, const ActivityServiceDeps& deps) {
  table.HandleAsync<ws::StartActivityExecutionRequest,
                    ws::StartActivityExecutionResponse>(
      "StartActivityExecution",
      [deps](UnaryCall* call, const ws::StartActivityExecutionRequest& req,
             ws::StartActivityExecutionResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        auto start = ValidateStart(req, *ns);
        if (!start.ok()) return call->Finish(start.status());
        if (auto s = deps.store->CheckFreeSpaceFloor(); !s.ok()) {
          return call->Finish(s);
        }
        const std::string ns_name = ns->name();
        const std::string activity_id = req.activity_id();
        deps.engine->Start(
            std::move(*start), [call, resp, ns_name, activity_id](
                                   absl::StatusOr<engine::StartResult> result) {
              if (!result.ok()) return call->Finish(result.status());
              resp->set_run_id(result->run_id);
              resp->set_started(result->started);
              auto* link = resp->mutable_link()->mutable_activity();
              link->set_namespace_(ns_name);
              link->set_activity_id(activity_id);
              link->set_run_id(result->run_id);
              call->Finish(absl::OkStatus());
            });
      });

  table.HandleAsync<ws::DescribeActivityExecutionRequest,
                    ws::DescribeActivityExecutionResponse>(
      "DescribeActivityExecution",
      [deps](UnaryCall* call, const ws::DescribeActivityExecutionRequest& req,
             ws::DescribeActivityExecutionResponse* resp) {
        auto run = ClientRunRef(deps, req);
        if (!run.ok()) return call->Finish(run.status());
        const RunRef ref = *run;
        const Clock* clock = deps.clock;
        auto fill = [req, resp, clock](const ActivityRecord& r) {
          resp->set_run_id(r.run_id());
          FillActivityInfo(
              r, clock->Now(),
              {req.include_heartbeat_details(), req.include_last_failure()},
              resp->mutable_info());
          if (req.include_input() && r.has_input()) {
            *resp->mutable_input() = r.input();
          }
          if (req.include_outcome() && r.has_outcome()) {
            *resp->mutable_outcome() = r.outcome();
          }
          resp->set_long_poll_token(EncodeLongPollToken(r));
        };
        if (req.long_poll_token().empty()) {
          return deps.engine->Describe(ref, Answer(call, fill));
        }
        if (req.run_id().empty()) {
          return call->Finish(absl::InvalidArgumentError(
              "run id is required when long poll token is provided"));
        }
        auto token = DecodeLongPollToken(req.long_poll_token());
        if (!token.ok()) return call->Finish(token.status());
        if (token->namespace_id() != ref.namespace_id ||
            token->activity_id() != req.activity_id() ||
            token->run_id() != req.run_id()) {
          return call->Finish(absl::InvalidArgumentError(
              "long poll token does not match execution"));
        }
        const absl::Time expire_at =
            LongPollExpiry(clock->Now(), call->deadline(), kMaxResultPollWait);
        auto cancel = deps.engine->Watch(
            ref, token->version(), /*closed_only=*/false, expire_at,
            [call, fill](absl::StatusOr<engine::RecordSnapshot> r) {
              if (!r.ok()) return call->Finish(r.status());
              if (*r) fill(**r);  // otherwise: empty, "poll again"
              call->Finish(absl::OkStatus());
            });
        call->SetCancelCallback(cancel);
      });

  table.HandleAsync<ws::PollActivityExecutionRequest,
                    ws::PollActivityExecutionResponse>(
      "PollActivityExecution",
      [deps](UnaryCall* call, const ws::PollActivityExecutionRequest& req,
             ws::PollActivityExecutionResponse* resp) {
        auto ref = ClientRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        const absl::Time expire_at = LongPollExpiry(
            deps.clock->Now(), call->deadline(), kMaxResultPollWait);
        auto cancel = deps.engine->Watch(
            *ref, 0, /*closed_only=*/true, expire_at,
            [call, resp](absl::StatusOr<engine::RecordSnapshot> r) {
              if (!r.ok()) return call->Finish(r.status());
              if (*r) {
                resp->set_run_id((*r)->run_id());
                *resp->mutable_outcome() = (*r)->outcome();
              }
              call->Finish(absl::OkStatus());
            });
        call->SetCancelCallback(cancel);
      });

  HandleClientRequest<ws::RequestCancelActivityExecutionRequest,
                      ws::RequestCancelActivityExecutionResponse,
                      engine::RequestCancel>(
      table, "RequestCancelActivityExecution", deps);
  HandleClientRequest<ws::TerminateActivityExecutionRequest,
                      ws::TerminateActivityExecutionResponse,
                      engine::Terminate>(table, "TerminateActivityExecution",
                                         deps);

  table.HandleAsync<ws::DeleteActivityExecutionRequest,
                    ws::DeleteActivityExecutionResponse>(
      "DeleteActivityExecution",
      [deps](UnaryCall* call, const ws::DeleteActivityExecutionRequest& req,
             ws::DeleteActivityExecutionResponse*) {
        auto ref = ClientRunRef(deps, req);
        if (!ref.ok()) return call->Finish(ref.status());
        deps.engine->Delete(*ref, Answer(call, [](const ActivityRecord&) {}));
      });
}

}  // namespace errand::frontend
