// Cluster health, system info and namespaces with the Go SDK:
// client.CheckHealth, WorkflowService().GetSystemInfo, and the SDK's
// NamespaceClient (Register, Describe).
package compat

import (
	"context"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/errordetails/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestClusterHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.client.CheckHealth(e.ctx(), &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	info, err := e.client.WorkflowService().GetSystemInfo(e.ctx(), &workflowservice.GetSystemInfoRequest{})
	if err != nil {
		t.Fatalf("GetSystemInfo: %v", err)
	}
	if info.GetServerVersion() == "" || info.GetCapabilities() == nil {
		t.Errorf("system info %v", info)
	}
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nc, err := client.NewNamespaceClient(client.Options{HostPort: e.server.Address, Logger: sdkLogger{e.sdkLog}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := func() context.Context { return e.ctx() }

	t.Run("describe-default", func(t *testing.T) {
		resp, err := nc.Describe(ctx(), "default")
		if err != nil {
			t.Fatalf("describe default: %v", err)
		}
		info := resp.GetNamespaceInfo()
		if info.GetName() != "default" || info.GetState() != enumspb.NAMESPACE_STATE_REGISTERED || info.GetId() == "" {
			t.Errorf("namespace info %v", info)
		}
		if !info.GetCapabilities().GetStandaloneActivities() {
			t.Errorf("capabilities %v: standalone activities not advertised", info.GetCapabilities())
		}
		if resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() <= 0 {
			t.Errorf("retention %v", resp.GetConfig().GetWorkflowExecutionRetentionTtl())
		}
	})

	t.Run("describe-unknown", func(t *testing.T) {
		name := unique("no-such-namespace")
		_, err := nc.Describe(ctx(), name)
		nf, ok := asError[*serviceerror.NamespaceNotFound](err)
		if !ok {
			t.Fatalf("want *serviceerror.NamespaceNotFound, got %T: %v", err, err)
		}
		if want := fmt.Sprintf("Namespace %s is not found.", name); nf.Message != want || nf.Namespace != name {
			t.Errorf("message %q namespace %q", nf.Message, nf.Namespace)
		}
		if serviceerror.ToStatus(err).Code() != codes.NotFound {
			t.Errorf("code %v", serviceerror.ToStatus(err).Code())
		}
	})

	t.Run("register", func(t *testing.T) {
		name := unique("orders")
		err := nc.Register(ctx(), &workflowservice.RegisterNamespaceRequest{
			Namespace: name, Description: "order jobs",
			WorkflowExecutionRetentionPeriod: durationpb.New(36 * time.Hour)})
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		resp := eventually(t, "describe the new namespace", settle, func() (*workflowservice.DescribeNamespaceResponse, error) {
			return nc.Describe(ctx(), name)
		}, func(*workflowservice.DescribeNamespaceResponse) bool { return true })
		if resp.GetNamespaceInfo().GetName() != name || resp.GetNamespaceInfo().GetDescription() != "order jobs" ||
			resp.GetNamespaceInfo().GetState() != enumspb.NAMESPACE_STATE_REGISTERED {
			t.Errorf("new namespace info %v", resp.GetNamespaceInfo())
		}
		if got := resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != 36*time.Hour {
			t.Errorf("retention %v", got)
		}

		// The same name again.
		err = nc.Register(ctx(), &workflowservice.RegisterNamespaceRequest{
			Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
		exists, ok := asError[*serviceerror.NamespaceAlreadyExists](err)
		if !ok {
			t.Fatalf("register again: want *serviceerror.NamespaceAlreadyExists, got %T: %v", err, err)
		}
		if want := fmt.Sprintf("Namespace %q already exists", name); exists.Message != want {
			t.Errorf("register again: message %q, want %q", exists.Message, want)
		}
		st := serviceerror.ToStatus(err)
		if st.Code() != codes.AlreadyExists || len(st.Details()) == 0 {
			t.Errorf("register again: status %v", st)
		} else if _, ok := st.Details()[0].(*errordetails.NamespaceAlreadyExistsFailure); !ok {
			t.Errorf("register again: detail %T", st.Details()[0])
		}
	})

	t.Run("register-needs-retention", func(t *testing.T) {
		err := nc.Register(ctx(), &workflowservice.RegisterNamespaceRequest{Namespace: unique("fresh")})
		ia, ok := asError[*serviceerror.InvalidArgument](err)
		if !ok {
			t.Fatalf("want *serviceerror.InvalidArgument, got %T: %v", err, err)
		}
		if ia.Message != "A valid retention period is not set on request." {
			t.Errorf("message %q", ia.Message)
		}
	})
}
