// Command gosdk is the Temporal Go SDK workload of Errand's side-by-side
// benchmark suite: a real SDK worker and K caller goroutines, each starting a
// standalone activity with client.ExecuteActivity and waiting for its result
// with handle.Get, in a closed loop.
//
//	go build -o bin/ . && bin/gosdk --address 127.0.0.1:7233 --namespace default \
//	    --callers 64 --seconds 10 --worker-concurrency 200
//
// It works against any server that speaks the Standalone Activity API
// (Errand, or a Temporal server with activity.enableStandalone=true).
// Diagnostics go to stderr; the figures are printed as exactly one line on
// stdout: `RESULT {compact JSON}`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

const activityName = "bench-echo"

// echo is the no-op activity: it returns its input at once.
func echo(_ context.Context, in string) (string, error) { return in, nil }

type config struct {
	address           string
	namespace         string
	callers           int
	seconds           float64
	warmup            float64
	workerConcurrency int
	pollers           int
	autoscale         bool
	workers           int
	opTimeout         time.Duration
}

type result struct {
	Workload          string   `json:"workload"`
	System            string   `json:"system"`
	Address           string   `json:"address"`
	Namespace         string   `json:"namespace"`
	TaskQueue         string   `json:"task_queue"`
	Callers           int      `json:"callers"`
	WorkerConcurrency int      `json:"worker_concurrency"`
	Pollers           int      `json:"pollers"`
	Workers           int      `json:"workers"`
	Seconds           float64  `json:"seconds"`
	WarmupS           float64  `json:"warmup_s"`
	Completed         int      `json:"completed"`
	Errors            int64    `json:"errors"`
	PerS              float64  `json:"per_s"`
	P50Ms             *float64 `json:"p50_ms"`
	P90Ms             *float64 `json:"p90_ms"`
	P99Ms             *float64 `json:"p99_ms"`
	MaxMs             *float64 `json:"max_ms"`
	StartP50Ms        *float64 `json:"start_p50_ms"`
	StartP99Ms        *float64 `json:"start_p99_ms"`
	FirstError        string   `json:"first_error,omitempty"`
}

func main() {
	var cfg config
	flag.StringVar(&cfg.address, "address", "127.0.0.1:7233", "server host:port")
	flag.StringVar(&cfg.namespace, "namespace", "default", "namespace")
	flag.IntVar(&cfg.callers, "callers", 64, "caller goroutines (closed loop)")
	flag.Float64Var(&cfg.seconds, "seconds", 10, "measured seconds")
	flag.Float64Var(&cfg.warmup, "warmup", 1, "warm-up seconds, not counted")
	flag.IntVar(&cfg.workerConcurrency, "worker-concurrency", 200, "worker's MaxConcurrentActivityExecutionSize")
	flag.IntVar(&cfg.pollers, "pollers", 0, "worker's MaxConcurrentActivityTaskPollers (0: the SDK's default, 2)")
	flag.BoolVar(&cfg.autoscale, "autoscale", false, "poll with the SDK's autoscaling poller behaviour (5 pollers at first, 1 to 100, driven by the server's poller scaling hints) instead of a fixed number")
	flag.IntVar(&cfg.workers, "workers", 1, "worker.New instances on the task queue (each has its own client and poll-rate limiter)")
	flag.DurationVar(&cfg.opTimeout, "op-timeout", 30*time.Second, "deadline of one start+get; past it the call counts as an error")
	flag.Parse()
	if cfg.callers < 1 || cfg.seconds <= 0 || cfg.warmup < 0 || cfg.workerConcurrency < 1 || cfg.pollers < 0 || cfg.workers < 1 {
		fmt.Fprintln(os.Stderr, "bad arguments")
		flag.Usage()
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "[gosdk-bench] fatal:", err)
		os.Exit(1)
	}
	line, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "[gosdk-bench] fatal:", err)
		os.Exit(1)
	}
	fmt.Printf("RESULT %s\n", line)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[gosdk-bench] "+format+"\n", args...)
}

func dial(cfg config, identity string, logger sdklog.Logger) (client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return client.DialContext(ctx, client.Options{
		HostPort:  cfg.address,
		Namespace: cfg.namespace,
		Identity:  identity,
		Logger:    logger,
	})
}

func run(cfg config) (*result, error) {
	// The SDK's warnings and errors go to stderr; its info chatter is dropped.
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelWarn})))
	runID := fmt.Sprintf("%d-%d", time.Now().UnixNano(), os.Getpid())
	taskQueue := "bench-" + runID

	// Worker and callers dial separately, as two processes would.
	workerClient, err := dial(cfg, "bench-worker-"+runID, logger)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.address, err)
	}
	defer workerClient.Close()
	callerClient, err := dial(cfg, "bench-caller-"+runID, logger)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.address, err)
	}
	defer callerClient.Close()

	// An activity-only worker: without DisableWorkflowWorker the SDK would also
	// long-poll for workflow tasks, which a standalone-activity server such as
	// Errand answers with Unimplemented (one SDK warning, then backed-off retries).
	opts := worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.workerConcurrency,
		MaxConcurrentActivityTaskPollers:   cfg.pollers,
		DisableWorkflowWorker:              true,
	}
	if cfg.autoscale {
		opts.MaxConcurrentActivityTaskPollers = 0
		opts.ActivityTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	}
	for k := 0; k < cfg.workers; k++ {
		wc := workerClient
		if k > 0 {
			if wc, err = dial(cfg, fmt.Sprintf("bench-worker-%s-%d", runID, k), logger); err != nil {
				return nil, err
			}
			defer wc.Close()
		}
		w := worker.New(wc, taskQueue, opts)
		w.RegisterActivityWithOptions(echo, activity.RegisterOptions{Name: activityName})
		if err := w.Start(); err != nil {
			return nil, fmt.Errorf("worker start: %w", err)
		}
		defer w.Stop()
	}
	logf("worker on task queue %s at %s (namespace %s)", taskQueue, cfg.address, cfg.namespace)

	start := time.Now()
	measureFrom := start.Add(time.Duration(cfg.warmup * float64(time.Second)))
	stopAt := measureFrom.Add(time.Duration(cfg.seconds * float64(time.Second)))

	type callerStats struct {
		latencies []time.Duration // start → result, calls that finished inside the window
		startLat  []time.Duration // ExecuteActivity alone, same calls
		warmup    int
		late      int
	}
	stats := make([]callerStats, cfg.callers)
	var errCount atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < cfg.callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := &stats[i]
			for seq := 0; time.Now().Before(stopAt); seq++ {
				id := fmt.Sprintf("bench-%s-%d-%d", runID, i, seq)
				t0 := time.Now()
				tStarted, err := once(callerClient, cfg.opTimeout, id, taskQueue)
				t1 := time.Now()
				// A call belongs to the window in which it ended, so that calls
				// slower than the window still count (completions per second).
				switch {
				case err != nil:
					if !t1.Before(measureFrom) && !t1.After(stopAt) {
						if errCount.Add(1) <= 5 {
							logf("caller %d: %v", i, err)
						}
						firstErr.CompareAndSwap(nil, err.Error())
					}
					time.Sleep(10 * time.Millisecond) // no hot loop against a failing server
				case t1.Before(measureFrom):
					st.warmup++
				case t1.After(stopAt):
					st.late++
				default:
					st.latencies = append(st.latencies, t1.Sub(t0))
					st.startLat = append(st.startLat, tStarted.Sub(t0))
				}
			}
		}(i)
	}
	wg.Wait()

	var all, starts []time.Duration
	warm, late := 0, 0
	for _, st := range stats {
		all = append(all, st.latencies...)
		starts = append(starts, st.startLat...)
		warm += st.warmup
		late += st.late
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	sort.Slice(starts, func(a, b int) bool { return starts[a] < starts[b] })
	logf("completed %d in the %.1f s window (+%d warm-up, +%d after the window), %d errors",
		len(all), cfg.seconds, warm, late, errCount.Load())

	pollers := cfg.pollers
	if pollers == 0 {
		pollers = 2
	}
	if cfg.autoscale {
		pollers = -1 // autoscaling: no fixed number
	}
	res := &result{
		Workload:          "sdk-execute",
		System:            "go-sdk",
		Address:           cfg.address,
		Namespace:         cfg.namespace,
		TaskQueue:         taskQueue,
		Callers:           cfg.callers,
		WorkerConcurrency: cfg.workerConcurrency,
		Pollers:           pollers,
		Workers:           cfg.workers,
		Seconds:           cfg.seconds,
		WarmupS:           cfg.warmup,
		Completed:         len(all),
		Errors:            errCount.Load(),
		PerS:              round(float64(len(all))/cfg.seconds, 1),
		P50Ms:             pct(all, 0.50),
		P90Ms:             pct(all, 0.90),
		P99Ms:             pct(all, 0.99),
		MaxMs:             pct(all, 1),
		StartP50Ms:        pct(starts, 0.50),
		StartP99Ms:        pct(starts, 0.99),
	}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	return res, nil
}

// once starts one activity and waits for its result; it returns when the
// start call returned, for the start-latency figure.
func once(c client.Client, timeout time.Duration, id, taskQueue string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	handle, err := c.ExecuteActivity(ctx, client.StartActivityOptions{
		ID:                  id,
		TaskQueue:           taskQueue,
		StartToCloseTimeout: 10 * time.Second,
	}, activityName, id)
	started := time.Now()
	if err != nil {
		return started, fmt.Errorf("start: %w", err)
	}
	var out string
	if err := handle.Get(ctx, &out); err != nil {
		return started, fmt.Errorf("get: %w", err)
	}
	if out != id {
		return started, errors.New("result does not echo the input")
	}
	return started, nil
}

// pct is the nearest-rank percentile in milliseconds, nil for no samples.
func pct(sorted []time.Duration, p float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	rank = max(0, min(len(sorted)-1, rank))
	v := round(float64(sorted[rank])/float64(time.Millisecond), 2)
	return &v
}

func round(x float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(x*f) / f
}
