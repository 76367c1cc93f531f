// Operator commands for standalone activities with the Go SDK: the
// ActivityHandle's Pause, Unpause, UpdateOptions and RestoreOriginalOptions
// (experimental in SDK v1.50), a heartbeating activity that sees
// activity.ErrActivityPaused as its context's cause, ExecutionStatus =
// 'Paused' in List and Count, and reset through the raw WorkflowService
// (the SDK has no handle method for ResetActivityExecution), as are the
// request-ID dedup checks, since the handle makes a fresh request ID per call.
//
// Every scenario was run against a Temporal dev server (CLI 1.9.1, Server
// 1.32.0, activity.enableStandalone=true,
// history.enableStandaloneActivityOperatorCommands=true) in oracle mode
// (COMPAT_ORACLE_ADDRESS; see harness_test.go). The messages asserted are
// that server's.
package compat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	paused       = enumspb.ACTIVITY_EXECUTION_STATUS_PAUSED
	statePaused  = enumspb.PENDING_ACTIVITY_STATE_PAUSED
	stateSched   = enumspb.PENDING_ACTIVITY_STATE_SCHEDULED
	stateStarted = enumspb.PENDING_ACTIVITY_STATE_STARTED
)

// wantFailedPrecondition checks that err is a FailedPrecondition with the exact message.
func wantFailedPrecondition(t *testing.T, err error, what, message string) {
	t.Helper()
	fp, ok := asError[*serviceerror.FailedPrecondition](err)
	if !ok {
		t.Fatalf("%s: want *serviceerror.FailedPrecondition, got %T: %v", what, err, err)
	}
	if fp.Message != message {
		t.Errorf("%s: message %q, want %q", what, fp.Message, message)
	}
	if got := serviceerror.ToStatus(err).Code(); got != codes.FailedPrecondition {
		t.Errorf("%s: code %v", what, got)
	}
}

func expectInvalidArgument(t *testing.T, err error, what, message string) {
	t.Helper()
	ia, ok := asError[*serviceerror.InvalidArgument](err)
	if !ok {
		t.Fatalf("%s: want *serviceerror.InvalidArgument, got %T: %v", what, err, err)
	}
	if ia.Message != message {
		t.Errorf("%s: message %q, want %q", what, ia.Message, message)
	}
}

func expectRun(t *testing.T, d *client.ActivityExecutionDescription, status enumspb.ActivityExecutionStatus,
	runState enumspb.PendingActivityState, attempt int32) {
	t.Helper()
	if d.Status != status || d.RunState != runState || d.Attempt != attempt {
		t.Fatalf("status %v / run state %v / attempt %d, want %v / %v / %d",
			d.Status, d.RunState, d.Attempt, status, runState, attempt)
	}
}

func ptr[T any](v T) *T { return &v }

// countingGreeting registers ComposeGreeting's behaviour under "counted" and
// counts its runs.
func countingGreeting(runs *atomic.Int32) func(worker.Worker) {
	return func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(_ context.Context, name string) (string, error) {
			runs.Add(1)
			return "Hello, " + name + "!", nil
		}, activity.RegisterOptions{Name: "counted"})
	}
}

// 1. Pause and unpause a scheduled activity ----------------------------------------

func TestPauseUnpauseScheduledActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	h := e.start(startOptions(unique("pause"), tq), "counted", "Paused")

	if err := h.Pause(e.ctx(), client.PauseActivityOptions{Reason: "downstream is down"}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	expectRun(t, e.describe(h, client.DescribeActivityOptions{}), paused, statePaused, 1)
	// The handle sends a fresh request ID: a second pause is not a duplicate.
	wantFailedPrecondition(t, h.Pause(e.ctx(), client.PauseActivityOptions{}), "second pause",
		"activity is in non-pausable state Paused")

	// A worker polls the queue for a while: the paused activity stays put.
	var runs atomic.Int32
	e.startWorker(tq, unique("worker"), countingGreeting(&runs))
	time.Sleep(time.Second)
	if n := runs.Load(); n != 0 {
		t.Fatalf("a paused activity ran %d times", n)
	}
	expectRun(t, e.describe(h, client.DescribeActivityOptions{}), paused, statePaused, 1)

	if err := h.Unpause(e.ctx(), client.UnpauseActivityOptions{Reason: "fixed"}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	if got := getString(t, e.ctx(), h); got != "Hello, Paused!" {
		t.Fatalf("result %q", got)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectRun(t, d, completed, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED, 1)
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times", n)
	}

	wantFailedPrecondition(t, h.Pause(e.ctx(), client.PauseActivityOptions{}), "pause a completed activity",
		"activity is in non-pausable state Completed")
	wantFailedPrecondition(t, h.Unpause(e.ctx(), client.UnpauseActivityOptions{}), "unpause a completed activity",
		"activity is in terminal state Completed")

	other := e.start(startOptions(unique("pause"), unique("tq")), "counted", "x")
	wantFailedPrecondition(t, other.Unpause(e.ctx(), client.UnpauseActivityOptions{}), "unpause a scheduled activity",
		"activity is in non-unpausable state Scheduled")
	missing := unique("missing")
	expectNotFound(t, e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: missing}).
		Pause(e.ctx(), client.PauseActivityOptions{}), missing, "pause a missing activity")
}

// TestUnpauseWithJitter: describe shows the jittered dispatch time only while
// it is in the future, so a small random pick may be gone by the time of the
// describe: of five activities, one must show it.
func TestUnpauseWithJitter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	const jitter = 2 * time.Second
	const slack = 500 * time.Millisecond // the server's clock against ours
	var handles []client.ActivityHandle
	shown := 0
	for range 5 {
		h := e.start(startOptions(unique("jitter"), tq), "counted", "Jitter")
		handles = append(handles, h)
		if err := h.Pause(e.ctx(), client.PauseActivityOptions{}); err != nil {
			t.Fatalf("pause: %v", err)
		}
		before := time.Now()
		if err := h.Unpause(e.ctx(), client.UnpauseActivityOptions{Jitter: jitter}); err != nil {
			t.Fatalf("unpause: %v", err)
		}
		after := time.Now()
		d := e.describe(h, client.DescribeActivityOptions{})
		expectRun(t, d, running, stateSched, 1)
		if next := d.NextAttemptScheduleTime; !next.IsZero() {
			shown++
			// The next dispatch is at a random time in [unpause, unpause + jitter).
			if next.Before(before.Add(-slack)) || next.After(after.Add(jitter+slack)) {
				t.Errorf("next attempt at %v, want within [%v, %v]", next, before, after.Add(jitter))
			}
		}
	}
	if shown == 0 {
		t.Errorf("no unpaused activity showed its jittered dispatch time")
	}
	var runs atomic.Int32
	e.startWorker(tq, unique("worker"), countingGreeting(&runs))
	for _, h := range handles {
		if got := getString(t, e.ctx(), h); got != "Hello, Jitter!" {
			t.Fatalf("result %q", got)
		}
	}
}

// TestPauseRequestIDDedup: a pause whose request ID is the last pause's is a
// no-op, even after an unpause; so is a repeated unpause.
func TestPauseRequestIDDedup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := unique("dedup")
	e.start(startOptions(id, unique("tq")), "counted", "x")
	h := e.client.GetActivityHandle(client.GetActivityHandleOptions{ActivityID: id})
	svc := e.client.WorkflowService()
	pause := &workflowservice.PauseActivityExecutionRequest{
		Namespace: "default", ActivityId: id, Identity: "go-operator", RequestId: uuid.NewString(), Reason: "once",
	}
	unpause := &workflowservice.UnpauseActivityExecutionRequest{
		Namespace: "default", ActivityId: id, Identity: "go-operator", RequestId: uuid.NewString(),
	}
	for i := range 2 {
		if _, err := svc.PauseActivityExecution(e.ctx(), pause); err != nil {
			t.Fatalf("pause #%d: %v", i+1, err)
		}
		expectRun(t, e.describe(h, client.DescribeActivityOptions{}), paused, statePaused, 1)
	}
	for i := range 2 {
		if _, err := svc.UnpauseActivityExecution(e.ctx(), unpause); err != nil {
			t.Fatalf("unpause #%d: %v", i+1, err)
		}
		expectRun(t, e.describe(h, client.DescribeActivityOptions{}), running, stateSched, 1)
	}
	// The first pause's request again: still a no-op, the activity stays scheduled.
	if _, err := svc.PauseActivityExecution(e.ctx(), pause); err != nil {
		t.Fatalf("pause replayed after unpause: %v", err)
	}
	expectRun(t, e.describe(h, client.DescribeActivityOptions{}), running, stateSched, 1)
}

// 2. A heartbeating activity sees the pause ---------------------------------------

func TestPauseHeartbeatingActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	started := make(chan struct{})
	causes := make(chan error, 1)
	var mu sync.Mutex
	var attempts []int32
	e.startWorker(tq, unique("worker"), func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			attempt := activity.GetInfo(ctx).Attempt
			mu.Lock()
			attempts = append(attempts, attempt)
			mu.Unlock()
			if attempt > 1 {
				return fmt.Sprintf("done on attempt %d", attempt), nil
			}
			close(started)
			for {
				activity.RecordHeartbeat(ctx, "working")
				select {
				case <-ctx.Done():
					causes <- context.Cause(ctx)
					return "", ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
		}, activity.RegisterOptions{Name: "pausable"})
	})
	opts := startOptions(unique("hb-pause"), tq)
	opts.HeartbeatTimeout = 5 * time.Second
	opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second}
	h := e.start(opts, "pausable")
	waitFor(t, started, "the activity to start")
	e.describeUntil(h, "attempt 1 started", client.DescribeActivityOptions{},
		func(d *client.ActivityExecutionDescription) bool { return d.RunState == stateStarted })

	if err := h.Pause(e.ctx(), client.PauseActivityOptions{Reason: "maintenance"}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	select {
	case cause := <-causes:
		if !errors.Is(cause, activity.ErrActivityPaused) {
			t.Fatalf("context cause %v, want activity.ErrActivityPaused", cause)
		}
	case <-time.After(activityTimeout):
		t.Fatal("the activity never saw the pause")
	}
	d := e.describeUntil(h, "paused", client.DescribeActivityOptions{IncludeLastFailure: true},
		func(d *client.ActivityExecutionDescription) bool { return d.RunState == statePaused })
	expectRun(t, d, paused, statePaused, 2)
	// The worker reported the attempt failed with its context's error.
	if f := d.RawResponse.GetInfo().GetLastFailure(); f.GetMessage() != "context canceled" {
		t.Errorf("last failure %v", f)
	}
	mu.Lock()
	if len(attempts) != 1 {
		t.Errorf("attempts %v while paused", attempts)
	}
	mu.Unlock()

	if err := h.Unpause(e.ctx(), client.UnpauseActivityOptions{}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	if got := getString(t, e.ctx(), h); got != "done on attempt 2" {
		t.Fatalf("result %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 2 || attempts[1] != 2 {
		t.Errorf("attempts %v", attempts)
	}
}

// 3. Update options, then restore the original ones ------------------------------------

func TestUpdateOptionsThenRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	opts := startOptions(unique("opts"), tq)
	opts.ScheduleToCloseTimeout = 2 * time.Minute
	opts.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 3}
	h := e.start(opts, "counted", "Options")
	original := e.describe(h, client.DescribeActivityOptions{})

	updated, err := h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		StartToCloseTimeout: &client.ActivityOptionChange[time.Duration]{Value: ptr(20 * time.Second)},
		HeartbeatTimeout:    &client.ActivityOptionChange[time.Duration]{Value: ptr(5 * time.Second)},
		RetryPolicy: &client.ActivityOptionChange[temporal.RetryPolicy]{Value: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 3, MaximumInterval: 30 * time.Second,
			MaximumAttempts: 7}},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	wantPolicy := temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 3,
		MaximumInterval: 30 * time.Second, MaximumAttempts: 7}
	if updated.TaskQueue != tq || updated.StartToCloseTimeout != 20*time.Second ||
		updated.HeartbeatTimeout != 5*time.Second || updated.ScheduleToCloseTimeout != 2*time.Minute ||
		updated.RetryPolicy == nil || !sameRetryPolicy(*updated.RetryPolicy, wantPolicy) {
		t.Errorf("update returned %+v (retry %+v)", updated, updated.RetryPolicy)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectRun(t, d, running, stateSched, 1)
	if d.StartToCloseTimeout != 20*time.Second || d.HeartbeatTimeout != 5*time.Second ||
		d.ScheduleToCloseTimeout != 2*time.Minute || !sameRetryPolicy(*d.RetryPolicy, wantPolicy) {
		t.Errorf("described after update: s2c %v stc %v hb %v retry %+v", d.ScheduleToCloseTimeout,
			d.StartToCloseTimeout, d.HeartbeatTimeout, d.RetryPolicy)
	}

	// A change with no value clears the option.
	cleared, err := h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		HeartbeatTimeout: &client.ActivityOptionChange[time.Duration]{}})
	if err != nil {
		t.Fatalf("clear heartbeat timeout: %v", err)
	}
	if cleared.HeartbeatTimeout != 0 || cleared.StartToCloseTimeout != 20*time.Second {
		t.Errorf("after clearing: %+v", cleared)
	}

	restored, err := h.RestoreOriginalOptions(e.ctx())
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if restored.TaskQueue != tq || restored.StartToCloseTimeout != original.StartToCloseTimeout ||
		restored.HeartbeatTimeout != original.HeartbeatTimeout ||
		restored.ScheduleToCloseTimeout != original.ScheduleToCloseTimeout ||
		restored.ScheduleToStartTimeout != original.ScheduleToStartTimeout ||
		restored.RetryPolicy == nil || !sameRetryPolicy(*restored.RetryPolicy, *original.RetryPolicy) {
		t.Errorf("restore returned %+v (retry %+v), original %+v", restored, restored.RetryPolicy, original)
	}
	d = e.describe(h, client.DescribeActivityOptions{})
	if d.StartToCloseTimeout != original.StartToCloseTimeout || d.HeartbeatTimeout != original.HeartbeatTimeout ||
		!sameRetryPolicy(*d.RetryPolicy, *original.RetryPolicy) || d.TaskQueue != tq {
		t.Errorf("described after restore: %+v", d)
	}

	// The merged retry policy is validated again.
	_, err = h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		RetryPolicy: &client.ActivityOptionChange[temporal.RetryPolicy]{Value: &temporal.RetryPolicy{
			InitialInterval: 5 * time.Second, MaximumInterval: time.Second}},
	})
	expectInvalidArgument(t, err, "maximum interval below the initial one",
		"MaximumInterval cannot be less than InitialInterval on retry policy.")
}

func sameRetryPolicy(a, b temporal.RetryPolicy) bool {
	return a.InitialInterval == b.InitialInterval && a.BackoffCoefficient == b.BackoffCoefficient &&
		a.MaximumInterval == b.MaximumInterval && a.MaximumAttempts == b.MaximumAttempts
}

func TestUpdateTaskQueueMovesDispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq, moved := unique("tq"), unique("tq-moved")
	h := e.start(startOptions(unique("opts"), tq), "counted", "Moved")
	updated, err := h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		TaskQueue: &client.ActivityOptionChange[string]{Value: ptr(moved)}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.TaskQueue != moved {
		t.Fatalf("task queue %q", updated.TaskQueue)
	}
	var runs atomic.Int32
	workerIdentity := unique("worker")
	e.startWorker(moved, workerIdentity, countingGreeting(&runs))
	if got := getString(t, e.ctx(), h); got != "Hello, Moved!" {
		t.Fatalf("result %q", got)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	if d.TaskQueue != moved || d.LastWorkerIdentity != workerIdentity {
		t.Errorf("task queue %q worker %q", d.TaskQueue, d.LastWorkerIdentity)
	}

	_, err = h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		StartToCloseTimeout: &client.ActivityOptionChange[time.Duration]{Value: ptr(time.Minute)}})
	wantFailedPrecondition(t, err, "update a completed activity",
		"Cannot update options for activity in state Completed")
}

// 4. Reset (raw WorkflowService) -----------------------------------------------------

func TestResetPausedActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	var failing atomic.Bool
	failing.Store(true)
	register := func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			info := activity.GetInfo(ctx)
			var checkpoint string
			if activity.HasHeartbeatDetails(ctx) {
				_ = activity.GetHeartbeatDetails(ctx, &checkpoint)
			}
			activity.RecordHeartbeat(ctx, fmt.Sprintf("checkpoint-%d", info.Attempt))
			if failing.Load() {
				return "", temporal.NewApplicationError("downstream unavailable", "Unavailable")
			}
			return fmt.Sprintf("ok on attempt %d from %q", info.Attempt, checkpoint), nil
		}, activity.RegisterOptions{Name: "flaky"})
	}
	stop := e.startWorker(tq, unique("worker"), register)
	id := unique("reset")
	opts := startOptions(id, tq)
	opts.HeartbeatTimeout = 5 * time.Second
	opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 1}
	h := e.start(opts, "flaky")
	e.describeUntil(h, "a retry", client.DescribeActivityOptions{},
		func(d *client.ActivityExecutionDescription) bool { return d.Attempt >= 2 })
	if err := h.Pause(e.ctx(), client.PauseActivityOptions{}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	d := e.describeUntil(h, "paused", client.DescribeActivityOptions{},
		func(d *client.ActivityExecutionDescription) bool { return d.RunState == statePaused })
	stop()
	if d.Attempt < 2 {
		t.Fatalf("paused at attempt %d", d.Attempt)
	}

	svc := e.client.WorkflowService()
	reset := func(keepPaused, resetHeartbeat bool) {
		t.Helper()
		_, err := svc.ResetActivityExecution(e.ctx(), &workflowservice.ResetActivityExecutionRequest{
			Namespace: "default", ActivityId: id, Identity: "go-operator", RequestId: uuid.NewString(),
			KeepPaused: keepPaused, ResetHeartbeat: resetHeartbeat,
		})
		if err != nil {
			t.Fatalf("reset (keep paused %v, reset heartbeat %v): %v", keepPaused, resetHeartbeat, err)
		}
	}
	heartbeat := func(d *client.ActivityExecutionDescription) string {
		var s string
		if d.HasHeartbeatDetails() {
			if err := d.GetHeartbeatDetails(&s); err != nil {
				t.Fatalf("heartbeat details: %v", err)
			}
		}
		return s
	}
	withDetails := client.DescribeActivityOptions{IncludeHeartbeatDetails: true}
	checkpoint := fmt.Sprintf("checkpoint-%d", d.Attempt-1)
	if got := heartbeat(e.describe(h, withDetails)); got != checkpoint {
		t.Fatalf("heartbeat details %q, want %q", got, checkpoint)
	}

	reset(true, false)
	d = e.describe(h, withDetails)
	expectRun(t, d, paused, statePaused, 1)
	if got := heartbeat(d); got != checkpoint {
		t.Errorf("after reset, heartbeat details %q, want %q kept", got, checkpoint)
	}
	reset(true, true)
	d = e.describe(h, withDetails)
	expectRun(t, d, paused, statePaused, 1)
	if d.HasHeartbeatDetails() {
		t.Errorf("heartbeat details %q after reset_heartbeat", heartbeat(d))
	}

	failing.Store(false)
	e.startWorker(tq, unique("worker"), register)
	reset(false, false)
	if got := getString(t, e.ctx(), h); got != `ok on attempt 1 from ""` {
		t.Fatalf("result %q", got)
	}

	_, err := svc.ResetActivityExecution(e.ctx(), &workflowservice.ResetActivityExecutionRequest{
		Namespace: "default", ActivityId: id, RequestId: uuid.NewString()})
	wantFailedPrecondition(t, err, "reset a completed activity", "activity execution is not running")
}

func TestResetRestoresOriginalOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	id := unique("reset")
	h := e.start(startOptions(id, tq), "counted", "x")
	if _, err := h.UpdateOptions(e.ctx(), client.ActivityOptionsUpdate{
		StartToCloseTimeout: &client.ActivityOptionChange[time.Duration]{Value: ptr(30 * time.Second)},
		TaskQueue:           &client.ActivityOptionChange[string]{Value: ptr(tq + "-moved")},
	}); err != nil {
		t.Fatalf("update: %v", err)
	}
	_, err := e.client.WorkflowService().ResetActivityExecution(e.ctx(), &workflowservice.ResetActivityExecutionRequest{
		Namespace: "default", ActivityId: id, RequestId: uuid.NewString(), RestoreOriginalOptions: true,
		Jitter: durationpb.New(0)})
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	d := e.describe(h, client.DescribeActivityOptions{})
	expectRun(t, d, running, stateSched, 1)
	if d.TaskQueue != tq || d.StartToCloseTimeout != activityTimeout {
		t.Errorf("after restore: task queue %q start-to-close %v", d.TaskQueue, d.StartToCloseTimeout)
	}
}

// 5. ExecutionStatus = 'Paused' in List and Count ----------------------------------

func TestQueryPaused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	var handles []client.ActivityHandle
	for range 3 {
		handles = append(handles, e.start(startOptions(unique("q"), tq), "counted", "x"))
	}
	for _, h := range handles[:2] {
		if err := h.Pause(e.ctx(), client.PauseActivityOptions{}); err != nil {
			t.Fatalf("pause: %v", err)
		}
	}
	tqq := fmt.Sprintf("TaskQueue = '%s'", tq)
	count := func(query string) func() (*client.CountActivitiesResult, error) {
		return func() (*client.CountActivitiesResult, error) {
			return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
		}
	}
	grouped := eventually(t, "count GROUP BY ExecutionStatus", settle, count(tqq+" GROUP BY ExecutionStatus"),
		func(r *client.CountActivitiesResult) bool {
			return maps.Equal(groupCounts(r), map[string]int64{"Paused": 2, "Running": 1})
		})
	if grouped.Count != 3 {
		t.Errorf("grouped total %d", grouped.Count)
	}
	r, err := e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: tqq + " AND ExecutionStatus = 'Paused'"})
	if err != nil || r.Count != 2 {
		t.Fatalf("count paused: %+v, %v", r, err)
	}
	listUntil(e, tqq+" AND ExecutionStatus = 'Paused'", map[string]status{
		handles[0].GetID(): paused, handles[1].GetID(): paused})
	listUntil(e, tqq+" AND ExecutionStatus != 'Paused'", map[string]status{handles[2].GetID(): running})

	if err := handles[0].Unpause(e.ctx(), client.UnpauseActivityOptions{}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	eventually(t, "count after unpause", settle, count(tqq+" GROUP BY ExecutionStatus"),
		func(r *client.CountActivitiesResult) bool {
			return maps.Equal(groupCounts(r), map[string]int64{"Paused": 1, "Running": 2})
		})
}
