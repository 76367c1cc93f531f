// Standalone Activity scenarios with the Go SDK: the greeting flow, handles
// by ID, describe, ID conflict and reuse policies, cancellation, terminate,
// delete, asynchronous completion by activity ID, non-retryable failures and
// NOT_FOUND errors.
//
// Every scenario was run against a real Temporal dev server (CLI 1.9.1,
// Server 1.32.0, activity.enableStandalone=true) in oracle mode
// (COMPAT_ORACLE_ADDRESS; see harness_test.go). The exact messages asserted
// are that server's.
package compat

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/errordetails/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

const activityTimeout = 10 * time.Second

// ComposeGreeting is the greeting activity; registered under its Go name.
func ComposeGreeting(_ context.Context, name string) (string, error) {
	return "Hello, " + name + "!", nil
}

func registerGreeting(w worker.Worker) { w.RegisterActivity(ComposeGreeting) }

func startOptions(id, taskQueue string) client.StartActivityOptions {
	return client.StartActivityOptions{ID: id, TaskQueue: taskQueue, StartToCloseTimeout: activityTimeout}
}

func (e *env) start(opts client.StartActivityOptions, activityType any, args ...any) client.ActivityHandle {
	e.t.Helper()
	h, err := e.client.ExecuteActivity(e.ctx(), opts, activityType, args...)
	if err != nil {
		e.t.Fatalf("ExecuteActivity %s: %v", opts.ID, err)
	}
	if h.GetID() != opts.ID || h.GetRunID() == "" {
		e.t.Fatalf("handle: id %q run %q", h.GetID(), h.GetRunID())
	}
	return h
}

func (e *env) describe(h client.ActivityHandle, opts client.DescribeActivityOptions) *client.ActivityExecutionDescription {
	e.t.Helper()
	d, err := h.Describe(e.ctx(), opts)
	if err != nil {
		e.t.Fatalf("describe %s: %v", h.GetID(), err)
	}
	return d
}

// describeUntil describes the activity until check accepts the description.
func (e *env) describeUntil(h client.ActivityHandle, what string, opts client.DescribeActivityOptions,
	check func(*client.ActivityExecutionDescription) bool) *client.ActivityExecutionDescription {
	e.t.Helper()
	return eventually(e.t, what, activityTimeout, func() (*client.ActivityExecutionDescription, error) {
		return h.Describe(e.ctx(), opts)
	}, check)
}

func getString(t *testing.T, ctx context.Context, h client.ActivityHandle) string {
	t.Helper()
	var s string
	if err := h.Get(ctx, &s); err != nil {
		t.Fatalf("Get %s: %v", h.GetID(), err)
	}
	return s
}

// waitFor fails the test unless ch yields (or is closed) within the activity timeout.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(activityTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func expectNotFound(t *testing.T, err error, activityID, what string) {
	t.Helper()
	nf, ok := asError[*serviceerror.NotFound](err)
	if !ok {
		t.Fatalf("%s: want *serviceerror.NotFound, got %T: %v", what, err, err)
	}
	if want := "activity not found for ID: " + activityID; nf.Message != want {
		t.Errorf("%s: message %q, want %q", what, nf.Message, want)
	}
	if got := serviceerror.ToStatus(err).Code(); got != codes.NotFound {
		t.Errorf("%s: code %v", what, got)
	}
}

func expectStatus(t *testing.T, d *client.ActivityExecutionDescription, status enumspb.ActivityExecutionStatus,
	runState enumspb.PendingActivityState) {
	t.Helper()
	if d.Status != status || d.RunState != runState {
		t.Fatalf("status %v / run state %v, want %v / %v", d.Status, d.RunState, status, runState)
	}
}

// 1. Greeting flow -------------------------------------------------------------

func TestGreeting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	e.startWorker(tq, unique("worker"), registerGreeting)

	h := e.start(startOptions(unique("greet"), tq), ComposeGreeting, "World")
	if got := getString(t, e.ctx(), h); got != "Hello, World!" {
		t.Fatalf("result %q", got)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.ActivityType != "ComposeGreeting" {
		t.Errorf("activity type %q", d.ActivityType)
	}
}

// 2. Start, then the result through a handle obtained by ID ---------------------

func TestStartThenResultByHandle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("greet")

	// Started before any worker: the handle by ID waits for the result.
	started := e.start(startOptions(id, tq), "ComposeGreeting", "Handle")
	byID := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id})
	if byID.GetID() != id || byID.GetRunID() != "" {
		t.Fatalf("handle by ID: %q %q", byID.GetID(), byID.GetRunID())
	}
	result := make(chan string, 1)
	errs := make(chan error, 1)
	go func() {
		var s string
		ctx, cancel := context.WithTimeout(context.Background(), activityTimeout)
		defer cancel()
		if err := byID.Get(ctx, &s); err != nil {
			errs <- err
			return
		}
		result <- s
	}()
	time.Sleep(200 * time.Millisecond) // the Get is long-polling now
	e.startWorker(tq, unique("worker"), registerGreeting)
	select {
	case s := <-result:
		if s != "Hello, Handle!" {
			t.Fatalf("result %q", s)
		}
	case err := <-errs:
		t.Fatalf("Get by ID: %v", err)
	case <-time.After(activityTimeout):
		t.Fatal("Get by ID did not return")
	}

	// A handle pinned to the run ID, and the handle from the start, agree.
	pinned := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id, RunID: started.GetRunID()})
	if got := getString(t, e.ctx(), pinned); got != "Hello, Handle!" {
		t.Errorf("pinned result %q", got)
	}
	if got := getString(t, e.ctx(), started); got != "Hello, Handle!" {
		t.Errorf("start handle result %q", got)
	}
	d := e.describe(byID, client.DescribeActivityOptions{})
	if d.ActivityRunID != started.GetRunID() {
		t.Errorf("describe by ID: run %q, want %q", d.ActivityRunID, started.GetRunID())
	}
}

// 3. Describe a running and a closed activity ----------------------------------

func TestDescribeRunningAndClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("describe")
	workerIdentity := unique("worker")
	gotStarted := make(chan struct{})
	release := make(chan struct{})
	var once atomic.Bool

	before := time.Now().Add(-time.Second)
	h := e.start(startOptions(id, tq), "compose_greeting", "World")

	// Not picked up yet: scheduled, no attempt started.
	d := e.describe(h, client.DescribeActivityOptions{})
	info := d.RawResponse.GetInfo()
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_SCHEDULED)
	checks := []struct {
		what string
		ok   bool
	}{
		{"activity id", d.ActivityID == id},
		{"run id", d.ActivityRunID == h.GetRunID() && d.RawResponse.GetRunId() == h.GetRunID()},
		{"activity type", d.ActivityType == "compose_greeting"},
		{"task queue", d.TaskQueue == tq},
		{"attempt", d.Attempt == 1},
		{"schedule time", !d.ScheduleTime.Before(before) && d.ScheduleTime.Before(time.Now().Add(time.Second))},
		{"execution time = schedule time", d.ExecutionTime.Equal(d.ScheduleTime)},
		{"no last started time", info.GetLastStartedTime() == nil},
		{"no close time", info.GetCloseTime() == nil},
		{"no execution duration", info.GetExecutionDuration() == nil},
		{"no expiration time without schedule-to-close", info.GetExpirationTime() == nil},
		{"no worker identity", d.LastWorkerIdentity == ""},
		{"start-to-close", d.StartToCloseTimeout == activityTimeout},
		{"schedule-to-close", d.ScheduleToCloseTimeout == 0},
		{"schedule-to-start", d.ScheduleToStartTimeout == 0},
		{"heartbeat timeout", d.HeartbeatTimeout == 0},
		{"no canceled reason", d.CanceledReason == ""},
		{"no heartbeats", d.TotalHeartbeatCount == 0 && info.GetLastHeartbeatTime() == nil},
		{"no outcome", d.RawResponse.GetOutcome() == nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("scheduled: %s: %+v", c.what, info)
		}
	}
	// The server fills in its default retry policy.
	want := temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: 100 * time.Second}
	if rp := d.RetryPolicy; rp == nil || rp.InitialInterval != want.InitialInterval ||
		rp.BackoffCoefficient != want.BackoffCoefficient || rp.MaximumInterval != want.MaximumInterval ||
		rp.MaximumAttempts != 0 || len(rp.NonRetryableErrorTypes) != 0 {
		t.Errorf("retry policy %+v, want %+v", rp, want)
	}

	e.startWorker(tq, workerIdentity, func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context, name string) (string, error) {
			if once.CompareAndSwap(false, true) {
				close(gotStarted)
			}
			select {
			case <-release:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			return "Hello, " + name + "!", nil
		}, activity.RegisterOptions{Name: "compose_greeting"})
	})
	waitFor(t, gotStarted, "the activity to start")

	byID := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id})
	d = e.describe(byID, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_STARTED)
	if d.ActivityRunID != h.GetRunID() || d.Attempt != 1 {
		t.Errorf("started: run %q attempt %d", d.ActivityRunID, d.Attempt)
	}
	if d.RawResponse.GetInfo().GetLastStartedTime() == nil || d.LastStartedTime.Before(d.ScheduleTime) {
		t.Errorf("started: last started %v, scheduled %v", d.LastStartedTime, d.ScheduleTime)
	}
	if d.LastWorkerIdentity != workerIdentity {
		t.Errorf("started: last worker identity %q, want %q", d.LastWorkerIdentity, workerIdentity)
	}
	if d.RawResponse.GetInfo().GetCloseTime() != nil {
		t.Errorf("started: close time %v", d.CloseTime)
	}

	close(release)
	if got := getString(t, e.ctx(), byID); got != "Hello, World!" {
		t.Fatalf("result %q", got)
	}

	d = e.describe(h, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	info = d.RawResponse.GetInfo()
	if info.GetCloseTime() == nil || d.CloseTime.Before(d.LastStartedTime) || d.LastStartedTime.Before(d.ScheduleTime) {
		t.Errorf("closed: schedule %v started %v close %v", d.ScheduleTime, d.LastStartedTime, d.CloseTime)
	}
	if info.GetExecutionDuration() == nil || d.ExecutionDuration != d.CloseTime.Sub(d.ScheduleTime) {
		t.Errorf("closed: execution duration %v, close - schedule %v", d.ExecutionDuration, d.CloseTime.Sub(d.ScheduleTime))
	}
	if d.Attempt != 1 || d.LastWorkerIdentity != workerIdentity || d.TaskQueue != tq {
		t.Errorf("closed: attempt %d identity %q task queue %q", d.Attempt, d.LastWorkerIdentity, d.TaskQueue)
	}
	// Payloads only on request.
	if d.HasResult() || d.HasInput() || d.RawResponse.GetOutcome() != nil {
		t.Errorf("closed: outcome or input without asking: %v", d.RawResponse)
	}
	d = e.describe(h, client.DescribeActivityOptions{IncludeInput: true, IncludeOutcome: true})
	var result, input string
	if err := d.GetResult(&result); err != nil || result != "Hello, World!" {
		t.Errorf("closed: result %q (%v)", result, err)
	}
	if err := d.GetInput(&input); err != nil || input != "World" {
		t.Errorf("closed: input %q (%v)", input, err)
	}
	if d.HasOutcomeFailure() || d.GetOutcomeFailure() != nil {
		t.Errorf("closed: outcome failure %v", d.GetOutcomeFailure())
	}
}

// 4. ID conflict policy and request IDs ------------------------------------------

func TestIDConflictPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq") // no worker: the activity stays running
	id := unique("dup")
	first := e.start(startOptions(id, tq), "compose_greeting", "World")

	for _, policy := range []enumspb.ActivityIdConflictPolicy{
		enumspb.ACTIVITY_ID_CONFLICT_POLICY_UNSPECIFIED, // the default is FAIL
		enumspb.ACTIVITY_ID_CONFLICT_POLICY_FAIL,
	} {
		opts := startOptions(id, tq)
		opts.ActivityIDConflictPolicy = policy
		_, err := e.client.ExecuteActivity(e.ctx(), opts, "compose_greeting", "World")
		already, ok := asError[*serviceerror.ActivityExecutionAlreadyStarted](err)
		if !ok {
			t.Fatalf("%v: want *serviceerror.ActivityExecutionAlreadyStarted, got %T: %v", policy, err, err)
		}
		if already.Message != "activity execution already started" {
			t.Errorf("%v: message %q", policy, already.Message)
		}
		if already.RunId != first.GetRunID() {
			t.Errorf("%v: run id %q, want %q", policy, already.RunId, first.GetRunID())
		}
		if already.StartRequestId == "" {
			t.Errorf("%v: no start request id", policy)
		}
		st := serviceerror.ToStatus(err)
		if st.Code() != codes.AlreadyExists {
			t.Errorf("%v: code %v", policy, st.Code())
		}
		var detail *errordetails.ActivityExecutionAlreadyStartedFailure
		for _, d := range st.Details() {
			if f, ok := d.(*errordetails.ActivityExecutionAlreadyStartedFailure); ok {
				detail = f
			}
		}
		if detail == nil || detail.GetRunId() != first.GetRunID() {
			t.Errorf("%v: status details %v", policy, st.Details())
		}
	}

	opts := startOptions(id, tq)
	opts.ActivityIDConflictPolicy = enumspb.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING
	existing := e.start(opts, "compose_greeting", "World")
	if existing.GetRunID() != first.GetRunID() {
		t.Errorf("USE_EXISTING: run %q, want %q", existing.GetRunID(), first.GetRunID())
	}

	// Still one run, still running.
	d := e.describe(first, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_SCHEDULED)
}

func TestStartRequestIDIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("req")
	requestID := uuid.NewString()
	request := func() *workflowservice.StartActivityExecutionRequest {
		return &workflowservice.StartActivityExecutionRequest{
			Namespace: "default", Identity: "compat-go", RequestId: requestID, ActivityId: id,
			ActivityType:        &commonpb.ActivityType{Name: "compose_greeting"},
			TaskQueue:           &taskqueuepb.TaskQueue{Name: tq},
			StartToCloseTimeout: durationpb.New(activityTimeout),
		}
	}
	svc := e.client.WorkflowService()
	first, err := svc.StartActivityExecution(e.ctx(), request())
	if err != nil || !first.GetStarted() || first.GetRunId() == "" {
		t.Fatalf("first start: %v %v", first, err)
	}
	again, err := svc.StartActivityExecution(e.ctx(), request())
	if err != nil || again.GetStarted() || again.GetRunId() != first.GetRunId() {
		t.Fatalf("same request ID: %v %v", again, err)
	}
	// The request ID still maps to that run after it closed: no new run.
	if err := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id}).
		Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	after, err := svc.StartActivityExecution(e.ctx(), request())
	if err != nil || after.GetStarted() || after.GetRunId() != first.GetRunId() {
		t.Fatalf("same request ID after close: %v %v", after, err)
	}
}

// 5. ID reuse policy after a run closes ---------------------------------------------

func TestIDReusePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	e.startWorker(tq, unique("worker"), func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(_ context.Context, mode string) (string, error) {
			if mode == "fail" {
				return "", temporal.NewNonRetryableApplicationError("failed on purpose", "Planned", nil)
			}
			return "done " + mode, nil
		}, activity.RegisterOptions{Name: "reusable"})
	})

	// closeRun runs one activity to the given end and returns its run ID.
	closeRun := func(t *testing.T, id, end string) string {
		t.Helper()
		switch end {
		case "completed", "failed":
			mode := map[string]string{"completed": "ok", "failed": "fail"}[end]
			h := e.start(startOptions(id, tq), "reusable", mode)
			err := h.Get(e.ctx(), nil)
			if (err == nil) != (end == "completed") {
				t.Fatalf("%s run: %v", end, err)
			}
			return h.GetRunID()
		case "terminated":
			h := e.start(startOptions(id, unique("idle-tq")), "reusable", "ok")
			if err := h.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "closing"}); err != nil {
				t.Fatal(err)
			}
			return h.GetRunID()
		}
		panic(end)
	}
	startAgain := func(id string, policy enumspb.ActivityIdReusePolicy) (client.ActivityHandle, error) {
		opts := startOptions(id, tq)
		opts.ActivityIDReusePolicy = policy
		return e.client.ExecuteActivity(e.ctx(), opts, "reusable", "again")
	}
	expectAllowed := func(t *testing.T, id, previous string, h client.ActivityHandle, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reuse refused: %v", err)
		}
		if h.GetRunID() == previous {
			t.Fatalf("reuse gave the closed run %q", previous)
		}
		if got := getString(t, e.ctx(), h); got != "done again" {
			t.Errorf("new run result %q", got)
		}
		// By ID alone, the handle now means the new run; the old run is still there.
		d := e.describe(e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id}),
			client.DescribeActivityOptions{})
		if d.ActivityRunID != h.GetRunID() {
			t.Errorf("latest run %q, want %q", d.ActivityRunID, h.GetRunID())
		}
		old := e.describe(e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id, RunID: previous}),
			client.DescribeActivityOptions{})
		if old.ActivityRunID != previous || old.Status == enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING {
			t.Errorf("previous run: %v %v", old.ActivityRunID, old.Status)
		}
	}
	expectRejected := func(t *testing.T, previous string, err error) {
		t.Helper()
		already, ok := asError[*serviceerror.ActivityExecutionAlreadyStarted](err)
		if !ok {
			t.Fatalf("want *serviceerror.ActivityExecutionAlreadyStarted, got %T: %v", err, err)
		}
		if already.Message != "activity execution already started" {
			t.Errorf("message %q", already.Message)
		}
		if already.RunId != previous {
			t.Errorf("run id %q, want the closed run %q", already.RunId, previous)
		}
	}

	cases := []struct {
		name   string
		end    string
		policy enumspb.ActivityIdReusePolicy
		allow  bool
	}{
		{"default-after-completed", "completed", enumspb.ACTIVITY_ID_REUSE_POLICY_UNSPECIFIED, true},
		{"allow-duplicate-after-completed", "completed", enumspb.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE, true},
		{"reject-duplicate-after-completed", "completed", enumspb.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE, false},
		{"reject-duplicate-after-failed", "failed", enumspb.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE, false},
		{"failed-only-after-completed", "completed", enumspb.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, false},
		{"failed-only-after-failed", "failed", enumspb.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, true},
		{"failed-only-after-terminated", "terminated", enumspb.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := unique("reuse")
			previous := closeRun(t, id, c.end)
			h, err := startAgain(id, c.policy)
			if c.allow {
				expectAllowed(t, id, previous, h, err)
			} else {
				expectRejected(t, previous, err)
			}
		})
	}
}

// 6. Cancellation ---------------------------------------------------------------

func TestCancelHeartbeatingActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	workerIdentity := unique("worker")
	register, gotStarted, sawCancel := heartbeatingActivity("heartbeater", "tick")
	e.startWorker(tq, workerIdentity, register)
	opts := startOptions(unique("cancel"), tq)
	opts.HeartbeatTimeout = 2 * time.Second
	h := e.start(opts, "heartbeater")
	waitFor(t, gotStarted, "the activity to start")

	if err := h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "enough"}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	// Cancellation is only a request until the worker reports it; the worker
	// learns of it on its next heartbeat.
	if d.Status == enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING {
		expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED)
	} else {
		expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_CANCELED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	}
	if d.CanceledReason != "enough" {
		t.Errorf("canceled reason %q", d.CanceledReason)
	}
	waitFor(t, sawCancel, "the activity to see the cancellation")

	err := h.Get(e.ctx(), nil)
	canceled, ok := asError[*temporal.CanceledError](err)
	if !ok {
		t.Fatalf("Get: want *temporal.CanceledError, got %T: %v", err, err)
	}
	if canceled.Error() != "Activity canceled" {
		t.Errorf("Get: message %q", canceled.Error())
	}

	d = e.describe(h, client.DescribeActivityOptions{IncludeOutcome: true})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_CANCELED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.RawResponse.GetInfo().GetCloseTime() == nil || d.CanceledReason != "enough" {
		t.Errorf("closed: close time %v reason %q", d.CloseTime, d.CanceledReason)
	}
	if d.LastWorkerIdentity != workerIdentity {
		t.Errorf("last worker identity %q, want %q", d.LastWorkerIdentity, workerIdentity)
	}
	// The outcome carries the cancel requester's identity (the client), not
	// the worker's; the worker reported no details (the Go SDK sends none for
	// a context.Canceled), so the failure has none: the field is absent.
	failure := d.RawResponse.GetOutcome().GetFailure()
	if failure.GetMessage() != "Activity canceled" || failure.GetCanceledFailureInfo() == nil ||
		failure.GetCanceledFailureInfo().GetIdentity() != e.clientIdentity {
		t.Errorf("outcome failure %v, want a canceled failure with the requester %s", failure, e.clientIdentity)
	}
	if details := failure.GetCanceledFailureInfo().GetDetails(); details != nil {
		t.Errorf("outcome failure details %v, want none (absent) since the worker sent none", details)
	}
	if _, ok := d.GetOutcomeFailure().(*temporal.CanceledError); !ok {
		t.Errorf("outcome failure %T", d.GetOutcomeFailure())
	}
}

func TestCancelBeforeWorkerPicksUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.start(startOptions(unique("cancel"), unique("tq")), "compose_greeting", "World") // nobody polls
	if err := h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "never mind"}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_CANCELED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	info := d.RawResponse.GetInfo()
	if info.GetCloseTime() == nil || info.GetLastStartedTime() != nil || d.CanceledReason != "never mind" {
		t.Errorf("close time %v last started %v reason %q", info.GetCloseTime(), info.GetLastStartedTime(), d.CanceledReason)
	}

	err := h.Get(e.ctx(), nil)
	canceled, ok := asError[*temporal.CanceledError](err)
	if !ok {
		t.Fatalf("Get: want *temporal.CanceledError, got %T: %v", err, err)
	}
	if canceled.Error() != "Activity canceled" {
		t.Errorf("Get: message %q", canceled.Error())
	}
	// The server records the reason as the failure's details, and the
	// requester's identity.
	var reason string
	if !canceled.HasDetails() || canceled.Details(&reason) != nil || reason != "never mind" {
		t.Errorf("Get: details %q", reason)
	}
	d = e.describe(h, client.DescribeActivityOptions{IncludeOutcome: true})
	if id := d.RawResponse.GetOutcome().GetFailure().GetCanceledFailureInfo().GetIdentity(); id != e.clientIdentity {
		t.Errorf("canceled failure identity %q, want the client's %q", id, e.clientIdentity)
	}

	// A closed activity cannot be cancelled or terminated again. Server
	// 1.32.0 and the spec (§1.7) answer a cancel with "activity is in terminal
	// state <Status>"; Server 1.31.2 said "invalid transition from Canceled".
	expectFailedPrecondition(t, h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "again"}),
		"activity is in terminal state Canceled", "cancel again")
	expectFailedPrecondition(t, h.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "again"}),
		"invalid transition from Canceled", "terminate after cancel")
}

func expectFailedPrecondition(t *testing.T, err error, message, what string) {
	t.Helper()
	fp, ok := asError[*serviceerror.FailedPrecondition](err)
	if !ok {
		t.Errorf("%s: want *serviceerror.FailedPrecondition, got %T: %v", what, err, err)
		return
	}
	if fp.Message != message && !(strings.HasSuffix(message, "*") && strings.HasPrefix(fp.Message, strings.TrimSuffix(message, "*"))) {
		t.Errorf("%s: message %q, want %q", what, fp.Message, message)
	}
}

// 7. Terminate ------------------------------------------------------------------

func TestTerminate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	register, gotStarted, sawEnd := heartbeatingActivity("long_job", "working")
	e.startWorker(tq, unique("worker"), register)
	opts := startOptions(unique("term"), tq)
	opts.HeartbeatTimeout = 5 * time.Second
	h := e.start(opts, "long_job")
	waitFor(t, gotStarted, "the activity to start")

	if err := h.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "stop it"}); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	d := e.describe(h, client.DescribeActivityOptions{IncludeOutcome: true})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_TERMINATED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.RawResponse.GetInfo().GetCloseTime() == nil || d.CanceledReason != "" {
		t.Errorf("close time %v canceled reason %q", d.CloseTime, d.CanceledReason)
	}
	failure := d.RawResponse.GetOutcome().GetFailure()
	if failure.GetMessage() != "stop it" || failure.GetTerminatedFailureInfo() == nil ||
		failure.GetTerminatedFailureInfo().GetIdentity() != e.clientIdentity {
		t.Errorf("outcome failure %v, want terminated 'stop it' by %s", failure, e.clientIdentity)
	}

	err := h.Get(e.ctx(), nil)
	if _, ok := asError[*temporal.TerminatedError](err); !ok {
		t.Fatalf("Get: want *temporal.TerminatedError, got %T: %v", err, err)
	}
	// The worker's next heartbeat finds the attempt gone and the SDK cancels
	// the activity's context.
	waitFor(t, sawEnd, "the activity's context to end after terminate")

	// Terminating again (a new request ID, generated by the SDK) names the
	// request ID of the terminate that closed it; a cancel finds it terminal.
	expectFailedPrecondition(t, h.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "again"}),
		"already terminated with request ID *", "terminate again")
	expectFailedPrecondition(t, h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "too late"}),
		"activity is in terminal state Terminated", "cancel after terminate")
}

// 8. Delete (the Go SDK's handle has no Delete: WorkflowService().DeleteActivityExecution)

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("del")
	e.startWorker(tq, unique("worker"), registerGreeting)
	h := e.start(startOptions(id, tq), ComposeGreeting, "World")
	if got := getString(t, e.ctx(), h); got != "Hello, World!" {
		t.Fatalf("result %q", got)
	}
	svc := e.client.WorkflowService()
	if _, err := svc.DeleteActivityExecution(e.ctx(), &workflowservice.DeleteActivityExecutionRequest{
		Namespace: "default", ActivityId: id, RunId: h.GetRunID()}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	// Deletion is asynchronous on the real server: describe shows the closed
	// run until the delete task has run.
	e.describeUntilDeleted(h, enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED)
	expectNotFound(t, e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id}).Get(e.ctx(), nil),
		id, "Get after delete")
	ids := eventually(t, "list after delete", activityTimeout, func() ([]string, error) {
		return listIDs(e, fmt.Sprintf("ActivityId = '%s'", id))
	}, func(ids []string) bool { return len(ids) == 0 })
	if len(ids) != 0 {
		t.Errorf("listed after delete: %v", ids)
	}
	_, err := svc.DeleteActivityExecution(e.ctx(), &workflowservice.DeleteActivityExecutionRequest{
		Namespace: "default", ActivityId: id})
	expectNotFound(t, err, id, "delete again")
}

func TestDeleteRunningActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.start(startOptions(unique("del"), unique("tq")), "compose_greeting", "World")
	if _, err := e.client.WorkflowService().DeleteActivityExecution(e.ctx(),
		&workflowservice.DeleteActivityExecutionRequest{Namespace: "default", ActivityId: h.GetID()}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if last := e.describeUntilDeleted(h, enumspb.ACTIVITY_EXECUTION_STATUS_TERMINATED); last != nil {
		// Caught before the delete task ran: terminated by the delete.
		if msg := last.RawResponse.GetOutcome().GetFailure().GetMessage(); msg != "Delete activity execution" {
			t.Errorf("terminated by delete: outcome %q", msg)
		}
	}
}

// describeUntilDeleted describes until NOT_FOUND; it returns the last
// description seen before that, which must have the given closed status.
func (e *env) describeUntilDeleted(h client.ActivityHandle, closed enumspb.ActivityExecutionStatus) *client.ActivityExecutionDescription {
	e.t.Helper()
	var last *client.ActivityExecutionDescription
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d, err := h.Describe(e.ctx(), client.DescribeActivityOptions{IncludeOutcome: true})
		if err != nil {
			expectNotFound(e.t, err, h.GetID(), "describe after delete")
			return last
		}
		if d.Status != closed {
			e.t.Fatalf("before deletion: status %v, want %v", d.Status, closed)
		}
		last = d
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("activity %s still there 5s after delete", h.GetID())
	return nil
}

// 9. Asynchronous completion by activity ID --------------------------------------

// asyncWorker runs "finish_later", which returns ErrResultPending: a client
// completes it later. The channel yields once per attempt started.
func (e *env) asyncWorker(tq string) <-chan struct{} {
	gotStarted := make(chan struct{}, 10)
	e.startWorker(tq, unique("worker"), func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			gotStarted <- struct{}{}
			return "", activity.ErrResultPending
		}, activity.RegisterOptions{Name: "finish_later"})
	})
	return gotStarted
}

func TestAsyncCompletionByActivityID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("async")
	gotStarted := e.asyncWorker(tq)
	h := e.start(startOptions(id, tq), "finish_later")
	waitFor(t, gotStarted, "the activity to start")

	// A standalone activity is addressed by activity ID (and optionally run
	// ID) with an empty workflow ID.
	if err := e.client.RecordActivityHeartbeatByID(e.ctx(), "default", "", "", id, "halfway"); err != nil {
		t.Fatalf("heartbeat by ID: %v", err)
	}
	d := e.describe(h, client.DescribeActivityOptions{IncludeHeartbeatDetails: true})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_STARTED)
	var details string
	if d.RawResponse.GetInfo().GetLastHeartbeatTime() == nil || d.GetHeartbeatDetails(&details) != nil || details != "halfway" {
		t.Errorf("heartbeat details %q, last heartbeat %v", details, d.LastHeartbeatTime)
	}
	expectNotFound(t, e.client.RecordActivityHeartbeatByID(e.ctx(), "default", "", uuid.NewString(), id, "wrong run"),
		id, "heartbeat by ID with a wrong run ID")

	if err := e.client.CompleteActivityByActivityID(e.ctx(), "default", id, "", "done later", nil); err != nil {
		t.Fatalf("complete by activity ID: %v", err)
	}
	if got := getString(t, e.ctx(), h); got != "done later" {
		t.Fatalf("result %q", got)
	}
	d = e.describe(h, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.RawResponse.GetInfo().GetCloseTime() == nil {
		t.Error("no close time")
	}

	// A by-ID completion is a force completion, allowed from any open state
	// (spec §1.4, §9): on a closed activity the transition is invalid
	// (Server 1.32.0; 1.31.2 answered NOT_FOUND). A by-ID failure or
	// heartbeat needs an attempt in progress: NOT_FOUND.
	for _, runID := range []string{h.GetRunID(), ""} {
		expectFailedPrecondition(t, e.client.CompleteActivityByActivityID(e.ctx(), "default", id, runID, "again", nil),
			"invalid transition from Completed", "complete again (run ID "+runID+")")
	}
	expectNotFound(t, e.client.CompleteActivityByActivityID(e.ctx(), "default", id, h.GetRunID(), nil,
		temporal.NewApplicationError("too late", "Late")), id, "fail by ID after completion")
	expectNotFound(t, e.client.RecordActivityHeartbeatByID(e.ctx(), "default", "", "", id, "late"),
		id, "heartbeat by ID after completion")
}

func TestAsyncFailureByActivityID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("async")
	gotStarted := e.asyncWorker(tq)
	opts := startOptions(id, tq)
	opts.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 1}
	h := e.start(opts, "finish_later")
	waitFor(t, gotStarted, "the activity to start")

	if err := e.client.CompleteActivityByActivityID(e.ctx(), "default", id, h.GetRunID(), nil,
		temporal.NewApplicationError("failed outside", "OutsideError", "some detail")); err != nil {
		t.Fatalf("fail by activity ID: %v", err)
	}
	err := h.Get(e.ctx(), nil)
	appErr, ok := asError[*temporal.ApplicationError](err)
	if !ok {
		t.Fatalf("Get: want *temporal.ApplicationError, got %T: %v", err, err)
	}
	var detail string
	if appErr.Message() != "failed outside" || appErr.Type() != "OutsideError" ||
		appErr.Details(&detail) != nil || detail != "some detail" {
		t.Errorf("Get: %v (detail %q)", appErr, detail)
	}
	d := e.describe(h, client.DescribeActivityOptions{IncludeOutcome: true, IncludeLastFailure: true})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_FAILED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.Attempt != 1 {
		t.Errorf("attempt %d", d.Attempt)
	}
	if f, ok := d.GetOutcomeFailure().(*temporal.ApplicationError); !ok || f.Message() != "failed outside" {
		t.Errorf("outcome failure %v", d.GetOutcomeFailure())
	}
}

func TestAsyncCancellationByActivityID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("async")
	gotStarted := e.asyncWorker(tq)
	h := e.start(startOptions(id, tq), "finish_later")
	waitFor(t, gotStarted, "the activity to start")

	if err := h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "stop"}); err != nil {
		t.Fatal(err)
	}
	// The heartbeat by ID reports the cancel request as a CanceledError.
	err := e.client.RecordActivityHeartbeatByID(e.ctx(), "default", "", "", id, "still here")
	if _, ok := asError[*temporal.CanceledError](err); !ok {
		t.Fatalf("heartbeat after cancel request: want *temporal.CanceledError, got %T: %v", err, err)
	}
	if err := e.client.CompleteActivityByActivityID(e.ctx(), "default", id, "", nil,
		temporal.NewCanceledError("bye")); err != nil {
		t.Fatalf("report cancellation by activity ID: %v", err)
	}
	err = h.Get(e.ctx(), nil)
	canceled, ok := asError[*temporal.CanceledError](err)
	if !ok {
		t.Fatalf("Get: want *temporal.CanceledError, got %T: %v", err, err)
	}
	var detail string
	if canceled.Details(&detail) != nil || detail != "bye" {
		t.Errorf("Get: details %q", detail)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_CANCELED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
}

// 10. Non-retryable failures -----------------------------------------------------

func TestNonRetryableFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	workerIdentity := unique("worker")
	var attempts atomic.Int32
	e.startWorker(tq, workerIdentity, func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context, flagged bool) (string, error) {
			attempts.Add(1)
			if flagged {
				return "", temporal.NewNonRetryableApplicationError("boom", "MyError", nil)
			}
			return "", temporal.NewApplicationError("boom", "MyError")
		}, activity.RegisterOptions{Name: "explode"})
	})

	for _, c := range []struct {
		name    string
		flagged bool // non-retryable flag on the error, else the type is listed in the policy
	}{{"error-type-in-retry-policy", false}, {"non-retryable-error", true}} {
		t.Run(c.name, func(t *testing.T) {
			attempts.Store(0)
			opts := startOptions(unique("fail"), tq)
			opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 5}
			if !c.flagged {
				opts.RetryPolicy.NonRetryableErrorTypes = []string{"MyError"}
			}
			h := e.start(opts, "explode", c.flagged)
			err := h.Get(e.ctx(), nil)
			appErr, ok := asError[*temporal.ApplicationError](err)
			if !ok {
				t.Fatalf("Get: want *temporal.ApplicationError, got %T: %v", err, err)
			}
			if appErr.Message() != "boom" || appErr.Type() != "MyError" || appErr.NonRetryable() != c.flagged {
				t.Errorf("Get: message %q type %q non-retryable %v", appErr.Message(), appErr.Type(), appErr.NonRetryable())
			}
			d := e.describe(h, client.DescribeActivityOptions{IncludeOutcome: true, IncludeLastFailure: true})
			expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_FAILED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
			if d.Attempt != 1 || attempts.Load() != 1 {
				t.Errorf("attempt %d, %d runs of the activity", d.Attempt, attempts.Load())
			}
			if d.RawResponse.GetInfo().GetCloseTime() == nil || d.RawResponse.GetInfo().GetLastAttemptCompleteTime() == nil {
				t.Errorf("close time %v last attempt complete %v", d.CloseTime, d.LastAttemptCompleteTime)
			}
			if d.LastWorkerIdentity != workerIdentity {
				t.Errorf("last worker identity %q", d.LastWorkerIdentity)
			}
			if d.RetryPolicy == nil || d.RetryPolicy.MaximumAttempts != 5 {
				t.Errorf("retry policy %+v", d.RetryPolicy)
			}
			if f, ok := d.GetOutcomeFailure().(*temporal.ApplicationError); !ok || f.Message() != "boom" || f.Type() != "MyError" {
				t.Errorf("outcome failure %v", d.GetOutcomeFailure())
			}
			if f, ok := d.GetLastFailure().(*temporal.ApplicationError); !ok || f.Message() != "boom" {
				t.Errorf("last failure %v", d.GetLastFailure())
			}
		})
	}
}

// 11. NOT_FOUND ----------------------------------------------------------------

func TestNotFoundError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := unique("missing")
	h := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: missing})
	_, err := h.Describe(e.ctx(), client.DescribeActivityOptions{})
	expectNotFound(t, err, missing, "describe")
	expectNotFound(t, h.Get(e.ctx(), nil), missing, "get result")
	expectNotFound(t, h.Cancel(e.ctx(), client.CancelActivityOptions{Reason: "x"}), missing, "cancel")
	expectNotFound(t, h.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "x"}), missing, "terminate")
	expectNotFound(t, e.client.RecordActivityHeartbeatByID(e.ctx(), "default", "", "", missing, "x"), missing,
		"heartbeat by ID")
	expectNotFound(t, e.client.CompleteActivityByActivityID(e.ctx(), "default", missing, "", "x", nil), missing,
		"complete by activity ID")
	if st := serviceerror.ToStatus(h.Get(e.ctx(), nil)); len(st.Details()) == 0 {
		t.Errorf("no NotFoundFailure detail")
	} else if _, ok := st.Details()[0].(*errordetails.NotFoundFailure); !ok {
		t.Errorf("detail %T", st.Details()[0])
	}

	// An existing activity ID with a run ID that is not one of its runs.
	existing := e.start(startOptions(unique("exists"), unique("tq")), "compose_greeting", "World")
	wrongRun := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: existing.GetID(), RunID: uuid.NewString()})
	_, err = wrongRun.Describe(e.ctx(), client.DescribeActivityOptions{})
	expectNotFound(t, err, existing.GetID(), "describe with a wrong run ID")
	expectNotFound(t, wrongRun.Terminate(e.ctx(), client.TerminateActivityOptions{}), existing.GetID(),
		"terminate with a wrong run ID")
}

// heartbeatingActivity returns what registers, under name, an activity that
// heartbeats details every 50 ms until its context ends; started closes when
// it first runs and ended when it sees its context end.
func heartbeatingActivity(name, details string) (register func(worker.Worker), started, ended chan struct{}) {
	started, ended = make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	register = func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			if once.CompareAndSwap(false, true) {
				close(started)
			}
			for {
				activity.RecordHeartbeat(ctx, details)
				select {
				case <-ctx.Done():
					close(ended)
					return "", ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
		}, activity.RegisterOptions{Name: name})
	}
	return register, started, ended
}
