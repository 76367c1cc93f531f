// Dispatch rate limits and the task queue's own view with the Go SDK: a
// worker's per-queue activity rate (TaskQueueActivitiesPerSecond), a queue
// rate limit set with UpdateTaskQueueConfig that wins over it, and
// DescribeTaskQueue's backlog, rates and pollers.
package compat

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
)

// dispatchTimes runs a 20-slot worker asking for workerRate dispatches a
// second until 5.5 s after the first task started (or count tasks ran), and
// returns when each task started.
func (e *env) dispatchTimes(taskQueue string, count int, workerRate float64) []time.Time {
	e.t.Helper()
	var mu sync.Mutex
	var started []time.Time
	opts := workerOptions(unique("rate-worker"))
	opts.MaxConcurrentActivityExecutionSize = 20
	opts.TaskQueueActivitiesPerSecond = workerRate
	w := worker.New(e.client, taskQueue, opts)
	w.RegisterActivityWithOptions(func(_ context.Context, name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		started = append(started, time.Now())
		return name, nil
	}, activity.RegisterOptions{Name: "record"})
	if err := w.Start(); err != nil {
		e.t.Fatalf("worker start: %v", err)
	}
	defer w.Stop()
	giveUp := time.Now().Add(15 * time.Second)
	for time.Now().Before(giveUp) {
		mu.Lock()
		done := len(started) >= count ||
			(len(started) > 0 && started[len(started)-1].Sub(started[0]) >= 5500*time.Millisecond)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]time.Time(nil), started...)
}

// assertFivePerSecond checks that after the one-second burst (5 at once),
// 4 s at 5/s started 20 tasks, within 20%.
func assertFivePerSecond(t *testing.T, started []time.Time) {
	t.Helper()
	if len(started) == 0 {
		t.Fatal("no task ran")
	}
	first := started[0]
	inWindow := 0
	var offsets []string
	for _, s := range started {
		d := s.Sub(first)
		offsets = append(offsets, fmt.Sprintf("%.2f", d.Seconds()))
		if d >= time.Second && d < 5*time.Second {
			inWindow++
		}
	}
	if inWindow < 16 || inWindow > 24 {
		t.Fatalf("%d tasks started between 1 s and 5 s after the first, want 16..24: %v", inWindow, offsets)
	}
}

func (e *env) startRecords(taskQueue, prefix string, n int) {
	e.t.Helper()
	var tasks []dispatchTask
	for i := 0; i < n; i++ {
		tasks = append(tasks, dispatchTask{name: fmt.Sprintf("%s%d", prefix, i)})
	}
	e.startAll(taskQueue, tasks)
}

// The rate tests run alone (not in parallel): they time dispatches.
func TestDispatchWorkerRateLimit(t *testing.T) {
	e := newEnv(t)
	tq := unique("rate")
	e.startRecords(tq, "r", 60)
	assertFivePerSecond(t, e.dispatchTimes(tq, 60, 5))
}

func TestDispatchConfigRateLimitOverridesTheWorkers(t *testing.T) {
	e := newEnv(t)
	tq := unique("config-rate")
	updated, err := e.client.WorkflowService().UpdateTaskQueueConfig(e.ctx(), &workflowservice.UpdateTaskQueueConfigRequest{
		Namespace:     "default",
		Identity:      "ops",
		TaskQueue:     tq,
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		UpdateQueueRateLimit: &workflowservice.UpdateTaskQueueConfigRequest_RateLimitUpdate{
			RateLimit: &taskqueuepb.RateLimit{RequestsPerSecond: 5},
			Reason:    "downstream is slow",
		},
	})
	if err != nil {
		t.Fatalf("UpdateTaskQueueConfig: %v", err)
	}
	if got := updated.GetConfig().GetQueueRateLimit().GetRateLimit().GetRequestsPerSecond(); got != 5 {
		t.Fatalf("config after update: rate %v, want 5: %v", got, updated)
	}
	e.startRecords(tq, "c", 60)
	assertFivePerSecond(t, e.dispatchTimes(tq, 60, 1000))
}

func TestDescribeTaskQueueShowsTheBacklogAndThePoller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("describe")
	e.startRecords(tq, "d", 5)
	// Temporal's stats are approximate and cached for a few seconds; Errand's
	// are exact at once.
	describeUntil := func(what string, check func(*workflowservice.DescribeTaskQueueResponse) bool) *workflowservice.DescribeTaskQueueResponse {
		t.Helper()
		return eventually(t, what, 15*time.Second, func() (*workflowservice.DescribeTaskQueueResponse, error) {
			return e.client.WorkflowService().DescribeTaskQueue(e.ctx(), &workflowservice.DescribeTaskQueueRequest{
				Namespace:     "default",
				TaskQueue:     &taskqueuepb.TaskQueue{Name: tq},
				TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
				ReportStats:   true,
			})
		}, check)
	}
	before := describeUntil("a backlog of 5", func(r *workflowservice.DescribeTaskQueueResponse) bool {
		return r.GetStats().GetApproximateBacklogCount() == 5
	})
	if before.GetStats().GetApproximateBacklogAge().AsDuration() <= 0 {
		t.Errorf("backlog age %v, want more than 0", before.GetStats().GetApproximateBacklogAge())
	}
	if len(before.GetPollers()) != 0 {
		t.Errorf("pollers before any worker: %v", before.GetPollers())
	}

	identity := unique("describe-worker")
	var mu sync.Mutex
	ran := 0
	allDone := make(chan struct{})
	opts := workerOptions(identity)
	opts.TaskQueueActivitiesPerSecond = 50
	w := worker.New(e.client, tq, opts)
	w.RegisterActivityWithOptions(func(_ context.Context, name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if ran++; ran == 5 {
			close(allDone)
		}
		return name, nil
	}, activity.RegisterOptions{Name: "record"})
	if err := w.Start(); err != nil {
		t.Fatalf("worker start: %v", err)
	}
	defer w.Stop()
	select {
	case <-allDone:
	case <-time.After(dispatchTimeout):
		t.Fatal("the backlog did not run")
	}
	after := describeUntil("an empty backlog with dispatches", func(r *workflowservice.DescribeTaskQueueResponse) bool {
		return r.GetStats().GetApproximateBacklogCount() == 0 && r.GetStats().GetTasksDispatchRate() > 0
	})
	found := false
	for _, p := range after.GetPollers() {
		if p.GetIdentity() == identity {
			found = true
			if p.GetRatePerSecond() != 50 {
				t.Errorf("poller rate %v, want 50", p.GetRatePerSecond())
			}
			if p.GetLastAccessTime().AsTime().IsZero() {
				t.Errorf("poller without a last access time: %v", p)
			}
		}
	}
	if !found {
		t.Errorf("poller %q not among %v", identity, after.GetPollers())
	}
}
