// Hostile input: requests a client with no credentials can send to crash the
// server or grow its memory. Each test runs its own errand process, sends
// such requests on a raw gRPC connection (no SDK in between to refuse or
// retry them), checks the exact status of each answer, and then that the
// process is still running and serving (and, for poll floods, that its
// resident memory settles back). scripts/test.sh runs them with the
// rest of this suite.
//
// The limits are Errand's (see include/errand/visibility/query.h for
// queries, 1,000 bytes for task queue names as in Temporal), so these tests
// need an errand process of their own and are skipped in oracle mode.
package compat

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/operatorservice/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// hostile is a test's own server and a raw connection to it.
type hostile struct {
	t    *testing.T
	srv  *server
	conn *grpc.ClientConn
	ws   workflowservice.WorkflowServiceClient
}

func newHostile(t *testing.T) *hostile {
	t.Helper()
	requireOwnServer(t)
	srv := startServer(t)
	conn, err := grpc.NewClient(srv.Address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		t.Fatalf("connecting to %s: %v", srv.Address, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &hostile{t: t, srv: srv, conn: conn,
		ws: workflowservice.NewWorkflowServiceClient(conn)}
}

func (h *hostile) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	h.t.Cleanup(cancel)
	return ctx
}

// alive fails the test unless the errand process is still running and
// answers GetSystemInfo.
func (h *hostile) alive(after string) {
	h.t.Helper()
	select {
	case <-h.srv.done:
		h.t.Fatalf("errand exited after %s: %v", after, h.srv.cmd.ProcessState)
	default:
	}
	if _, err := h.ws.GetSystemInfo(h.ctx(), &workflowservice.GetSystemInfoRequest{}); err != nil {
		h.t.Fatalf("errand does not answer after %s: %v", after, err)
	}
}

// expectStatus checks err's code and its exact message.
func expectCode(t *testing.T, what string, err error, code codes.Code, message string) {
	t.Helper()
	s, _ := grpcstatus.FromError(err)
	if s.Code() != code || s.Message() != message {
		t.Errorf("%s: got %v %q, want %v %q", what, s.Code(), s.Message(), code, message)
	}
}

// rawCodec sends and receives bytes as they are, so a request can be any
// bytes at all.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// invokeRaw calls method with body as the request's bytes.
func (h *hostile) invokeRaw(method string, body []byte, opts ...grpc.CallOption) error {
	var reply []byte
	return h.conn.Invoke(h.ctx(), method, &body, &reply, append(opts, grpc.ForceCodec(rawCodec{}))...)
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

// chain joins n copies of term with op.
func chain(term, op string, n int) string {
	return strings.TrimSuffix(repeat(term+" "+op+" ", n), " "+op+" ")
}

func TestHostileQueries(t *testing.T) {
	h := newHostile(t)
	const depthError = "invalid query: malformed SQL query: max nesting level reached at position %d: " +
		"at most 100 parentheses and NOTs may be open at once"
	lengthError := func(q string) string {
		return fmt.Sprintf("invalid query: query length exceeds limit. Length=%d Limit=32768", len(q))
	}
	term := "ActivityId = 'x'"
	notChain := repeat("NOT ", 15000) + term
	orChain := chain(term, "OR", 40000)
	andChain := chain(term, "AND", 40000)
	// 1,001 terms fit in 32 KiB; the predicate limit stops them.
	short := chain("A = 1", "OR", 1001)
	cases := []struct {
		name, query, message string
	}{
		{"7,000 nested parentheses", repeat("(", 7000) + term + repeat(")", 7000), fmt.Sprintf(depthError, 101)},
		{"101 NOTs", repeat("NOT ", 101) + term, fmt.Sprintf(depthError, 401)},
		{"15,000 NOTs", notChain, lengthError(notChain)},
		{"40,000-term OR chain", orChain, lengthError(orChain)},
		{"40,000-term AND chain", andChain, lengthError(andChain)},
		{"1,001 predicates", short, "invalid query: predicate count exceeds limit at position 9001. Limit=1000"},
		{"1 MiB of spaces", repeat(" ", 1<<20), lengthError(repeat(" ", 1<<20))},
	}
	for _, c := range cases {
		_, err := h.ws.ListActivityExecutions(h.ctx(), &workflowservice.ListActivityExecutionsRequest{
			Namespace: "default", Query: c.query})
		expectCode(t, "List: "+c.name, err, codes.InvalidArgument, c.message)
		_, err = h.ws.CountActivityExecutions(h.ctx(), &workflowservice.CountActivityExecutionsRequest{
			Namespace: "default", Query: c.query})
		expectCode(t, "Count: "+c.name, err, codes.InvalidArgument, c.message)
		h.alive(c.name)
	}
	// Just inside the limits, queries run.
	for name, query := range map[string]string{
		"100 nested parentheses": repeat("(", 100) + term + repeat(")", 100),
		"100 NOTs":               repeat("NOT ", 100) + term,
		"1,000-term OR chain":    chain(term, "OR", 1000),
		"1,000-term AND chain":   chain("ExecutionStatus != 'Failed'", "AND", 1000),
	} {
		if _, err := h.ws.CountActivityExecutions(h.ctx(), &workflowservice.CountActivityExecutionsRequest{
			Namespace: "default", Query: query}); err != nil {
			t.Errorf("Count: %s: %v", name, err)
		}
	}
	h.alive("queries at the limits")
}

// pollsOnHugeNames sends 500 activity and 500 workflow task polls with
// distinct 100 KB task queue names (50 MB each way), 100 at a time, and
// returns how many were not refused with want. Each is refused at once and
// nothing is kept for it. (A server that took them would hold each until its
// 4 s deadline.)
func (h *hostile) pollsOnHugeNames(prefix, want string) int {
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	sem := make(chan struct{}, 100)
	for i := 0; i < 500; i++ {
		name := fmt.Sprintf("%s%06d", prefix, i) + repeat("q", 100*1024)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			_, err := h.ws.PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
				Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: name}})
			errs <- err
			_, err = h.ws.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
				Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: name}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	wrong := 0
	for err := range errs {
		if s, _ := grpcstatus.FromError(err); s.Code() != codes.InvalidArgument || s.Message() != want {
			if wrong++; wrong <= 3 {
				expectCode(h.t, "poll with a 100 KB task queue name", err, codes.InvalidArgument, want)
			}
		}
	}
	return wrong
}

// pollsOnDistinctNames sends n polls on n distinct short task queue names
// (a third for workflow tasks), all waiting at once, and returns how many
// were not answered empty before their deadline.
func (h *hostile) pollsOnDistinctNames(prefix string, n int) int {
	answers := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			name := fmt.Sprintf("%s-%d", prefix, i)
			var resp interface{ GetTaskToken() []byte }
			var err error
			if i%3 == 0 {
				resp, err = h.ws.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
					Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: name}})
			} else {
				resp, err = h.ws.PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
					Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: name}})
			}
			if err == nil && len(resp.GetTaskToken()) != 0 {
				err = fmt.Errorf("poll on %s got a task", name)
			}
			answers <- err
		}()
	}
	failed := 0
	for i := 0; i < n; i++ {
		if err := <-answers; err != nil {
			if failed++; failed <= 3 {
				h.t.Errorf("poll on a short task queue name: %v", err)
			}
		}
	}
	return failed
}

// rss is the errand process's resident memory (VmRSS), in bytes.
func (h *hostile) rss() int64 {
	h.t.Helper()
	path := fmt.Sprintf("/proc/%d/status", h.srv.cmd.Process.Pid)
	status, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("reading %s: %v", path, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				h.t.Fatalf("%s: cannot parse %q: %v", path, line, err)
			}
			return kb << 10
		}
	}
	h.t.Fatalf("%s has no VmRSS line", path)
	return 0
}

// settledRSS is the errand process's resident memory once the requests sent
// so far have been answered and what they held is freed: the lowest of
// samples over 3 s. Freeing may trail the last answer a little; what is
// kept (a leak) stays in every sample.
func (h *hostile) settledRSS() int64 {
	lowest := h.rss()
	for i := 0; i < 15; i++ {
		time.Sleep(200 * time.Millisecond)
		lowest = min(lowest, h.rss())
	}
	return lowest
}

// asanQuarantine is how much freed memory AddressSanitizer holds back from
// reuse (quarantine_size_mb, 256 MiB by default) when errand runs under it
// (scripts/sanitize.sh runs this suite against such a build; gcc links the
// runtime, libasan, dynamically), and 0 otherwise.
func (h *hostile) asanQuarantine() int64 {
	h.t.Helper()
	path := fmt.Sprintf("/proc/%d/maps", h.srv.cmd.Process.Pid)
	maps, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("reading %s: %v", path, err)
	}
	if bytes.Contains(maps, []byte("libasan")) {
		return 256 << 20
	}
	return 0
}

// floodTaskQueueNames sends both kinds of poll floods, with names made
// distinct by prefix, and checks their answers.
func (h *hostile) floodTaskQueueNames(prefix string) {
	const tooLong = "taskQueue length exceeds limit"
	if wrong := h.pollsOnHugeNames(prefix, tooLong); wrong > 0 {
		h.t.Errorf("%d of 1000 polls with 100 KB task queue names were not refused", wrong)
	}
	h.alive("polls with 100 KB task queue names")
	// A few thousand distinct short names, all waiting at once: each poll
	// is answered empty before its deadline, and the server still serves.
	if failed := h.pollsOnDistinctNames(prefix, 3000); failed > 0 {
		h.t.Errorf("%d of 3000 polls on distinct task queues failed", failed)
	}
	h.alive("polls on thousands of distinct task queues")
}

func TestHostileTaskQueueNames(t *testing.T) {
	h := newHostile(t)
	_, err := h.ws.StartActivityExecution(h.ctx(), &workflowservice.StartActivityExecutionRequest{
		Namespace: "default", ActivityId: "a", ActivityType: &commonpb.ActivityType{Name: "t"},
		TaskQueue:           &taskqueuepb.TaskQueue{Name: repeat("q", 100*1024)},
		StartToCloseTimeout: durationpb.New(time.Minute)})
	expectCode(t, "start with a 100 KB task queue name", err, codes.InvalidArgument,
		"taskQueue length exceeds limit")

	// Two rounds of floods first, so that what the server's memory settles
	// at under them (gRPC's buffers, threads, the allocator's arenas: about
	// 30 MiB more after the first round, a few after the second) is in the
	// baseline. Then three more: nothing of them may be kept. The margin is
	// well above the allocator's noise (within ±30 MiB here) and well below
	// what keeping the refused names would take: a server that took them
	// and kept their queues grew by 40 to 60 MiB a round (185 MiB over
	// three). Under AddressSanitizer its quarantine of freed memory comes on
	// top.
	h.floodTaskQueueNames("warm-up-1-")
	h.floodTaskQueueNames("warm-up-2-")
	baseline := h.settledRSS()
	for _, round := range []string{"a-", "b-", "c-"} {
		h.floodTaskQueueNames(round)
	}
	after := h.settledRSS()
	margin := int64(64<<20) + h.asanQuarantine()
	t.Logf("errand RSS: %d MiB after two warm-up rounds, %d MiB after three more (%+d KiB; margin %d MiB)",
		baseline>>20, after>>20, (after-baseline)>>10, margin>>20)
	if after-baseline > margin {
		t.Errorf("errand RSS grew from %d MiB to %d MiB over polls that should leave nothing behind (more than %d MiB)",
			baseline>>20, after>>20, margin>>20)
	}
}

// badUTF8 marshals msg, then swaps placeholder, wherever it is (nested
// messages included), for bytes of the same length that are not UTF-8, so
// every length prefix stays right.
func badUTF8(t *testing.T, msg proto.Message, placeholder string) []byte {
	t.Helper()
	data, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	invalid := bytes.Repeat([]byte{0xff}, len(placeholder))
	if !bytes.Contains(data, []byte(placeholder)) {
		t.Fatalf("placeholder not in %T", msg)
	}
	return bytes.ReplaceAll(data, []byte(placeholder), invalid)
}

const (
	workflowServicePrefix = "/temporal.api.workflowservice.v1.WorkflowService/"
	unmarshalPrefix       = "grpc: error unmarshalling request: "
	wireFormatError       = unmarshalPrefix + "proto: cannot parse invalid wire-format data"
)

func fieldError(message proto.Message) string {
	return unmarshalPrefix + "invalid " + string(message.ProtoReflect().Descriptor().FullName()) +
		": a string field is not valid UTF-8, or a nested message is malformed or nested too deeply"
}

func TestHostileUndecodableRequests(t *testing.T) {
	h := newHostile(t)
	const p = "PLACEHOLDER"
	utf8Cases := []struct {
		method string
		msg    proto.Message
	}{
		{"DescribeNamespace", &workflowservice.DescribeNamespaceRequest{Namespace: p}},
		{"StartActivityExecution", &workflowservice.StartActivityExecutionRequest{
			Namespace: "default", ActivityId: p, ActivityType: &commonpb.ActivityType{Name: "t"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"}, StartToCloseTimeout: durationpb.New(time.Minute)}},
		// In a nested message.
		{"StartActivityExecution", &workflowservice.StartActivityExecutionRequest{
			Namespace: "default", ActivityId: "a", ActivityType: &commonpb.ActivityType{Name: "t"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: p}, StartToCloseTimeout: durationpb.New(time.Minute)}},
		{"PollActivityTaskQueue", &workflowservice.PollActivityTaskQueueRequest{
			Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"}, Identity: p}},
		{"ListActivityExecutions", &workflowservice.ListActivityExecutionsRequest{Namespace: "default", Query: p}},
		{"RespondActivityTaskCompleted", &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: "default", TaskToken: []byte("t"), Identity: p}},
	}
	for _, c := range utf8Cases {
		for _, gz := range []bool{false, true} {
			var opts []grpc.CallOption
			if gz {
				opts = append(opts, grpc.UseCompressor(gzip.Name))
			}
			err := h.invokeRaw(workflowServicePrefix+c.method, badUTF8(t, c.msg, p), opts...)
			expectCode(t, fmt.Sprintf("%s with invalid UTF-8 (gzip %v)", c.method, gz), err,
				codes.InvalidArgument, fieldError(c.msg))
		}
	}
	h.alive("strings that are not UTF-8")

	// A failure whose causes nest deeper than protobuf's parsing limit.
	failure := &failurepb.Failure{Message: "bottom"}
	for i := 0; i < 1000; i++ {
		failure = &failurepb.Failure{Message: "cause", Cause: failure}
	}
	deep := &workflowservice.RespondActivityTaskFailedRequest{Namespace: "default", TaskToken: []byte("t"), Failure: failure}
	body, err := proto.Marshal(deep)
	if err != nil {
		t.Fatal(err)
	}
	err = h.invokeRaw(workflowServicePrefix+"RespondActivityTaskFailed", body)
	expectCode(t, "failure causes nested 1,000 deep", err, codes.InvalidArgument, fieldError(deep))
	h.alive("deeply nested failure causes")

	// Random bytes (that Go's decoder refuses too) as the body of every
	// method of both services: a method Errand serves refuses them as
	// undecodable, one it does not serve says so.
	rng := rand.New(rand.NewSource(12))
	served := map[string]bool{}
	for _, service := range []protoreflect.ServiceDescriptor{
		workflowservice.File_temporal_api_workflowservice_v1_service_proto.Services().Get(0),
		operatorservice.File_temporal_api_operatorservice_v1_service_proto.Services().Get(0),
	} {
		for i := 0; i < service.Methods().Len(); i++ {
			method := service.Methods().Get(i)
			var garbage []byte
			for {
				garbage = make([]byte, 1+rng.Intn(512))
				rng.Read(garbage)
				if proto.Unmarshal(garbage, dynamicpb.NewMessage(method.Input())) != nil {
					break
				}
			}
			path := fmt.Sprintf("/%s/%s", service.FullName(), method.Name())
			err := h.invokeRaw(path, garbage)
			s, _ := grpcstatus.FromError(err)
			switch {
			case s.Code() == codes.InvalidArgument && strings.HasPrefix(s.Message(), unmarshalPrefix):
				served[string(method.Name())] = true
			case s.Code() == codes.Unimplemented && s.Message() == fmt.Sprintf("method %s not implemented", method.Name()):
			default:
				t.Errorf("%s with random bytes: got %v %q", path, s.Code(), s.Message())
			}
		}
	}
	for _, method := range []string{"GetSystemInfo", "DescribeNamespace", "StartActivityExecution",
		"DescribeActivityExecution", "ListActivityExecutions", "CountActivityExecutions",
		"PollActivityTaskQueue", "PollWorkflowTaskQueue", "RespondActivityTaskCompleted",
		"RecordActivityTaskHeartbeat", "AddSearchAttributes"} {
		if !served[method] {
			t.Errorf("%s did not refuse random bytes as undecodable", method)
		}
	}
	// Bytes that are not protobuf at all, plain and compressed, small and
	// large.
	big := make([]byte, 4<<20)
	rng.Read(big)
	big[0] = 0xff // a tag whose varint runs on: never valid
	for name, body := range map[string][]byte{"16 x 0xff": bytes.Repeat([]byte{0xff}, 16), "4 MiB random": big} {
		for _, gz := range []bool{false, true} {
			var opts []grpc.CallOption
			if gz {
				opts = append(opts, grpc.UseCompressor(gzip.Name))
			}
			err := h.invokeRaw(workflowServicePrefix+"StartActivityExecution", body, opts...)
			expectCode(t, fmt.Sprintf("%s (gzip %v)", name, gz), err, codes.InvalidArgument, wireFormatError)
		}
	}
	h.alive("random request bodies")
}

// rewriteToken re-encodes a protobuf token with every length-delimited field
// equal to from replaced by to, whatever its field number.
func rewriteToken(t *testing.T, token []byte, from, to string) []byte {
	t.Helper()
	var out []byte
	for len(token) > 0 {
		num, typ, n := protowire.ConsumeTag(token)
		if n < 0 {
			t.Fatalf("token is not protobuf: %v", protowire.ParseError(n))
		}
		token = token[n:]
		m := protowire.ConsumeFieldValue(num, typ, token)
		if m < 0 {
			t.Fatalf("token is not protobuf: %v", protowire.ParseError(m))
		}
		value := token[:m]
		token = token[m:]
		if typ == protowire.BytesType {
			if v, _ := protowire.ConsumeBytes(value); string(v) == from {
				out = protowire.AppendTag(out, num, typ)
				out = protowire.AppendString(out, to)
				continue
			}
		}
		out = protowire.AppendTag(out, num, typ)
		out = append(out, value...)
	}
	return out
}

func TestHostileTokens(t *testing.T) {
	h := newHostile(t)
	rng := rand.New(rand.NewSource(7))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		b[0] = 0xff // never valid protobuf
		return b
	}
	tq := unique("hostile-tq")
	start := func(id string) string {
		resp, err := h.ws.StartActivityExecution(h.ctx(), &workflowservice.StartActivityExecutionRequest{
			Namespace: "default", ActivityId: id, ActivityType: &commonpb.ActivityType{Name: "t"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, StartToCloseTimeout: durationpb.New(time.Minute)})
		if err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		return resp.GetRunId()
	}
	first, second := unique("first"), unique("second")
	firstRun := start(first)
	secondRun := start(second)

	// Task tokens: garbage, empty, forged from a real one.
	poll, err := h.ws.PollActivityTaskQueue(h.ctx(), &workflowservice.PollActivityTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, Identity: "hostile"})
	if err != nil || len(poll.GetTaskToken()) == 0 {
		t.Fatalf("poll: %v (token %q)", err, poll.GetTaskToken())
	}
	token := poll.GetTaskToken()
	polled := poll.GetActivityId()
	ns, err := h.ws.DescribeNamespace(h.ctx(), &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	complete := func(token []byte) error {
		_, err := h.ws.RespondActivityTaskCompleted(h.ctx(), &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: "default", TaskToken: token, Identity: "hostile"})
		return err
	}
	heartbeat := func(token []byte) error {
		_, err := h.ws.RecordActivityTaskHeartbeat(h.ctx(), &workflowservice.RecordActivityTaskHeartbeatRequest{
			Namespace: "default", TaskToken: token, Identity: "hostile"})
		return err
	}
	const badToken = "Error deserializing task token."
	expectCode(t, "empty task token", complete(nil), codes.InvalidArgument, "Task token not set on request.")
	expectCode(t, "64 random bytes as task token", complete(garbage(64)), codes.InvalidArgument, badToken)
	expectCode(t, "1 MiB random task token", heartbeat(garbage(1<<20)), codes.InvalidArgument, badToken)
	// Well-formed protobuf without the fields a token has.
	expectCode(t, "task token of unknown fields", complete(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1)),
		codes.InvalidArgument, badToken)
	expectCode(t, "task token for another namespace",
		complete(rewriteToken(t, token, ns.GetNamespaceInfo().GetId(), "00000000-0000-0000-0000-000000000000")),
		codes.InvalidArgument, "Operation requested with a token from a different namespace.")
	missing := unique("missing")
	expectCode(t, "task token for an activity that does not exist",
		complete(rewriteToken(t, token, polled, missing)), codes.NotFound, "activity not found for ID: "+missing)
	// The real token works once; afterwards it is stale.
	if err := complete(token); err != nil {
		t.Fatalf("complete with the real token: %v", err)
	}
	if s := grpcstatus.Code(heartbeat(token)); s != codes.NotFound {
		t.Errorf("heartbeat with a spent task token: got %v, want NotFound", s)
	}
	h.alive("forged task tokens")

	// Long-poll tokens.
	describe := func(id, run string, token []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := h.ws.DescribeActivityExecution(ctx, &workflowservice.DescribeActivityExecutionRequest{
			Namespace: "default", ActivityId: id, RunId: run, LongPollToken: token})
		return err
	}
	d, err := h.ws.DescribeActivityExecution(h.ctx(), &workflowservice.DescribeActivityExecutionRequest{
		Namespace: "default", ActivityId: first, RunId: firstRun})
	if err != nil {
		t.Fatal(err)
	}
	expectCode(t, "long-poll token without a run ID", describe(first, "", garbage(32)),
		codes.InvalidArgument, "run id is required when long poll token is provided")
	expectCode(t, "random long-poll token", describe(first, firstRun, garbage(32)),
		codes.InvalidArgument, "invalid long poll token")
	expectCode(t, "1 MiB random long-poll token", describe(first, firstRun, garbage(1<<20)),
		codes.InvalidArgument, "invalid long poll token")
	expectCode(t, "another activity's long-poll token", describe(second, secondRun, d.GetLongPollToken()),
		codes.InvalidArgument, "long poll token does not match execution")
	h.alive("forged long-poll tokens")

	// Page tokens.
	list := func(token []byte) error {
		_, err := h.ws.ListActivityExecutions(h.ctx(), &workflowservice.ListActivityExecutionsRequest{
			Namespace: "default", PageSize: 1, NextPageToken: token})
		return err
	}
	expectCode(t, "random page token", list(garbage(32)), codes.InvalidArgument, "invalid next_page_token")
	expectCode(t, "1 MiB random page token", list(garbage(1<<20)), codes.InvalidArgument, "invalid next_page_token")
	h.alive("forged page tokens")
}
