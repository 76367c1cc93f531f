// Batch operations over standalone activities with the Go SDK's raw
// WorkflowService (the SDK has no batch API): StartBatchOperation with a
// visibility query or an explicit list of activities, DescribeBatchOperation,
// ListBatchOperations and StopBatchOperation.
//
// Every scenario was run against a Temporal dev server (CLI 1.9.1, Server
// 1.32.0, activity.enableStandalone=true) in oracle mode
// (COMPAT_ORACLE_ADDRESS; see harness_test.go). That server runs one batch per
// namespace at a time and refuses another with ResourceExhausted "Max
// concurrent batch operations is reached"; startBatch waits for the slot.
package compat

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	batchpb "go.temporal.io/api/batch/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

const batchTimeout = 30 * time.Second

// startBatch starts the batch, waiting while another one holds the namespace's slot.
func (e *env) startBatch(req *workflowservice.StartBatchOperationRequest) string {
	e.t.Helper()
	if req.JobId == "" {
		req.JobId = uuid.NewString()
	}
	req.Namespace = "default"
	deadline := time.Now().Add(batchTimeout)
	for {
		_, err := e.client.WorkflowService().StartBatchOperation(e.ctx(), req)
		if err == nil {
			return req.JobId
		}
		if !strings.Contains(err.Error(), "Max concurrent batch operations is reached") || time.Now().After(deadline) {
			e.t.Fatalf("StartBatchOperation: %T %v", err, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *env) describeBatch(jobID string) (*workflowservice.DescribeBatchOperationResponse, error) {
	return e.client.WorkflowService().DescribeBatchOperation(e.ctx(),
		&workflowservice.DescribeBatchOperationRequest{Namespace: "default", JobId: jobID})
}

// batchDone waits until the batch is no longer running.
func (e *env) batchDone(jobID string) *workflowservice.DescribeBatchOperationResponse {
	e.t.Helper()
	return eventually(e.t, "batch "+jobID+" done", batchTimeout,
		func() (*workflowservice.DescribeBatchOperationResponse, error) { return e.describeBatch(jobID) },
		func(d *workflowservice.DescribeBatchOperationResponse) bool {
			return d.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING
		})
}

func expectBatchCompleted(t *testing.T, d *workflowservice.DescribeBatchOperationResponse,
	opType enumspb.BatchOperationType, n int64) {
	t.Helper()
	if d.GetState() != enumspb.BATCH_OPERATION_STATE_COMPLETED || d.GetOperationType() != opType ||
		d.GetTotalOperationCount() != n || d.GetCompleteOperationCount() != n || d.GetFailureOperationCount() != 0 ||
		d.GetStartTime() == nil || d.GetCloseTime() == nil {
		t.Fatalf("batch: %v", d)
	}
}

// startScheduled starts n activities on the task queue (no worker) and waits
// until visibility shows them all.
func (e *env) startScheduled(tq string, n int) []client.ActivityHandle {
	e.t.Helper()
	handles := make([]client.ActivityHandle, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	gate := make(chan struct{}, 32) // bounded, so that each start stays well within its deadline
	for i := range n {
		wg.Go(func() {
			gate <- struct{}{}
			defer func() { <-gate }()
			h, err := e.client.ExecuteActivity(e.ctx(), startOptions(fmt.Sprintf("%s-%d", tq, i), tq), "counted", "x")
			if err != nil {
				errs <- err
				return
			}
			handles[i] = h
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("start: %v", err)
	}
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	eventually(e.t, "all visible", settle, func() (*client.CountActivitiesResult, error) {
		return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
	}, func(r *client.CountActivitiesResult) bool { return r.Count == int64(n) })
	return handles
}

func (e *env) expectAllStatus(handles []client.ActivityHandle, want enumspb.ActivityExecutionStatus) {
	e.t.Helper()
	for _, h := range handles {
		if d := e.describe(h, client.DescribeActivityOptions{}); d.Status != want {
			e.t.Fatalf("%s: status %v, want %v", h.GetID(), d.Status, want)
		}
	}
}

// 1. By query: terminate, cancel and delete ------------------------------------------

func TestBatchTerminateByQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	handles := e.startScheduled(tq, 20)
	spared := e.start(startOptions(unique("spared"), unique("tq")), "counted", "x")
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		VisibilityQuery: query, Reason: "go batch",
		Operation: &workflowservice.StartBatchOperationRequest_TerminateActivitiesOperation{
			TerminateActivitiesOperation: &batchpb.BatchOperationTerminateActivities{
				Identity: "go-operator", Reason: "terminated by batch"}},
	})
	d := e.batchDone(jobID)
	expectBatchCompleted(t, d, enumspb.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, 20)
	if d.GetJobId() != jobID || d.GetReason() != "go batch" || d.GetQuery() != query || d.GetIdentity() == "" {
		t.Errorf("batch: %v", d)
	}
	e.expectAllStatus(handles, terminated)
	e.expectAllStatus([]client.ActivityHandle{spared}, running)
	eventually(t, "count terminated", settle, func() (*client.CountActivitiesResult, error) {
		return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query + " AND ExecutionStatus = 'Terminated'"})
	}, func(r *client.CountActivitiesResult) bool { return r.Count == 20 })
}

func TestBatchCancelByQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	handles := e.startScheduled(tq, 5)
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		VisibilityQuery: fmt.Sprintf("TaskQueue = '%s'", tq), Reason: "go batch",
		Operation: &workflowservice.StartBatchOperationRequest_CancelActivitiesOperation{
			CancelActivitiesOperation: &batchpb.BatchOperationCancelActivities{
				Identity: "go-operator", Reason: "canceled by batch"}},
	})
	expectBatchCompleted(t, e.batchDone(jobID), enumspb.BATCH_OPERATION_TYPE_CANCEL_ACTIVITY, 5)
	e.expectAllStatus(handles, canceled)
	if d := e.describe(handles[0], client.DescribeActivityOptions{}); d.CanceledReason != "canceled by batch" {
		t.Errorf("canceled reason %q", d.CanceledReason)
	}
}

func TestBatchDeleteByQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	handles := e.startScheduled(tq, 5)
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		VisibilityQuery: query, Reason: "go batch",
		Operation: &workflowservice.StartBatchOperationRequest_DeleteActivitiesOperation{
			DeleteActivitiesOperation: &batchpb.BatchOperationDeleteActivities{}},
	})
	expectBatchCompleted(t, e.batchDone(jobID), enumspb.BATCH_OPERATION_TYPE_DELETE_ACTIVITY, 5)
	for _, h := range handles {
		_, err := h.Describe(e.ctx(), client.DescribeActivityOptions{})
		expectNotFound(t, err, h.GetID(), "describe a deleted activity")
	}
	eventually(t, "count deleted", settle, func() (*client.CountActivitiesResult, error) {
		return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query})
	}, func(r *client.CountActivitiesResult) bool { return r.Count == 0 })
}

// 2. By an explicit list of activities ------------------------------------------------

func TestBatchTerminateExplicitList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	handles := e.startScheduled(tq, 4)
	var targets []*commonpb.Execution
	for _, h := range handles[:3] {
		targets = append(targets, &commonpb.Execution{Type: enumspb.EXECUTION_TYPE_ACTIVITY, BusinessId: h.GetID()})
	}
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		TargetExecutions: targets, Reason: "go batch",
		Operation: &workflowservice.StartBatchOperationRequest_TerminateActivitiesOperation{
			TerminateActivitiesOperation: &batchpb.BatchOperationTerminateActivities{Identity: "go-operator"}},
	})
	expectBatchCompleted(t, e.batchDone(jobID), enumspb.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, 3)
	e.expectAllStatus(handles[:3], terminated)
	e.expectAllStatus(handles[3:], running)
}

// 3. Describe, list and stop a running batch ------------------------------------------

func TestBatchDescribeListStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	const n = 500
	e.startScheduled(tq, n)
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	// One operation a second holds the batch running long enough to stop it.
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		VisibilityQuery: query, Reason: "slow", MaxOperationsPerSecond: 1,
		Operation: &workflowservice.StartBatchOperationRequest_TerminateActivitiesOperation{
			TerminateActivitiesOperation: &batchpb.BatchOperationTerminateActivities{Identity: "go-operator"}},
	})
	d, err := e.describeBatch(jobID)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if d.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING || d.GetJobId() != jobID ||
		d.GetOperationType() != enumspb.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY || d.GetCloseTime() != nil ||
		d.GetReason() != "slow" || d.GetQuery() != query {
		t.Fatalf("running batch: %v", d)
	}

	// The dev server lists batches from its visibility store, which lags.
	find := func(state enumspb.BatchOperationState) *batchpb.BatchOperationInfo {
		t.Helper()
		found := eventually(t, "batch listed as "+state.String(), settle, func() (*batchpb.BatchOperationInfo, error) {
			var token []byte
			for {
				r, err := e.client.WorkflowService().ListBatchOperations(e.ctx(),
					&workflowservice.ListBatchOperationsRequest{Namespace: "default", PageSize: 100, NextPageToken: token})
				if err != nil {
					return nil, err
				}
				for _, info := range r.GetOperationInfo() {
					if info.GetJobId() == jobID {
						return info, nil
					}
				}
				if token = r.GetNextPageToken(); len(token) == 0 {
					return nil, nil
				}
			}
		}, func(info *batchpb.BatchOperationInfo) bool { return info.GetState() == state })
		if found.GetStartTime() == nil || found.GetOperationType() != enumspb.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY {
			t.Fatalf("listed: %v", found)
		}
		return found
	}
	if info := find(enumspb.BATCH_OPERATION_STATE_RUNNING); info.GetCloseTime() != nil {
		t.Errorf("running batch listed with a close time: %v", info)
	}

	if _, err := e.client.WorkflowService().StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{
		Namespace: "default", JobId: jobID, Reason: "stop it", Identity: "go-operator"}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	d = e.batchDone(jobID)
	if d.GetState() != enumspb.BATCH_OPERATION_STATE_FAILED || d.GetCloseTime() == nil {
		t.Fatalf("stopped batch: %v", d)
	}
	if info := find(enumspb.BATCH_OPERATION_STATE_FAILED); info.GetCloseTime() == nil {
		t.Errorf("stopped batch listed without a close time: %v", info)
	}
	r, err := e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query + " AND ExecutionStatus = 'Running'"})
	if err != nil || r.Count == 0 {
		t.Errorf("running after the stop: %+v %v; want some left", r, err)
	}

	_, err = e.client.WorkflowService().StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{
		Namespace: "default", JobId: jobID, Reason: "again", Identity: "go-operator"})
	if _, ok := asError[*serviceerror.NotFound](err); !ok {
		t.Errorf("second stop: want NotFound, got %T %v", err, err)
	}
	_, err = e.describeBatch(unique("no-such-job"))
	if _, ok := asError[*serviceerror.NotFound](err); !ok {
		t.Errorf("describe a missing batch: want NotFound, got %T %v", err, err)
	}
}

// 4. A batch interrupted by a crash --------------------------------------------------

// TestBatchRestartFinishesOnce kills the server while a rate-limited terminate
// batch is part way through. After the restart the batch resumes from its
// stored progress and finishes with every run terminated once: a run
// terminated a second time would be refused as already closed and counted as
// a failed operation.
func TestBatchRestartFinishesOnce(t *testing.T) {
	requireOwnServer(t)
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	const n = 200
	handles := e.startScheduled(tq, n)
	query := fmt.Sprintf("TaskQueue = '%s'", tq)
	jobID := e.startBatch(&workflowservice.StartBatchOperationRequest{
		VisibilityQuery: query, Reason: "interrupted", MaxOperationsPerSecond: 20,
		Operation: &workflowservice.StartBatchOperationRequest_TerminateActivitiesOperation{
			TerminateActivitiesOperation: &batchpb.BatchOperationTerminateActivities{Identity: "go-operator"}},
	})
	terminatedSoFar := func() (*client.CountActivitiesResult, error) {
		return e.client.CountActivities(e.ctx(), client.CountActivitiesOptions{Query: query + " AND ExecutionStatus = 'Terminated'"})
	}
	progress := eventually(t, "batch progress", batchTimeout, terminatedSoFar,
		func(r *client.CountActivitiesResult) bool { return r.Count >= 10 })
	if progress.Count >= n {
		t.Fatalf("the batch finished before the crash (max_operations_per_second 20 over %d runs)", n)
	}
	e.server.kill(t)
	e.server.start(t)

	d := e.batchDone(jobID)
	expectBatchCompleted(t, d, enumspb.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, n)
	e.expectAllStatus(handles, terminated)
	if r, err := terminatedSoFar(); err != nil || r.Count != n {
		t.Errorf("terminated after the restart: %+v %v", r, err)
	}
}
