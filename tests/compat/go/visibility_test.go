// Visibility scenarios (ListActivityExecutions / CountActivityExecutions)
// with the Go SDK: client.ListActivities and client.CountActivities, raw
// pages through WorkflowService().ListActivityExecutions (the SDK's iterator
// has no page size), and malformed queries.
//
// The real dev server's visibility store lags writes slightly, so queries
// are polled with a deadline until the expected answer appears; on a
// read-your-writes server the first poll answers.
package compat

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"context"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

const settle = 10 * time.Second // how long visibility may take to catch up

type status = enumspb.ActivityExecutionStatus

const (
	running    = enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING
	completed  = enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED
	failed     = enumspb.ACTIVITY_EXECUTION_STATUS_FAILED
	canceled   = enumspb.ACTIVITY_EXECUTION_STATUS_CANCELED
	terminated = enumspb.ACTIVITY_EXECUTION_STATUS_TERMINATED
)

func listAll(e *env, query string) ([]*client.ActivityExecutionInfo, error) {
	res, err := e.client.ListActivities(e.ctx(), client.ListActivitiesOptions{Query: query})
	if err != nil {
		return nil, err
	}
	var out []*client.ActivityExecutionInfo
	for info, err := range res.Results {
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func listIDs(e *env, query string) ([]string, error) {
	infos, err := listAll(e, query)
	ids := make([]string, 0, len(infos))
	for _, info := range infos {
		ids = append(ids, info.ActivityID)
	}
	return ids, err
}

func statusesOf(infos []*client.ActivityExecutionInfo) map[string]status {
	m := map[string]status{}
	for _, info := range infos {
		m[info.ActivityID] = info.Status
	}
	return m
}

// listUntil lists until exactly the expected IDs show up, each with its status.
func listUntil(e *env, query string, want map[string]status) []*client.ActivityExecutionInfo {
	e.t.Helper()
	return eventually(e.t, "list "+query, settle, func() ([]*client.ActivityExecutionInfo, error) {
		return listAll(e, query)
	}, func(got []*client.ActivityExecutionInfo) bool {
		return len(got) == len(want) && maps.Equal(statusesOf(got), want)
	})
}

func idsUntil(e *env, query string, want []string) {
	e.t.Helper()
	slices.Sort(want)
	eventually(e.t, "list "+query, settle, func() ([]string, error) {
		ids, err := listIDs(e, query)
		slices.Sort(ids)
		return ids, err
	}, func(got []string) bool { return slices.Equal(got, want) })
}

// visibilityWorker runs "alpha" and "beta": mode "fail" fails non-retryably.
func (e *env) visibilityWorker(tq string) (stop func()) {
	return e.startWorker(tq, unique("worker"), func(w worker.Worker) {
		for _, name := range []string{"alpha", "beta"} {
			w.RegisterActivityWithOptions(func(_ context.Context, mode string) (string, error) {
				if mode == "fail" {
					return "", temporal.NewNonRetryableApplicationError(name+" failed", "Planned", nil)
				}
				return name + " done", nil
			}, activity.RegisterOptions{Name: name})
		}
	})
}

// runToClose starts each (id, type, mode) and waits for its end.
func (e *env) runToClose(tq string, plan [][3]string) map[string]client.ActivityHandle {
	e.t.Helper()
	handles := map[string]client.ActivityHandle{}
	for _, p := range plan {
		h := e.start(startOptions(p[0], tq), p[1], p[2])
		_ = h.Get(e.ctx(), nil)
		handles[p[0]] = h
	}
	return handles
}

// 1. List ------------------------------------------------------------------------

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq-vis")
	p := unique("vis")
	before := time.Now().Add(-time.Second)
	stop := e.visibilityWorker(tq)
	closed := e.runToClose(tq, [][3]string{
		{p + "-alpha-c1", "alpha", "ok"}, {p + "-alpha-f1", "alpha", "fail"}, {p + "-beta-c1", "beta", "ok"}})
	stop() // the worker is gone: these stay scheduled
	time.Sleep(50 * time.Millisecond)
	middle := time.Now()
	time.Sleep(50 * time.Millisecond)
	open := map[string]client.ActivityHandle{}
	for _, id := range []string{p + "-gamma-r1", p + "-gamma-r2"} {
		open[id] = e.start(startOptions(id, tq), "gamma", "x")
	}
	after := time.Now().Add(time.Second)

	listed := listUntil(e, fmt.Sprintf("TaskQueue = '%s'", tq), map[string]status{
		p + "-alpha-c1": completed, p + "-alpha-f1": failed, p + "-beta-c1": completed,
		p + "-gamma-r1": running, p + "-gamma-r2": running})
	for _, info := range listed {
		h, isClosed := closed[info.ActivityID]
		if !isClosed {
			h = open[info.ActivityID]
		}
		raw := info.RawExecutionListInfo
		if info.ActivityRunID != h.GetRunID() || info.TaskQueue != tq {
			t.Errorf("%s: run %q task queue %q", info.ActivityID, info.ActivityRunID, info.TaskQueue)
		}
		if info.ScheduleTime.Before(before) || info.ScheduleTime.After(after) {
			t.Errorf("%s: schedule time %v", info.ActivityID, info.ScheduleTime)
		}
		d := e.describe(h, client.DescribeActivityOptions{})
		if diff := info.ScheduleTime.Sub(d.ScheduleTime).Abs(); diff > time.Second {
			t.Errorf("%s: list schedule time %v, describe %v", info.ActivityID, info.ScheduleTime, d.ScheduleTime)
		}
		if isClosed {
			// The dev server's visibility store keeps microseconds.
			if raw.GetCloseTime() == nil || info.CloseTime.Sub(d.CloseTime).Abs() >= time.Microsecond ||
				info.CloseTime.Before(info.ScheduleTime) {
				t.Errorf("%s: close time %v (describe %v)", info.ActivityID, info.CloseTime, d.CloseTime)
			}
			if raw.GetExecutionDuration() == nil ||
				(info.ExecutionDuration-info.CloseTime.Sub(info.ScheduleTime)).Abs() > time.Millisecond {
				t.Errorf("%s: execution duration %v", info.ActivityID, info.ExecutionDuration)
			}
		} else {
			if info.ActivityType != "gamma" || raw.GetCloseTime() != nil || raw.GetExecutionDuration() != nil {
				t.Errorf("%s: open run listed as %+v", info.ActivityID, raw)
			}
		}
	}

	tqq := fmt.Sprintf("TaskQueue = '%s'", tq)
	for query, want := range map[string][]string{
		tqq + " AND ActivityType = 'alpha'":                                                {p + "-alpha-c1", p + "-alpha-f1"},
		tqq + " AND ActivityType = 'alpha' AND ExecutionStatus = 'Completed'":              {p + "-alpha-c1"},
		tqq + " AND ExecutionStatus = 'Failed'":                                            {p + "-alpha-f1"},
		tqq + " AND ExecutionStatus = 'Running'":                                           {p + "-gamma-r1", p + "-gamma-r2"},
		tqq + " AND ExecutionStatus IN ('Failed', 'Completed')":                            {p + "-alpha-c1", p + "-alpha-f1", p + "-beta-c1"},
		tqq + " AND ActivityType != 'gamma' AND ExecutionStatus = 'Canceled'":              {},
		fmt.Sprintf("ActivityId STARTS_WITH '%s-alpha'", p):                                {p + "-alpha-c1", p + "-alpha-f1"},
		fmt.Sprintf("ActivityId = '%s-beta-c1'", p):                                        {p + "-beta-c1"},
		fmt.Sprintf("%s AND StartTime > '%s'", tqq, middle.UTC().Format(time.RFC3339Nano)): {p + "-gamma-r1", p + "-gamma-r2"},
		tqq + " AND CloseTime IS NULL":                                                     {p + "-gamma-r1", p + "-gamma-r2"},
		tqq + " AND (ActivityType = 'beta' OR ExecutionStatus = 'Failed')":                 {p + "-beta-c1", p + "-alpha-f1"},
	} {
		idsUntil(e, query, want)
	}
}

// 2. Count ---------------------------------------------------------------------

func groupCounts(r *client.CountActivitiesResult) map[string]int64 {
	m := map[string]int64{}
	for _, g := range r.Groups {
		key := fmt.Sprint(g.GroupValues...)
		if len(g.GroupValues) != 1 {
			key = fmt.Sprintf("%v", g.GroupValues)
		}
		m[key] = g.Count
	}
	return m
}

func TestCountGroupBy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq-vis")
	stop := e.visibilityWorker(tq)
	e.runToClose(tq, [][3]string{
		{unique("cnt"), "alpha", "ok"}, {unique("cnt"), "beta", "ok"}, {unique("cnt"), "alpha", "fail"}})
	stop()
	for _, typ := range []string{"alpha", "alpha", "beta"} {
		e.start(startOptions(unique("cnt"), tq), typ, "x")
	}
	tqq := fmt.Sprintf("TaskQueue = '%s'", tq)
	count := func(query string) func() (*client.CountActivitiesResult, error) {
		return func() (*client.CountActivitiesResult, error) {
			return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
		}
	}

	grouped := eventually(t, "count GROUP BY ExecutionStatus", settle, count(tqq+" GROUP BY ExecutionStatus"),
		func(r *client.CountActivitiesResult) bool {
			return maps.Equal(groupCounts(r), map[string]int64{"Completed": 2, "Failed": 1, "Running": 3})
		})
	if grouped.Count != 6 {
		t.Errorf("grouped total %d", grouped.Count)
	}
	for _, g := range grouped.Groups {
		if len(g.GroupValues) != 1 {
			t.Errorf("group values %v", g.GroupValues)
		} else if _, ok := g.GroupValues[0].(string); !ok {
			t.Errorf("group value %T, want a string", g.GroupValues[0])
		}
	}
	for query, want := range map[string]int64{
		tqq:                                      6,
		tqq + " AND ExecutionStatus = 'Running'": 3,
		tqq + " AND ActivityType = 'alpha'":      4,
		tqq + " AND ActivityType = 'nope'":       0,
	} {
		r := eventually(t, "count "+query, settle, count(query),
			func(r *client.CountActivitiesResult) bool { return r.Count == want })
		if len(r.Groups) != 0 {
			t.Errorf("%s: groups %v without GROUP BY", query, r.Groups)
		}
	}
	alpha := eventually(t, "count alpha GROUP BY", settle,
		count(tqq+" AND ActivityType = 'alpha' GROUP BY ExecutionStatus"),
		func(r *client.CountActivitiesResult) bool {
			return maps.Equal(groupCounts(r), map[string]int64{"Completed": 1, "Failed": 1, "Running": 2})
		})
	if alpha.Count != 4 {
		t.Errorf("alpha grouped total %d", alpha.Count)
	}
}

// 3. Pagination and default order ----------------------------------------------------

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq-vis")
	p := unique("page")
	ids := make([]string, 7)
	handles := make([]client.ActivityHandle, 7)
	for i := range ids { // start order 0..6, nobody polls
		ids[i] = fmt.Sprintf("%s-%d", p, i)
		handles[i] = e.start(startOptions(ids[i], tq), "paged")
		time.Sleep(10 * time.Millisecond)
	}
	// Close three of them in an order unlike their start order.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(handles[1].Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "first to close"}))
	time.Sleep(10 * time.Millisecond)
	must(handles[4].Cancel(e.ctx(), client.CancelActivityOptions{Reason: "second to close"}))
	time.Sleep(10 * time.Millisecond)
	must(handles[0].Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "last to close"}))

	// Running first (newest start first), then closed by close time, newest first.
	wantOrder := []string{ids[6], ids[5], ids[3], ids[2], ids[0], ids[4], ids[1]}
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	listed := listUntil(e, query, map[string]status{
		ids[0]: terminated, ids[1]: terminated, ids[2]: running, ids[3]: running,
		ids[4]: canceled, ids[5]: running, ids[6]: running})
	var order []string
	for _, info := range listed {
		order = append(order, info.ActivityID)
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("SDK list order %v, want %v", order, wantOrder)
	}

	// Raw pages of 3: 3, 3, 1; a token after each full page, none after the last.
	var pages [][]string
	var token []byte
	for range 10 {
		resp, err := e.client.WorkflowService().ListActivityExecutions(e.ctx(),
			&workflowservice.ListActivityExecutionsRequest{
				Namespace: "default", Query: query, PageSize: 3, NextPageToken: token})
		if err != nil {
			t.Fatalf("page %d: %v", len(pages), err)
		}
		var page []string
		for _, ex := range resp.GetExecutions() {
			page = append(page, ex.GetActivityId())
		}
		pages = append(pages, page)
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
		t.Fatalf("pages %v, want sizes 3, 3, 1", pages)
	}
	if flat := slices.Concat(pages...); !slices.Equal(flat, wantOrder) {
		t.Errorf("paged order %v, want %v", flat, wantOrder)
	}
}

// 4. Malformed queries ---------------------------------------------------------------

func TestBadQueryError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expectInvalid := func(what, query string, err error) {
		t.Helper()
		ia, ok := asError[*serviceerror.InvalidArgument](err)
		if !ok {
			t.Errorf("%s %q: want *serviceerror.InvalidArgument, got %T: %v", what, query, err, err)
			return
		}
		// Messages differ between servers (the real one says e.g. "invalid
		// query: malformed SQL query: ..."); only the code and a message are asserted.
		if ia.Message == "" {
			t.Errorf("%s %q: empty message", what, query)
		}
	}
	for _, query := range []string{
		"ActivityType = ",        // malformed
		"NoSuchAttr = 'x'",       // unknown attribute
		"ActivityType = 'x' AND", // malformed
	} {
		_, err := listAll(e, query)
		expectInvalid("list", query, err)
		_, err = e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
		expectInvalid("count", query, err)
	}
	// GROUP BY takes ExecutionStatus only, and one field only.
	for _, query := range []string{
		"ActivityType = 'x' GROUP BY ActivityType",
		"GROUP BY TaskQueue",
		"ExecutionStatus = 'Running' GROUP BY ExecutionStatus, ActivityType",
	} {
		_, err := e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
		expectInvalid("count", query, err)
		_, err = listAll(e, query)
		expectInvalid("list", query, err)
	}
}

// List accepts "GROUP BY ExecutionStatus" and lists what the same query
// without it lists (Server 1.32.0; the Python suite records that 1.31.2
// rejected it). Any other GROUP BY is rejected, see TestBadQueryError.
func TestListWithGroupByExecutionStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq-vis")
	a := e.start(startOptions(unique("grp"), tq), "grouped")
	b := e.start(startOptions(unique("grp"), tq), "grouped")
	if err := b.Terminate(e.ctx(), client.TerminateActivityOptions{Reason: "closed"}); err != nil {
		t.Fatal(err)
	}
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	want := map[string]status{a.GetID(): running, b.GetID(): terminated}
	listUntil(e, query, want)
	got, err := listAll(e, query+" GROUP BY ExecutionStatus")
	if err != nil {
		t.Fatalf("list with GROUP BY ExecutionStatus: %T %v", err, err)
	}
	if !maps.Equal(statusesOf(got), want) || len(got) != 2 {
		t.Errorf("list with GROUP BY ExecutionStatus: %v, want %v", statusesOf(got), want)
	}
}
