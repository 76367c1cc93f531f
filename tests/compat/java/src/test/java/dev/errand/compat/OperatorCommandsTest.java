package dev.errand.compat;

import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_PAUSED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_UNSPECIFIED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FieldMask;
import io.grpc.Status;
import io.temporal.api.activity.v1.ActivityOptions;
import io.temporal.api.common.v1.RetryPolicy;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.PauseActivityExecutionRequest;
import io.temporal.api.workflowservice.v1.ResetActivityExecutionRequest;
import io.temporal.api.workflowservice.v1.UnpauseActivityExecutionRequest;
import io.temporal.api.workflowservice.v1.UpdateActivityExecutionOptionsRequest;
import io.temporal.client.ActivityExecutionDescription;
import io.temporal.client.ActivityHandle;
import io.temporal.client.ActivityPausedException;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Operator commands with the Java SDK. Its ActivityClient has no pause, unpause, reset or
 * update-options: these go through the raw WorkflowService of the SDK's service stubs (whose API
 * version has no request ID on unpause and reset, nor reset_heartbeat).
 */
class OperatorCommandsTest extends CompatTest {

  /** A worker that runs any activity as a greeting and counts its runs. */
  Object counted(AtomicInteger runs) {
    return dynamic(
        (ctx, args) -> {
          runs.incrementAndGet();
          return "Hello, " + args.get(0, String.class) + "!";
        });
  }

  void pause(String id, String reason) {
    raw()
        .pauseActivityExecution(
            PauseActivityExecutionRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(id)
                .setIdentity("java-operator")
                .setRequestId(UUID.randomUUID().toString())
                .setReason(reason)
                .build());
  }

  void unpause(String id, Duration jitter) {
    UnpauseActivityExecutionRequest.Builder b =
        UnpauseActivityExecutionRequest.newBuilder()
            .setNamespace("default")
            .setActivityId(id)
            .setIdentity("java-operator");
    if (jitter != null) {
      b.setJitter(protoDuration(jitter));
    }
    raw().unpauseActivityExecution(b.build());
  }

  // 1. Pause and unpause a scheduled activity ----------------------------------------------------

  @Test
  void pauseUnpauseScheduledActivity() throws Exception {
    String tq = unique("tq");
    ActivityHandle<String> h = start(options(unique("pause"), tq).build(), "counted", "Paused");
    String id = h.getActivityId();

    pause(id, "downstream is down");
    expectRun(h.describe(), ACTIVITY_EXECUTION_STATUS_PAUSED, PENDING_ACTIVITY_STATE_PAUSED, 1);
    expectFailedPrecondition(
        () -> pause(id, "again"), "activity is in non-pausable state Paused", "second pause");

    // A worker polls the queue for a while: the paused activity stays put.
    AtomicInteger runs = new AtomicInteger();
    startWorker(tq, unique("worker"), counted(runs));
    Thread.sleep(1000);
    assertEquals(0, runs.get(), "runs of a paused activity");
    expectRun(h.describe(), ACTIVITY_EXECUTION_STATUS_PAUSED, PENDING_ACTIVITY_STATE_PAUSED, 1);

    unpause(id, null);
    assertEquals("Hello, Paused!", result(h));
    expectRun(
        h.describe(), ACTIVITY_EXECUTION_STATUS_COMPLETED, PENDING_ACTIVITY_STATE_UNSPECIFIED, 1);
    assertEquals(1, runs.get(), "runs");

    expectFailedPrecondition(
        () -> pause(id, "late"),
        "activity is in non-pausable state Completed",
        "pause a completed activity");
    expectFailedPrecondition(
        () -> unpause(id, null),
        "activity is in terminal state Completed",
        "unpause a completed activity");
    String other =
        start(options(unique("pause"), unique("tq")).build(), "counted", "x").getActivityId();
    expectFailedPrecondition(
        () -> unpause(other, null),
        "activity is in non-unpausable state Scheduled",
        "unpause a scheduled activity");
    String missing = unique("missing");
    expectNotFound(() -> pause(missing, "x"), missing, "pause a missing activity");
  }

  /**
   * Describe shows the jittered dispatch time only while it is in the future, so a small random
   * pick may be gone by the time of the describe: of five activities, one must show it.
   */
  @Test
  void unpauseWithJitter() throws Exception {
    String tq = unique("tq");
    Duration jitter = Duration.ofSeconds(2);
    Duration slack = Duration.ofMillis(500); // the server's clock against ours
    List<ActivityHandle<String>> handles = new ArrayList<>();
    int shown = 0;
    for (int i = 0; i < 5; i++) {
      ActivityHandle<String> h = start(options(unique("jitter"), tq).build(), "counted", "Jitter");
      handles.add(h);
      pause(h.getActivityId(), "");
      Instant before = Instant.now();
      unpause(h.getActivityId(), jitter);
      Instant after = Instant.now();
      ActivityExecutionDescription d = h.describe();
      expectRun(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED, 1);
      if (d.getRawInfo().hasNextAttemptScheduleTime()) {
        shown++;
        Instant next = instant(d.getRawInfo().getNextAttemptScheduleTime());
        assertTrue(
            !next.isBefore(before.minus(slack)) && !next.isAfter(after.plus(jitter).plus(slack)),
            "next attempt at "
                + next
                + ", want within ["
                + before
                + ", "
                + after.plus(jitter)
                + "]");
      }
    }
    assertTrue(shown > 0, "no unpaused activity showed its jittered dispatch time");
    startWorker(tq, unique("worker"), counted(new AtomicInteger()));
    for (ActivityHandle<String> h : handles) {
      assertEquals("Hello, Jitter!", result(h));
    }
  }

  /** A pause whose request ID is the last pause's is a no-op; a fresh one is refused. */
  @Test
  void pauseRequestIdDedup() throws Exception {
    String id = unique("dedup");
    ActivityHandle<String> h = start(options(id, unique("tq")).build(), "counted", "x");
    PauseActivityExecutionRequest request =
        PauseActivityExecutionRequest.newBuilder()
            .setNamespace("default")
            .setActivityId(id)
            .setIdentity("java-operator")
            .setRequestId(UUID.randomUUID().toString())
            .setReason("once")
            .build();
    for (int i = 0; i < 2; i++) {
      raw().pauseActivityExecution(request);
      expectRun(h.describe(), ACTIVITY_EXECUTION_STATUS_PAUSED, PENDING_ACTIVITY_STATE_PAUSED, 1);
    }
    expectFailedPrecondition(
        () -> pause(id, "other request"),
        "activity is in non-pausable state Paused",
        "pause with another request ID");
    unpause(id, null);
    expectRun(h.describe(), ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED, 1);
    // The first pause's request again: still a no-op, the activity stays scheduled.
    raw().pauseActivityExecution(request);
    expectRun(h.describe(), ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED, 1);
  }

  // 2. A heartbeating activity sees the pause ----------------------------------------------------

  @Test
  void pauseHeartbeatingActivity() throws Exception {
    String tq = unique("tq");
    CountDownLatch started = new CountDownLatch(1);
    BlockingQueue<Throwable> causes = new ArrayBlockingQueue<>(1);
    List<Integer> attempts = Collections.synchronizedList(new ArrayList<>());
    startWorker(
        tq,
        unique("worker"),
        dynamic(
            (ctx, args) -> {
              int attempt = ctx.getInfo().getAttempt();
              attempts.add(attempt);
              if (attempt > 1) {
                return "done on attempt " + attempt;
              }
              started.countDown();
              try {
                while (true) {
                  ctx.heartbeat("working");
                  Thread.sleep(50);
                }
              } catch (io.temporal.client.ActivityCompletionException e) {
                causes.add(e);
                throw e;
              }
            }));
    ActivityHandle<String> h =
        start(
            options(unique("hb-pause"), tq)
                .setHeartbeatTimeout(Duration.ofSeconds(5))
                .setRetryOptions(
                    RetryOptions.newBuilder().setInitialInterval(Duration.ofSeconds(1)).build())
                .build(),
            "pausable");
    await(started, "the activity to start");
    describeUntil(h, "attempt 1 started", d -> d.getRunState() == PENDING_ACTIVITY_STATE_STARTED);

    pause(h.getActivityId(), "maintenance");
    Throwable cause = causes.poll(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    assertInstanceOf(ActivityPausedException.class, cause, "the heartbeat's error after the pause");
    ActivityExecutionDescription d =
        describeUntil(h, "paused", x -> x.getRunState() == PENDING_ACTIVITY_STATE_PAUSED);
    expectRun(d, ACTIVITY_EXECUTION_STATUS_PAUSED, PENDING_ACTIVITY_STATE_PAUSED, 2);
    // The worker reported the attempt failed.
    assertTrue(
        describeRaw(h.getActivityId(), null, false, false, true).getInfo().hasLastFailure(),
        "last failure");
    assertEquals(List.of(1), new ArrayList<>(attempts), "attempts while paused");

    unpause(h.getActivityId(), null);
    assertEquals("done on attempt 2", result(h));
    assertEquals(List.of(1, 2), new ArrayList<>(attempts), "attempts");
  }

  // 3. Update options, then restore the original ones
  // ----------------------------------------------

  ActivityOptions update(String id, ActivityOptions options, String... paths) {
    return raw()
        .updateActivityExecutionOptions(
            UpdateActivityExecutionOptionsRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(id)
                .setIdentity("java-operator")
                .setActivityOptions(options)
                .setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of(paths)))
                .build())
        .getActivityOptions();
  }

  ActivityOptions restore(String id) {
    return raw()
        .updateActivityExecutionOptions(
            UpdateActivityExecutionOptionsRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(id)
                .setIdentity("java-operator")
                .setRestoreOriginal(true)
                .build())
        .getActivityOptions();
  }

  static void samePolicy(RetryOptions a, RetryOptions b, String what) {
    assertEquals(
        List.of(
            a.getInitialInterval(),
            a.getBackoffCoefficient(),
            a.getMaximumInterval(),
            a.getMaximumAttempts()),
        List.of(
            b.getInitialInterval(),
            b.getBackoffCoefficient(),
            b.getMaximumInterval(),
            b.getMaximumAttempts()),
        what + ": retry policy");
  }

  @Test
  void updateOptionsThenRestore() throws Exception {
    String tq = unique("tq");
    ActivityHandle<String> h =
        start(
            options(unique("opts"), tq)
                .setScheduleToCloseTimeout(Duration.ofMinutes(2))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(3).build())
                .build(),
            "counted",
            "Options");
    String id = h.getActivityId();
    ActivityExecutionDescription original = h.describe();

    RetryPolicy wanted =
        RetryPolicy.newBuilder()
            .setInitialInterval(protoDuration(Duration.ofSeconds(2)))
            .setBackoffCoefficient(3)
            .setMaximumInterval(protoDuration(Duration.ofSeconds(30)))
            .setMaximumAttempts(7)
            .build();
    ActivityOptions updated =
        update(
            id,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(protoDuration(Duration.ofSeconds(20)))
                .setHeartbeatTimeout(protoDuration(Duration.ofSeconds(5)))
                .setRetryPolicy(wanted)
                .build(),
            "start_to_close_timeout",
            "heartbeat_timeout",
            "retry_policy");
    assertEquals(tq, updated.getTaskQueue().getName());
    assertEquals(Duration.ofSeconds(20), javaDuration(updated.getStartToCloseTimeout()));
    assertEquals(Duration.ofSeconds(5), javaDuration(updated.getHeartbeatTimeout()));
    assertEquals(Duration.ofMinutes(2), javaDuration(updated.getScheduleToCloseTimeout()));
    assertEquals(wanted, updated.getRetryPolicy(), "returned retry policy");

    ActivityExecutionDescription d = h.describe();
    expectRun(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED, 1);
    assertEquals(Duration.ofSeconds(20), d.getStartToCloseTimeout());
    assertEquals(Duration.ofSeconds(5), d.getHeartbeatTimeout());
    assertEquals(Duration.ofMinutes(2), d.getScheduleToCloseTimeout());
    assertEquals(wanted, d.getRawInfo().getRetryPolicy(), "described retry policy");

    // A path in the mask with no value clears the option.
    ActivityOptions cleared = update(id, ActivityOptions.getDefaultInstance(), "heartbeat_timeout");
    assertFalse(
        cleared.hasHeartbeatTimeout()
            && javaDuration(cleared.getHeartbeatTimeout()).compareTo(Duration.ZERO) > 0,
        "heartbeat timeout after clearing: " + cleared.getHeartbeatTimeout());
    assertEquals(Duration.ofSeconds(20), javaDuration(cleared.getStartToCloseTimeout()));

    ActivityOptions restored = restore(id);
    assertEquals(tq, restored.getTaskQueue().getName());
    assertEquals(
        original.getStartToCloseTimeout(), javaDuration(restored.getStartToCloseTimeout()));
    assertEquals(
        original.getScheduleToCloseTimeout(), javaDuration(restored.getScheduleToCloseTimeout()));
    assertEquals(
        original.getRawInfo().getRetryPolicy(), restored.getRetryPolicy(), "restored retry policy");
    d = h.describe();
    assertEquals(original.getStartToCloseTimeout(), d.getStartToCloseTimeout());
    assertEquals(original.getHeartbeatTimeout(), d.getHeartbeatTimeout());
    samePolicy(original.getRetryOptions(), d.getRetryOptions(), "described after restore");
    assertEquals(tq, d.getTaskQueue());

    // The merged retry policy is validated again.
    expectStatusCode(
        () ->
            update(
                id,
                ActivityOptions.newBuilder()
                    .setRetryPolicy(
                        RetryPolicy.newBuilder()
                            .setInitialInterval(protoDuration(Duration.ofSeconds(5)))
                            .setMaximumInterval(protoDuration(Duration.ofSeconds(1))))
                    .build(),
                "retry_policy"),
        Status.Code.INVALID_ARGUMENT,
        "MaximumInterval cannot be less than InitialInterval on retry policy.",
        "maximum interval below the initial one");
  }

  @Test
  void updateTaskQueueMovesDispatch() throws Exception {
    String tq = unique("tq");
    String moved = unique("tq-moved");
    ActivityHandle<String> h = start(options(unique("opts"), tq).build(), "counted", "Moved");
    ActivityOptions updated =
        update(
            h.getActivityId(),
            ActivityOptions.newBuilder()
                .setTaskQueue(TaskQueue.newBuilder().setName(moved))
                .build(),
            "task_queue.name");
    assertEquals(moved, updated.getTaskQueue().getName());
    String workerIdentity = unique("worker");
    startWorker(moved, workerIdentity, counted(new AtomicInteger()));
    assertEquals("Hello, Moved!", result(h));
    ActivityExecutionDescription d = h.describe();
    assertEquals(moved, d.getTaskQueue());
    assertEquals(workerIdentity, d.getLastWorkerIdentity());

    expectFailedPrecondition(
        () ->
            update(
                h.getActivityId(),
                ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(protoDuration(Duration.ofMinutes(1)))
                    .build(),
                "start_to_close_timeout"),
        "Cannot update options for activity in state Completed",
        "update a completed activity");
  }

  // 4. Reset -------------------------------------------------------------------------------------

  void reset(String id, boolean keepPaused, boolean restoreOriginal) {
    ResetActivityExecutionRequest.Builder b =
        ResetActivityExecutionRequest.newBuilder()
            .setNamespace("default")
            .setActivityId(id)
            .setIdentity("java-operator")
            .setKeepPaused(keepPaused)
            .setRestoreOriginalOptions(restoreOriginal);
    if (restoreOriginal) {
      b.setJitter(protoDuration(Duration.ZERO));
    }
    raw().resetActivityExecution(b.build());
  }

  @Test
  void resetPausedActivity() throws Exception {
    String tq = unique("tq");
    AtomicBoolean failing = new AtomicBoolean(true);
    Object flaky =
        dynamic(
            (ctx, args) -> {
              int attempt = ctx.getInfo().getAttempt();
              String checkpoint = ctx.getHeartbeatDetails(String.class).orElse("");
              ctx.heartbeat("checkpoint-" + attempt);
              if (failing.get()) {
                throw ApplicationFailure.newFailure("downstream unavailable", "Unavailable");
              }
              return "ok on attempt " + attempt + " from \"" + checkpoint + "\"";
            });
    WorkerFactory first = startWorker(tq, unique("worker"), flaky);
    String id = unique("reset");
    ActivityHandle<String> h =
        start(
            options(id, tq)
                .setHeartbeatTimeout(Duration.ofSeconds(5))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofSeconds(1))
                        .setBackoffCoefficient(1)
                        .build())
                .build(),
            "flaky");
    describeUntil(h, "a retry", d -> d.getAttempt() >= 2);
    pause(id, "");
    ActivityExecutionDescription d =
        describeUntil(h, "paused", x -> x.getRunState() == PENDING_ACTIVITY_STATE_PAUSED);
    stopWorker(first);
    assertTrue(d.getAttempt() >= 2, "paused at attempt " + d.getAttempt());

    // Keep paused: attempt back to 1, still paused, the heartbeat details kept.
    String checkpoint = "checkpoint-" + (d.getAttempt() - 1);
    assertEquals(
        checkpoint,
        decodeString(
            describeRaw(id, null, false, true, false)
                .getInfo()
                .getHeartbeatDetails()
                .getPayloads(0)));
    reset(id, true, false);
    d = h.describe();
    expectRun(d, ACTIVITY_EXECUTION_STATUS_PAUSED, PENDING_ACTIVITY_STATE_PAUSED, 1);
    assertEquals(
        checkpoint,
        decodeString(
            describeRaw(id, null, false, true, false)
                .getInfo()
                .getHeartbeatDetails()
                .getPayloads(0)),
        "heartbeat details after a reset that keeps them");

    failing.set(false);
    startWorker(tq, unique("worker"), flaky);
    reset(id, false, false);
    assertEquals("ok on attempt 1 from \"" + checkpoint + "\"", result(h));

    expectFailedPrecondition(
        () -> reset(id, false, false),
        "activity execution is not running",
        "reset a completed activity");
  }

  @Test
  void resetRestoresOriginalOptions() throws Exception {
    String tq = unique("tq");
    String id = unique("reset");
    ActivityHandle<String> h = start(options(id, tq).build(), "counted", "x");
    update(
        id,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(protoDuration(Duration.ofSeconds(30)))
            .setTaskQueue(TaskQueue.newBuilder().setName(tq + "-moved"))
            .build(),
        "start_to_close_timeout",
        "task_queue.name");
    reset(id, false, true);
    ActivityExecutionDescription d = h.describe();
    expectRun(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED, 1);
    assertEquals(tq, d.getTaskQueue());
    assertEquals(ACTIVITY_TIMEOUT, d.getStartToCloseTimeout());
  }

  // 5. ExecutionStatus = 'Paused' in List and Count
  // ------------------------------------------------

  @Test
  void queryPaused() throws Exception {
    String tq = unique("tq");
    List<ActivityHandle<String>> handles = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      handles.add(start(options(unique("q"), tq).build(), "counted", "x"));
    }
    for (ActivityHandle<String> h : handles.subList(0, 2)) {
      pause(h.getActivityId(), "");
    }
    String tqq = "TaskQueue = '" + tq + "'";
    var grouped =
        eventually(
            "count GROUP BY ExecutionStatus",
            SETTLE,
            () -> client.countExecutions(tqq + " GROUP BY ExecutionStatus"),
            r -> VisibilityTest.groupCounts(r).equals(Map.of("Paused", 2L, "Running", 1L)));
    assertEquals(3, grouped.getCount(), "grouped total");
    assertEquals(2, client.countExecutions(tqq + " AND ExecutionStatus = 'Paused'").getCount());
    eventually(
        "list paused",
        SETTLE,
        () ->
            client
                .listExecutions(tqq + " AND ExecutionStatus = 'Paused'")
                .map(m -> m.getActivityId())
                .sorted()
                .toList(),
        ids ->
            ids.equals(
                List.of(handles.get(0).getActivityId(), handles.get(1).getActivityId()).stream()
                    .sorted()
                    .toList()));
    eventually(
        "list not paused",
        SETTLE,
        () ->
            client
                .listExecutions(tqq + " AND ExecutionStatus != 'Paused'")
                .map(m -> m.getActivityId())
                .toList(),
        ids -> ids.equals(List.of(handles.get(2).getActivityId())));

    unpause(handles.get(0).getActivityId(), null);
    eventually(
        "count after unpause",
        SETTLE,
        () -> client.countExecutions(tqq + " GROUP BY ExecutionStatus"),
        r -> VisibilityTest.groupCounts(r).equals(Map.of("Paused", 1L, "Running", 2L)));
  }
}
