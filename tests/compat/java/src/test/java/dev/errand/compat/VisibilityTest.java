package dev.errand.compat;

import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING;
import static io.temporal.api.enums.v1.ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.temporal.api.activity.v1.ActivityExecutionListInfo;
import io.temporal.api.enums.v1.ActivityExecutionStatus;
import io.temporal.api.workflowservice.v1.ListActivityExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListActivityExecutionsResponse;
import io.temporal.client.ActivityExecutionCount;
import io.temporal.client.ActivityExecutionDescription;
import io.temporal.client.ActivityExecutionMetadata;
import io.temporal.client.ActivityHandle;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** List, count (with GROUP BY ExecutionStatus), pagination and malformed queries. */
class VisibilityTest extends CompatTest {

  /** A worker running "alpha" and "beta" (any type): mode "fail" fails non-retryably. */
  void visibilityWorker(String tq, List<io.temporal.worker.WorkerFactory> out) {
    out.add(
        startWorker(
            tq,
            unique("worker"),
            dynamic(
                (ctx, args) -> {
                  String type = ctx.getInfo().getActivityType();
                  if (args.get(0, String.class).equals("fail")) {
                    throw ApplicationFailure.newNonRetryableFailure(type + " failed", "Planned");
                  }
                  return type + " done";
                })));
  }

  /** Starts each {id, type, mode} and waits for its end. */
  Map<String, ActivityHandle<String>> runToClose(String tq, String[][] plan) {
    Map<String, ActivityHandle<String>> handles = new HashMap<>();
    for (String[] p : plan) {
      ActivityHandle<String> h = start(options(p[0], tq).build(), p[1], p[2]);
      try {
        result(h);
      } catch (Exception expectedForFail) {
        // "fail" runs end Failed.
      }
      handles.put(p[0], h);
    }
    return handles;
  }

  List<ActivityExecutionMetadata> listAll(String query) {
    return client.listExecutions(query).collect(Collectors.toList());
  }

  static Map<String, ActivityExecutionStatus> statusesOf(List<ActivityExecutionMetadata> infos) {
    Map<String, ActivityExecutionStatus> m = new TreeMap<>();
    for (ActivityExecutionMetadata info : infos) {
      m.put(info.getActivityId(), info.getStatus());
    }
    return m;
  }

  /** Lists until exactly the expected IDs show up, each with its status. */
  List<ActivityExecutionMetadata> listUntil(
      String query, Map<String, ActivityExecutionStatus> want) {
    Map<String, ActivityExecutionStatus> sorted = new TreeMap<>(want);
    return eventually(
        "list " + query,
        SETTLE,
        () -> listAll(query),
        got -> got.size() == want.size() && statusesOf(got).equals(sorted));
  }

  void idsUntil(String query, List<String> want) {
    List<String> sorted = want.stream().sorted().collect(Collectors.toList());
    eventually(
        "list " + query,
        SETTLE,
        () ->
            listAll(query).stream()
                .map(ActivityExecutionMetadata::getActivityId)
                .sorted()
                .collect(Collectors.toList()),
        sorted::equals);
  }

  // 1. List -----------------------------------------------------------------------------------

  @Test
  void list() throws Exception {
    String tq = unique("tq-vis");
    String p = unique("vis");
    Instant before = Instant.now().minusSeconds(1);
    List<io.temporal.worker.WorkerFactory> worker = new ArrayList<>();
    visibilityWorker(tq, worker);
    Map<String, ActivityHandle<String>> closed =
        runToClose(
            tq,
            new String[][] {
              {p + "-alpha-c1", "alpha", "ok"},
              {p + "-alpha-f1", "alpha", "fail"},
              {p + "-beta-c1", "beta", "ok"}
            });
    stopWorker(worker.get(0)); // the worker is gone: these stay scheduled
    Thread.sleep(50);
    Instant middle = Instant.now();
    Thread.sleep(50);
    Map<String, ActivityHandle<String>> open = new HashMap<>();
    for (String id : List.of(p + "-gamma-r1", p + "-gamma-r2")) {
      open.put(id, start(options(id, tq).build(), "gamma", "x"));
    }
    Instant after = Instant.now().plusSeconds(1);

    String tqq = "TaskQueue = '" + tq + "'";
    Map<String, ActivityExecutionStatus> want = new HashMap<>();
    want.put(p + "-alpha-c1", ACTIVITY_EXECUTION_STATUS_COMPLETED);
    want.put(p + "-alpha-f1", ACTIVITY_EXECUTION_STATUS_FAILED);
    want.put(p + "-beta-c1", ACTIVITY_EXECUTION_STATUS_COMPLETED);
    want.put(p + "-gamma-r1", ACTIVITY_EXECUTION_STATUS_RUNNING);
    want.put(p + "-gamma-r2", ACTIVITY_EXECUTION_STATUS_RUNNING);
    for (ActivityExecutionMetadata info : listUntil(tqq, want)) {
      String id = info.getActivityId();
      boolean isClosed = closed.containsKey(id);
      ActivityHandle<String> h = isClosed ? closed.get(id) : open.get(id);
      ActivityExecutionListInfo raw = info.getRawListInfo();
      assertEquals(h.getActivityRunId(), info.getActivityRunId(), id);
      assertEquals(tq, info.getTaskQueue(), id);
      assertTrue(
          !info.getScheduledTime().isBefore(before) && !info.getScheduledTime().isAfter(after),
          id + ": schedule time " + info.getScheduledTime());
      ActivityExecutionDescription d = h.describe();
      assertTrue(
          Duration.between(info.getScheduledTime(), d.getScheduledTime())
                  .abs()
                  .compareTo(Duration.ofSeconds(1))
              < 0,
          id
              + ": list schedule time "
              + info.getScheduledTime()
              + ", describe "
              + d.getScheduledTime());
      if (isClosed) {
        assertTrue(raw.hasCloseTime(), id + ": close time");
        // The dev server's visibility store keeps microseconds.
        assertTrue(
            Duration.between(instant(raw.getCloseTime()), instant(d.getRawInfo().getCloseTime()))
                    .abs()
                    .compareTo(Duration.ofNanos(1000))
                < 0,
            id
                + ": close time "
                + raw.getCloseTime()
                + " (describe "
                + d.getRawInfo().getCloseTime()
                + ")");
        assertTrue(raw.hasExecutionDuration(), id + ": execution duration");
        Duration expected =
            Duration.between(instant(raw.getScheduleTime()), instant(raw.getCloseTime()));
        assertTrue(
            javaDuration(raw.getExecutionDuration())
                    .minus(expected)
                    .abs()
                    .compareTo(Duration.ofMillis(1))
                <= 0,
            id + ": execution duration " + raw.getExecutionDuration());
      } else {
        assertEquals("gamma", info.getActivityType(), id);
        assertFalse(raw.hasCloseTime() || raw.hasExecutionDuration(), id + ": open run " + raw);
      }
    }

    String middleText = DateTimeFormatter.ISO_INSTANT.format(middle);
    Map<String, List<String>> queries = new LinkedHashMap<>();
    queries.put(tqq + " AND ActivityType = 'alpha'", List.of(p + "-alpha-c1", p + "-alpha-f1"));
    queries.put(
        tqq + " AND ActivityType = 'alpha' AND ExecutionStatus = 'Completed'",
        List.of(p + "-alpha-c1"));
    queries.put(tqq + " AND ExecutionStatus = 'Failed'", List.of(p + "-alpha-f1"));
    queries.put(
        tqq + " AND ExecutionStatus = 'Running'", List.of(p + "-gamma-r1", p + "-gamma-r2"));
    queries.put(
        tqq + " AND ExecutionStatus IN ('Failed', 'Completed')",
        List.of(p + "-alpha-c1", p + "-alpha-f1", p + "-beta-c1"));
    queries.put(tqq + " AND ActivityType != 'gamma' AND ExecutionStatus = 'Canceled'", List.of());
    queries.put(
        "ActivityId STARTS_WITH '" + p + "-alpha'", List.of(p + "-alpha-c1", p + "-alpha-f1"));
    queries.put("ActivityId = '" + p + "-beta-c1'", List.of(p + "-beta-c1"));
    queries.put(
        tqq + " AND StartTime > '" + middleText + "'", List.of(p + "-gamma-r1", p + "-gamma-r2"));
    queries.put(tqq + " AND CloseTime IS NULL", List.of(p + "-gamma-r1", p + "-gamma-r2"));
    queries.put(
        tqq + " AND (ActivityType = 'beta' OR ExecutionStatus = 'Failed')",
        List.of(p + "-beta-c1", p + "-alpha-f1"));
    for (Map.Entry<String, List<String>> q : queries.entrySet()) {
      idsUntil(q.getKey(), q.getValue());
    }
  }

  // 2. Count ----------------------------------------------------------------------------------

  /**
   * The group counts by their single group value, decoded by the SDK. Temporal types each group
   * value as a Keyword search attribute value; the Java SDK decodes it only with that type.
   */
  static Map<String, Long> groupCounts(ActivityExecutionCount r) {
    Map<String, Long> m = new TreeMap<>();
    for (ActivityExecutionCount.AggregationGroup g : r.getGroups()) {
      List<?> values = g.getGroupValues();
      assertEquals(1, values.size(), "group values " + values);
      Object value = values.get(0);
      // A Keyword search attribute value decodes as a list of its values.
      if (value instanceof List<?> list && list.size() == 1) {
        value = list.get(0);
      }
      assertInstanceOf(String.class, value, "group value " + values);
      m.put((String) value, g.getCount());
    }
    return m;
  }

  @Test
  void countGroupBy() throws Exception {
    String tq = unique("tq-vis");
    List<io.temporal.worker.WorkerFactory> worker = new ArrayList<>();
    visibilityWorker(tq, worker);
    runToClose(
        tq,
        new String[][] {
          {unique("cnt"), "alpha", "ok"},
          {unique("cnt"), "beta", "ok"},
          {unique("cnt"), "alpha", "fail"}
        });
    stopWorker(worker.get(0));
    for (String type : List.of("alpha", "alpha", "beta")) {
      start(options(unique("cnt"), tq).build(), type, "x");
    }
    String tqq = "TaskQueue = '" + tq + "'";

    ActivityExecutionCount grouped =
        eventually(
            "count GROUP BY ExecutionStatus",
            SETTLE,
            () -> client.countExecutions(tqq + " GROUP BY ExecutionStatus"),
            r -> groupCounts(r).equals(Map.of("Completed", 2L, "Failed", 1L, "Running", 3L)));
    assertEquals(6, grouped.getCount(), "grouped total");

    Map<String, Long> plain = new LinkedHashMap<>();
    plain.put(tqq, 6L);
    plain.put(tqq + " AND ExecutionStatus = 'Running'", 3L);
    plain.put(tqq + " AND ActivityType = 'alpha'", 4L);
    plain.put(tqq + " AND ActivityType = 'nope'", 0L);
    for (Map.Entry<String, Long> q : plain.entrySet()) {
      ActivityExecutionCount r =
          eventually(
              "count " + q.getKey(),
              SETTLE,
              () -> client.countExecutions(q.getKey()),
              c -> c.getCount() == q.getValue());
      assertTrue(
          r.getGroups().isEmpty(), q.getKey() + ": groups without GROUP BY " + r.getGroups());
    }
    ActivityExecutionCount alpha =
        eventually(
            "count alpha GROUP BY",
            SETTLE,
            () ->
                client.countExecutions(
                    tqq + " AND ActivityType = 'alpha' GROUP BY ExecutionStatus"),
            r -> groupCounts(r).equals(Map.of("Completed", 1L, "Failed", 1L, "Running", 2L)));
    assertEquals(4, alpha.getCount(), "alpha grouped total");
  }

  // 3. Pagination and default order -----------------------------------------------------------

  @Test
  void pagination() throws Exception {
    String tq = unique("tq-vis");
    String p = unique("page");
    List<String> ids = new ArrayList<>();
    List<ActivityHandle<String>> handles = new ArrayList<>();
    for (int i = 0; i < 7; i++) { // start order 0..6, nobody polls
      ids.add(p + "-" + i);
      handles.add(start(options(ids.get(i), tq).build(), "paged"));
      Thread.sleep(10);
    }
    // Close three of them in an order unlike their start order.
    handles.get(1).terminate("first to close");
    Thread.sleep(10);
    handles.get(4).cancel("second to close");
    Thread.sleep(10);
    handles.get(0).terminate("last to close");

    // Running first (newest start first), then closed by close time, newest first.
    List<String> wantOrder =
        List.of(ids.get(6), ids.get(5), ids.get(3), ids.get(2), ids.get(0), ids.get(4), ids.get(1));
    String query = "TaskQueue = '" + tq + "'";
    Map<String, ActivityExecutionStatus> want = new HashMap<>();
    for (int i : new int[] {2, 3, 5, 6}) {
      want.put(ids.get(i), ACTIVITY_EXECUTION_STATUS_RUNNING);
    }
    want.put(ids.get(0), ACTIVITY_EXECUTION_STATUS_TERMINATED);
    want.put(ids.get(1), ACTIVITY_EXECUTION_STATUS_TERMINATED);
    want.put(ids.get(4), ACTIVITY_EXECUTION_STATUS_CANCELED);
    List<String> order =
        listUntil(query, want).stream()
            .map(ActivityExecutionMetadata::getActivityId)
            .collect(Collectors.toList());
    assertEquals(wantOrder, order, "SDK list order");

    // Raw pages of 3: 3, 3, 1; a token after each full page, none after the last.
    List<List<String>> pages = new ArrayList<>();
    ByteString token = ByteString.EMPTY;
    for (int i = 0; i < 10; i++) {
      ListActivityExecutionsResponse resp =
          raw()
              .listActivityExecutions(
                  ListActivityExecutionsRequest.newBuilder()
                      .setNamespace("default")
                      .setQuery(query)
                      .setPageSize(3)
                      .setNextPageToken(token)
                      .build());
      pages.add(
          resp.getExecutionsList().stream()
              .map(ActivityExecutionListInfo::getActivityId)
              .collect(Collectors.toList()));
      token = resp.getNextPageToken();
      if (token.isEmpty()) {
        break;
      }
    }
    assertEquals(
        List.of(3, 3, 1),
        pages.stream().map(List::size).collect(Collectors.toList()),
        "page sizes of " + pages);
    assertEquals(
        wantOrder,
        pages.stream().flatMap(List::stream).collect(Collectors.toList()),
        "paged order");
  }

  // 4. Malformed queries ----------------------------------------------------------------------

  void expectInvalid(Call call, String what) {
    Status st = grpcStatus(call, what);
    assertEquals(Status.Code.INVALID_ARGUMENT, st.getCode(), what + ": " + st);
    // Messages differ between servers; only the code and a message are asserted.
    assertNotNull(st.getDescription(), what + ": message");
    assertFalse(st.getDescription().isEmpty(), what + ": message");
  }

  @Test
  void badQueryError() {
    for (String query : List.of("ActivityType = ", "NoSuchAttr = 'x'", "ActivityType = 'x' AND")) {
      expectInvalid(() -> listAll(query), "list " + query);
      expectInvalid(() -> client.countExecutions(query), "count " + query);
    }
    // GROUP BY takes ExecutionStatus only, and one field only.
    for (String query :
        List.of(
            "ActivityType = 'x' GROUP BY ActivityType",
            "GROUP BY TaskQueue",
            "ExecutionStatus = 'Running' GROUP BY ExecutionStatus, ActivityType")) {
      expectInvalid(() -> client.countExecutions(query), "count " + query);
      expectInvalid(() -> listAll(query), "list " + query);
    }
  }

  /** List accepts "GROUP BY ExecutionStatus" and lists what the same query without it lists. */
  @Test
  void listWithGroupByExecutionStatus() throws Exception {
    String tq = unique("tq-vis");
    ActivityHandle<String> a = start(options(unique("grp"), tq).build(), "grouped");
    ActivityHandle<String> b = start(options(unique("grp"), tq).build(), "grouped");
    b.terminate("closed");
    String query = "TaskQueue = '" + tq + "'";
    Map<String, ActivityExecutionStatus> want =
        Map.of(
            a.getActivityId(),
            ACTIVITY_EXECUTION_STATUS_RUNNING,
            b.getActivityId(),
            ACTIVITY_EXECUTION_STATUS_TERMINATED);
    listUntil(query, want);
    List<ActivityExecutionMetadata> got = listAll(query + " GROUP BY ExecutionStatus");
    assertEquals(new TreeMap<>(want), statusesOf(got), "list with GROUP BY ExecutionStatus");
    assertEquals(2, got.size());
  }
}
