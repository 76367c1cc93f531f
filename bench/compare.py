#!/usr/bin/env python3
"""Runs the side-by-side benchmark suite and prints one table.

    bench/run.sh [--quick] [--only throughput,latency,...] [--markdown FILE]
                 [--peers errand,temporal,temporal-pg,bullmq]

Peers, all on this machine in the same run:
  errand       build/errand with its defaults (RocksDB, sync on: every
               acknowledged change is fsynced before the reply);
  temporal     `temporal server start-dev` from the pinned CLI, with a
               file-backed SQLite database (durable, like errand);
  temporal-pg  Temporal's server (built by bench/temporal-postgres/build.sh
               from the Go module at the CLI's server version), all services
               in one process, on Debian's PostgreSQL 15 with fsync and
               synchronous_commit on, in a cluster this script creates;
  bullmq    BullMQ on Debian's redis-server with AOF, appendfsync everysec and
            always.
The `metrics` workload reruns errand's throughput run with --metrics-listen
on and /metrics scraped every second, for the metrics' cost.
The gRPC workloads come from build/bench/errand_loadgen, the SDK workload from
bench/gosdk, the BullMQ ones from bench/bullmq/bench.mjs. Each prints a
`RESULT {json}` line; this script adds server CPU seconds and peak RSS read
from /proc, and the machine the run was on.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pwd
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("BUILD_DIR", ROOT / "build"))
LOADGEN = BUILD / "bench" / "errand_loadgen"
ERRAND = Path(os.environ.get("ERRAND_BIN", BUILD / "errand"))
GOSDK = ROOT / "bench" / "gosdk" / "bin" / "gosdk"
BULLMQ = ROOT / "bench" / "bullmq" / "bench.mjs"
TEMPORAL_PG = ROOT / "bench" / "temporal-postgres"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PEERS = ("errand", "temporal", "temporal-pg", "bullmq")
TICKS = os.sysconf("SC_CLK_TCK")


def log(*args) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_low_port() -> int:
    """A free port below the kernel's ephemeral range: Temporal keeps its
    membership ports in a PostgreSQL smallint column (at most 32767)."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32000")


def wait_port(port: int, proc: subprocess.Popen, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.monotonic() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listened on {port} within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process, its reaped children and its live children: for
    PostgreSQL's postmaster, whose backends are forked processes (a backend's
    time moves into the postmaster's cutime when it exits and is reaped, so
    the sum only grows)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss(pid: int) -> None:
    """Linux resets VmHWM when 5 is written to clear_refs (best effort)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def run_result(cmd: list[str], timeout: float) -> dict:
    log("$", " ".join(str(c) for c in cmd))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
        print(line, file=sys.stderr)
    raise RuntimeError(f"{cmd[0]} printed no RESULT (exit {out.returncode})")


class Server:
    """A server process whose CPU and memory the suite reads."""

    started: list["Server"] = []  # every server, stopped on the way out

    def __init__(self, name: str, args: list[str], port: int, data: Path, env=None):
        self.name, self.args, self.port, self.data, self.env = name, args, port, data, env
        self.proc: subprocess.Popen | None = None
        self.address = f"127.0.0.1:{port}"
        # CPU seconds of the database behind the server, when it runs in
        # processes of its own (PostgreSQL), measured beside the server's.
        self.db_cpu = None

    def start(self, timeout: float = 60) -> float:
        self.log = open(self.data / f"{self.name}.log", "ab")
        # Its own process group (so that stop() reaches its children), but
        # not its own session: with the kernel's autogroup scheduling
        # (sched_autogroup_enabled=1) a new session is a new CPU group, which
        # held any server to about one of the two cores against the load
        # generator's group. In one session, threads share the cores by need.
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log,
                                     env=self.env, process_group=0)
        Server.started.append(self)
        return wait_port(self.port, self.proc, timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def errand_server(root: Path, metrics_port: int | None = None) -> Server:
    port = free_port()
    data = root / "errand"
    data.mkdir(parents=True, exist_ok=True)
    extra = ["--metrics-listen", f"127.0.0.1:{metrics_port}"] if metrics_port else []
    return Server("errand-metrics" if metrics_port else "errand",
                  [str(ERRAND), "serve", "--listen", f"127.0.0.1:{port}",
                   "--data-dir", str(data / "db"), "--log-level", "warn",
                   "--http-listen", "", *extra], port, data)


class Scraper(threading.Thread):
    """Scrapes /metrics every second while a workload runs (Prometheus
    usually scrapes every 15 s; this is harsher)."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.done = threading.Event()
        self.scrapes = 0

    def run(self) -> None:
        while not self.done.wait(1.0):
            with urllib.request.urlopen(self.url, timeout=10) as r:
                r.read()
            self.scrapes += 1


def temporal_server(root: Path, cli: str) -> Server:
    port, ui = free_port(), free_port()
    data = root / "temporal"
    data.mkdir(parents=True, exist_ok=True)
    return Server("temporal", [cli, "server", "start-dev", "--ip", "127.0.0.1",
                               "--port", str(port), "--ui-port", str(ui), "--headless",
                               "--db-filename", str(data / "temporal.db"),
                               "--dynamic-config-value", "activity.enableStandalone=true",
                               "--log-level", "error"], port, data)


def checked(cmd: list[str], cwd: Path | None = None, check: bool = True) -> None:
    """Runs a setup command quietly; a failure raises with what it printed."""
    out = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {out.returncode}: {out.stdout.strip()}")


class Postgres:
    """A throwaway PostgreSQL cluster (Debian's PostgreSQL 15) on a free
    loopback port, its unix socket in its own temporary directory, for the
    temporal-pg peer. Durable like Errand: fsync, synchronous_commit and
    full_page_writes on (PostgreSQL's defaults, stated)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="errand-bench-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.postmaster = 0
        # PostgreSQL will not run as root: as root, run it as Debian's
        # `postgres` user, which owns the directory.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)

    def run(self, *args: str, check: bool = True) -> None:
        checked([*self.as_user, str(PG_BIN / args[0]), *args[1:]], cwd=self.dir, check=check)

    def start(self) -> None:
        # Trust on loopback and the socket: a benchmark cluster that lives
        # for one run, reachable only from this machine.
        self.run("initdb", "-D", str(self.data), "-U", "temporal", "--auth=trust",
                 "-E", "UTF8", "--locale=C")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"""
# errand bench (bench/compare.py)
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.dir}'
max_connections = 200
fsync = on
synchronous_commit = on
full_page_writes = on
""")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "postgres.log"),
                 "-w", "-t", "120", "start")
        self.postmaster = int((self.data / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.postmaster)

    def stop(self) -> None:
        if self.postmaster:
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            self.postmaster = 0
        shutil.rmtree(self.dir, ignore_errors=True)


def temporal_pg_build() -> Path:
    """The cached build of Temporal's server and SQL tool (see build.sh)."""
    out = subprocess.run([str(TEMPORAL_PG / "build.sh")], stdout=subprocess.PIPE, text=True,
                         check=True, cwd=TEMPORAL_PG).stdout.strip()
    return Path(out.splitlines()[-1])


def temporal_pg_server(root: Path, build: Path, pg: Postgres) -> Server:
    """Fresh `temporal` and `temporal_visibility` databases made with the
    module's schema tool and versioned schema (as Temporal's docs do it), then
    the server configured for them (not yet started)."""
    tool = [str(build / "bin" / "temporal-sql-tool"), "--plugin", "postgres12",
            "--endpoint", "127.0.0.1", "--port", str(pg.port), "--user", "temporal",
            "--password", "temporal"]
    for db, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        at = tool + ["--database", db]
        checked(at + ["drop-database", "--force"], check=False)  # none yet, the first time
        for step in (["create-database"], ["setup-schema", "-v", "0.0"],
                     ["update-schema", "-d",
                      str(build / "schema" / "postgresql" / "v12" / schema / "versioned")]):
            checked(at + step)
    data = root / "temporal-pg"
    data.mkdir(parents=True, exist_ok=True)
    ports = {f"{service}_{kind}": free_port() if kind == "port" else free_low_port()
             for service in ("frontend", "history", "matching", "worker")
             for kind in ("port", "membership_port")}
    dynamic = data / "dynamicconfig.yaml"
    shutil.copyfile(TEMPORAL_PG / "dynamicconfig.yaml", dynamic)
    config = data / "server.yaml"
    config.write_text(string.Template((TEMPORAL_PG / "server.yaml.in").read_text()).substitute(
        ports, pg_port=pg.port, dynamic_config=dynamic))
    server = Server("temporal-pg", [
        str(build / "bin" / "temporal-server"), "--config-file", str(config), "--allow-no-auth",
        "start", "--service", "frontend", "--service", "history", "--service", "matching",
        "--service", "worker"], ports["frontend_port"], data)
    server.db_cpu = pg.cpu_seconds
    return server


def temporal_pg_ready(server: Server, cli: str) -> None:
    """Registers the `default` namespace (a fresh cluster has only Temporal's
    system namespace; the dev server makes `default` itself), then waits until
    it answers."""
    wait_ready_ns = time.monotonic()
    while True:
        out = subprocess.run([cli, "operator", "namespace", "create", "--namespace", "default",
                              "--retention", "24h", "--address", server.address],
                             capture_output=True, text=True)
        if out.returncode == 0 or "already" in (out.stdout + out.stderr).lower():
            break
        if time.monotonic() - wait_ready_ns > 120:
            raise RuntimeError(f"namespace create failed: {out.stderr.strip()}")
        time.sleep(0.5)
    wait_ready(server)


def wait_ready(server: Server, timeout: float = 120) -> float:
    """Seconds until the server answers a namespace describe (after listening)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            run_result([str(LOADGEN), "--address", server.address, "--workload", "ping"], 10)
            return time.monotonic() - start
        except (RuntimeError, subprocess.TimeoutExpired):
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready in {timeout} s")


def measured(server: Server, cmd: list[str], timeout: float, count_key: str | None) -> dict:
    """Runs a workload and adds the server's CPU seconds (per 1,000 activities
    when `count_key` names the count) and peak RSS over it."""
    reset_peak_rss(server.pid)
    cpu0 = cpu_seconds(server.pid)
    db0 = server.db_cpu() if server.db_cpu else 0.0
    result = run_result(cmd, timeout)
    cpu = cpu_seconds(server.pid) - cpu0
    result["server_cpu_s"] = round(cpu, 2)
    if count_key and result.get(count_key):
        result["cpu_s_per_1000"] = round(cpu / result[count_key] * 1000, 3)
    result["server_peak_rss"] = peak_rss(server.pid)
    if server.db_cpu:
        db = server.db_cpu() - db0
        result["db_cpu_s"] = round(db, 2)
        if count_key and result.get(count_key):
            result["db_cpu_s_per_1000"] = round(db / result[count_key] * 1000, 3)
    return result


def machine() -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    disk = subprocess.run(["df", "-h", "--output=source,fstype,size", tempfile.gettempdir()],
                          capture_output=True, text=True).stdout.splitlines()[-1].split()
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 2**30, 1),
            "kernel": platform.release(), "tmp_disk": " ".join(disk)}


def fsync_cost(root: Path) -> float:
    """Median milliseconds of a 4 KiB write + fdatasync on the data disk: what
    a durable acknowledgement costs at least."""
    path = root / "fsync-probe"
    samples = []
    with open(path, "wb") as f:
        for _ in range(50):
            start = time.perf_counter()
            f.write(b"x" * 4096)
            f.flush()
            os.fdatasync(f.fileno())
            samples.append((time.perf_counter() - start) * 1000)
    path.unlink()
    return round(sorted(samples)[len(samples) // 2], 3)


def redis_server(root: Path, fsync: str) -> Server:
    port = free_port()
    data = root / f"redis-{fsync}"
    data.mkdir(exist_ok=True)
    return Server(f"redis-{fsync}", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                     "--appendonly", "yes", "--appendfsync", fsync,
                                     "--save", "", "--dir", str(data)], port, data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs, to check the suite works")
    ap.add_argument("--only", default="", help="comma-separated workloads")
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="comma-separated systems to run (default: %(default)s)")
    ap.add_argument("--skip-peers", action="store_true", help="errand only (--peers errand)")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--markdown", help="write the table to this file")
    args = ap.parse_args()
    # An interrupted run still stops its servers (see the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    q = args.quick
    seconds = "3" if q else "10"
    backlog_n = 20000 if q else 1000000
    temporal_backlog_n = 300 if q else 2000
    only = set(filter(None, args.only.split(",")))
    want = lambda w: not only or w in only  # noqa: E731
    peers = {"errand"} if args.skip_peers else set(filter(None, args.peers.split(",")))
    if peers - set(PEERS):
        ap.error(f"unknown peers {sorted(peers - set(PEERS))}; known: {', '.join(PEERS)}")

    cli = subprocess.run([str(ROOT / "scripts" / "install_temporal_cli.sh")], capture_output=True,
                         text=True, check=True).stdout.strip()
    root = Path(tempfile.mkdtemp(prefix="errand-bench-"))
    results: dict = {"machine": machine(), "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                     "quick": q, "fsync_ms": fsync_cost(root), "runs": []}
    log("machine:", results["machine"], "fsync p50 ms:", results["fsync_ms"])

    def record(system: str, workload: str, result: dict) -> None:
        result.update(system=system, workload=workload)
        results["runs"].append(result)
        log(system, workload, json.dumps(result))

    def grpc_workloads(server: Server, backlog: int) -> None:
        lg = [str(LOADGEN), "--address", server.address]
        if want("rpc") and server.name == "errand":
            # The RPC layer's ceiling on this machine: closed-loop calls the
            # server answers inline, so every other figure can be read as a
            # share of it (a drained task takes two calls, a closed-loop
            # activity four).
            record(server.name, "rpc", measured(
                server, lg + ["--workload", "rpc", "--seconds", seconds, "--callers", "64"],
                120, "calls"))
        if want("throughput"):
            record(server.name, "throughput", measured(
                server, lg + ["--workload", "throughput", "--seconds", seconds,
                              "--callers", "64", "--workers", "64"], 600, "completed"))
        if want("latency"):
            rate = "1000" if server.name == "errand" else "20"
            record(server.name, "latency", measured(
                server, lg + ["--workload", "latency", "--rate", rate, "--seconds", seconds,
                              "--workers", "64"],
                600, "activities"))
        if want("sdk"):
            # The SDK's default worker options (2 pollers), then tuned ones.
            # One Go SDK worker polls at most 1,000 times a second (its
            # internal poller rate limiter, which no option changes), so the
            # tuned run spreads 64 pollers over two workers.
            record(server.name, "sdk", measured(
                server, [str(GOSDK), "--address", server.address, "--callers", "64",
                         "--seconds", seconds], 600, "completed"))
            record(server.name, "sdk-tuned", measured(
                server, [str(GOSDK), "--address", server.address, "--callers", "64",
                         "--seconds", seconds, "--workers", "2", "--pollers", "32"], 600,
                "completed"))
        if want("heartbeat"):
            record(server.name, "heartbeat", measured(
                server, lg + ["--workload", "heartbeat", "--activities", "200" if server.name == "errand" else "20",
                              "--activity-seconds", "3" if q else "5"], 600, None))
        if want("backlog"):
            record(server.name, "backlog", measured(
                server, lg + ["--workload", "backlog", "--activities", str(backlog),
                              "--workers", "64", "--server-pid", str(server.pid)], 7200,
                "activities"))

    def recovery(make, workload: str, pending: int) -> None:
        """SIGKILL with `pending` activities queued, then time until the
        restarted server answers."""
        if not want("recovery"):
            return
        server = make()
        server.start()
        wait_ready(server)
        run_result([str(LOADGEN), "--address", server.address, "--workload", "fill",
                    "--activities", str(pending)], 3600)
        server.stop(signal.SIGKILL)
        start = time.monotonic()
        server.start(timeout=600)
        wait_ready(server)
        record(server.name, workload, {"pending": pending,
                                       "restart_s": round(time.monotonic() - start, 2)})
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)

    def run_errand() -> None:
        errand = errand_server(root)
        errand.start()
        wait_ready(errand)
        grpc_workloads(errand, backlog_n)
        errand.stop()
        if want("metrics"):
            # The metrics' cost: the throughput run again with /metrics on.
            metrics_port = free_port()
            with_metrics = errand_server(root / "metrics", metrics_port)
            with_metrics.start()
            wait_ready(with_metrics)
            scraper = Scraper(metrics_port)
            scraper.start()
            result = measured(with_metrics, [
                str(LOADGEN), "--address", with_metrics.address, "--workload",
                "throughput", "--seconds", seconds, "--callers", "64", "--workers", "64"],
                600, "completed")
            scraper.done.set()
            scraper.join()
            result["scrapes"] = scraper.scrapes
            record(with_metrics.name, "throughput", result)
            with_metrics.stop()
        # The same backlog as Temporal's, then one a hundred times larger.
        recovery(lambda: errand_server(root / "recovery"), "recovery", 300 if q else 1000)
        recovery(lambda: errand_server(root / "recovery"), "recovery-large",
                 20000 if q else 100000)

    def run_temporal_pg() -> None:
        nonlocal postgres
        build = temporal_pg_build()
        postgres = Postgres()
        postgres.start()
        log("postgres on port", postgres.port, "in", postgres.dir)
        server = temporal_pg_server(root, build, postgres)
        server.start(timeout=120)
        temporal_pg_ready(server, cli)
        grpc_workloads(server, temporal_backlog_n)
        server.stop()

        def fresh() -> Server:
            # Fresh databases with the namespace registered before the fill.
            fresh_server = temporal_pg_server(root / "recovery", build, postgres)
            fresh_server.start(timeout=120)
            temporal_pg_ready(fresh_server, cli)
            fresh_server.stop()
            return fresh_server

        recovery(fresh, "recovery", 300 if q else 1000)
        postgres.stop()

    postgres: Postgres | None = None
    try:
        if "errand" in peers:
            run_errand()
        if "temporal" in peers:
            temporal = temporal_server(root, cli)
            temporal.start()
            wait_ready(temporal)
            grpc_workloads(temporal, temporal_backlog_n)
            temporal.stop()
            recovery(lambda: temporal_server(root / "recovery", cli), "recovery",
                     300 if q else 1000)
        if "temporal-pg" in peers:
            run_temporal_pg()
        if "bullmq" in peers and want("bullmq") and shutil.which("redis-server"):
            for fsync in ("everysec", "always"):
                redis = redis_server(root, fsync)
                redis.start()
                node = ["node", str(BULLMQ), "--redis", redis.address]
                record(redis.name, "drain", measured(
                    redis, node + ["--workload", "drain", "--jobs", "20000" if q else "200000"],
                    3600, "jobs"))
                record(redis.name, "add-and-wait", measured(
                    redis, node + ["--workload", "add-and-wait", "--callers", "64",
                                   "--seconds", seconds], 600, "completed"))
                redis.stop()
    finally:
        for server in Server.started:
            server.stop(signal.SIGKILL)
        if postgres:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)

    table = render(results)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


def render(results: dict) -> str:
    runs = {(r["system"], r["workload"]): r for r in results["runs"]}
    m = results["machine"]
    lines = [f"Run {results['date'][:19]}Z on {m['cores']} cores ({m['cpu']}), "
             f"{m['memory_gib']} GiB, kernel {m['kernel']}, temp disk {m['tmp_disk']}; "
             f"4 KiB write+fdatasync p50 {results['fsync_ms']} ms"
             + (" (quick mode: short runs)" if results["quick"] else ""), ""]

    def value(system, workload, key):
        v = runs.get((system, workload), {}).get(key)
        if v is not None and key.endswith("rss"):
            v = v / 2**20  # MiB
        return v

    def cell(v, decimals):
        return "—" if v is None else f"{v:,.{decimals}f}"

    def ratio(a, b):
        return f"{a / b:.1f}×" if a and b else "—"

    lines += ["| figure | Errand | Temporal (dev server, SQLite) | Errand/Temporal "
              "| Temporal (PostgreSQL) | Errand/Temporal PG |", "|---|---|---|---|---|---|"]
    # (label, workload, key, decimals, higher is better)
    for label, workload, key, decimals, higher in [
        ("throughput, activities/s (64 callers)", "throughput", "per_s", 0, True),
        ("  start-to-result p99, ms", "throughput", "result_p99_ms", 1, False),
        ("  server CPU s per 1,000 activities", "throughput", "cpu_s_per_1000", 3, False),
        ("  server peak RSS, MiB", "throughput", "server_peak_rss", 0, False),
        ("  PostgreSQL CPU s per 1,000 activities", "throughput", "db_cpu_s_per_1000", 3, False),
        ("latency run, start-to-dispatch p50, ms", "latency", "dispatch_p50_ms", 2, False),
        ("  p99, ms", "latency", "dispatch_p99_ms", 2, False),
        ("  p99.9, ms", "latency", "dispatch_p999_ms", 2, False),
        ("  start-to-result p99, ms", "latency", "result_p99_ms", 2, False),
        ("Go SDK execute+get, default worker options, activities/s", "sdk", "per_s", 0, True),
        ("  p99, ms", "sdk", "p99_ms", 1, False),
        ("Go SDK, 2 workers × 32 pollers, activities/s", "sdk-tuned", "per_s", 0, True),
        ("  p99, ms", "sdk-tuned", "p99_ms", 1, False),
        ("heartbeats/s", "heartbeat", "heartbeats_per_s", 0, True),
        ("backlog enqueue, activities/s", "backlog", "enqueue_per_s", 0, True),
        ("backlog drain, activities/s", "backlog", "drain_per_s", 0, True),
        ("  server bytes per queued activity", "backlog", "bytes_per_queued", 0, False),
        ("  server peak RSS, MiB", "backlog", "peak_rss", 0, False),
        ("restart after SIGKILL, 1,000 pending, s", "recovery", "restart_s", 2, False),
        ("  with 100,000 pending, s", "recovery-large", "restart_s", 2, False),
    ]:
        e = value("errand", workload, key)
        cells = [cell(e, decimals)]
        for peer in ("temporal", "temporal-pg"):
            t = value(peer, workload, key)
            cells += [cell(t, decimals), ratio(e, t) if higher else ratio(t, e)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    em = value("errand-metrics", "throughput", "per_s")
    if em is not None:
        e = value("errand", "throughput", "per_s")
        cpu = value("errand-metrics", "throughput", "cpu_s_per_1000")
        lines += ["", f"With /metrics on and scraped every second: throughput {cell(em, 0)} "
                  f"activities/s ({cell(100 * em / e, 1) if e else '—'}% of the run without), "
                  f"server CPU {cell(cpu, 3)} s per 1,000 activities."]
    rpc = value("errand", "rpc", "per_s")
    if rpc:
        drain = value("errand", "backlog", "drain_per_s")
        loop = value("errand", "throughput", "per_s")
        enqueue = value("errand", "backlog", "enqueue_per_s")
        share = lambda v, calls: cell(100 * v * calls / rpc, 0) if v else "—"  # noqa: E731
        lines += ["", f"RPC ceiling on this machine (`errand_loadgen --workload rpc`, 64 callers, "
                  f"GetSystemInfo answered inline, client and server on the same cores): "
                  f"{cell(rpc, 0)} calls/s. As calls per second, the drain (2 calls per task) is "
                  f"{share(drain, 2)}% of it, the closed loop (4 calls per activity) "
                  f"{share(loop, 4)}%, and enqueue (1 call per start) {share(enqueue, 1)}%."]
    lines += ["", "Ratios are \"how many times better\": Errand/peer for rates, peer/Errand for "
              "times and sizes. Temporal's latency run uses a lower rate (its throughput is far "
              "below 1,000/s), and its backlog and recovery runs fewer activities; see the JSON. "
              "Temporal (PostgreSQL) is the server built from its Go module, all services in one "
              "process, 4 history shards, 1 task queue partition, on PostgreSQL 15 with fsync and "
              "synchronous_commit on: its server CPU and RSS are the Temporal process's alone; "
              "PostgreSQL's CPU (postmaster and backends, summed from /proc) is its own row, and "
              "its memory is not counted.", ""]
    has_bullmq = any(r["system"].startswith("redis-") for r in results["runs"])
    if has_bullmq:
        lines += ["| figure | Errand | BullMQ everysec | Errand/BullMQ | BullMQ always "
                  "| Errand/BullMQ always |", "|---|---|---|---|---|---|"]
    for label, mine, workload, key in [
            ("closed loop enqueue+wait, per s", value("errand", "throughput", "per_s"), "add-and-wait", "per_s"),
            ("drain a backlog, per s", value("errand", "backlog", "drain_per_s"), "drain", "drain_per_s"),
            ("enqueue, per s", value("errand", "backlog", "enqueue_per_s"), "drain", "enqueue_per_s")]:
        cells = [cell(mine, 0)]
        for fsync in ("everysec", "always"):
            p = value(f"redis-{fsync}", workload, key)
            cells += [cell(p, 0), ratio(mine, p)]
        if has_bullmq:
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    errors = [r for r in results["runs"] if r.get("errors")]
    if errors:
        lines += ["", "Errors: " + ", ".join(f"{r['system']} {r['workload']}: {r['errors']}" for r in errors)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
