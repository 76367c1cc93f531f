#include "errand/frontend/activity_handler.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/errors.h"
#include "errand/common/payloads.h"
#include "errand/common/uuid.h"
#include "errand/frontend/activity_mapping.h"
#include "errand/frontend/activity_validation.h"
#include "errand/frontend/workflow_handler.h"
#include "spdlog/spdlog.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using engine::ActivityRecord;
using engine::RunRef;

std::string Header(const UnaryCall* call, const char* name) {
  const auto& md = call->context().client_metadata();
  auto it = md.find(name);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// By-ID worker calls name a standalone activity with an empty workflow ID;
// Errand has no workflows, so any other workflow ID names nothing.
absl::Status CheckStandalone(const std::string& workflow_id) {
  if (workflow_id.empty()) return absl::OkStatus();
  return NotFoundError(
      absl::StrCat("workflow not found for ID: ", workflow_id));
}

// One PollActivityTaskQueue call. A matched task can turn out stale (the
// activity was cancelled or terminated meanwhile); the poll then goes back to
// waiting, with the same deadline, until it gets a live task or expires.
class TaskPoll : public std::enable_shared_from_this<TaskPoll> {
 public:
  TaskPoll(UnaryCall* call, ws::PollActivityTaskQueueResponse* resp,
           const ActivityServiceDeps& deps, store::NamespaceRecord ns,
           std::string task_queue, std::string identity, absl::Time expire_at)
      : call_(call),
        resp_(resp),
        deps_(deps),
        ns_(std::move(ns)),
        task_queue_(std::move(task_queue)),
        identity_(std::move(identity)),
        sdk_name_(Header(call, "client-name")),
        sdk_version_(Header(call, "client-version")),
        expire_at_(expire_at) {}

  void Begin() {
    auto self = shared_from_this();
    call_->SetCancelCallback([self] { self->Cancel(); });
    Wait();
  }

 private:
  void Wait() {
    auto self = shared_from_this();
    auto handle = deps_.matcher->AddPoll(
        {ns_.id(), task_queue_}, expire_at_,
        [self](std::optional<matching::TaskRef> task) { self->OnTask(task); });
    absl::MutexLock lock(&mu_);
    current_ = handle;
    if (cancelled_) deps_.matcher->CancelPoll(handle);
  }

  void Cancel() {
    matching::Matcher::PollHandle handle;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      handle = current_;
    }
    if (handle) deps_.matcher->CancelPoll(handle);
  }

  void OnTask(std::optional<matching::TaskRef> task) {
    if (!task) return call_->Finish(absl::OkStatus());  // expired: empty
    engine::StartAttempt attempt;
    attempt.identity = identity_;
    attempt.sdk_name = sdk_name_;
    attempt.sdk_version = sdk_version_;
    auto self = shared_from_this();
    deps_.engine->StartTask(
        ns_.id(), *task, std::move(attempt),
        [self](absl::StatusOr<engine::RecordSnapshot> record) {
          if (record.ok()) {
            FillActivityTask(**record, self->ns_.name(), self->resp_);
            return self->call_->Finish(absl::OkStatus());
          }
          if (!absl::IsAborted(record.status())) {
            return self->call_->Finish(record.status());
          }
          bool cancelled;
          {
            absl::MutexLock lock(&self->mu_);
            cancelled = self->cancelled_;
          }
          if (cancelled || self->deps_.clock->Now() >= self->expire_at_) {
            return self->call_->Finish(absl::OkStatus());
          }
          self->Wait();
        });
  }

  UnaryCall* const call_;
  ws::PollActivityTaskQueueResponse* const resp_;
  const ActivityServiceDeps deps_;
  const store::NamespaceRecord ns_;
  const std::string task_queue_;
  const std::string identity_;
  const std::string sdk_name_;
  const std::string sdk_version_;
  const absl::Time expire_at_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  matching::Matcher::PollHandle current_ ABSL_GUARDED_BY(mu_);
};

template <typename Req>
absl::StatusOr<store::NamespaceRecord> Namespace(
    const ActivityServiceDeps& deps, const Req& req) {
  return deps.namespaces->Get(req.namespace_());
}

struct AcceptedPoll {
  store::NamespaceRecord ns;
  absl::Time expire_at;
};

// The checks every task queue poll passes before it may wait.
template <typename Req>
absl::StatusOr<AcceptedPoll> AcceptTaskPoll(const ActivityServiceDeps& deps,
                                            UnaryCall* call, const Req& req) {
  auto ns = Namespace(deps, req);
  if (!ns.ok()) return ns.status();
  if (absl::Status s = ValidateTaskQueueName(req.task_queue().name());
      !s.ok()) {
    return s;
  }
  if (req.identity().size() > kMaxIdLength) {
    return absl::InvalidArgumentError("Identity length exceeds limit.");
  }
  // Workers always set a deadline (about 70 s); Temporal refuses polls
  // without one, or with too little time to be useful.
  const absl::Time now = deps.clock->Now();
  if (call->deadline() == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("Context timeout is not set.");
  }
  if (call->deadline() - now < kMinTaskPollTimeout) {
    return absl::FailedPreconditionError("Context timeout is too short.");
  }
  return AcceptedPoll{*std::move(ns),
                      LongPollExpiry(now, call->deadline(), kMaxTaskPollWait)};
}

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

// Finishes `call` with the engine's error, or OK after `fill` shaped the
// response from the record.
template <typename Fill>
engine::Reply<engine::RecordSnapshot> Answer(UnaryCall* call, Fill fill) {
  return [call, fill](absl::StatusOr<engine::RecordSnapshot> record) {
    if (!record.ok()) return call->Finish(record.status());
    fill(**record);
    call->Finish(absl::OkStatus());
  };
}

// Resolves a task token into the attempt it names.
absl::StatusOr<RunRef> TokenRef(const std::string& token_bytes,
                                const store::NamespaceRecord& ns) {
  auto token = DecodeTaskToken(token_bytes, ns.id());
  if (!token.ok()) return token.status();
  return RunRef{ns.id(), token->activity_id(), token->run_id(),
                RunRef::Attempt{token->attempt(), token->stamp()}};
}

template <typename Req>
absl::StatusOr<RunRef> ByIdRef(const Req& req,
                               const store::NamespaceRecord& ns) {
  if (req.activity_id().empty()) {
    return absl::InvalidArgumentError("ActivityId is not set on request.");
  }
  if (absl::Status s = CheckStandalone(req.workflow_id()); !s.ok()) return s;
  // The worker-side by-ID calls word this check differently from the
  // client calls.
  if (!req.run_id().empty() && !IsUuid(req.run_id())) {
    return absl::InvalidArgumentError("RunId is not valid UUID.");
  }
  return RunRef{ns.id(), req.activity_id(), req.run_id(), std::nullopt};
}

// By-token RespondActivityTaskFailed takes application failures only.
absl::Status CheckTokenFailure(
    const ws::RespondActivityTaskFailedRequest& req) {
  if (req.has_failure() && !req.failure().has_application_failure_info()) {
    return absl::InvalidArgumentError(
        "Failure must have ApplicationFailureInfo.");
  }
  return absl::OkStatus();
}

temporal::api::failure::v1::Failure SizeLimitFailure(
    absl::string_view message) {
  temporal::api::failure::v1::Failure f;
  f.set_message(std::string(message));
  f.mutable_server_failure_info()->set_non_retryable(true);
  return f;
}

// A failure over the blob limit is replaced by a non-retryable server failure
// that keeps a truncated copy as its cause.
engine::FailAttempt FailEvent(
    const temporal::api::failure::v1::Failure* failure,
    const temporal::api::common::v1::Payloads* details,
    const std::string& identity) {
  engine::FailAttempt event;
  if (failure) {
    if (failure->ByteSizeLong() > kBlobSizeLimit) {
      auto replaced = SizeLimitFailure("Failure exceeds size limit.");
      auto* cause = replaced.mutable_cause();
      cause->set_message(failure->message().substr(0, kBlobSizeLimit / 4));
      cause->set_source(failure->source());
      event.failure = std::move(replaced);
    } else {
      event.failure = *failure;
    }
  }
  if (details) event.last_heartbeat_details = *details;
  event.identity = identity;
  return event;
}

// A result over the blob limit fails the activity instead of completing it.
engine::ActivityEvent CompleteEvent(
    const temporal::api::common::v1::Payloads& result,
    const std::string& identity, bool by_id) {
  if (PayloadsSize(result) > kBlobSizeLimit) {
    engine::FailAttempt fail;
    fail.failure = SizeLimitFailure("Complete result exceeds size limit.");
    fail.identity = identity;
    return fail;
  }
  return engine::CompleteAttempt{result, identity, by_id};
}

// Heartbeat details over the blob limit fail the activity; the worker is
// told to stop through cancel_requested.
engine::ActivityEvent HeartbeatEvent(
    bool has_details, const temporal::api::common::v1::Payloads& details,
    const std::string& identity) {
  if (has_details && PayloadsSize(details) > kBlobSizeLimit) {
    engine::FailAttempt fail;
    fail.failure = SizeLimitFailure("Heartbeat details exceed size limit.");
    fail.identity = identity;
    return fail;
  }
  engine::RecordHeartbeat event;
  if (has_details) event.details = details;
  return event;
}

// Also true when the heartbeat itself ended the attempt (oversized details).
void FillHeartbeatResponse(const ActivityRecord& r, bool* cancel_requested) {
  *cancel_requested =
      r.status() == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED ||
      engine::IsTerminal(r.status());
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
    // An empty request ID gets a fresh one, so a second request without
    // one is a different request (as in Temporal).
    Event event{req.request_id().empty() ? NewUuid() : req.request_id(),
                req.reason(), req.identity()};
    deps.engine->Update(
        {ns->id(), req.activity_id(), req.run_id(), std::nullopt}, event,
        Answer(call, [](const ActivityRecord&) {}));
  });
}

template <typename Req, typename Resp, typename RefOf, typename EventOf,
          typename Fill>
void HandleWorkerCall(ServiceTable& table, const char* method,
                      const ActivityServiceDeps& deps, RefOf ref_of,
                      EventOf event_of, Fill fill) {
  table.HandleAsync<Req, Resp>(method, [deps, ref_of, event_of, fill](
                                           UnaryCall* call, const Req& req,
                                           Resp* resp) {
    auto ns = Namespace(deps, req);
    if (!ns.ok()) return call->Finish(ns.status());
    absl::StatusOr<RunRef> ref = ref_of(req, *ns);
    if (!ref.ok()) return call->Finish(ref.status());
    absl::StatusOr<engine::ActivityEvent> event = event_of(req);
    if (!event.ok()) return call->Finish(event.status());
    deps.engine->Update(
        *ref, std::move(*event),
        Answer(call, [fill, resp](const ActivityRecord& r) { fill(r, resp); }));
  });
}

// The part of a call's remaining time a scan leaves for the answer to reach
// the caller: a tenth, at most one second.
absl::Time ScanDeadline(absl::Time now, absl::Time call_deadline) {
  if (call_deadline == absl::InfiniteFuture()) return call_deadline;
  const absl::Duration left = call_deadline - now;
  return call_deadline - std::min(absl::Seconds(1), left / 10);
}

// Runs `scan` (a List or Count that reads the store) on the scan executor
// instead of the gRPC thread, within the call's deadline and `max_rows`,
// and finishes the call with its status. A full executor queue answers
// RESOURCE_EXHAUSTED at once rather than queueing without bound.
template <typename Scan>
void OffloadScan(const ActivityServiceDeps& deps, UnaryCall* call,
                 int64_t max_rows, Scan scan) {
  const Clock* clock = deps.clock;
  const visibility::ScanLimits limits{
      max_rows, ScanDeadline(clock->Now(), call->deadline())};
  const bool queued =
      deps.scan_executor->Submit([call, clock, limits, scan = std::move(scan)] {
        // The caller may have waited out its deadline in the queue.
        if (limits.deadline != absl::InfiniteFuture() &&
            clock->Now() >= limits.deadline) {
          return call->Finish(absl::DeadlineExceededError(
              "query did not start before the call's deadline: the server "
              "is busy with other List and Count calls"));
        }
        call->Finish(scan(limits));
      });
  if (!queued) {
    call->Finish(absl::ResourceExhaustedError(
        "too many List and Count calls in progress; retry later"));
  }
}

}  // namespace

void RegisterActivityService(ServiceTable& table,
                             const ActivityServiceDeps& deps) {
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

  table.HandleAsync<ws::ListActivityExecutionsRequest,
                    ws::ListActivityExecutionsResponse>(
      "ListActivityExecutions",
      [deps](UnaryCall* call, const ws::ListActivityExecutionsRequest& req,
             ws::ListActivityExecutionsResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        // The request and response live until the call is finished.
        OffloadScan(deps, call, deps.list_scan_rows,
                    [deps, ns = *std::move(ns), &req,
                     resp](const visibility::ScanLimits& limits) {
                      auto page = deps.lister->List(
                          ns.id(), ns.search_attributes(), req.query(),
                          req.page_size(), req.next_page_token(), limits);
                      if (!page.ok()) return page.status();
                      for (auto& row : page->executions) {
                        *resp->add_executions() = std::move(row);
                      }
                      resp->set_next_page_token(page->next_page_token);
                      return absl::OkStatus();
                    });
      });

  table.HandleAsync<ws::CountActivityExecutionsRequest,
                    ws::CountActivityExecutionsResponse>(
      "CountActivityExecutions",
      [deps](UnaryCall* call, const ws::CountActivityExecutionsRequest& req,
             ws::CountActivityExecutionsResponse* resp) {
        auto ns = Namespace(deps, req);
        if (!ns.ok()) return call->Finish(ns.status());
        OffloadScan(deps, call, deps.count_scan_rows,
                    [deps, ns = *std::move(ns), &req,
                     resp](const visibility::ScanLimits& limits) {
                      auto counted = deps.lister->Count(
                          ns.id(), ns.search_attributes(), req.query(), limits);
                      if (!counted.ok()) return counted.status();
                      resp->set_count(counted->count);
                      for (const auto& [status, count] : counted->groups) {
                        auto* group = resp->add_groups();
                        *group->add_group_values() = JsonStringPayload(status);
                        group->set_count(count);
                      }
                      return absl::OkStatus();
                    });
      });

  table.HandleAsync<ws::PollActivityTaskQueueRequest,
                    ws::PollActivityTaskQueueResponse>(
      "PollActivityTaskQueue",
      [deps](UnaryCall* call, const ws::PollActivityTaskQueueRequest& req,
             ws::PollActivityTaskQueueResponse* resp) {
        auto poll = AcceptTaskPoll(deps, call, req);
        if (!poll.ok()) return call->Finish(poll.status());
        spdlog::debug("{} poll on task queue {} in namespace {}",
                      req.identity(), req.task_queue().name(),
                      req.namespace_());
        std::make_shared<TaskPoll>(call, resp, deps, poll->ns,
                                   req.task_queue().name(), req.identity(),
                                   poll->expire_at)
            ->Begin();
      });

  // Errand runs no workflows: a workflow task poll waits and comes back
  // empty (see frontend/empty_polls.h).
  table.HandleAsync<ws::PollWorkflowTaskQueueRequest,
                    ws::PollWorkflowTaskQueueResponse>(
      "PollWorkflowTaskQueue",
      [deps](UnaryCall* call, const ws::PollWorkflowTaskQueueRequest& req,
             ws::PollWorkflowTaskQueueResponse*) {
        auto poll = AcceptTaskPoll(deps, call, req);
        if (!poll.ok()) return call->Finish(poll.status());
        deps.empty_polls->Park(call, poll->expire_at);
      });

  // Worker calls: each names its run by task token or by ID, turns the
  // request into one engine event, and shapes the response from the result.
  auto token_ref = [](const auto& req, const store::NamespaceRecord& ns) {
    return TokenRef(req.task_token(), ns);
  };
  auto id_ref = [](const auto& req, const store::NamespaceRecord& ns) {
    return ByIdRef(req, ns);
  };
  auto heartbeat =
      [](const auto& req) -> absl::StatusOr<engine::ActivityEvent> {
    return HeartbeatEvent(req.has_details(), req.details(), req.identity());
  };
  auto heartbeat_response = [](const ActivityRecord& r, auto* resp) {
    bool cancel = false;
    FillHeartbeatResponse(r, &cancel);
    resp->set_cancel_requested(cancel);
  };
  auto no_response = [](const ActivityRecord&, auto*) {};
  auto complete = [](bool by_id) {
    return [by_id](const auto& req) -> absl::StatusOr<engine::ActivityEvent> {
      return CompleteEvent(req.result(), req.identity(), by_id);
    };
  };
  auto fail = [](const auto& req) -> absl::StatusOr<engine::ActivityEvent> {
    return engine::ActivityEvent(FailEvent(
        req.has_failure() ? &req.failure() : nullptr,
        req.has_last_heartbeat_details() ? &req.last_heartbeat_details()
                                         : nullptr,
        req.identity()));
  };
  auto canceled = [](const auto& req) -> absl::StatusOr<engine::ActivityEvent> {
    engine::CancelAttempt event;
    if (req.has_details()) event.details = req.details();
    event.identity = req.identity();
    return event;
  };

  HandleWorkerCall<ws::RecordActivityTaskHeartbeatRequest,
                   ws::RecordActivityTaskHeartbeatResponse>(
      table, "RecordActivityTaskHeartbeat", deps, token_ref, heartbeat,
      heartbeat_response);
  HandleWorkerCall<ws::RecordActivityTaskHeartbeatByIdRequest,
                   ws::RecordActivityTaskHeartbeatByIdResponse>(
      table, "RecordActivityTaskHeartbeatById", deps, id_ref, heartbeat,
      heartbeat_response);
  HandleWorkerCall<ws::RespondActivityTaskCompletedRequest,
                   ws::RespondActivityTaskCompletedResponse>(
      table, "RespondActivityTaskCompleted", deps, token_ref, complete(false),
      no_response);
  HandleWorkerCall<ws::RespondActivityTaskCompletedByIdRequest,
                   ws::RespondActivityTaskCompletedByIdResponse>(
      table, "RespondActivityTaskCompletedById", deps, id_ref, complete(true),
      no_response);
  HandleWorkerCall<ws::RespondActivityTaskFailedRequest,
                   ws::RespondActivityTaskFailedResponse>(
      table, "RespondActivityTaskFailed", deps, token_ref,
      [fail](const ws::RespondActivityTaskFailedRequest& req)
          -> absl::StatusOr<engine::ActivityEvent> {
        if (absl::Status s = CheckTokenFailure(req); !s.ok()) return s;
        return fail(req);
      },
      no_response);
  HandleWorkerCall<ws::RespondActivityTaskFailedByIdRequest,
                   ws::RespondActivityTaskFailedByIdResponse>(
      table, "RespondActivityTaskFailedById", deps, id_ref, fail, no_response);
  HandleWorkerCall<ws::RespondActivityTaskCanceledRequest,
                   ws::RespondActivityTaskCanceledResponse>(
      table, "RespondActivityTaskCanceled", deps, token_ref, canceled,
      no_response);
  HandleWorkerCall<ws::RespondActivityTaskCanceledByIdRequest,
                   ws::RespondActivityTaskCanceledByIdResponse>(
      table, "RespondActivityTaskCanceledById", deps, id_ref, canceled,
      no_response);
}

}  // namespace errand::frontend
