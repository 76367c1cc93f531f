package dev.errand.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.temporal.api.enums.v1.NamespaceState;
import io.temporal.api.errordetails.v1.NamespaceAlreadyExistsFailure;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.api.workflowservice.v1.DescribeNamespaceResponse;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.GetSystemInfoResponse;
import io.temporal.api.workflowservice.v1.RegisterNamespaceRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Cluster health, system info and namespaces (the Java SDK has no namespace client: raw). */
class FoundationTest extends CompatTest {

  @Test
  void clusterHealth() {
    assertEquals(
        io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING,
        stubs.healthCheck().getStatus(),
        "health check");
    GetSystemInfoResponse info = raw().getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
    assertFalse(info.getServerVersion().isEmpty(), "server version");
    assertTrue(info.hasCapabilities(), "capabilities");
  }

  DescribeNamespaceResponse describeNamespace(String name) {
    return raw()
        .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(name).build());
  }

  @Test
  void namespaces() {
    // describe-default
    DescribeNamespaceResponse d = describeNamespace("default");
    assertEquals("default", d.getNamespaceInfo().getName());
    assertEquals(NamespaceState.NAMESPACE_STATE_REGISTERED, d.getNamespaceInfo().getState());
    assertFalse(d.getNamespaceInfo().getId().isEmpty(), "namespace id");
    assertTrue(
        d.getNamespaceInfo().getCapabilities().getStandaloneActivities(),
        "standalone activities advertised: " + d.getNamespaceInfo().getCapabilities());
    assertTrue(
        javaDuration(d.getConfig().getWorkflowExecutionRetentionTtl()).compareTo(Duration.ZERO) > 0,
        "retention");

    // describe-unknown
    String unknown = unique("no-such-namespace");
    Status st = grpcStatus(() -> describeNamespace(unknown), "describe unknown");
    assertEquals(Status.Code.NOT_FOUND, st.getCode());
    assertEquals("Namespace " + unknown + " is not found.", st.getDescription());

    // register
    String name = unique("orders");
    raw()
        .registerNamespace(
            RegisterNamespaceRequest.newBuilder()
                .setNamespace(name)
                .setDescription("order jobs")
                .setWorkflowExecutionRetentionPeriod(protoDuration(Duration.ofHours(36)))
                .build());
    DescribeNamespaceResponse created =
        eventually("describe the new namespace", SETTLE, () -> describeNamespace(name), r -> true);
    assertEquals(name, created.getNamespaceInfo().getName());
    assertEquals("order jobs", created.getNamespaceInfo().getDescription());
    assertEquals(NamespaceState.NAMESPACE_STATE_REGISTERED, created.getNamespaceInfo().getState());
    assertEquals(
        Duration.ofHours(36), javaDuration(created.getConfig().getWorkflowExecutionRetentionTtl()));

    io.grpc.StatusRuntimeException again =
        expectCause(
            thrown(
                () ->
                    raw()
                        .registerNamespace(
                            RegisterNamespaceRequest.newBuilder()
                                .setNamespace(name)
                                .setWorkflowExecutionRetentionPeriod(
                                    protoDuration(Duration.ofHours(24)))
                                .build()),
                "register again"),
            io.grpc.StatusRuntimeException.class,
            "register again");
    assertEquals(Status.Code.ALREADY_EXISTS, again.getStatus().getCode());
    assertEquals("Namespace \"" + name + "\" already exists", again.getStatus().getDescription());
    com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromThrowable(again);
    assertTrue(
        details != null
            && details.getDetailsCount() > 0
            && details.getDetails(0).is(NamespaceAlreadyExistsFailure.class),
        "NamespaceAlreadyExistsFailure detail: " + details);

    // register-needs-retention
    expectStatusCode(
        () ->
            raw()
                .registerNamespace(
                    RegisterNamespaceRequest.newBuilder().setNamespace(unique("fresh")).build()),
        Status.Code.INVALID_ARGUMENT,
        "A valid retention period is not set on request.",
        "register without retention");

    // A client on the new namespace starts and describes an activity there.
    io.temporal.client.ActivityClient nsClient =
        io.temporal.client.ActivityClient.newInstance(
            stubs,
            io.temporal.client.ActivityClientOptions.newBuilder()
                .setNamespace(name)
                .setIdentity(clientIdentity)
                .build());
    String id = unique("ns");
    io.temporal.client.ActivityHandle<String> h =
        nsClient.start("compose_greeting", String.class, options(id, unique("tq")).build(), "x");
    assertEquals(id, h.describe().getActivityId());
    expectNotFound(
        () -> client.getHandle(id, null).describe(), id, "the activity in namespace default");
  }
}
