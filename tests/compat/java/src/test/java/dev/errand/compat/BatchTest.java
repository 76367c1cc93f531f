package dev.errand.compat;

import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.batch.v1.BatchOperationCancelActivities;
import io.temporal.api.batch.v1.BatchOperationDeleteActivities;
import io.temporal.api.batch.v1.BatchOperationInfo;
import io.temporal.api.batch.v1.BatchOperationTerminateActivities;
import io.temporal.api.common.v1.Execution;
import io.temporal.api.enums.v1.ActivityExecutionStatus;
import io.temporal.api.enums.v1.BatchOperationState;
import io.temporal.api.enums.v1.BatchOperationType;
import io.temporal.api.enums.v1.ExecutionType;
import io.temporal.api.workflowservice.v1.DescribeBatchOperationRequest;
import io.temporal.api.workflowservice.v1.DescribeBatchOperationResponse;
import io.temporal.api.workflowservice.v1.ListBatchOperationsRequest;
import io.temporal.api.workflowservice.v1.ListBatchOperationsResponse;
import io.temporal.api.workflowservice.v1.StartBatchOperationRequest;
import io.temporal.api.workflowservice.v1.StopBatchOperationRequest;
import io.temporal.client.ActivityHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Batch operations over standalone activities through the raw WorkflowService (the Java SDK has no
 * batch API): StartBatchOperation by visibility query or explicit list, DescribeBatchOperation,
 * ListBatchOperations and StopBatchOperation. Temporal runs one batch per namespace at a time and
 * refuses another with "Max concurrent batch operations is reached"; startBatch waits for the slot.
 */
class BatchTest extends CompatTest {
  static final Duration BATCH_TIMEOUT = Duration.ofSeconds(30);

  String startBatch(StartBatchOperationRequest.Builder request) {
    if (request.getJobId().isEmpty()) {
      request.setJobId(UUID.randomUUID().toString());
    }
    request.setNamespace("default");
    long deadline = System.nanoTime() + BATCH_TIMEOUT.toNanos();
    while (true) {
      try {
        raw().startBatchOperation(request.build());
        return request.getJobId();
      } catch (StatusRuntimeException e) {
        String message = String.valueOf(e.getStatus().getDescription());
        if (!message.contains("Max concurrent batch operations is reached")
            || System.nanoTime() > deadline) {
          throw e;
        }
        ErrandServer.sleep(200);
      }
    }
  }

  DescribeBatchOperationResponse describeBatch(String jobId) {
    return raw()
        .describeBatchOperation(
            DescribeBatchOperationRequest.newBuilder()
                .setNamespace("default")
                .setJobId(jobId)
                .build());
  }

  DescribeBatchOperationResponse batchDone(String jobId) {
    return eventually(
        "batch " + jobId + " done",
        BATCH_TIMEOUT,
        () -> describeBatch(jobId),
        d -> d.getState() != BatchOperationState.BATCH_OPERATION_STATE_RUNNING);
  }

  static void expectBatchCompleted(
      DescribeBatchOperationResponse d, BatchOperationType type, long n) {
    assertEquals(BatchOperationState.BATCH_OPERATION_STATE_COMPLETED, d.getState(), "batch " + d);
    assertEquals(type, d.getOperationType(), "batch " + d);
    assertEquals(n, d.getTotalOperationCount(), "total of " + d);
    assertEquals(n, d.getCompleteOperationCount(), "completed of " + d);
    assertEquals(0, d.getFailureOperationCount(), "failures of " + d);
    assertTrue(d.hasStartTime() && d.hasCloseTime(), "batch times " + d);
  }

  /** Starts n activities on the task queue (no worker) and waits until visibility shows them. */
  List<ActivityHandle<String>> startScheduled(String tq, int n) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<ActivityHandle<String>>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = tq + "-" + i;
        futures.add(pool.submit(() -> start(options(id, tq).build(), "counted", "x")));
      }
      List<ActivityHandle<String>> handles = new ArrayList<>();
      for (Future<ActivityHandle<String>> f : futures) {
        handles.add(f.get());
      }
      String query = "TaskQueue = '" + tq + "'";
      eventually(
          "all visible", SETTLE, () -> client.countExecutions(query), r -> r.getCount() == n);
      return handles;
    } finally {
      pool.shutdownNow();
    }
  }

  static void expectAllStatus(List<ActivityHandle<String>> handles, ActivityExecutionStatus want) {
    for (ActivityHandle<String> h : handles) {
      assertEquals(want, h.describe().getStatus(), h.getActivityId());
    }
  }

  // 1. By query: terminate, cancel and delete --------------------------------------------------

  @Test
  void terminateByQuery() throws Exception {
    String tq = unique("tq");
    List<ActivityHandle<String>> handles = startScheduled(tq, 20);
    ActivityHandle<String> spared =
        start(options(unique("spared"), unique("tq")).build(), "counted", "x");
    String query = "TaskQueue = '" + tq + "'";
    String jobId =
        startBatch(
            StartBatchOperationRequest.newBuilder()
                .setVisibilityQuery(query)
                .setReason("java batch")
                .setTerminateActivitiesOperation(
                    BatchOperationTerminateActivities.newBuilder()
                        .setIdentity("java-operator")
                        .setReason("terminated by batch")));
    DescribeBatchOperationResponse d = batchDone(jobId);
    expectBatchCompleted(d, BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, 20);
    assertEquals(jobId, d.getJobId());
    assertEquals("java batch", d.getReason());
    assertEquals(query, d.getQuery());
    assertFalse(d.getIdentity().isEmpty(), "identity");
    expectAllStatus(handles, ACTIVITY_EXECUTION_STATUS_TERMINATED);
    expectAllStatus(List.of(spared), ACTIVITY_EXECUTION_STATUS_RUNNING);
    eventually(
        "count terminated",
        SETTLE,
        () -> client.countExecutions(query + " AND ExecutionStatus = 'Terminated'"),
        r -> r.getCount() == 20);
  }

  @Test
  void cancelByQuery() throws Exception {
    String tq = unique("tq");
    List<ActivityHandle<String>> handles = startScheduled(tq, 5);
    String jobId =
        startBatch(
            StartBatchOperationRequest.newBuilder()
                .setVisibilityQuery("TaskQueue = '" + tq + "'")
                .setReason("java batch")
                .setCancelActivitiesOperation(
                    BatchOperationCancelActivities.newBuilder()
                        .setIdentity("java-operator")
                        .setReason("canceled by batch")));
    expectBatchCompleted(
        batchDone(jobId), BatchOperationType.BATCH_OPERATION_TYPE_CANCEL_ACTIVITY, 5);
    expectAllStatus(handles, ACTIVITY_EXECUTION_STATUS_CANCELED);
    assertEquals("canceled by batch", handles.get(0).describe().getCanceledReason());
  }

  @Test
  void deleteByQuery() throws Exception {
    String tq = unique("tq");
    List<ActivityHandle<String>> handles = startScheduled(tq, 5);
    String query = "TaskQueue = '" + tq + "'";
    String jobId =
        startBatch(
            StartBatchOperationRequest.newBuilder()
                .setVisibilityQuery(query)
                .setReason("java batch")
                .setDeleteActivitiesOperation(BatchOperationDeleteActivities.getDefaultInstance()));
    expectBatchCompleted(
        batchDone(jobId), BatchOperationType.BATCH_OPERATION_TYPE_DELETE_ACTIVITY, 5);
    for (ActivityHandle<String> h : handles) {
      expectNotFound(h::describe, h.getActivityId(), "describe a deleted activity");
    }
    eventually(
        "count deleted", SETTLE, () -> client.countExecutions(query), r -> r.getCount() == 0);
  }

  // 2. By an explicit list of activities ---------------------------------------------------------

  @Test
  void terminateExplicitList() throws Exception {
    String tq = unique("tq");
    List<ActivityHandle<String>> handles = startScheduled(tq, 4);
    StartBatchOperationRequest.Builder request =
        StartBatchOperationRequest.newBuilder()
            .setReason("java batch")
            .setTerminateActivitiesOperation(
                BatchOperationTerminateActivities.newBuilder().setIdentity("java-operator"));
    for (ActivityHandle<String> h : handles.subList(0, 3)) {
      request.addTargetExecutions(
          Execution.newBuilder()
              .setType(ExecutionType.EXECUTION_TYPE_ACTIVITY)
              .setBusinessId(h.getActivityId()));
    }
    String jobId = startBatch(request);
    expectBatchCompleted(
        batchDone(jobId), BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, 3);
    expectAllStatus(handles.subList(0, 3), ACTIVITY_EXECUTION_STATUS_TERMINATED);
    expectAllStatus(handles.subList(3, 4), ACTIVITY_EXECUTION_STATUS_RUNNING);
  }

  // 3. Describe, list and stop a running batch ----------------------------------------------------

  BatchOperationInfo findListed(String jobId, BatchOperationState state) {
    BatchOperationInfo found =
        eventually(
            "batch listed as " + state,
            SETTLE,
            () -> {
              ByteString token = ByteString.EMPTY;
              while (true) {
                ListBatchOperationsResponse r =
                    raw()
                        .listBatchOperations(
                            ListBatchOperationsRequest.newBuilder()
                                .setNamespace("default")
                                .setPageSize(100)
                                .setNextPageToken(token)
                                .build());
                for (BatchOperationInfo info : r.getOperationInfoList()) {
                  if (info.getJobId().equals(jobId)) {
                    return info;
                  }
                }
                token = r.getNextPageToken();
                if (token.isEmpty()) {
                  return null;
                }
              }
            },
            info -> info != null && info.getState() == state);
    assertTrue(found.hasStartTime(), "listed without a start time: " + found);
    return found;
  }

  @Test
  void describeListStop() throws Exception {
    String tq = unique("tq");
    int n = 500;
    startScheduled(tq, n);
    String query = "TaskQueue = '" + tq + "'";
    // One operation a second holds the batch running long enough to stop it.
    String jobId =
        startBatch(
            StartBatchOperationRequest.newBuilder()
                .setVisibilityQuery(query)
                .setReason("slow")
                .setMaxOperationsPerSecond(1)
                .setTerminateActivitiesOperation(
                    BatchOperationTerminateActivities.newBuilder().setIdentity("java-operator")));
    DescribeBatchOperationResponse d = describeBatch(jobId);
    assertEquals(
        BatchOperationState.BATCH_OPERATION_STATE_RUNNING, d.getState(), "running batch " + d);
    assertEquals(jobId, d.getJobId());
    assertEquals(BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, d.getOperationType());
    assertFalse(d.hasCloseTime(), "close time of a running batch");
    assertEquals("slow", d.getReason());
    assertEquals(query, d.getQuery());

    assertFalse(
        findListed(jobId, BatchOperationState.BATCH_OPERATION_STATE_RUNNING).hasCloseTime(),
        "running batch listed with a close time");

    StopBatchOperationRequest stop =
        StopBatchOperationRequest.newBuilder()
            .setNamespace("default")
            .setJobId(jobId)
            .setReason("stop it")
            .setIdentity("java-operator")
            .build();
    raw().stopBatchOperation(stop);
    d = batchDone(jobId);
    assertEquals(
        BatchOperationState.BATCH_OPERATION_STATE_FAILED, d.getState(), "stopped batch " + d);
    assertTrue(d.hasCloseTime(), "close time of the stopped batch");
    assertTrue(
        findListed(jobId, BatchOperationState.BATCH_OPERATION_STATE_FAILED).hasCloseTime(),
        "stopped batch listed without a close time");
    assertTrue(
        client.countExecutions(query + " AND ExecutionStatus = 'Running'").getCount() > 0,
        "some runs left running after the stop");

    expectStatusCode(
        () -> raw().stopBatchOperation(stop.toBuilder().setReason("again").build()),
        Status.Code.NOT_FOUND,
        null,
        "second stop");
    expectStatusCode(
        () -> describeBatch(unique("no-such-job")),
        Status.Code.NOT_FOUND,
        null,
        "describe a missing batch");
  }

  // 4. A batch interrupted by a crash ------------------------------------------------------------

  /**
   * Kills the server while a rate-limited terminate batch is part way through. After the restart
   * the batch resumes from its stored progress and finishes with every run terminated once: a run
   * terminated a second time would be refused as already closed and counted as a failure.
   */
  @Test
  void restartFinishesOnce() throws Exception {
    requireOwnServer();
    String tq = unique("tq");
    int n = 200;
    List<ActivityHandle<String>> handles = startScheduled(tq, n);
    String query = "TaskQueue = '" + tq + "'";
    String jobId =
        startBatch(
            StartBatchOperationRequest.newBuilder()
                .setVisibilityQuery(query)
                .setReason("interrupted")
                .setMaxOperationsPerSecond(20)
                .setTerminateActivitiesOperation(
                    BatchOperationTerminateActivities.newBuilder().setIdentity("java-operator")));
    String terminated = query + " AND ExecutionStatus = 'Terminated'";
    long progress =
        eventually(
                "batch progress",
                BATCH_TIMEOUT,
                () -> client.countExecutions(terminated),
                r -> r.getCount() >= 10)
            .getCount();
    if (progress >= n) {
      fail("the batch finished before the crash (20 operations a second over " + n + " runs)");
    }
    server.kill();
    server.start();
    awaitServing();

    expectBatchCompleted(
        batchDone(jobId), BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY, n);
    expectAllStatus(handles, ACTIVITY_EXECUTION_STATUS_TERMINATED);
    assertEquals(n, client.countExecutions(terminated).getCount(), "terminated after the restart");
  }
}
