// Worker calls: task queue polls (activity tasks, and workflow tasks that
// come back empty) and the heartbeat and respond calls, by token or by ID.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "activity_calls.h"
#include "errand/common/errors.h"
#include "errand/common/payloads.h"
#include "errand/common/uuid.h"
#include "errand/frontend/activity_mapping.h"
#include "errand/frontend/activity_validation.h"
#include "errand/frontend/long_poll.h"
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
           std::string task_queue, std::string identity, absl::Time expire_at,
           std::optional<double> max_tasks_per_second)
      : call_(call),
        resp_(resp),
        deps_(deps),
        ns_(std::move(ns)),
        task_queue_(std::move(task_queue)),
        identity_(std::move(identity)),
        sdk_name_(Header(call, "client-name")),
        sdk_version_(Header(call, "client-version")),
        expire_at_(expire_at),
        max_tasks_per_second_(max_tasks_per_second) {}

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
        [self](std::optional<matching::TaskRef> task) { self->OnTask(task); },
        max_tasks_per_second_);
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
    const int poller_delta = task->poller_delta;
    deps_.engine->StartTask(
        ns_.id(), *task, std::move(attempt),
        [self, poller_delta](absl::StatusOr<engine::RecordSnapshot> record) {
          if (record.ok()) {
            FillActivityTask(**record, self->ns_.name(), self->resp_);
            if (poller_delta != 0) {
              self->resp_->mutable_poller_scaling_decision()
                  ->set_poll_request_delta_suggestion(poller_delta);
            }
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
  const std::optional<double> max_tasks_per_second_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  matching::Matcher::PollHandle current_ ABSL_GUARDED_BY(mu_);
};

// What a poll tells DescribeTaskQueue: its queue's type and its worker's
// rate limit.
int PollType(const ws::PollActivityTaskQueueRequest&) {
  return matching::kActivityTaskQueue;
}
int PollType(const ws::PollWorkflowTaskQueueRequest&) {
  return matching::kWorkflowTaskQueue;
}
double PollerRate(const ws::PollActivityTaskQueueRequest& req) {
  return req.task_queue_metadata().has_max_tasks_per_second()
             ? req.task_queue_metadata().max_tasks_per_second().value()
             : matching::kDefaultPollerRate;
}
double PollerRate(const ws::PollWorkflowTaskQueueRequest&) {
  return matching::kDefaultPollerRate;
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
  deps.pollers->Record({ns->id(), req.task_queue().name(), PollType(req)},
                       req.identity(), PollerRate(req), now);
  return AcceptedPoll{*std::move(ns),
                      LongPollExpiry(now, call->deadline(), kMaxTaskPollWait)};
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

// What a heartbeat tells the worker: to stop because of a cancel (also when
// the heartbeat itself ended the attempt, with oversized details), a pause
// or a reset. At most one is set, in that order of precedence.
template <typename Resp>
void FillHeartbeatResponse(const ActivityRecord& r, Resp* resp) {
  switch (r.status()) {
    case store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      resp->set_cancel_requested(true);
      break;
    case store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
      resp->set_activity_paused(true);
      break;
    case store::v1::ACTIVITY_STATUS_RESET_REQUESTED:
      resp->set_activity_reset(true);
      break;
    default:
      resp->set_cancel_requested(engine::IsTerminal(r.status()));
  }
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

}  // namespace

void RegisterWorkerCalls(ServiceTable& table, const ActivityServiceDeps& deps) {
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
        // The worker's rate limit for the queue (the SDKs' per-task-queue
        // activity rate): each poll sets it, and one without clears it.
        std::optional<double> rate;
        if (req.task_queue_metadata().has_max_tasks_per_second()) {
          rate = req.task_queue_metadata().max_tasks_per_second().value();
        }
        std::make_shared<TaskPoll>(call, resp, deps, poll->ns,
                                   req.task_queue().name(), req.identity(),
                                   poll->expire_at, rate)
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
    FillHeartbeatResponse(r, resp);
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
