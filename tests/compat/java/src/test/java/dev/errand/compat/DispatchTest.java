package dev.errand.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.PollerInfo;
import io.temporal.api.taskqueue.v1.RateLimit;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueResponse;
import io.temporal.api.workflowservice.v1.UpdateTaskQueueConfigRequest;
import io.temporal.api.workflowservice.v1.UpdateTaskQueueConfigResponse;
import io.temporal.common.Priority;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Dispatch order and rate with the Java SDK: a task queue's backlog is handed out by priority (1
 * first, unset in the middle), shared between fairness keys by weight, in the order tasks became
 * ready within a level (also after a crash and restart), at a worker's or the queue's configured
 * rate; DescribeTaskQueue shows the backlog and the poller.
 *
 * <p>A worker with one activity slot takes one task at a time, so the order its activity runs in is
 * the server's dispatch order. Every task is started before the worker polls, so the whole set is
 * backlog.
 */
class DispatchTest extends CompatTest {
  /** Bounds how long a backlog may take to run. */
  static final Duration DISPATCH_TIMEOUT = Duration.ofSeconds(60);

  record Task(String name, Priority priority) {}

  /** Starts one "record" activity per task, in order, long enough for the backlog to run. */
  void startAll(String tq, List<Task> tasks) {
    for (Task task : tasks) {
      var opts = options(unique(task.name), tq).setStartToCloseTimeout(DISPATCH_TIMEOUT);
      if (task.priority != null) {
        opts.setPriority(task.priority);
      }
      start(opts.build(), "record", task.name);
    }
  }

  DescribeTaskQueueResponse describeQueue(String tq) {
    return raw()
        .describeTaskQueue(
            DescribeTaskQueueRequest.newBuilder()
                .setNamespace("default")
                .setTaskQueue(TaskQueue.newBuilder().setName(tq))
                .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
                .setReportStats(true)
                .build());
  }

  /**
   * Runs count tasks with a single-slot worker; returns their names in the order they ran. The
   * worker starts once the queue reports all of them as backlog: Temporal's matching loads a
   * backlog asynchronously (and reports it approximately, cached for a few seconds), and a poll
   * that comes before it has loaded the rest gets the best of what it has; Errand reports it
   * exactly at once.
   */
  List<String> runOneAtATime(String tq, int count) throws Exception {
    eventually(
        "a backlog of " + count,
        Duration.ofSeconds(15),
        () -> describeQueue(tq),
        r -> r.getStats().getApproximateBacklogCount() == count);
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch allDone = new CountDownLatch(count);
    WorkerFactory f =
        startWorker(
            tq,
            unique("worker"),
            // One slot and one poller: the Java SDK's pollers (5 by default) would otherwise
            // each hold a task fetched ahead and run them in whichever order slots free up.
            b -> b.setMaxConcurrentActivityExecutionSize(1).setMaxConcurrentActivityTaskPollers(1),
            dynamic(
                (ctx, args) -> {
                  String name = args.get(0, String.class);
                  order.add(name);
                  allDone.countDown();
                  return name;
                }));
    try {
      if (!allDone.await(DISPATCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        fail("only " + order.size() + " of " + count + " tasks ran: " + order);
      }
    } finally {
      stopWorker(f);
    }
    synchronized (order) {
      return new ArrayList<>(order);
    }
  }

  static Priority key(int k) {
    return Priority.newBuilder().setPriorityKey(k).build();
  }

  @Test
  void priorityOrder() throws Exception {
    String tq = unique("priority");
    List<Task> tasks =
        List.of(
            new Task("p5-a", key(5)),
            new Task("unset-a", null),
            new Task("p1-a", key(1)),
            new Task("p3-a", key(3)),
            new Task("p2-a", key(2)),
            new Task("p5-b", key(5)),
            new Task("p1-b", key(1)),
            new Task("unset-b", null));
    startAll(tq, tasks);
    // Unset is the middle level (3 of 5): with p3-a, in the order started.
    assertEquals(
        List.of("p1-a", "p1-b", "p2-a", "unset-a", "p3-a", "unset-b", "p5-a", "p5-b"),
        runOneAtATime(tq, tasks.size()),
        "dispatch order");
  }

  static List<String> names(String prefix) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      out.add(prefix + i);
    }
    return out;
  }

  @Test
  void fairnessWeights() throws Exception {
    String tq = unique("fair");
    // Tenant a's whole burst is queued before any of tenant b's.
    List<Task> tasks = new ArrayList<>();
    for (String name : names("a")) {
      tasks.add(
          new Task(name, Priority.newBuilder().setFairnessKey("a").setFairnessWeight(3).build()));
    }
    for (String name : names("b")) {
      tasks.add(
          new Task(name, Priority.newBuilder().setFairnessKey("b").setFairnessWeight(1).build()));
    }
    startAll(tq, tasks);
    List<String> order = runOneAtATime(tq, tasks.size());
    long fromA = order.subList(0, 40).stream().filter(n -> n.startsWith("a")).count();
    // 3:1 of 40 is 30:10.
    assertTrue(
        fromA >= 28 && fromA <= 32,
        fromA + " of the first 40 dispatches from tenant a, want 28..32: " + order.subList(0, 40));
    // Within a tenant, the order tasks became ready.
    for (String prefix : List.of("a", "b")) {
      assertEquals(
          names(prefix),
          order.stream().filter(n -> n.startsWith(prefix)).collect(Collectors.toList()),
          "tenant " + prefix);
    }
  }

  @Test
  void readyOrderSurvivesRestart() throws Exception {
    requireOwnServer();
    String tq = unique("fifo");
    // Names (and so IDs) sort the other way round from the order they are started in, so a
    // rebuild in storage order would come out reversed.
    List<Task> tasks = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String name = (char) ('z' - i) + "-" + i;
      names.add(name);
      tasks.add(new Task(name, null));
    }
    startAll(tq, tasks);
    server.kill();
    server.start();
    awaitServing();
    assertEquals(names, runOneAtATime(tq, tasks.size()), "order after a restart");
  }

  // Rate limits ----------------------------------------------------------------------------------

  /**
   * Runs a 20-slot worker asking for workerRate dispatches a second until 5.5 s after the first
   * task started (or count tasks ran); returns when each task started, in ms after the first.
   */
  List<Long> dispatchTimes(String tq, int count, double workerRate) throws Exception {
    List<Long> started = Collections.synchronizedList(new ArrayList<>());
    WorkerFactory f =
        startWorker(
            tq,
            unique("rate-worker"),
            b ->
                b.setMaxConcurrentActivityExecutionSize(20)
                    .setMaxTaskQueueActivitiesPerSecond(workerRate),
            dynamic(
                (ctx, args) -> {
                  started.add(System.nanoTime());
                  return args.get(0, String.class);
                }));
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    try {
      while (System.nanoTime() < giveUp) {
        synchronized (started) {
          if (started.size() >= count
              || (!started.isEmpty()
                  && started.get(started.size() - 1) - started.get(0)
                      >= TimeUnit.MILLISECONDS.toNanos(5500))) {
            break;
          }
        }
        Thread.sleep(100);
      }
    } finally {
      stopWorker(f);
    }
    synchronized (started) {
      assertTrue(!started.isEmpty(), "no task ran");
      long first = started.get(0);
      return started.stream()
          .map(t -> TimeUnit.NANOSECONDS.toMillis(t - first))
          .collect(Collectors.toList());
    }
  }

  /** After the one-second burst (5 at once), 4 s at 5/s start 20 tasks, within 20%. */
  static void assertFivePerSecond(List<Long> offsetsMillis) {
    long inWindow = offsetsMillis.stream().filter(ms -> ms >= 1000 && ms < 5000).count();
    assertTrue(
        inWindow >= 16 && inWindow <= 24,
        inWindow
            + " tasks started between 1 s and 5 s after the first, want 16..24: "
            + offsetsMillis);
  }

  void startRecords(String tq, String prefix, int n) {
    List<Task> tasks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      tasks.add(new Task(prefix + i, null));
    }
    startAll(tq, tasks);
  }

  @Test
  void workerRateLimit() throws Exception {
    String tq = unique("rate");
    startRecords(tq, "r", 60);
    assertFivePerSecond(dispatchTimes(tq, 60, 5));
  }

  @Test
  void configRateLimitOverridesTheWorkers() throws Exception {
    String tq = unique("config-rate");
    UpdateTaskQueueConfigResponse updated =
        raw()
            .updateTaskQueueConfig(
                UpdateTaskQueueConfigRequest.newBuilder()
                    .setNamespace("default")
                    .setIdentity("ops")
                    .setTaskQueue(tq)
                    .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
                    .setUpdateQueueRateLimit(
                        UpdateTaskQueueConfigRequest.RateLimitUpdate.newBuilder()
                            .setRateLimit(RateLimit.newBuilder().setRequestsPerSecond(5))
                            .setReason("downstream is slow"))
                    .build());
    assertEquals(
        5.0f,
        updated.getConfig().getQueueRateLimit().getRateLimit().getRequestsPerSecond(),
        "rate after the update: " + updated);
    startRecords(tq, "c", 60);
    assertFivePerSecond(dispatchTimes(tq, 60, 1000));
  }

  @Test
  void describeTaskQueueShowsTheBacklogAndThePoller() throws Exception {
    String tq = unique("describe");
    startRecords(tq, "d", 5);
    // Temporal's stats are approximate and cached for a few seconds; Errand's are exact at once.
    Fetch<DescribeTaskQueueResponse> describe = () -> describeQueue(tq);
    DescribeTaskQueueResponse before =
        eventually(
            "a backlog of 5",
            Duration.ofSeconds(15),
            describe,
            r -> r.getStats().getApproximateBacklogCount() == 5);
    assertTrue(
        javaDuration(before.getStats().getApproximateBacklogAge()).compareTo(Duration.ZERO) > 0,
        "backlog age " + before.getStats().getApproximateBacklogAge());
    assertEquals(
        0, before.getPollersCount(), "pollers before any worker: " + before.getPollersList());

    String identity = unique("describe-worker");
    CountDownLatch allDone = new CountDownLatch(5);
    startWorker(
        tq,
        identity,
        b -> b.setMaxTaskQueueActivitiesPerSecond(50),
        dynamic(
            (ctx, args) -> {
              allDone.countDown();
              return args.get(0, String.class);
            }));
    if (!allDone.await(DISPATCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("the backlog did not run");
    }
    DescribeTaskQueueResponse after =
        eventually(
            "an empty backlog with dispatches",
            Duration.ofSeconds(15),
            describe,
            r ->
                r.getStats().getApproximateBacklogCount() == 0
                    && r.getStats().getTasksDispatchRate() > 0);
    PollerInfo poller =
        after.getPollersList().stream()
            .filter(p -> p.getIdentity().equals(identity))
            .findFirst()
            .orElseThrow(
                () ->
                    new AssertionError(
                        "poller " + identity + " not among " + after.getPollersList()));
    assertEquals(50.0, poller.getRatePerSecond(), "poller rate");
    assertTrue(poller.hasLastAccessTime(), "poller without a last access time: " + poller);
  }
}
