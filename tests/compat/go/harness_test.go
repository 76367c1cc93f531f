// Harness for the Go SDK compatibility scenarios.
//
// Every test gets its own errand process: a free port on loopback, a fresh
// temporary data directory, `errand serve --log-level debug`, SIGTERM and
// cleanup at the end, and the server log in the test output when the test
// fails. The binary is $ERRAND_BIN, else build/errand of this repository.
//
// Oracle mode: COMPAT_ORACLE_ADDRESS=host:port points every test at an
// already running server (e.g. a real Temporal dev server with standalone
// activities enabled) instead of spawning errand. It exists to check that the
// scenarios encode real Temporal behaviour; CI never sets it. Tests that have
// to stop or restart the server call requireOwnServer and are skipped there.
package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// oracleAddress is the external server of oracle mode, or "".
var oracleAddress = strings.TrimSpace(os.Getenv("COMPAT_ORACLE_ADDRESS"))

// rpcTimeout bounds every client call a test makes that is not meant to wait.
const rpcTimeout = 10 * time.Second

// repoRoot is three levels above this file (tests/compat/go).
func repoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("cannot locate harness_test.go")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func errandBinary(t testing.TB) string {
	path := os.Getenv("ERRAND_BIN")
	if path == "" {
		path = filepath.Join(repoRoot(), "build", "errand")
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("errand binary not found at %s; build it or set ERRAND_BIN", path)
	}
	return path
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output from its pipe goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a test's view of the server it talks to: an errand process of
// its own, or the oracle.
type server struct {
	Address string
	dataDir string
	cmd     *exec.Cmd
	done    chan struct{}
	log     *syncBuffer
}

// Log is the server's output so far ("" in oracle mode).
func (s *server) Log() string {
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// startServer gives the test a server: a fresh errand process, or the oracle.
func startServer(t *testing.T) *server {
	t.Helper()
	if oracleAddress != "" {
		return &server{Address: oracleAddress}
	}
	dataDir, err := os.MkdirTemp("", "errand-compat-go-")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{dataDir: dataDir, log: &syncBuffer{}}
	s.Address = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			dumpLog(t, "errand log", s.Log())
		}
		os.RemoveAll(s.dataDir)
	})
	s.start(t)
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(errandBinary(t), "serve", "--listen", s.Address,
		"--data-dir", s.dataDir, "--log-level", "debug",
		// Any free port: the default (8233) would be shared by every server.
		"--http-listen", "127.0.0.1:0")
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting errand: %v", err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("errand exited with %v:\n%s", cmd.ProcessState, s.Log())
		default:
		}
		conn, err := net.DialTimeout("tcp", s.Address, 500*time.Millisecond)
		if err == nil {
			conn.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("errand did not listen on %s:\n%s", s.Address, s.Log())
}

// stop sends SIGTERM and waits (SIGKILL after 15 s).
func (s *server) stop(t *testing.T) {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Errorf("errand did not stop within 15s of SIGTERM; killing it")
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	s.cmd = nil
}

// kill sends SIGKILL and waits: a crash, with no chance to flush or close.
// start(t) brings the server back on the same address and data directory.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// requireOwnServer skips the test in oracle mode, where the server process
// is not ours to stop or restart.
func requireOwnServer(t *testing.T) {
	if oracleAddress != "" {
		t.Skipf("oracle mode (%s): the server process is not ours to kill or restart", oracleAddress)
	}
}

func dumpLog(t *testing.T, what, text string) {
	const max = 256 << 10
	if text == "" {
		return
	}
	if len(text) > max {
		text = "...\n" + text[len(text)-max:]
	}
	t.Logf("---- %s ----\n%s\n---- end of %s ----", what, text, what)
}

// sdkLogger keeps the SDK's warnings and errors for the failure dump; it
// never writes to t directly, since SDK goroutines may log after the test.
type sdkLogger struct{ out *syncBuffer }

func (l sdkLogger) line(level, msg string, keyvals []any) {
	fmt.Fprintf(l.out, "%s %s %s %v\n", time.Now().Format("15:04:05.000"), level, msg, keyvals)
}
func (l sdkLogger) Debug(string, ...any)             {}
func (l sdkLogger) Info(string, ...any)              {}
func (l sdkLogger) Warn(msg string, keyvals ...any)  { l.line("WARN", msg, keyvals) }
func (l sdkLogger) Error(msg string, keyvals ...any) { l.line("ERROR", msg, keyvals) }

// env is one test's server plus the SDK client connected to it.
type env struct {
	t      *testing.T
	server *server
	client client.Client
	// clientIdentity is the identity the client sends.
	clientIdentity string
	sdkLog         *syncBuffer
}

// newEnv starts a server for the test and dials a client on namespace "default".
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, server: startServer(t), sdkLog: &syncBuffer{}, clientIdentity: unique("client")}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, "SDK warnings and errors", e.sdkLog.String())
		}
	})
	e.client = e.dial("default", e.clientIdentity)
	return e
}

// dial connects a further client to the test's server.
func (e *env) dial(namespace, identity string) client.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  e.server.Address,
		Namespace: namespace,
		Identity:  identity,
		Logger:    sdkLogger{e.sdkLog},
	})
	if err != nil {
		e.t.Fatalf("dial %s: %v", e.server.Address, err)
	}
	e.t.Cleanup(c.Close)
	return c
}

// workerOptions keeps heartbeats prompt so that cancellation reaches an
// activity quickly.
func workerOptions(identity string) worker.Options {
	return worker.Options{
		Identity:                         identity,
		MaxHeartbeatThrottleInterval:     100 * time.Millisecond,
		DefaultHeartbeatThrottleInterval: 100 * time.Millisecond,
	}
}

// startWorker runs a worker on the task queue until the test ends (or until
// the returned stop function is called).
func (e *env) startWorker(taskQueue, identity string, register func(worker.Worker)) (stop func()) {
	e.t.Helper()
	w := worker.New(e.client, taskQueue, workerOptions(identity))
	register(w)
	if err := w.Start(); err != nil {
		e.t.Fatalf("worker start: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(w.Stop) }
	e.t.Cleanup(stop)
	return stop
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	e.t.Cleanup(cancel)
	return ctx
}

func unique(prefix string) string {
	return prefix + "-" + uuid.NewString()
}

// eventually calls fetch until check accepts its result, or fails the test
// with the last result after timeout. The oracle's visibility store lags
// writes; a read-your-writes server answers on the first call.
func eventually[T any](t *testing.T, what string, timeout time.Duration, fetch func() (T, error), check func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := fetch()
		if err == nil && check(got) {
			return got
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
			}
			t.Fatalf("%s: still %+v after %v", what, got, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// asError reports whether err's chain has a *T and returns it.
func asError[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
