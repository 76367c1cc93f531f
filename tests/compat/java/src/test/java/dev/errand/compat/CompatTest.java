package dev.errand.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.DynamicActivity;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.enums.v1.ActivityExecutionStatus;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.workflowservice.v1.DescribeActivityExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeActivityExecutionResponse;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.client.ActivityClient;
import io.temporal.client.ActivityClientOptions;
import io.temporal.client.ActivityExecutionDescription;
import io.temporal.client.ActivityHandle;
import io.temporal.client.StartActivityOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.EncodedValues;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Harness for the Java SDK compatibility scenarios. Every test gets its own server (see {@link
 * ErrandServer}; in oracle mode the shared COMPAT_ORACLE_ADDRESS server, so every test uses unique
 * task queues and IDs), an SDK client on namespace "default", and workers that are shut down when
 * it ends. The server log and the SDK's view are printed when a test fails.
 */
@ExtendWith(CompatTest.DumpOnFailure.class)
abstract class CompatTest {
  /** Bounds every wait for an activity to do something. */
  static final Duration ACTIVITY_TIMEOUT = Duration.ofSeconds(10);

  /** How long visibility may take to catch up (the oracle's store lags writes). */
  static final Duration SETTLE = Duration.ofSeconds(10);

  static final DataConverter CONVERTER = DataConverter.getDefaultInstance();

  protected ErrandServer server;
  protected WorkflowServiceStubs stubs;
  protected ActivityClient client;
  protected WorkflowClient workflowClient;
  protected String clientIdentity;
  private final List<WorkerFactory> factories = new ArrayList<>();
  private final List<WorkflowServiceStubs> connections = new ArrayList<>();

  @BeforeEach
  void setUpServerAndClient() throws Exception {
    server = ErrandServer.startNew();
    clientIdentity = unique("client");
    stubs = connect();
    client =
        ActivityClient.newInstance(
            stubs,
            ActivityClientOptions.newBuilder()
                .setNamespace("default")
                .setIdentity(clientIdentity)
                .build());
    workflowClient = workflowClient(stubs, "default", clientIdentity);
  }

  @AfterEach
  void tearDownServerAndClient() throws Exception {
    for (WorkerFactory f : factories) {
      f.shutdownNow();
    }
    for (WorkerFactory f : factories) {
      f.awaitTermination(10, TimeUnit.SECONDS);
    }
    for (WorkflowServiceStubs s : connections) {
      s.shutdownNow();
    }
    if (server != null) {
      server.cleanup();
    }
  }

  /** Prints the errand log when a test fails (after its @AfterEach has run). */
  static final class DumpOnFailure implements TestWatcher {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      context
          .getTestInstance()
          .filter(CompatTest.class::isInstance)
          .map(CompatTest.class::cast)
          .ifPresent(
              t -> {
                if (t.server != null && !t.server.log().isEmpty()) {
                  System.out.println(
                      "---- errand log of "
                          + context.getDisplayName()
                          + " ----\n"
                          + t.server.log()
                          + "\n---- end of errand log ----");
                }
              });
    }
  }

  /** Skips the test in oracle mode, where the server process is not ours to kill or restart. */
  static void requireOwnServer() {
    Assumptions.assumeFalse(
        ErrandServer.oracleMode(),
        "oracle mode ("
            + ErrandServer.ORACLE_ADDRESS
            + "): the server process is not ours to kill or restart");
  }

  /**
   * Waits until the client's connection serves calls again, after the server was restarted (the
   * channel reconnects with a backoff).
   */
  void awaitServing() {
    eventually(
        "the client to reconnect",
        Duration.ofSeconds(20),
        () ->
            raw()
                .getSystemInfo(
                    io.temporal.api.workflowservice.v1.GetSystemInfoRequest.getDefaultInstance()),
        r -> true);
  }

  /** Fresh service stubs on this test's server; shut down when the test ends. */
  WorkflowServiceStubs connect() {
    WorkflowServiceStubs s =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder()
                .setTarget(server.address)
                .setRpcTimeout(ACTIVITY_TIMEOUT)
                .build());
    connections.add(s);
    return s;
  }

  static WorkflowClient workflowClient(WorkflowServiceStubs s, String namespace, String identity) {
    return WorkflowClient.newInstance(
        s,
        WorkflowClientOptions.newBuilder().setNamespace(namespace).setIdentity(identity).build());
  }

  /** The raw gRPC API, for what the SDK's ActivityClient does not offer. */
  WorkflowServiceGrpc.WorkflowServiceBlockingStub raw() {
    return stubs
        .blockingStub()
        .withDeadlineAfter(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  // --- workers ---------------------------------------------------------------------------

  /** Runs a worker on the task queue until the test ends or the factory is shut down. */
  WorkerFactory startWorker(
      String taskQueue, String identity, Consumer<WorkerOptions.Builder> tweak, Object... impls) {
    return startWorker(workflowClient, taskQueue, identity, tweak, impls);
  }

  WorkerFactory startWorker(String taskQueue, String identity, Object... impls) {
    return startWorker(workflowClient, taskQueue, identity, b -> {}, impls);
  }

  WorkerFactory startWorker(
      WorkflowClient wc,
      String taskQueue,
      String identity,
      Consumer<WorkerOptions.Builder> tweak,
      Object... impls) {
    WorkerFactory factory = WorkerFactory.newInstance(wc);
    // Prompt heartbeats, so that cancellation and pauses reach an activity quickly.
    WorkerOptions.Builder options =
        WorkerOptions.newBuilder()
            .setIdentity(identity)
            .setMaxHeartbeatThrottleInterval(Duration.ofMillis(100))
            .setDefaultHeartbeatThrottleInterval(Duration.ofMillis(100));
    tweak.accept(options);
    Worker worker = factory.newWorker(taskQueue, options.build());
    worker.registerActivitiesImplementations(impls);
    factory.start();
    factories.add(factory);
    return factory;
  }

  static void stopWorker(WorkerFactory factory) throws InterruptedException {
    factory.shutdownNow();
    factory.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** The body of a dynamic activity: it handles every activity type its worker is sent. */
  @FunctionalInterface
  interface Body {
    Object run(ActivityExecutionContext ctx, EncodedValues args) throws Exception;
  }

  /** A worker's handler for any activity type, running body. */
  static DynamicActivity dynamic(Body body) {
    return args -> {
      try {
        return body.run(io.temporal.activity.Activity.getExecutionContext(), args);
      } catch (Exception e) {
        throw io.temporal.activity.Activity.wrap(e);
      }
    };
  }

  // --- starting and describing -------------------------------------------------------------

  static StartActivityOptions.Builder options(String id, String taskQueue) {
    return StartActivityOptions.newBuilder()
        .setId(id)
        .setTaskQueue(taskQueue)
        .setStartToCloseTimeout(ACTIVITY_TIMEOUT);
  }

  ActivityHandle<String> start(StartActivityOptions options, String type, Object... args) {
    ActivityHandle<String> h = client.start(type, String.class, options, args);
    assertEquals(options.getId(), h.getActivityId(), "handle activity ID");
    assertNotNull(h.getActivityRunId(), "handle run ID");
    return h;
  }

  ActivityHandle<String> handle(String activityId, String runId) {
    return client.getHandle(activityId, runId, String.class);
  }

  String result(ActivityHandle<String> h) throws Exception {
    return h.getResult(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The raw describe, with the payloads the SDK's describe does not ask for. */
  DescribeActivityExecutionResponse describeRaw(
      String activityId, String runId, boolean outcome, boolean heartbeat, boolean lastFailure) {
    return raw()
        .describeActivityExecution(
            DescribeActivityExecutionRequest.newBuilder()
                .setNamespace("default")
                .setActivityId(activityId)
                .setRunId(runId == null ? "" : runId)
                .setIncludeOutcome(outcome)
                .setIncludeHeartbeatDetails(heartbeat)
                .setIncludeLastFailure(lastFailure)
                .build());
  }

  ActivityExecutionDescription describeUntil(
      ActivityHandle<?> h, String what, Predicate<ActivityExecutionDescription> check) {
    return eventually(what, ACTIVITY_TIMEOUT, h::describe, check);
  }

  static void expectStatus(
      ActivityExecutionDescription d, ActivityExecutionStatus status, PendingActivityState state) {
    assertEquals(status + "/" + state, d.getStatus() + "/" + d.getRunState(), "status / run state");
  }

  static void expectRun(
      ActivityExecutionDescription d,
      ActivityExecutionStatus status,
      PendingActivityState state,
      int attempt) {
    assertEquals(
        status + "/" + state + "/" + attempt,
        d.getStatus() + "/" + d.getRunState() + "/" + d.getAttempt(),
        "status / run state / attempt");
  }

  static String decodeString(Payload p) {
    return CONVERTER.fromPayload(p, String.class, String.class);
  }

  // --- waiting and errors --------------------------------------------------------------------

  @FunctionalInterface
  interface Fetch<T> {
    T get() throws Exception;
  }

  /**
   * Calls fetch until check accepts its result, or fails with the last result after timeout. The
   * oracle's visibility store lags writes; a read-your-writes server answers on the first call.
   */
  static <T> T eventually(String what, Duration timeout, Fetch<T> fetch, Predicate<T> check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T got = null;
      Exception error = null;
      try {
        got = fetch.get();
        if (check.test(got)) {
          return got;
        }
      } catch (Exception e) {
        error = e;
      }
      if (System.nanoTime() > deadline) {
        if (error != null) {
          throw new AssertionError(what + ": still failing after " + timeout + ": " + error, error);
        }
        throw new AssertionError(what + ": still " + got + " after " + timeout);
      }
      ErrandServer.sleep(50);
    }
  }

  static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(ACTIVITY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("timed out waiting for " + what);
    }
  }

  /** The first cause of type T in t's chain, or null. */
  static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return null;
  }

  static <T extends Throwable> T expectCause(Throwable t, Class<T> type, String what) {
    T found = findCause(t, type);
    if (found == null) {
      throw new AssertionError(what + ": want " + type.getSimpleName() + " in " + chain(t), t);
    }
    return found;
  }

  static String chain(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null && sb.length() < 2000; c = c.getCause()) {
      sb.append(sb.length() == 0 ? "" : " <- ").append(c);
      if (c.getCause() == c) {
        break;
      }
    }
    return sb.length() == 0 ? "no error" : sb.toString();
  }

  @FunctionalInterface
  interface Call {
    void run() throws Exception;
  }

  /** Runs call, which must fail; returns what it threw. */
  static Throwable thrown(Call call, String what) {
    try {
      call.run();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError(what + ": succeeded, want an error");
  }

  /** The gRPC status in the chain of call's error. */
  static Status grpcStatus(Call call, String what) {
    Throwable t = thrown(call, what);
    StatusRuntimeException sre = findCause(t, StatusRuntimeException.class);
    if (sre == null) {
      throw new AssertionError(what + ": no gRPC status in " + chain(t), t);
    }
    return sre.getStatus();
  }

  static void expectStatusCode(Call call, Status.Code code, String message, String what) {
    Status st = grpcStatus(call, what);
    assertEquals(code, st.getCode(), what + ": code (" + st + ")");
    if (message != null) {
      if (message.endsWith("*")) {
        String prefix = message.substring(0, message.length() - 1);
        if (st.getDescription() == null || !st.getDescription().startsWith(prefix)) {
          fail(what + ": message " + st.getDescription() + ", want " + message);
        }
      } else {
        assertEquals(message, st.getDescription(), what + ": message");
      }
    }
  }

  static void expectNotFound(Call call, String activityId, String what) {
    expectStatusCode(call, Status.Code.NOT_FOUND, "activity not found for ID: " + activityId, what);
  }

  static void expectFailedPrecondition(Call call, String message, String what) {
    expectStatusCode(call, Status.Code.FAILED_PRECONDITION, message, what);
  }

  static com.google.protobuf.Duration protoDuration(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  static java.time.Instant instant(com.google.protobuf.Timestamp t) {
    return java.time.Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static Duration javaDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
