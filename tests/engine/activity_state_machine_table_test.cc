// The activity state machine as one table: every status × every event, each
// cell either the transition with its key effects or the exact refusal. The
// table is the single source of the expectations; the tests below check it
// against the code, and check that it is complete:
//  - every value of store::v1::ActivityStatus (read from the proto
//    descriptor, so a status added to activity.proto fails until it has a
//    row);
//  - every alternative of ActivityEvent (std::variant_size_v, so a new event
//    type fails until it has a column);
//  - every TimerKind (a switch compiled with -Wswitch as an error, so a new
//    kind does not build until it is listed here).
//
// Expectations follow Temporal (shared/spec/temporal-semantics.md §1 and the
// chasm/lib/activity transition source lists it summarizes).
#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errand/engine/activity_state_machine.h"
#include "google/protobuf/util/message_differencer.h"

namespace errand::engine {
namespace {

namespace enums = temporal::api::enums::v1;
namespace v1 = store::v1;
using store::ToProtoDuration;

// ---------------------------------------------------------------------------
// Timer kinds. With -Wswitch an error, adding a TimerKind breaks this switch
// until the new kind is named (and its firings decided) here; kTimerKindCount
// then counts it, and the static_assert below ties kAllTimerKinds to it.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"

// nullptr for a value that is not a TimerKind.
constexpr const char* TimerKindName(TimerKind kind) {
  switch (kind) {
    case TimerKind::kDispatch:
      return "Dispatch";
    case TimerKind::kScheduleToStart:
      return "ScheduleToStart";
    case TimerKind::kStartToClose:
      return "StartToClose";
    case TimerKind::kHeartbeat:
      return "Heartbeat";
    case TimerKind::kScheduleToClose:
      return "ScheduleToClose";
  }
  return nullptr;
}

// Which firings of a timer are distinct cells. Attempt-scoped timers carry
// the attempt's stamp, so a stale stamp must leave the record alone. The
// schedule-to-close timer is per execution (stamp 0), so it has no stale
// stamp; but an options update (or a reset restoring the original options)
// can move its deadline, and then the timer set for the old deadline fires
// early: OnTimer checks it against the deadline the record holds when it
// fires, and the update has set a timer for the new one. The heartbeat
// timer fires early too: a heartbeat since it was armed pushes the deadline
// on.
struct Firings {
  bool stale;
  bool early;
};
constexpr Firings FiringsOf(TimerKind kind) {
  switch (kind) {
    case TimerKind::kDispatch:
    case TimerKind::kScheduleToStart:
    case TimerKind::kStartToClose:
      return {.stale = true, .early = false};
    case TimerKind::kHeartbeat:
      return {.stale = true, .early = true};
    case TimerKind::kScheduleToClose:
      return {.stale = false, .early = true};
  }
  return {};
}

#pragma GCC diagnostic pop

// TimerKind's values are contiguous from 0: count them through the switch.
constexpr int CountTimerKinds() {
  int n = 0;
  while (TimerKindName(static_cast<TimerKind>(n)) != nullptr) ++n;
  return n;
}
constexpr int kTimerKindCount = CountTimerKinds();
constexpr TimerKind kAllTimerKinds[] = {
    TimerKind::kDispatch, TimerKind::kScheduleToStart, TimerKind::kStartToClose,
    TimerKind::kHeartbeat, TimerKind::kScheduleToClose};
static_assert(std::size(kAllTimerKinds) == kTimerKindCount,
              "kAllTimerKinds must list every TimerKind");
constexpr bool ListedInOrder() {
  for (int i = 0; i < kTimerKindCount; ++i) {
    if (static_cast<int>(kAllTimerKinds[i]) != i) return false;
  }
  return true;
}
static_assert(ListedInOrder());

// ---------------------------------------------------------------------------
// The records each row starts from.

constexpr absl::Duration kS2S = absl::Seconds(5);
constexpr absl::Duration kStC = absl::Seconds(10);
constexpr absl::Duration kHeartbeatTimeout = absl::Seconds(3);
constexpr absl::Duration kS2C = absl::Seconds(100);
constexpr char kCancelId[] = "cancel-1";
constexpr char kTerminateId[] = "term-1";
constexpr char kPauseId[] = "pause-1";
constexpr char kResetId[] = "reset-1";

temporal::api::failure::v1::Failure AppFailure(bool non_retryable) {
  temporal::api::failure::v1::Failure f;
  f.set_message("boom");
  f.mutable_application_failure_info()->set_type("Oops");
  f.mutable_application_failure_info()->set_non_retryable(non_retryable);
  return f;
}

// A record and the time it reached its status.
struct Built {
  ActivityRecord record;
  absl::Time at;
};

// Builds a record in `status` the way the server gets there, with every
// timeout set and a retry policy with unlimited attempts, so that every timer
// is armed and a retryable failure is retried. The open statuses are at
// attempt 2, so attempt-scoped stamps of attempt 1 exist and are stale.
absl::StatusOr<Built> BuildRecord(ActivityStatus status) {
  Built b;
  b.at = absl::FromUnixSeconds(1'700'000'000);
  ActivityRecord& r = b.record;
  r.set_namespace_id("ns");
  r.set_activity_id("act");
  r.set_run_id("run");
  r.mutable_activity_type()->set_name("Type");
  auto* o = r.mutable_options();
  o->mutable_task_queue()->set_name("tq");
  *o->mutable_schedule_to_start_timeout() = ToProtoDuration(kS2S);
  *o->mutable_start_to_close_timeout() = ToProtoDuration(kStC);
  *o->mutable_heartbeat_timeout() = ToProtoDuration(kHeartbeatTimeout);
  *o->mutable_schedule_to_close_timeout() = ToProtoDuration(kS2C);
  auto* p = o->mutable_retry_policy();
  *p->mutable_initial_interval() = ToProtoDuration(absl::Seconds(1));
  p->set_backoff_coefficient(2.0);
  *p->mutable_maximum_interval() = ToProtoDuration(absl::Seconds(100));
  // A created record before its Scheduled transition.
  if (status == v1::ACTIVITY_STATUS_UNSPECIFIED) return b;

  // Each step happens `after` the previous one; the first refusal stops the
  // recipe.
  absl::Status failed;
  auto step = [&](const ActivityEvent& e, absl::Duration after) {
    if (!failed.ok()) return;
    b.at += after;
    failed = Apply(r, e, b.at).status();
  };
  auto done = [&]() -> absl::StatusOr<Built> {
    if (!failed.ok()) return failed;
    return b;
  };
  ScheduleNew(r, b.at);
  // Attempt 1 starts and fails retryably: SCHEDULED, backing off (1 s).
  step(StartAttempt{1, "worker-1", "sdk", "1"}, absl::Seconds(1));
  step(FailAttempt{AppFailure(false), {}, "worker-1"}, absl::Seconds(1));
  switch (status) {
    case v1::ACTIVITY_STATUS_SCHEDULED:
      return done();
    case v1::ACTIVITY_STATUS_PAUSED:
      // Paused during the backoff, before attempt 2 is due.
      step(Pause{kPauseId, "hold", "ops"}, absl::Milliseconds(500));
      return done();
    case v1::ACTIVITY_STATUS_TIMED_OUT:
      // Nobody polls attempt 2 within the schedule-to-start timeout.
      step(TimerFired{TimerKind::kScheduleToStart, r.stamp()},
           absl::Seconds(1) + kS2S);
      return done();
    default:
      break;
  }
  // Attempt 2 starts.
  step(StartAttempt{r.stamp(), "worker-2", "sdk", "1"}, absl::Seconds(1));
  switch (status) {
    case v1::ACTIVITY_STATUS_STARTED:
      return done();
    case v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
      step(Pause{kPauseId, "hold", "ops"}, absl::Seconds(1));
      return done();
    case v1::ACTIVITY_STATUS_RESET_REQUESTED:
      step(Reset{.request_id = kResetId, .identity = "ops"}, absl::Seconds(1));
      return done();
    case v1::ACTIVITY_STATUS_COMPLETED: {
      temporal::api::common::v1::Payloads result;
      result.add_payloads()->set_data("\"ok\"");
      step(CompleteAttempt{result, "worker-2"}, absl::Seconds(1));
      return done();
    }
    case v1::ACTIVITY_STATUS_FAILED:
      step(FailAttempt{AppFailure(true), {}, "worker-2"}, absl::Seconds(1));
      return done();
    case v1::ACTIVITY_STATUS_TERMINATED:
      step(Terminate{kTerminateId, "stop", "admin"}, absl::Seconds(1));
      return done();
    case v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      step(RequestCancel{kCancelId, "no longer needed", "client"},
           absl::Seconds(1));
      return done();
    case v1::ACTIVITY_STATUS_CANCELED:
      step(RequestCancel{kCancelId, "no longer needed", "client"},
           absl::Seconds(1));
      step(CancelAttempt{{}, "worker-2"}, absl::Seconds(1));
      return done();
    default:
      return absl::UnimplementedError(
          absl::StrCat("no recipe for a record in status ",
                       v1::ActivityStatus_Name(status)));
  }
}

// ---------------------------------------------------------------------------
// The columns: the events, each made against the record it is applied to.

template <typename T, std::size_t I = 0>
constexpr std::size_t AlternativeIndex() {
  static_assert(I < std::variant_size_v<ActivityEvent>, "not an ActivityEvent");
  if constexpr (std::is_same_v<T,
                               std::variant_alternative_t<I, ActivityEvent>>) {
    return I;
  } else {
    return AlternativeIndex<T, I + 1>();
  }
}

struct Column {
  std::string name;
  std::size_t alternative;  // the ActivityEvent alternative it applies
  ActivityEvent (*make)(const ActivityRecord& r);
  // For a timer: when it fires (else: a second after the record was built).
  std::optional<TimerKind> due_of;
  bool early = false;  // fire before the deadline instead of at it
};

template <typename T>
Column EventColumn(std::string name,
                   ActivityEvent (*make)(const ActivityRecord&)) {
  return Column{std::move(name), AlternativeIndex<T>(), make, std::nullopt};
}

// The stamp a current timer of `kind` carries.
int64_t CurrentStamp(const ActivityRecord& r, TimerKind kind) {
  return kind == TimerKind::kScheduleToClose ? 0 : r.stamp();
}

template <TimerKind K>
ActivityEvent FireCurrent(const ActivityRecord& r) {
  return TimerFired{K, CurrentStamp(r, K)};
}
// The stamp of the attempt before: stale for every attempt-scoped timer.
template <TimerKind K>
ActivityEvent FireStale(const ActivityRecord& r) {
  return TimerFired{K, CurrentStamp(r, K) - 1};
}

std::vector<Column> MakeColumns() {
  std::vector<Column> columns = {
      EventColumn<StartAttempt>(
          "Start",
          [](const ActivityRecord& r) -> ActivityEvent {
            return StartAttempt{r.stamp(), "worker-3", "sdk", "1"};
          }),
      EventColumn<StartAttempt>(
          "Start(stale stamp)",
          [](const ActivityRecord& r) -> ActivityEvent {
            return StartAttempt{r.stamp() - 1, "worker-3", "sdk", "1"};
          }),
      EventColumn<RecordHeartbeat>(
          "RecordHeartbeat",
          [](const ActivityRecord&) -> ActivityEvent {
            temporal::api::common::v1::Payloads details;
            details.add_payloads()->set_data("42");
            return RecordHeartbeat{details};
          }),
      EventColumn<CompleteAttempt>(
          "Complete",
          [](const ActivityRecord&) -> ActivityEvent {
            return CompleteAttempt{{}, "worker-3", false};
          }),
      EventColumn<CompleteAttempt>("Complete(by ID)",
                                   [](const ActivityRecord&) -> ActivityEvent {
                                     return CompleteAttempt{{}, "client", true};
                                   }),
      EventColumn<FailAttempt>(
          "Fail(retryable)",
          [](const ActivityRecord&) -> ActivityEvent {
            return FailAttempt{AppFailure(false), {}, "worker-3"};
          }),
      EventColumn<FailAttempt>(
          "Fail(non-retryable)",
          [](const ActivityRecord&) -> ActivityEvent {
            return FailAttempt{AppFailure(true), {}, "worker-3"};
          }),
      EventColumn<CancelAttempt>("CancelAttempt",
                                 [](const ActivityRecord&) -> ActivityEvent {
                                   return CancelAttempt{{}, "worker-3"};
                                 }),
      EventColumn<RequestCancel>(
          "RequestCancel(new ID)",
          [](const ActivityRecord&) -> ActivityEvent {
            return RequestCancel{"cancel-2", "why", "client"};
          }),
      EventColumn<RequestCancel>(
          "RequestCancel(same ID)",
          [](const ActivityRecord&) -> ActivityEvent {
            return RequestCancel{kCancelId, "why", "client"};
          }),
      EventColumn<Terminate>("Terminate(new ID)",
                             [](const ActivityRecord&) -> ActivityEvent {
                               return Terminate{"term-2", "stop", "admin"};
                             }),
      EventColumn<Terminate>("Terminate(same ID)",
                             [](const ActivityRecord&) -> ActivityEvent {
                               return Terminate{kTerminateId, "stop", "admin"};
                             }),
      // Operator commands (spec §1.9). "Same ID" repeats the request of the
      // row's recipe, where it made one (else it is a new request too).
      EventColumn<Pause>("Pause(new ID)",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Pause{"pause-2", "why", "ops"};
                         }),
      EventColumn<Pause>("Pause(same ID)",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Pause{kPauseId, "hold", "ops"};
                         }),
      EventColumn<Unpause>("Unpause(new ID)",
                           [](const ActivityRecord&) -> ActivityEvent {
                             return Unpause{"unpause-2", "ops"};
                           }),
      EventColumn<Reset>("Reset",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Reset{.request_id = "reset-2",
                                        .identity = "ops"};
                         }),
      EventColumn<Reset>("Reset(same ID)",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Reset{.request_id = kResetId,
                                        .identity = "ops"};
                         }),
      EventColumn<Reset>("Reset(keep paused)",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Reset{.request_id = "reset-2",
                                        .identity = "ops",
                                        .keep_paused = true};
                         }),
      EventColumn<Reset>("Reset(restore original)",
                         [](const ActivityRecord&) -> ActivityEvent {
                           return Reset{.request_id = "reset-2",
                                        .identity = "ops",
                                        .restore_original_options = true};
                         }),
      EventColumn<UpdateOptions>("UpdateOptions(start_to_close)",
                                 [](const ActivityRecord&) -> ActivityEvent {
                                   UpdateOptions u{.request_id = "update-2",
                                                   .identity = "ops"};
                                   *u.options.mutable_start_to_close_timeout() =
                                       ToProtoDuration(kStC * 2);
                                   u.paths = {OptionPath::kStartToCloseTimeout};
                                   return u;
                                 }),
      // Every row's run has dispatched its first attempt: too late.
      EventColumn<UpdateOptions>(
          "UpdateOptions(start_delay)",
          [](const ActivityRecord&) -> ActivityEvent {
            UpdateOptions u{.request_id = "update-2", .identity = "ops"};
            *u.options.mutable_start_delay() = ToProtoDuration(absl::Hours(1));
            u.paths = {OptionPath::kStartDelay};
            return u;
          }),
      EventColumn<UpdateOptions>("UpdateOptions(restore original)",
                                 [](const ActivityRecord&) -> ActivityEvent {
                                   return UpdateOptions{
                                       .request_id = "update-2",
                                       .identity = "ops",
                                       .restore_original = true};
                                 }),
  };
  auto add = [&]<int I>(std::integral_constant<int, I>) {
    constexpr TimerKind kind = kAllTimerKinds[I];
    const std::string name = std::string("Timer(") + TimerKindName(kind);
    const std::size_t index = AlternativeIndex<TimerFired>();
    columns.push_back({name + ")", index, &FireCurrent<kind>, kind});
    if (FiringsOf(kind).stale) {
      columns.push_back(
          {name + ",stale stamp)", index, &FireStale<kind>, kind});
    }
    if (FiringsOf(kind).early) {
      columns.push_back(
          {name + ",early)", index, &FireCurrent<kind>, kind, true});
    }
  };
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (add(std::integral_constant<int, I>{}), ...);
  }
  (std::make_integer_sequence<int, kTimerKindCount>{});
  return columns;
}

const std::vector<Column>& Columns() {
  static const auto* columns = new std::vector<Column>(MakeColumns());
  return *columns;
}

// ---------------------------------------------------------------------------
// The cells.

struct Cell {
  // A refusal: the code and exact message, and the record left as it was.
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  // Otherwise: `unchanged` (nothing to write, record as it was) or a
  // transition to `next`.
  bool unchanged = false;
  ActivityStatus next = v1::ACTIVITY_STATUS_UNSPECIFIED;
  bool dispatch = false;
  std::multiset<TimerKind> timers;  // armed by the effects, by kind
  // The attempt after the event: the one before plus `attempt_delta`, or 1
  // if `first_attempt` (a reset, immediate or landing).
  int attempt_delta = 0;
  bool first_attempt = false;
  // When set: how much the attempt stamp moves (it fences the dispatch and
  // the attempt timers; 0 keeps them valid). Unset: not checked.
  std::optional<int> stamp_delta;
  // For a transition to a closed status.
  enums::RetryState retry_state = enums::RETRY_STATE_UNSPECIFIED;

  Cell& Dispatch() {
    dispatch = true;
    return *this;
  }
  Cell& Arms(std::initializer_list<TimerKind> kinds) {
    timers = kinds;
    return *this;
  }
  Cell& NextAttempt() {
    attempt_delta = 1;
    stamp_delta = 1;
    return *this;
  }
  Cell& FirstAttempt() {
    first_attempt = true;
    stamp_delta = 1;
    return *this;
  }
  Cell& Bumps() {
    stamp_delta = 1;
    return *this;
  }
  Cell& KeepsStamp() {
    stamp_delta = 0;
    return *this;
  }
  Cell& Retry(enums::RetryState state) {
    retry_state = state;
    return *this;
  }
};

Cell To(ActivityStatus next) {
  Cell c;
  c.next = next;
  return c;
}
Cell Same() {
  Cell c;
  c.unchanged = true;
  return c;
}
Cell Refused(absl::StatusCode code, std::string message) {
  Cell c;
  c.code = code;
  c.message = std::move(message);
  return c;
}
Cell NotFound() {
  return Refused(absl::StatusCode::kNotFound, "activity not found for ID: act");
}
// Matching drops the task and keeps polling (ObsoleteMatchingTask).
Cell Obsolete() {
  return Refused(absl::StatusCode::kAborted, "obsolete matching task");
}
// The transition's source list does not hold the status (chasm's
// ErrInvalidTransition, "%w from %v" with the status's short name).
Cell InvalidFrom(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "invalid transition from " + status);
}
Cell CancelOfClosed(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "activity is in terminal state " + status);
}

// The operator commands' refusals (upstream_operator.md §1, "History").
Cell NotPausable(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "activity is in non-pausable state " + status);
}
Cell NotUnpausable(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "activity is in non-unpausable state " + status);
}
Cell UnpauseOfClosed(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "activity is in terminal state " + status);
}
Cell NotRunning() {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "activity execution is not running");
}
Cell PendingCancel() {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "cannot reset an activity with a pending cancellation");
}
Cell PendingReset() {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "cannot reset an activity with a pending reset");
}
Cell NoOriginalTaskQueue() {
  return Refused(absl::StatusCode::kInvalidArgument,
                 "cannot restore original options: no original task queue "
                 "was recorded for this activity");
}
Cell CannotUpdate(const std::string& status) {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "Cannot update options for activity in state " + status);
}
Cell DelayDispatched() {
  return Refused(absl::StatusCode::kFailedPrecondition,
                 "cannot update start_delay: the first activity attempt has "
                 "already been dispatched");
}

using Row = std::vector<std::pair<std::string, Cell>>;

// One row per status, every cell written out, so that each row reads whole
// and a new status or column is decided cell by cell.
std::map<ActivityStatus, Row> MakeTable() {
  using enum TimerKind;
  constexpr auto SCHEDULED = v1::ACTIVITY_STATUS_SCHEDULED;
  constexpr auto STARTED = v1::ACTIVITY_STATUS_STARTED;
  constexpr auto CANCEL_REQUESTED = v1::ACTIVITY_STATUS_CANCEL_REQUESTED;
  constexpr auto COMPLETED = v1::ACTIVITY_STATUS_COMPLETED;
  constexpr auto FAILED = v1::ACTIVITY_STATUS_FAILED;
  constexpr auto CANCELED = v1::ACTIVITY_STATUS_CANCELED;
  constexpr auto TERMINATED = v1::ACTIVITY_STATUS_TERMINATED;
  constexpr auto TIMED_OUT = v1::ACTIVITY_STATUS_TIMED_OUT;
  constexpr auto PAUSED = v1::ACTIVITY_STATUS_PAUSED;
  constexpr auto PAUSE_REQUESTED = v1::ACTIVITY_STATUS_PAUSE_REQUESTED;
  constexpr auto RESET_REQUESTED = v1::ACTIVITY_STATUS_RESET_REQUESTED;
  const std::string not_canceled_first =
      "unable to mark activity as canceled without activity being request "
      "canceled first";
  std::map<ActivityStatus, Row> t;

  // Created but not yet scheduled. Never persisted like this (ScheduleNew
  // runs at creation), but Temporal's transitions all name their sources and
  // UNSPECIFIED is in none but Scheduled's, so every event is refused or
  // ignored.
  t[v1::ACTIVITY_STATUS_UNSPECIFIED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", NotFound()},
      {"Complete", NotFound()},
      {"Complete(by ID)", InvalidFrom("Unspecified")},
      {"Fail(retryable)", NotFound()},
      {"Fail(non-retryable)", NotFound()},
      {"CancelAttempt", NotFound()},
      {"RequestCancel(new ID)", InvalidFrom("Unspecified")},
      {"RequestCancel(same ID)", InvalidFrom("Unspecified")},
      {"Terminate(new ID)", InvalidFrom("Unspecified")},
      {"Terminate(same ID)", InvalidFrom("Unspecified")},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)", Same()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", Same()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same()},
      {"Timer(ScheduleToClose)", Same()},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("Unspecified")},
      {"Pause(same ID)", NotPausable("Unspecified")},
      {"Unpause(new ID)", NotUnpausable("Unspecified")},
      {"Reset", NotRunning()},
      {"Reset(same ID)", NotRunning()},
      {"Reset(keep paused)", NotRunning()},
      // The originals are checked before the status: a record not yet
      // scheduled has none.
      {"Reset(restore original)", NoOriginalTaskQueue()},
      {"UpdateOptions(start_to_close)", CannotUpdate("Unspecified")},
      {"UpdateOptions(start_delay)", CannotUpdate("Unspecified")},
      {"UpdateOptions(restore original)", CannotUpdate("Unspecified")},
  };

  // Attempt 2 waiting out its retry backoff.
  t[SCHEDULED] = {
      {"Start", To(STARTED).Arms({kStartToClose, kHeartbeat})},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", NotFound()},
      {"Complete", NotFound()},
      // By-ID completion may finish an activity no worker holds.
      {"Complete(by ID)", To(COMPLETED)},
      {"Fail(retryable)", NotFound()},
      {"Fail(non-retryable)", NotFound()},
      {"CancelAttempt", NotFound()},
      // No worker to tell: canceled at once.
      {"RequestCancel(new ID)", To(CANCELED)},
      {"RequestCancel(same ID)", To(CANCELED)},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      {"Timer(Dispatch)", Same().Dispatch()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)", Same()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", Same()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same()},
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToClose,early)", Same()},
      // The bump makes the queued dispatch and the S2S timer stale; the
      // schedule-to-close deadline keeps running (TimersFor re-arms it).
      {"Pause(new ID)", To(PAUSED).Bumps()},
      {"Pause(same ID)", To(PAUSED).Bumps()},  // no pause before
      {"Unpause(new ID)", NotUnpausable("Scheduled")},
      // Immediate: attempt 1 now, the backoff dropped.
      {"Reset", To(SCHEDULED).FirstAttempt().Arms(
                    {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Reset(same ID)", To(SCHEDULED).FirstAttempt().Arms(
                             {kDispatch, kScheduleToStart, kScheduleToClose})},
      // keep_paused only keeps a pause: a scheduled run is not paused.
      {"Reset(keep paused)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Reset(restore original)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      // Re-dispatched under a new stamp; S2C re-issued.
      {"UpdateOptions(start_to_close)",
       To(SCHEDULED).Bumps().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"UpdateOptions(start_delay)", DelayDispatched()},
      {"UpdateOptions(restore original)",
       To(SCHEDULED).Bumps().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
  };

  // Attempt 2 held by a worker.
  t[STARTED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      // Recorded; the heartbeat timer re-arms lazily when it fires.
      {"RecordHeartbeat", To(STARTED)},
      {"Complete", To(COMPLETED)},
      {"Complete(by ID)", To(COMPLETED)},
      {"Fail(retryable)",
       To(SCHEDULED).NextAttempt().Arms({kDispatch, kScheduleToStart})},
      {"Fail(non-retryable)",
       To(FAILED).Retry(enums::RETRY_STATE_NON_RETRYABLE_FAILURE)},
      {"CancelAttempt",
       Refused(absl::StatusCode::kInvalidArgument, not_canceled_first)},
      {"RequestCancel(new ID)", To(CANCEL_REQUESTED)},
      {"RequestCancel(same ID)", To(CANCEL_REQUESTED)},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)",
       To(SCHEDULED).NextAttempt().Arms({kDispatch, kScheduleToStart})},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)",
       To(SCHEDULED).NextAttempt().Arms({kDispatch, kScheduleToStart})},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same().Arms({kHeartbeat})},
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToClose,early)", Same()},
      // A flag: the worker keeps its attempt, its token and its timers.
      {"Pause(new ID)", To(PAUSE_REQUESTED).KeepsStamp()},
      {"Pause(same ID)", To(PAUSE_REQUESTED).KeepsStamp()},
      {"Unpause(new ID)", NotUnpausable("Started")},
      // Deferred until the worker yields.
      {"Reset", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(same ID)", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(keep paused)", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(restore original)", To(RESET_REQUESTED).KeepsStamp()},
      // The attempt's timers re-issued under the new stamp; the token (the
      // started stamp) stays valid.
      {"UpdateOptions(start_to_close)",
       To(STARTED).Bumps().Arms({kStartToClose, kHeartbeat, kScheduleToClose})},
      {"UpdateOptions(start_delay)", DelayDispatched()},
      {"UpdateOptions(restore original)",
       To(STARTED).Bumps().Arms({kStartToClose, kHeartbeat, kScheduleToClose})},
  };

  // Attempt 2 held by a worker that has not yet acknowledged the cancel.
  t[CANCEL_REQUESTED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", To(CANCEL_REQUESTED)},
      // Completion wins over a pending cancel.
      {"Complete", To(COMPLETED)},
      {"Complete(by ID)", To(COMPLETED)},
      // A pending cancel stops retries, retryable or not.
      {"Fail(retryable)",
       To(FAILED).Retry(enums::RETRY_STATE_CANCEL_REQUESTED)},
      {"Fail(non-retryable)",
       To(FAILED).Retry(enums::RETRY_STATE_CANCEL_REQUESTED)},
      {"CancelAttempt", To(CANCELED)},
      {"RequestCancel(new ID)",
       Refused(absl::StatusCode::kFailedPrecondition,
               "cancellation already requested with request ID cancel-1")},
      {"RequestCancel(same ID)", Same()},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_CANCEL_REQUESTED)},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_CANCEL_REQUESTED)},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same().Arms({kHeartbeat})},
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_CANCEL_REQUESTED)},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("CancelRequested")},
      {"Pause(same ID)", NotPausable("CancelRequested")},
      {"Unpause(new ID)", NotUnpausable("CancelRequested")},
      {"Reset", PendingCancel()},
      {"Reset(same ID)", PendingCancel()},
      {"Reset(keep paused)", PendingCancel()},
      {"Reset(restore original)", PendingCancel()},
      {"UpdateOptions(start_to_close)", CannotUpdate("CancelRequested")},
      {"UpdateOptions(start_delay)", CannotUpdate("CancelRequested")},
      {"UpdateOptions(restore original)", CannotUpdate("CancelRequested")},
  };

  // Attempt 2 paused during its retry backoff.
  t[PAUSED] = {
      // Not dispatched: a poll that still matches the task is obsolete.
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", NotFound()},
      {"Complete", NotFound()},
      // By-ID completion may finish a paused activity too.
      {"Complete(by ID)", To(COMPLETED)},
      {"Fail(retryable)", NotFound()},
      {"Fail(non-retryable)", NotFound()},
      {"CancelAttempt", NotFound()},
      // No worker to tell: canceled at once.
      {"RequestCancel(new ID)", To(CANCELED)},
      {"RequestCancel(same ID)", To(CANCELED)},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      // The pause made the attempt's timers stale, and a paused run has none.
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)", Same()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", Same()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same()},
      // The schedule-to-close deadline runs on while paused.
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("Paused")},
      {"Pause(same ID)", Same()},
      // Dispatched when the backoff ends (it has, by now), new stamp.
      {"Unpause(new ID)",
       To(SCHEDULED).Bumps().Arms({kDispatch, kScheduleToStart})},
      {"Reset", To(SCHEDULED).FirstAttempt().Arms(
                    {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Reset(same ID)", To(SCHEDULED).FirstAttempt().Arms(
                             {kDispatch, kScheduleToStart, kScheduleToClose})},
      // Attempt 1, still paused: nothing to dispatch.
      {"Reset(keep paused)",
       To(PAUSED).FirstAttempt().Arms({kScheduleToClose})},
      {"Reset(restore original)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      // Only the stamp moves (and S2C is re-issued); no dispatch while paused.
      {"UpdateOptions(start_to_close)",
       To(PAUSED).Bumps().Arms({kScheduleToClose})},
      // Paused, but attempt 1 did start: the delay is over for good.
      {"UpdateOptions(start_delay)", DelayDispatched()},
      {"UpdateOptions(restore original)",
       To(PAUSED).Bumps().Arms({kScheduleToClose})},
  };

  // Attempt 2 held by a worker, with a pause requested.
  t[PAUSE_REQUESTED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", To(PAUSE_REQUESTED)},
      {"Complete", To(COMPLETED)},
      {"Complete(by ID)", To(COMPLETED)},
      // AttemptFailedWhilePauseRequested: the next attempt, paused, with
      // nothing dispatched; the backoff is kept for the unpause.
      {"Fail(retryable)", To(PAUSED).NextAttempt()},
      {"Fail(non-retryable)",
       To(FAILED).Retry(enums::RETRY_STATE_NON_RETRYABLE_FAILURE)},
      {"CancelAttempt",
       Refused(absl::StatusCode::kInvalidArgument, not_canceled_first)},
      {"RequestCancel(new ID)", To(CANCEL_REQUESTED)},
      {"RequestCancel(same ID)", To(CANCEL_REQUESTED)},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      // A timeout with retries left lands in PAUSED too.
      {"Timer(StartToClose)", To(PAUSED).NextAttempt()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", To(PAUSED).NextAttempt()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same().Arms({kHeartbeat})},
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("PauseRequested")},
      {"Pause(same ID)", Same()},
      // Back to STARTED, nothing else changes.
      {"Unpause(new ID)", To(STARTED).KeepsStamp()},
      // Deferred; without keep_paused the pause is dropped first.
      {"Reset", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(same ID)", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(keep paused)", To(RESET_REQUESTED).KeepsStamp()},
      {"Reset(restore original)", To(RESET_REQUESTED).KeepsStamp()},
      {"UpdateOptions(start_to_close)",
       To(PAUSE_REQUESTED)
           .Bumps()
           .Arms({kStartToClose, kHeartbeat, kScheduleToClose})},
      {"UpdateOptions(start_delay)", DelayDispatched()},
      {"UpdateOptions(restore original)",
       To(PAUSE_REQUESTED)
           .Bumps()
           .Arms({kStartToClose, kHeartbeat, kScheduleToClose})},
  };

  // Attempt 2 held by a worker, with a reset deferred until it yields.
  t[RESET_REQUESTED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", To(RESET_REQUESTED)},
      // Completion wins: the reset is never applied.
      {"Complete", To(COMPLETED)},
      {"Complete(by ID)", To(COMPLETED)},
      // ResetAttemptFailedToScheduled: attempt 1 at once, whatever the
      // retry policy says about the failure.
      {"Fail(retryable)", To(SCHEDULED).FirstAttempt().Arms(
                              {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Fail(non-retryable)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"CancelAttempt",
       Refused(absl::StatusCode::kInvalidArgument, not_canceled_first)},
      // A cancel wins over the deferred reset.
      {"RequestCancel(new ID)", To(CANCEL_REQUESTED)},
      {"RequestCancel(same ID)", To(CANCEL_REQUESTED)},
      {"Terminate(new ID)", To(TERMINATED)},
      {"Terminate(same ID)", To(TERMINATED)},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)",
       To(SCHEDULED).FirstAttempt().Arms(
           {kDispatch, kScheduleToStart, kScheduleToClose})},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same().Arms({kHeartbeat})},
      {"Timer(ScheduleToClose)",
       To(TIMED_OUT).Retry(enums::RETRY_STATE_TIMEOUT)},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("ResetRequested")},
      {"Pause(same ID)", NotPausable("ResetRequested")},  // no pause before
      {"Unpause(new ID)", NotUnpausable("ResetRequested")},
      {"Reset", PendingReset()},
      {"Reset(same ID)", Same()},
      {"Reset(keep paused)", PendingReset()},
      {"Reset(restore original)", PendingReset()},
      {"UpdateOptions(start_to_close)", CannotUpdate("ResetRequested")},
      {"UpdateOptions(start_delay)", CannotUpdate("ResetRequested")},
      {"UpdateOptions(restore original)", CannotUpdate("ResetRequested")},
  };

  // The closed statuses. Worker calls find no attempt (NotFound); a by-ID
  // completion, which skips the attempt check, is refused by the transition;
  // cancel and terminate are refused unless they repeat the request that
  // closed the run; every timer is stale.
  // A run its own end closed (not cancel or terminate): the same row for
  // each, but for the status name in the messages.
  auto closed_by_its_end = [&](const char* name) -> Row {
    return {
        {"Start", Obsolete()},
        {"Start(stale stamp)", Obsolete()},
        {"RecordHeartbeat", NotFound()},
        {"Complete", NotFound()},
        {"Complete(by ID)", InvalidFrom(name)},
        {"Fail(retryable)", NotFound()},
        {"Fail(non-retryable)", NotFound()},
        {"CancelAttempt", NotFound()},
        {"RequestCancel(new ID)", CancelOfClosed(name)},
        {"RequestCancel(same ID)", CancelOfClosed(name)},
        {"Terminate(new ID)", InvalidFrom(name)},
        {"Terminate(same ID)", InvalidFrom(name)},
        {"Timer(Dispatch)", Same()},
        {"Timer(Dispatch,stale stamp)", Same()},
        {"Timer(ScheduleToStart)", Same()},
        {"Timer(ScheduleToStart,stale stamp)", Same()},
        {"Timer(StartToClose)", Same()},
        {"Timer(StartToClose,stale stamp)", Same()},
        {"Timer(Heartbeat)", Same()},
        {"Timer(Heartbeat,stale stamp)", Same()},
        {"Timer(Heartbeat,early)", Same()},
        {"Timer(ScheduleToClose)", Same()},
        {"Timer(ScheduleToClose,early)", Same()},
        {"Pause(new ID)", NotPausable(name)},
        {"Pause(same ID)", NotPausable(name)},
        {"Unpause(new ID)", UnpauseOfClosed(name)},
        {"Reset", NotRunning()},
        {"Reset(same ID)", NotRunning()},
        {"Reset(keep paused)", NotRunning()},
        {"Reset(restore original)", NotRunning()},
        {"UpdateOptions(start_to_close)", CannotUpdate(name)},
        {"UpdateOptions(start_delay)", CannotUpdate(name)},
        {"UpdateOptions(restore original)", CannotUpdate(name)},
    };
  };
  t[COMPLETED] = closed_by_its_end("Completed");
  t[FAILED] = closed_by_its_end("Failed");
  t[TIMED_OUT] = closed_by_its_end("TimedOut");

  t[CANCELED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", NotFound()},
      {"Complete", NotFound()},
      {"Complete(by ID)", InvalidFrom("Canceled")},
      {"Fail(retryable)", NotFound()},
      {"Fail(non-retryable)", NotFound()},
      {"CancelAttempt", NotFound()},
      {"RequestCancel(new ID)", CancelOfClosed("Canceled")},
      // The request ID is checked first, even after the run closed.
      {"RequestCancel(same ID)", Same()},
      {"Terminate(new ID)", InvalidFrom("Canceled")},
      {"Terminate(same ID)", InvalidFrom("Canceled")},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)", Same()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", Same()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same()},
      {"Timer(ScheduleToClose)", Same()},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("Canceled")},
      {"Pause(same ID)", NotPausable("Canceled")},
      {"Unpause(new ID)", UnpauseOfClosed("Canceled")},
      {"Reset", NotRunning()},
      {"Reset(same ID)", NotRunning()},
      {"Reset(keep paused)", NotRunning()},
      {"Reset(restore original)", NotRunning()},
      {"UpdateOptions(start_to_close)", CannotUpdate("Canceled")},
      {"UpdateOptions(start_delay)", CannotUpdate("Canceled")},
      {"UpdateOptions(restore original)", CannotUpdate("Canceled")},
  };

  t[TERMINATED] = {
      {"Start", Obsolete()},
      {"Start(stale stamp)", Obsolete()},
      {"RecordHeartbeat", NotFound()},
      {"Complete", NotFound()},
      {"Complete(by ID)", InvalidFrom("Terminated")},
      {"Fail(retryable)", NotFound()},
      {"Fail(non-retryable)", NotFound()},
      {"CancelAttempt", NotFound()},
      {"RequestCancel(new ID)", CancelOfClosed("Terminated")},
      {"RequestCancel(same ID)", CancelOfClosed("Terminated")},
      {"Terminate(new ID)",
       Refused(absl::StatusCode::kFailedPrecondition,
               "already terminated with request ID term-1")},
      {"Terminate(same ID)", Same()},
      {"Timer(Dispatch)", Same()},
      {"Timer(Dispatch,stale stamp)", Same()},
      {"Timer(ScheduleToStart)", Same()},
      {"Timer(ScheduleToStart,stale stamp)", Same()},
      {"Timer(StartToClose)", Same()},
      {"Timer(StartToClose,stale stamp)", Same()},
      {"Timer(Heartbeat)", Same()},
      {"Timer(Heartbeat,stale stamp)", Same()},
      {"Timer(Heartbeat,early)", Same()},
      {"Timer(ScheduleToClose)", Same()},
      {"Timer(ScheduleToClose,early)", Same()},
      {"Pause(new ID)", NotPausable("Terminated")},
      {"Pause(same ID)", NotPausable("Terminated")},
      {"Unpause(new ID)", UnpauseOfClosed("Terminated")},
      {"Reset", NotRunning()},
      {"Reset(same ID)", NotRunning()},
      {"Reset(keep paused)", NotRunning()},
      {"Reset(restore original)", NotRunning()},
      {"UpdateOptions(start_to_close)", CannotUpdate("Terminated")},
      {"UpdateOptions(start_delay)", CannotUpdate("Terminated")},
      {"UpdateOptions(restore original)", CannotUpdate("Terminated")},
  };

  return t;
}

const std::map<ActivityStatus, Row>& Table() {
  static const auto* table = new std::map<ActivityStatus, Row>(MakeTable());
  return *table;
}

std::vector<ActivityStatus> AllStatuses() {
  std::vector<ActivityStatus> statuses;
  const auto* d = v1::ActivityStatus_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    statuses.push_back(static_cast<ActivityStatus>(d->value(i)->number()));
  }
  return statuses;
}

std::string Name(ActivityStatus s) { return v1::ActivityStatus_Name(s); }

// ---------------------------------------------------------------------------
// Completeness.

TEST(ActivityStateTableTest, EveryEventTypeHasAColumn) {
  std::set<std::size_t> covered;
  for (const Column& c : Columns()) covered.insert(c.alternative);
  for (std::size_t i = 0; i < std::variant_size_v<ActivityEvent>; ++i) {
    EXPECT_TRUE(covered.contains(i))
        << "ActivityEvent alternative " << i << " has no column";
  }
  std::set<std::string> names;
  for (const Column& c : Columns()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate column " << c.name;
  }
}

TEST(ActivityStateTableTest, EveryTimerKindFiresCurrentAndStale) {
  for (TimerKind kind : kAllTimerKinds) {
    const std::string name = std::string("Timer(") + TimerKindName(kind);
    bool current = false;
    bool stale = false;
    for (const Column& c : Columns()) {
      if (c.name == name + ")") current = true;
      if (c.name == name + ",stale stamp)") stale = true;
    }
    EXPECT_TRUE(current) << name;
    EXPECT_EQ(stale, FiringsOf(kind).stale) << name;
  }
}

TEST(ActivityStateTableTest, EveryStatusHasARowDecidingEveryColumn) {
  const std::vector<ActivityStatus> statuses = AllStatuses();
  for (ActivityStatus status : statuses) {
    auto row = Table().find(status);
    if (row == Table().end()) {
      ADD_FAILURE() << "no row for " << Name(status);
      continue;
    }
    std::set<std::string> decided;
    for (const auto& [column, cell] : row->second) {
      EXPECT_TRUE(decided.insert(column).second)
          << Name(status) << ": cell " << column << " given twice";
    }
    for (const Column& c : Columns()) {
      EXPECT_TRUE(decided.erase(c.name) == 1)
          << Name(status) << ": no cell for " << c.name;
    }
    for (const std::string& extra : decided) {
      ADD_FAILURE() << Name(status) << ": cell for unknown column " << extra;
    }
  }
  // And no row for a status the proto no longer has.
  EXPECT_EQ(Table().size(), statuses.size());
}

// ---------------------------------------------------------------------------
// The cells against the code.

bool SameRecord(const ActivityRecord& a, const ActivityRecord& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::multiset<TimerKind> KindsOf(const std::vector<Timer>& timers) {
  std::multiset<TimerKind> kinds;
  for (const Timer& t : timers) kinds.insert(t.kind);
  return kinds;
}

std::string KindNames(const std::multiset<TimerKind>& kinds) {
  std::string out = "{";
  for (TimerKind k : kinds) {
    if (out.size() > 1) out += ", ";
    out += TimerKindName(k);
  }
  return out + "}";
}

// When the column's event is applied to `b`: timers at their deadline (or a
// second early), other events a second after the record was built.
absl::Time WhenApplied(const Column& c, const Built& b) {
  absl::Time when = b.at + absl::Seconds(1);
  if (!c.due_of) return when;
  for (const Timer& t : TimersFor(b.record)) {
    if (t.kind == *c.due_of && t.deadline > b.at) {
      when = c.early ? t.deadline - absl::Seconds(1) : t.deadline;
    }
  }
  return when;
}

void CheckCell(ActivityStatus status, const Column& column, const Cell& cell) {
  SCOPED_TRACE(Name(status) + " × " + column.name);
  absl::StatusOr<Built> built = BuildRecord(status);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(built->record.status(), status);
  const ActivityRecord before = built->record;
  ActivityRecord record = built->record;
  const absl::StatusOr<Effects> effects =
      Apply(record, column.make(before), WhenApplied(column, *built));

  if (cell.code != absl::StatusCode::kOk) {
    ASSERT_FALSE(effects.ok())
        << "expected " << cell.message << ", got a transition to "
        << Name(record.status());
    EXPECT_EQ(effects.status().code(), cell.code) << effects.status();
    EXPECT_EQ(std::string(effects.status().message()), cell.message);
    EXPECT_TRUE(SameRecord(record, before)) << "a refusal changed the record";
    return;
  }
  ASSERT_TRUE(effects.ok()) << effects.status();
  EXPECT_EQ(effects->unchanged, cell.unchanged);
  EXPECT_EQ(effects->dispatch, cell.dispatch);
  EXPECT_EQ(KindNames(KindsOf(effects->timers)), KindNames(cell.timers));
  if (cell.unchanged) {
    EXPECT_TRUE(SameRecord(record, before)) << "an unchanged event wrote";
    return;
  }
  EXPECT_EQ(Name(record.status()), Name(cell.next));
  EXPECT_EQ(record.version(), before.version() + 1);
  EXPECT_EQ(record.attempt(),
            cell.first_attempt ? 1 : before.attempt() + cell.attempt_delta);
  if (cell.stamp_delta) {
    EXPECT_EQ(record.stamp(), before.stamp() + *cell.stamp_delta);
  }
  // Only a start captures the stamp a worker's token must carry: no other
  // event (an options update included) invalidates a token.
  if (column.alternative != AlternativeIndex<StartAttempt>()) {
    EXPECT_EQ(record.started_stamp(), before.started_stamp());
  }
  // Timers of a new attempt carry its stamp, so the old attempt's are stale.
  for (const Timer& t : effects->timers) {
    EXPECT_EQ(t.stamp, CurrentStamp(record, t.kind)) << TimerKindName(t.kind);
  }
  if (IsTerminal(record.status())) {
    EXPECT_TRUE(record.has_close_time());
    EXPECT_EQ(enums::RetryState_Name(record.outcome().retry_state()),
              enums::RetryState_Name(cell.retry_state));
    EXPECT_TRUE(TimersFor(record).empty());
  } else {
    EXPECT_FALSE(record.has_close_time());
    EXPECT_FALSE(record.has_outcome());
  }
}

TEST(ActivityStateTableTest, EveryCellMatchesTheStateMachine) {
  for (ActivityStatus status : AllStatuses()) {
    auto row = Table().find(status);
    if (row == Table().end()) continue;  // reported by the completeness test
    std::map<std::string, const Cell*> cells;
    for (const auto& [column, cell] : row->second) cells[column] = &cell;
    for (const Column& column : Columns()) {
      auto it = cells.find(column.name);
      if (it == cells.end()) continue;  // reported by the completeness test
      CheckCell(status, column, *it->second);
    }
  }
}

// The fixture reaches each status the way the server does.
TEST(ActivityStateTableTest, FixtureBuildsEveryStatus) {
  for (ActivityStatus status : AllStatuses()) {
    absl::StatusOr<Built> built = BuildRecord(status);
    ASSERT_TRUE(built.ok()) << Name(status) << ": " << built.status();
    EXPECT_EQ(Name(built->record.status()), Name(status));
    if (status != v1::ACTIVITY_STATUS_UNSPECIFIED &&
        !IsTerminal(built->record.status())) {
      EXPECT_EQ(built->record.attempt(), 2) << Name(status);
    }
  }
}

}  // namespace
}  // namespace errand::engine
