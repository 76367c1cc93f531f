package dev.errand.compat;

import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
import static io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_UNSPECIFIED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.temporal.api.activity.v1.ActivityExecutionInfo;
import io.temporal.api.enums.v1.ActivityIdConflictPolicy;
import io.temporal.api.enums.v1.ActivityIdReusePolicy;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.workflowservice.v1.DeleteActivityExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeActivityExecutionResponse;
import io.temporal.client.ActivityAlreadyStartedException;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.ActivityExecutionDescription;
import io.temporal.client.ActivityHandle;
import io.temporal.client.StartActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TerminatedFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Standalone activity scenarios with the Java SDK's ActivityClient: the greeting flow, handles by
 * ID, describe, ID conflict and reuse policies, cancellation, terminate, delete, asynchronous
 * completion by activity ID, non-retryable failures and NOT_FOUND errors.
 */
class ActivitiesTest extends CompatTest {

  // 1. Greeting flow ---------------------------------------------------------------------------

  @Test
  void greeting() throws Exception {
    String tq = unique("tq");
    startWorker(tq, unique("worker"), new Greetings.Impl());
    ActivityHandle<String> h =
        client.start(
            Greetings.class,
            Greetings::composeGreeting,
            options(unique("greet"), tq).build(),
            "World");
    assertEquals("Hello, World!", result(h));
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_COMPLETED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertEquals("ComposeGreeting", d.getActivityType());
    // The typed execute, too.
    assertEquals(
        "Hello, Java!",
        client.execute(
            Greetings.class,
            Greetings::composeGreeting,
            options(unique("greet"), tq).build(),
            "Java"));
  }

  // 2. Start, then the result through a handle obtained by ID ----------------------------------

  @Test
  void startThenResultByHandle() throws Exception {
    String tq = unique("tq");
    String id = unique("greet");
    // Started before any worker: the handle by ID waits for the result.
    ActivityHandle<String> started = start(options(id, tq).build(), "ComposeGreeting", "Handle");
    ActivityHandle<String> byId = handle(id, null);
    assertEquals(id, byId.getActivityId());
    CompletableFuture<String> pending =
        byId.getResultAsync(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    Thread.sleep(200); // the long poll is waiting now
    assertFalse(pending.isDone(), "result before any worker ran the activity");
    startWorker(tq, unique("worker"), new Greetings.Impl());
    assertEquals("Hello, Handle!", pending.get(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));

    // A handle pinned to the run ID, and the handle from the start, agree.
    assertEquals("Hello, Handle!", result(handle(id, started.getActivityRunId())));
    assertEquals("Hello, Handle!", result(started));
    assertEquals(started.getActivityRunId(), byId.describe().getActivityRunId());
  }

  // 3. Describe a running and a closed activity ------------------------------------------------

  @Test
  void describeRunningAndClosed() throws Exception {
    String tq = unique("tq");
    String id = unique("describe");
    String workerIdentity = unique("worker");
    Instant before = Instant.now().minusSeconds(1);
    ActivityHandle<String> h = start(options(id, tq).build(), "compose_greeting", "World");

    // Not picked up yet: scheduled, no attempt started.
    ActivityExecutionDescription d = h.describe();
    ActivityExecutionInfo info = d.getRawInfo();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED);
    assertEquals(id, d.getActivityId());
    assertEquals(h.getActivityRunId(), d.getActivityRunId());
    assertEquals("compose_greeting", d.getActivityType());
    assertEquals(tq, d.getTaskQueue());
    assertEquals(1, d.getAttempt());
    assertTrue(
        !d.getScheduledTime().isBefore(before)
            && d.getScheduledTime().isBefore(Instant.now().plusSeconds(1)),
        "schedule time " + d.getScheduledTime());
    assertFalse(info.hasLastStartedTime(), "last started time");
    assertFalse(info.hasCloseTime(), "close time");
    assertFalse(info.hasExecutionDuration(), "execution duration");
    assertFalse(info.hasExpirationTime(), "expiration time without schedule-to-close");
    assertEquals("", info.getLastWorkerIdentity());
    assertEquals(ACTIVITY_TIMEOUT, d.getStartToCloseTimeout());
    assertEquals("", info.getCanceledReason());
    assertFalse(info.hasLastHeartbeatTime(), "last heartbeat time");
    // The server fills in its default retry policy.
    RetryOptions rp = d.getRetryOptions();
    assertNotNull(rp, "retry policy");
    assertEquals(Duration.ofSeconds(1), rp.getInitialInterval());
    assertEquals(2.0, rp.getBackoffCoefficient());
    assertEquals(Duration.ofSeconds(100), rp.getMaximumInterval());
    assertEquals(0, rp.getMaximumAttempts());

    CountDownLatch gotStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    startWorker(
        tq,
        workerIdentity,
        dynamic(
            (ctx, args) -> {
              gotStarted.countDown();
              release.await(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
              return "Hello, " + args.get(0, String.class) + "!";
            }));
    await(gotStarted, "the activity to start");

    ActivityHandle<String> byId = handle(id, null);
    d = byId.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_STARTED);
    assertEquals(h.getActivityRunId(), d.getActivityRunId());
    assertEquals(1, d.getAttempt());
    assertTrue(d.getRawInfo().hasLastStartedTime(), "last started time");
    assertFalse(d.getLastStartedTime().isBefore(d.getScheduledTime()), "started before scheduled");
    assertEquals(workerIdentity, d.getLastWorkerIdentity());
    assertFalse(d.getRawInfo().hasCloseTime(), "close time while started");

    release.countDown();
    assertEquals("Hello, World!", result(byId));

    d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_COMPLETED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    info = d.getRawInfo();
    assertTrue(info.hasCloseTime(), "close time");
    assertFalse(d.getCloseTime().isBefore(d.getLastStartedTime()), "closed before started");
    assertTrue(info.hasExecutionDuration(), "execution duration");
    assertEquals(
        Duration.between(instant(info.getScheduleTime()), instant(info.getCloseTime())),
        javaDuration(info.getExecutionDuration()),
        "execution duration = close - schedule");
    assertEquals(workerIdentity, d.getLastWorkerIdentity());

    // Payloads only on request (the raw describe).
    DescribeActivityExecutionResponse plain = describeRaw(id, null, false, false, false);
    assertFalse(plain.hasOutcome() || plain.hasInput(), "outcome or input without asking");
    DescribeActivityExecutionResponse full =
        raw()
            .describeActivityExecution(
                io.temporal.api.workflowservice.v1.DescribeActivityExecutionRequest.newBuilder()
                    .setNamespace("default")
                    .setActivityId(id)
                    .setIncludeInput(true)
                    .setIncludeOutcome(true)
                    .build());
    assertEquals("Hello, World!", decodeString(full.getOutcome().getResult().getPayloads(0)));
    assertEquals("World", decodeString(full.getInput().getPayloads(0)));
    assertFalse(full.getOutcome().hasFailure(), "outcome failure");
  }

  // 4. ID conflict policy -----------------------------------------------------------------------

  @Test
  void idConflictPolicy() throws Exception {
    String tq = unique("tq"); // no worker: the activity stays running
    String id = unique("dup");
    ActivityHandle<String> first = start(options(id, tq).build(), "compose_greeting", "World");

    for (ActivityIdConflictPolicy policy :
        List.of(
            ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_UNSPECIFIED, // default: FAIL
            ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_FAIL)) {
      StartActivityOptions opts = options(id, tq).setIdConflictPolicy(policy).build();
      Throwable err =
          thrown(
              () -> client.start("compose_greeting", String.class, opts, "World"), policy.name());
      ActivityAlreadyStartedException already =
          expectCause(err, ActivityAlreadyStartedException.class, policy.name());
      assertEquals(id, already.getActivityId(), policy + ": activity id");
      assertEquals(first.getActivityRunId(), already.getRunId(), policy + ": run id");
      expectStatusCode(
          () -> client.start("compose_greeting", String.class, opts, "World"),
          Status.Code.ALREADY_EXISTS,
          "activity execution already started",
          policy.name());
    }

    ActivityHandle<String> existing =
        start(
            options(id, tq)
                .setIdConflictPolicy(
                    ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING)
                .build(),
            "compose_greeting",
            "World");
    assertEquals(first.getActivityRunId(), existing.getActivityRunId(), "USE_EXISTING run");

    // Still one run, still running.
    expectStatus(
        first.describe(), ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_SCHEDULED);
  }

  /** The same start request ID returns the run it started, also after that run closed. */
  @Test
  void startRequestIdIsIdempotent() throws Exception {
    String tq = unique("tq");
    String id = unique("req");
    io.temporal.api.workflowservice.v1.StartActivityExecutionRequest request =
        io.temporal.api.workflowservice.v1.StartActivityExecutionRequest.newBuilder()
            .setNamespace("default")
            .setIdentity("compat-java")
            .setRequestId(java.util.UUID.randomUUID().toString())
            .setActivityId(id)
            .setActivityType(
                io.temporal.api.common.v1.ActivityType.newBuilder().setName("compose_greeting"))
            .setTaskQueue(io.temporal.api.taskqueue.v1.TaskQueue.newBuilder().setName(tq))
            .setStartToCloseTimeout(protoDuration(ACTIVITY_TIMEOUT))
            .build();
    var first = raw().startActivityExecution(request);
    assertTrue(first.getStarted(), "first start: " + first);
    assertFalse(first.getRunId().isEmpty(), "first start: " + first);
    var again = raw().startActivityExecution(request);
    assertFalse(again.getStarted(), "same request ID: " + again);
    assertEquals(first.getRunId(), again.getRunId(), "same request ID");
    // The request ID still maps to that run after it closed: no new run.
    handle(id, null).terminate("closed");
    var after = raw().startActivityExecution(request);
    assertFalse(after.getStarted(), "same request ID after close: " + after);
    assertEquals(first.getRunId(), after.getRunId(), "same request ID after close");
  }

  // 5. ID reuse policy after a run closes -------------------------------------------------------

  @Test
  void idReusePolicy() throws Exception {
    String tq = unique("tq");
    startWorker(
        tq,
        unique("worker"),
        dynamic(
            (ctx, args) -> {
              String mode = args.get(0, String.class);
              if (mode.equals("fail")) {
                throw ApplicationFailure.newNonRetryableFailure("failed on purpose", "Planned");
              }
              return "done " + mode;
            }));

    record Case(String name, String end, ActivityIdReusePolicy policy, boolean allow) {}
    List<Case> cases =
        List.of(
            new Case(
                "default-after-completed",
                "completed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_UNSPECIFIED,
                true),
            new Case(
                "allow-duplicate-after-completed",
                "completed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE,
                true),
            new Case(
                "reject-duplicate-after-completed",
                "completed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE,
                false),
            new Case(
                "reject-duplicate-after-failed",
                "failed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE,
                false),
            new Case(
                "failed-only-after-completed",
                "completed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
                false),
            new Case(
                "failed-only-after-failed",
                "failed",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
                true),
            new Case(
                "failed-only-after-terminated",
                "terminated",
                ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
                true));
    for (Case c : cases) {
      String id = unique("reuse");
      String previous;
      switch (c.end) {
        case "completed" -> {
          ActivityHandle<String> h = start(options(id, tq).build(), "reusable", "ok");
          assertEquals("done ok", result(h), c.name);
          previous = h.getActivityRunId();
        }
        case "failed" -> {
          ActivityHandle<String> h = start(options(id, tq).build(), "reusable", "fail");
          expectCause(thrown(() -> result(h), c.name), ApplicationFailure.class, c.name);
          previous = h.getActivityRunId();
        }
        default -> {
          ActivityHandle<String> h =
              start(options(id, unique("idle-tq")).build(), "reusable", "ok");
          h.terminate("closing");
          previous = h.getActivityRunId();
        }
      }
      StartActivityOptions again = options(id, tq).setIdReusePolicy(c.policy).build();
      if (c.allow) {
        ActivityHandle<String> h = start(again, "reusable", "again");
        assertNotEquals(previous, h.getActivityRunId(), c.name + ": reuse gave the closed run");
        assertEquals("done again", result(h), c.name);
        // By ID alone, the handle now means the new run; the old run is still there.
        assertEquals(h.getActivityRunId(), handle(id, null).describe().getActivityRunId(), c.name);
        ActivityExecutionDescription old = handle(id, previous).describe();
        assertEquals(previous, old.getActivityRunId(), c.name);
        assertNotEquals(ACTIVITY_EXECUTION_STATUS_RUNNING, old.getStatus(), c.name);
      } else {
        Throwable err =
            thrown(() -> client.start("reusable", String.class, again, "again"), c.name);
        ActivityAlreadyStartedException already =
            expectCause(err, ActivityAlreadyStartedException.class, c.name);
        assertEquals(previous, already.getRunId(), c.name + ": run id of the closed run");
      }
    }
  }

  // 6. Cancellation -----------------------------------------------------------------------------

  /** An activity that heartbeats every 50 ms until a heartbeat throws. */
  static final class Heartbeater {
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch ended = new CountDownLatch(1);
    final AtomicReference<Throwable> endedWith = new AtomicReference<>();

    Object impl(String details) {
      return dynamic(
          (ctx, args) -> {
            started.countDown();
            try {
              while (true) {
                ctx.heartbeat(details);
                Thread.sleep(50);
              }
            } catch (ActivityCompletionException e) {
              endedWith.set(e);
              ended.countDown();
              throw e;
            }
          });
    }
  }

  @Test
  void cancelHeartbeatingActivity() throws Exception {
    String tq = unique("tq");
    String workerIdentity = unique("worker");
    Heartbeater hb = new Heartbeater();
    startWorker(tq, workerIdentity, hb.impl("tick"));
    ActivityHandle<String> h =
        start(
            options(unique("cancel"), tq).setHeartbeatTimeout(Duration.ofSeconds(2)).build(),
            "heartbeater");
    await(hb.started, "the activity to start");

    h.cancel("enough");
    ActivityExecutionDescription d = h.describe();
    // Cancellation is only a request until the worker reports it; the worker learns of it on its
    // next heartbeat.
    if (d.getStatus() == ACTIVITY_EXECUTION_STATUS_RUNNING) {
      expectStatus(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_CANCEL_REQUESTED);
    } else {
      expectStatus(d, ACTIVITY_EXECUTION_STATUS_CANCELED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    }
    assertEquals("enough", d.getCanceledReason());
    await(hb.ended, "the activity to see the cancellation");
    assertTrue(
        hb.endedWith.get() instanceof io.temporal.client.ActivityCanceledException,
        "heartbeat threw " + hb.endedWith.get());

    CanceledFailure canceled =
        expectCause(thrown(() -> result(h), "result"), CanceledFailure.class, "result");
    assertEquals("Activity canceled", canceled.getOriginalMessage());

    d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_CANCELED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertTrue(d.getRawInfo().hasCloseTime(), "close time");
    assertEquals("enough", d.getCanceledReason());
    assertEquals(workerIdentity, d.getLastWorkerIdentity());
    // The outcome names the cancel's requester (this client), not the worker.
    Failure failure =
        describeRaw(h.getActivityId(), null, true, false, false).getOutcome().getFailure();
    assertEquals("Activity canceled", failure.getMessage());
    assertTrue(failure.hasCanceledFailureInfo(), "canceled failure info: " + failure);
    assertEquals(clientIdentity, failure.getCanceledFailureInfo().getIdentity());
  }

  @Test
  void cancelBeforeWorkerPicksUp() throws Exception {
    ActivityHandle<String> h =
        start(options(unique("cancel"), unique("tq")).build(), "compose_greeting", "World");
    h.cancel("never mind");
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_CANCELED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertTrue(d.getRawInfo().hasCloseTime(), "close time");
    assertFalse(d.getRawInfo().hasLastStartedTime(), "last started time");
    assertEquals("never mind", d.getCanceledReason());

    CanceledFailure canceled =
        expectCause(thrown(() -> result(h), "result"), CanceledFailure.class, "result");
    assertEquals("Activity canceled", canceled.getOriginalMessage());
    // The server records the reason as the failure's details.
    assertEquals("never mind", canceled.getDetails().get(String.class));
    Failure failure =
        describeRaw(h.getActivityId(), null, true, false, false).getOutcome().getFailure();
    assertEquals(clientIdentity, failure.getCanceledFailureInfo().getIdentity());

    // A closed activity cannot be cancelled or terminated again.
    expectFailedPrecondition(
        () -> h.cancel("again"), "activity is in terminal state Canceled", "cancel again");
    expectFailedPrecondition(
        () -> h.terminate("again"), "invalid transition from Canceled", "terminate after cancel");
  }

  // 7. Terminate --------------------------------------------------------------------------------

  @Test
  void terminate() throws Exception {
    String tq = unique("tq");
    Heartbeater hb = new Heartbeater();
    startWorker(tq, unique("worker"), hb.impl("working"));
    ActivityHandle<String> h =
        start(
            options(unique("term"), tq).setHeartbeatTimeout(Duration.ofSeconds(5)).build(),
            "long_job");
    await(hb.started, "the activity to start");

    h.terminate("stop it");
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_TERMINATED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertTrue(d.getRawInfo().hasCloseTime(), "close time");
    assertEquals("", d.getRawInfo().getCanceledReason());
    Failure failure =
        describeRaw(h.getActivityId(), null, true, false, false).getOutcome().getFailure();
    assertEquals("stop it", failure.getMessage());
    assertTrue(failure.hasTerminatedFailureInfo(), "terminated failure info: " + failure);
    assertEquals(clientIdentity, failure.getTerminatedFailureInfo().getIdentity());

    expectCause(thrown(() -> result(h), "result"), TerminatedFailure.class, "result");
    // The worker's next heartbeat finds the attempt gone.
    await(hb.ended, "the activity's heartbeat to fail after terminate");

    // Terminating again names the request ID of the terminate that closed it; a cancel finds it
    // terminal.
    expectFailedPrecondition(
        () -> h.terminate("again"), "already terminated with request ID *", "terminate again");
    expectFailedPrecondition(
        () -> h.cancel("too late"),
        "activity is in terminal state Terminated",
        "cancel after terminate");
  }

  // 8. Delete (the ActivityClient has none: the raw DeleteActivityExecution) --------------------

  @Test
  void delete() throws Exception {
    String tq = unique("tq");
    String id = unique("del");
    startWorker(tq, unique("worker"), new Greetings.Impl());
    ActivityHandle<String> h = start(options(id, tq).build(), "ComposeGreeting", "World");
    assertEquals("Hello, World!", result(h));
    raw()
        .deleteActivityExecution(
            DeleteActivityExecutionRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(id)
                .setRunId(h.getActivityRunId())
                .build());
    // Deletion is asynchronous on the real server: describe shows the closed run until the
    // delete task has run.
    describeUntilDeleted(h, ACTIVITY_EXECUTION_STATUS_COMPLETED);
    expectNotFound(() -> result(handle(id, null)), id, "result after delete");
    List<String> listed =
        eventually(
            "list after delete", SETTLE, () -> listIds("ActivityId = '" + id + "'"), List::isEmpty);
    assertTrue(listed.isEmpty());
    expectNotFound(
        () ->
            raw()
                .deleteActivityExecution(
                    DeleteActivityExecutionRequest.newBuilder()
                        .setNamespace("default")
                        .setActivityId(id)
                        .build()),
        id,
        "delete again");
  }

  @Test
  void deleteRunningActivity() throws Exception {
    ActivityHandle<String> h =
        start(options(unique("del"), unique("tq")).build(), "compose_greeting", "World");
    raw()
        .deleteActivityExecution(
            DeleteActivityExecutionRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(h.getActivityId())
                .build());
    DescribeActivityExecutionResponse last =
        describeUntilDeleted(h, ACTIVITY_EXECUTION_STATUS_TERMINATED);
    if (last != null) {
      // Caught before the delete task ran: terminated by the delete.
      assertEquals("Delete activity execution", last.getOutcome().getFailure().getMessage());
    }
  }

  List<String> listIds(String query) {
    return client.listExecutions(query).map(m -> m.getActivityId()).collect(Collectors.toList());
  }

  /** Describes until NOT_FOUND; returns the last description seen, which has the closed status. */
  DescribeActivityExecutionResponse describeUntilDeleted(
      ActivityHandle<String> h, io.temporal.api.enums.v1.ActivityExecutionStatus closed) {
    DescribeActivityExecutionResponse last = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      DescribeActivityExecutionResponse d;
      try {
        d = describeRaw(h.getActivityId(), null, true, false, false);
      } catch (io.grpc.StatusRuntimeException e) {
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), "describe after delete");
        assertEquals(
            "activity not found for ID: " + h.getActivityId(), e.getStatus().getDescription());
        return last;
      }
      assertEquals(closed, d.getInfo().getStatus(), "before deletion");
      last = d;
      ErrandServer.sleep(20);
    }
    throw new AssertionError("activity " + h.getActivityId() + " still there 5 s after delete");
  }

  // 9. Asynchronous completion by activity ID ---------------------------------------------------

  /** A worker whose activity does not complete on return: a client completes it later. */
  CountDownLatch asyncWorker(String tq) {
    CountDownLatch started = new CountDownLatch(1);
    startWorker(
        tq,
        unique("worker"),
        dynamic(
            (ctx, args) -> {
              ctx.doNotCompleteOnReturn();
              started.countDown();
              return null;
            }));
    return started;
  }

  @Test
  void asyncCompletionByActivityId() throws Exception {
    String tq = unique("tq");
    String id = unique("async");
    CountDownLatch started = asyncWorker(tq);
    ActivityHandle<String> h = start(options(id, tq).build(), "finish_later");
    await(started, "the activity to start");
    ActivityCompletionClient completion = client.newActivityCompletionClient();

    completion.heartbeatStandalone(id, Optional.empty(), "halfway");
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_RUNNING, PENDING_ACTIVITY_STATE_STARTED);
    DescribeActivityExecutionResponse withDetails = describeRaw(id, null, false, true, false);
    assertTrue(withDetails.getInfo().hasLastHeartbeatTime(), "last heartbeat time");
    assertEquals(
        "halfway", decodeString(withDetails.getInfo().getHeartbeatDetails().getPayloads(0)));
    expectNotFound(
        () ->
            completion.heartbeatStandalone(
                id, Optional.of(java.util.UUID.randomUUID().toString()), "x"),
        id,
        "heartbeat by ID with a wrong run ID");

    completion.completeStandalone(id, Optional.empty(), "done later");
    assertEquals("done later", result(h));
    d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_COMPLETED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertTrue(d.getRawInfo().hasCloseTime(), "close time");

    // A by-ID completion of a closed activity is an invalid transition; a by-ID failure or
    // heartbeat needs an attempt in progress: NOT_FOUND.
    expectFailedPrecondition(
        () -> completion.completeStandalone(id, Optional.of(h.getActivityRunId()), "again"),
        "invalid transition from Completed",
        "complete again");
    expectNotFound(
        () ->
            completion.completeExceptionallyStandalone(
                id,
                Optional.of(h.getActivityRunId()),
                ApplicationFailure.newFailure("too late", "Late")),
        id,
        "fail by ID after completion");
    expectNotFound(
        () -> completion.heartbeatStandalone(id, Optional.empty(), "late"),
        id,
        "heartbeat by ID after completion");
  }

  @Test
  void asyncFailureByActivityId() throws Exception {
    String tq = unique("tq");
    String id = unique("async");
    CountDownLatch started = asyncWorker(tq);
    ActivityHandle<String> h =
        start(
            options(id, tq)
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build(),
            "finish_later");
    await(started, "the activity to start");

    client
        .newActivityCompletionClient()
        .completeExceptionallyStandalone(
            id,
            Optional.of(h.getActivityRunId()),
            ApplicationFailure.newFailure("failed outside", "OutsideError", "some detail"));
    ApplicationFailure failure =
        expectCause(thrown(() -> result(h), "result"), ApplicationFailure.class, "result");
    assertEquals("failed outside", failure.getOriginalMessage());
    assertEquals("OutsideError", failure.getType());
    assertEquals("some detail", failure.getDetails().get(String.class));
    ActivityExecutionDescription d = h.describe();
    expectStatus(d, ACTIVITY_EXECUTION_STATUS_FAILED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
    assertEquals(1, d.getAttempt());
    Failure outcome = describeRaw(id, null, true, false, false).getOutcome().getFailure();
    assertEquals("failed outside", outcome.getMessage());
  }

  @Test
  void asyncCancellationByActivityId() throws Exception {
    String tq = unique("tq");
    String id = unique("async");
    CountDownLatch started = asyncWorker(tq);
    ActivityHandle<String> h = start(options(id, tq).build(), "finish_later");
    await(started, "the activity to start");
    ActivityCompletionClient completion = client.newActivityCompletionClient();

    h.cancel("stop");
    // The heartbeat by ID reports the cancel request.
    expectCause(
        thrown(
            () -> completion.heartbeatStandalone(id, Optional.empty(), "still here"), "heartbeat"),
        io.temporal.client.ActivityCanceledException.class,
        "heartbeat after the cancel request");
    completion.reportCancellationStandalone(id, Optional.empty(), "bye");
    CanceledFailure canceled =
        expectCause(thrown(() -> result(h), "result"), CanceledFailure.class, "result");
    assertEquals("bye", canceled.getDetails().get(String.class));
    expectStatus(
        h.describe(), ACTIVITY_EXECUTION_STATUS_CANCELED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
  }

  // 10. Non-retryable failures ------------------------------------------------------------------

  @Test
  void nonRetryableFailure() throws Exception {
    String tq = unique("tq");
    String workerIdentity = unique("worker");
    AtomicInteger attempts = new AtomicInteger();
    startWorker(
        tq,
        workerIdentity,
        dynamic(
            (ctx, args) -> {
              attempts.incrementAndGet();
              if (args.get(0, Boolean.class)) {
                throw ApplicationFailure.newNonRetryableFailure("boom", "MyError");
              }
              throw ApplicationFailure.newFailure("boom", "MyError");
            }));

    // The non-retryable flag on the error, else the type listed in the retry policy.
    for (boolean flagged : new boolean[] {false, true}) {
      String what = flagged ? "non-retryable error" : "error type in retry policy";
      attempts.set(0);
      RetryOptions.Builder retry =
          RetryOptions.newBuilder()
              .setInitialInterval(Duration.ofMillis(100))
              .setMaximumAttempts(5);
      if (!flagged) {
        retry.setDoNotRetry("MyError");
      }
      ActivityHandle<String> h =
          start(
              options(unique("fail"), tq).setRetryOptions(retry.build()).build(),
              "explode",
              flagged);
      ApplicationFailure failure =
          expectCause(thrown(() -> result(h), what), ApplicationFailure.class, what);
      assertEquals("boom", failure.getOriginalMessage(), what);
      assertEquals("MyError", failure.getType(), what);
      assertEquals(flagged, failure.isNonRetryable(), what);

      ActivityExecutionDescription d = h.describe();
      expectStatus(d, ACTIVITY_EXECUTION_STATUS_FAILED, PENDING_ACTIVITY_STATE_UNSPECIFIED);
      assertEquals(1, d.getAttempt(), what + ": attempt");
      assertEquals(1, attempts.get(), what + ": runs of the activity");
      assertTrue(
          d.getRawInfo().hasCloseTime() && d.getRawInfo().hasLastAttemptCompleteTime(), what);
      assertEquals(workerIdentity, d.getLastWorkerIdentity(), what);
      assertEquals(5, d.getRetryOptions().getMaximumAttempts(), what);
      DescribeActivityExecutionResponse raw =
          describeRaw(h.getActivityId(), null, true, false, true);
      Failure outcome = raw.getOutcome().getFailure();
      assertEquals("boom", outcome.getMessage(), what);
      assertEquals("MyError", outcome.getApplicationFailureInfo().getType(), what);
      assertEquals("boom", raw.getInfo().getLastFailure().getMessage(), what);
    }
  }

  // 11. NOT_FOUND -------------------------------------------------------------------------------

  @Test
  void notFoundError() throws Exception {
    String missing = unique("missing");
    ActivityHandle<String> h = handle(missing, null);
    expectNotFound(h::describe, missing, "describe");
    expectNotFound(() -> result(h), missing, "result");
    expectNotFound(() -> h.cancel("x"), missing, "cancel");
    expectNotFound(() -> h.terminate("x"), missing, "terminate");
    ActivityCompletionClient completion = client.newActivityCompletionClient();
    expectNotFound(
        () -> completion.heartbeatStandalone(missing, Optional.empty(), "x"),
        missing,
        "heartbeat by ID");
    expectNotFound(
        () -> completion.completeStandalone(missing, Optional.empty(), "x"),
        missing,
        "complete by activity ID");

    // An existing activity ID with a run ID that is not one of its runs.
    ActivityHandle<String> existing =
        start(options(unique("exists"), unique("tq")).build(), "compose_greeting", "World");
    ActivityHandle<String> wrongRun =
        handle(existing.getActivityId(), java.util.UUID.randomUUID().toString());
    expectNotFound(wrongRun::describe, existing.getActivityId(), "describe with a wrong run ID");
    expectNotFound(
        () -> wrongRun.terminate("x"), existing.getActivityId(), "terminate with a wrong run ID");
  }
}
