// Dispatch order with the Go SDK: a task queue's backlog is handed out by
// priority (1 first, unset in the middle), shared between fairness keys by
// weight, and in the order tasks became ready within a level, also after a
// crash and restart.
//
// A worker with one activity slot takes one task at a time, so the order its
// activity runs in is the server's dispatch order. Every task is started
// before the worker polls, so the whole set is backlog.
package compat

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

// dispatchTimeout bounds how long a backlog may take to run.
const dispatchTimeout = 60 * time.Second

type dispatchTask struct {
	name     string
	priority temporal.Priority // the zero value leaves priority unset
}

// startAll starts one "record" activity per task, in the given order, each
// with a start-to-close timeout long enough for the whole backlog to run one
// at a time.
func (e *env) startAll(taskQueue string, tasks []dispatchTask) {
	e.t.Helper()
	for _, task := range tasks {
		opts := startOptions(unique(task.name), taskQueue)
		opts.StartToCloseTimeout = dispatchTimeout
		opts.Priority = task.priority
		e.start(opts, "record", task.name)
	}
}

// runOneAtATime runs count tasks of the queue with a single-slot worker and
// returns their arguments in the order the activity ran them.
func (e *env) runOneAtATime(taskQueue string, count int) []string {
	e.t.Helper()
	var mu sync.Mutex
	var order []string
	allDone := make(chan struct{})
	opts := workerOptions(unique("worker"))
	opts.MaxConcurrentActivityExecutionSize = 1
	w := worker.New(e.client, taskQueue, opts)
	w.RegisterActivityWithOptions(func(_ context.Context, name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, name)
		if len(order) == count {
			close(allDone)
		}
		return name, nil
	}, activity.RegisterOptions{Name: "record"})
	if err := w.Start(); err != nil {
		e.t.Fatalf("worker start: %v", err)
	}
	defer w.Stop()
	select {
	case <-allDone:
	case <-time.After(dispatchTimeout):
		mu.Lock()
		defer mu.Unlock()
		e.t.Fatalf("only %d of %d tasks ran within %v: %v", len(order), count, dispatchTimeout, order)
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), order...)
}

func TestDispatchPriorityOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("priority")
	p := func(key int) temporal.Priority { return temporal.Priority{PriorityKey: key} }
	tasks := []dispatchTask{{"p5-a", p(5)}, {"unset-a", temporal.Priority{}}, {"p1-a", p(1)},
		{"p3-a", p(3)}, {"p2-a", p(2)}, {"p5-b", p(5)}, {"p1-b", p(1)}, {"unset-b", temporal.Priority{}}}
	e.startAll(tq, tasks)
	order := e.runOneAtATime(tq, len(tasks))
	// Unset is the middle level (3 of 5): with p3-a, in the order started.
	want := []string{"p1-a", "p1-b", "p2-a", "unset-a", "p3-a", "unset-b", "p5-a", "p5-b"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("dispatch order %v, want %v", order, want)
	}
}

func TestDispatchFairnessWeights(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("fair")
	names := func(prefix string) []string {
		out := make([]string, 40)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	// Tenant a's whole burst is queued before any of tenant b's.
	var tasks []dispatchTask
	for _, name := range names("a") {
		tasks = append(tasks, dispatchTask{name, temporal.Priority{FairnessKey: "a", FairnessWeight: 3}})
	}
	for _, name := range names("b") {
		tasks = append(tasks, dispatchTask{name, temporal.Priority{FairnessKey: "b", FairnessWeight: 1}})
	}
	e.startAll(tq, tasks)
	order := e.runOneAtATime(tq, len(tasks))

	fromA := 0
	for _, name := range order[:40] {
		if strings.HasPrefix(name, "a") {
			fromA++
		}
	}
	// 3:1 of 40 is 30:10.
	if fromA < 28 || fromA > 32 {
		t.Errorf("%d of the first 40 dispatches from tenant a, want 28..32: %v", fromA, order[:40])
	}
	// Within a tenant, the order tasks became ready.
	for _, prefix := range []string{"a", "b"} {
		var got []string
		for _, name := range order {
			if strings.HasPrefix(name, prefix) {
				got = append(got, name)
			}
		}
		if want := names(prefix); !reflect.DeepEqual(got, want) {
			t.Errorf("tenant %s ran in order %v, want %v", prefix, got, want)
		}
	}
}

func TestDispatchReadyOrderSurvivesRestart(t *testing.T) {
	requireOwnServer(t)
	t.Parallel()
	e := newEnv(t)
	tq := unique("fifo")
	// Names (and so IDs) sort the other way round from the order they are
	// started in, so a rebuild in storage order would come out reversed.
	var tasks []dispatchTask
	var names []string
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("%c-%d", 'z'-i, i)
		names = append(names, name)
		tasks = append(tasks, dispatchTask{name: name})
	}
	e.startAll(tq, tasks)
	e.server.kill(t)
	e.server.start(t)
	order := e.runOneAtATime(tq, len(tasks))
	if !reflect.DeepEqual(order, names) {
		t.Fatalf("after a restart the backlog ran in order %v, want %v", order, names)
	}
}
