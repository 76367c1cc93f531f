package dev.errand.compat;

import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_UNSPECIFIED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.api.activity.v1.ActivityExecutionInfo;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.api.failure.v1.Failure;
import io.temporal.client.ActivityExecutionDescription;
import io.temporal.client.ActivityHandle;
import io.temporal.client.WorkflowClient;
import io.temporal.common.RetryOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Retry after a worker crash: worker A starts attempt 1, records a heartbeat and then dies without
 * a word to the server (its connection is torn down while the activity hangs, so no completion,
 * failure or further heartbeat is sent: to the server, a crashed worker). The heartbeat timeout
 * ends attempt 1, and attempt 2 runs on worker B with attempt 1's heartbeat details. Only the
 * worker dies, so this runs in oracle mode too.
 */
class CrashTest extends CompatTest {
  static final String CHECKPOINT = "checkpoint-7";

  @Test
  void workerCrashRetry() throws Exception {
    String tq = unique("tq");
    String identityA = unique("worker-a");
    String identityB = unique("worker-b");

    // Worker A on a connection of its own.
    WorkflowServiceStubs stubsA = connect();
    WorkflowClient clientA = workflowClient(stubsA, "default", identityA);
    CountDownLatch heartbeated = new CountDownLatch(1);
    CountDownLatch hang = new CountDownLatch(1);
    startWorker(
        clientA,
        tq,
        identityA,
        b -> {},
        dynamic(
            (ctx, args) -> {
              ctx.heartbeat(CHECKPOINT);
              heartbeated.countDown();
              hang.await(); // until the test ends; by then nothing reaches the server
              return "never";
            }));

    ActivityHandle<String> h =
        start(
            options(unique("crash"), tq)
                .setHeartbeatTimeout(Duration.ofSeconds(1))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofMillis(200))
                        .setMaximumAttempts(3)
                        .build())
                .build(),
            "resumable");
    await(heartbeated, "attempt 1 to heartbeat");
    eventually(
        "worker A's heartbeat",
        ACTIVITY_TIMEOUT,
        () -> describeRaw(h.getActivityId(), null, false, true, false),
        r -> r.getInfo().hasHeartbeatDetails());
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_STARTED);
    assertEquals(1, d.getAttempt());
    assertEquals(identityA, d.getLastWorkerIdentity());

    // The crash: worker A's connection goes away; its activity never returns.
    stubsA.shutdownNow();
    stubsA.awaitTermination(5, TimeUnit.SECONDS);

    // Nobody polls now. The heartbeat timeout ends attempt 1; attempt 2 waits.
    ActivityExecutionInfo info =
        eventually(
                "attempt 2 to be scheduled",
                ACTIVITY_TIMEOUT,
                () -> describeRaw(h.getActivityId(), null, false, true, true),
                r -> r.getInfo().getAttempt() == 2)
            .getInfo();
    assertEquals(ACTIVITY_EXECUTION_STATUS_RUNNING, info.getStatus());
    assertEquals(PENDING_ACTIVITY_STATE_SCHEDULED, info.getRunState());
    Failure last = info.getLastFailure();
    assertTrue(last.hasTimeoutFailureInfo(), "last failure " + last);
    assertEquals(TimeoutType.TIMEOUT_TYPE_HEARTBEAT, last.getTimeoutFailureInfo().getTimeoutType());
    assertEquals("activity Heartbeat timeout", last.getMessage());
    assertTrue(info.hasLastAttemptCompleteTime(), "last attempt complete time");
    assertFalse(info.hasCloseTime(), "close time");
    assertEquals(
        CHECKPOINT,
        decodeString(info.getHeartbeatDetails().getPayloads(0)),
        "heartbeat details kept for the next attempt");
    assertEquals(identityA, info.getLastWorkerIdentity());

    record Seen(int attempt, String details) {}
    BlockingQueue<Seen> seen = new ArrayBlockingQueue<>(3);
    startWorker(
        tq,
        identityB,
        dynamic(
            (ctx, args) -> {
              String details = ctx.getHeartbeatDetails(String.class).orElse("");
              seen.add(new Seen(ctx.getInfo().getAttempt(), details));
              return "resumed from " + details;
            }));
    try {
      assertEquals("resumed from " + CHECKPOINT, result(h));
      assertEquals(new Seen(2, CHECKPOINT), seen.poll(1, TimeUnit.SECONDS), "worker B saw");
      d = h.describe();
      expectStatus(d, ACTIVITY_EXECUTION_STATUS_COMPLETED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
      assertEquals(2, d.getAttempt());
      assertEquals(identityB, d.getLastWorkerIdentity());
    } finally {
      hang.countDown();
    }
  }
}
