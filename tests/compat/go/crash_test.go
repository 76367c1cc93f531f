// Retry after a worker crash: worker A (a child process running this test
// binary) starts attempt 1, records a heartbeat and is then SIGKILLed. The
// heartbeat timeout ends attempt 1, and attempt 2 runs on worker B with
// attempt 1's heartbeat details. Only the worker is killed, so this runs in
// oracle mode too.
package compat

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
)

// helperEnv makes the test binary act as worker A instead of running tests.
const helperEnv = "ERRAND_COMPAT_GO_HELPER_WORKER"

const checkpoint = "checkpoint-7"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		runHelperWorker(spec)
		return
	}
	os.Exit(m.Run())
}

// runHelperWorker is worker A: address|task queue|identity. Its activity
// heartbeats once and then hangs until the process is killed.
func runHelperWorker(spec string) {
	parts := strings.Split(spec, "|")
	c, err := client.Dial(client.Options{HostPort: parts[0], Namespace: "default", Identity: parts[2],
		Logger: sdkLogger{&syncBuffer{}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper worker: dial:", err)
		os.Exit(2)
	}
	w := worker.New(c, parts[1], workerOptions(parts[2]))
	w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
		activity.RecordHeartbeat(ctx, checkpoint)
		fmt.Println("attempt", activity.GetInfo(ctx).Attempt, "heartbeated")
		select {} // hang: the process is about to be killed
	}, activity.RegisterOptions{Name: "resumable"})
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "helper worker: start:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	select {}
}

func TestWorkerCrashRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := unique("tq")
	identityA, identityB := unique("worker-a"), unique("worker-b")
	const heartbeatTimeout = time.Second
	const backoff = 200 * time.Millisecond

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{e.server.Address, tq, identityA}, "|"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 10)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		cmd.Wait()
		close(exited)
	}()
	kill := func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill() // SIGKILL: no completion, no more heartbeats
			<-exited
		}
	}
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			dumpLog(t, "worker A stderr", stderr.String())
		}
	})
	expectLine := func(want string) {
		t.Helper()
		select {
		case line := <-lines:
			if line != want {
				t.Fatalf("worker A said %q, want %q", line, want)
			}
		case <-exited:
			t.Fatalf("worker A exited early: %s", stderr.String())
		case <-time.After(activityTimeout):
			t.Fatalf("worker A did not say %q", want)
		}
	}
	expectLine("ready")

	opts := startOptions(unique("crash"), tq)
	opts.HeartbeatTimeout = heartbeatTimeout
	opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: backoff, MaximumAttempts: 3}
	h := e.start(opts, "resumable")
	expectLine("attempt 1 heartbeated")

	include := client.DescribeActivityOptions{IncludeHeartbeatDetails: true, IncludeLastFailure: true}
	d := e.describeUntil(h, "worker A's heartbeat", include, func(d *client.ActivityExecutionDescription) bool {
		return d.HasHeartbeatDetails()
	})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_STARTED)
	if d.Attempt != 1 || d.LastWorkerIdentity != identityA {
		t.Errorf("attempt %d on %q, want 1 on worker A", d.Attempt, d.LastWorkerIdentity)
	}
	kill()

	// Nobody polls now. The heartbeat timeout ends attempt 1; attempt 2 waits.
	d = e.describeUntil(h, "attempt 2 to be scheduled", include, func(d *client.ActivityExecutionDescription) bool {
		return d.Attempt == 2
	})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_RUNNING, enumspb.PENDING_ACTIVITY_STATE_SCHEDULED)
	lastFailure := d.GetLastFailure()
	timeoutErr, ok := lastFailure.(*temporal.TimeoutError)
	if !ok || timeoutErr.TimeoutType() != enumspb.TIMEOUT_TYPE_HEARTBEAT {
		t.Errorf("last failure %T %v, want a heartbeat timeout", lastFailure, lastFailure)
	} else if timeoutErr.Message() != "activity Heartbeat timeout" {
		t.Errorf("last failure message %q", timeoutErr.Message())
	}
	if d.RawResponse.GetInfo().GetLastAttemptCompleteTime() == nil || d.RawResponse.GetInfo().GetCloseTime() != nil {
		t.Errorf("last attempt complete %v close %v", d.LastAttemptCompleteTime, d.CloseTime)
	}
	var details string
	if err := d.GetHeartbeatDetails(&details); err != nil || details != checkpoint {
		t.Errorf("heartbeat details kept for the next attempt: %q (%v)", details, err)
	}
	if d.LastWorkerIdentity != identityA {
		t.Errorf("last worker identity %q, want worker A", d.LastWorkerIdentity)
	}

	type seen struct {
		attempt int32
		details string
		err     error
	}
	seenCh := make(chan seen, 3)
	e.startWorker(tq, identityB, func(w worker.Worker) {
		w.RegisterActivityWithOptions(func(ctx context.Context) (string, error) {
			s := seen{attempt: activity.GetInfo(ctx).Attempt}
			if activity.HasHeartbeatDetails(ctx) {
				s.err = activity.GetHeartbeatDetails(ctx, &s.details)
			}
			seenCh <- s
			return "resumed from " + s.details, nil
		}, activity.RegisterOptions{Name: "resumable"})
	})
	if got := getString(t, e.ctx(), h); got != "resumed from "+checkpoint {
		t.Fatalf("result %q", got)
	}
	if s := <-seenCh; s.attempt != 2 || s.details != checkpoint || s.err != nil {
		t.Errorf("worker B saw attempt %d details %q (%v)", s.attempt, s.details, s.err)
	}

	d = e.describe(h, client.DescribeActivityOptions{IncludeHeartbeatDetails: true, IncludeOutcome: true})
	expectStatus(t, d, enumspb.ACTIVITY_EXECUTION_STATUS_COMPLETED, enumspb.PENDING_ACTIVITY_STATE_UNSPECIFIED)
	if d.Attempt != 2 || d.LastWorkerIdentity != identityB {
		t.Errorf("closed: attempt %d on %q, want 2 on worker B", d.Attempt, d.LastWorkerIdentity)
	}
}
