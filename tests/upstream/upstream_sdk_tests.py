"""Runs the Temporal SDKs' own standalone-activity tests against errand (or the
Temporal dev server, or any address) and prints passed/failed/skipped per suite
with the names of the tests that did not pass.

Usually started by scripts/upstream_sdk_tests.sh; see docs/compatibility.md,
"The SDKs' own tests". Nothing fetched here is committed: sources live in a
cache directory (default ~/.cache/errand/upstream-tests).

Suites:
  core    the Core SDK's integration tests `standalone_activity_tests` (Rust),
          taken from the temporalio sdist on PyPI at the version pinned in
          tests/compat/python/requirements.lock (the sdist ships the Core SDK
          source the Python SDK is built on, tests included).
  python  the Python SDK's tests/test_activity.py. PyPI does not carry them (the
          sdist holds only the temporalio package and the Rust bridge), so they
          come from --python-src, an sdk-python checkout (or --clone); they run
          against the temporalio release named in its pyproject.toml (or
          --python-sdk), in a venv of their own.
  go      the Go SDK's integration suite test/ (module go.temporal.io/sdk/test),
          its standalone-activity tests. The module proxy does not carry that
          module, and go.temporal.io/sdk's zip leaves test/ out (a directory with
          its own go.mod is not part of the parent module), so it comes from
          --go-src, an sdk-go checkout (or --clone).
--clone makes shallow clones of the SDK repositories at the pinned versions'
tags, for machines that reach them. A suite whose source is not available is
reported as such, not as a failure. Every suite is fetched and built before a
server starts. Exit code: 0 when every suite that ran passed, 1 when a test
failed, 2 on a set-up failure or when no suite could run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Tests selected per suite: the standalone-activity ones.
CORE_FILTER = "integ_tests::standalone_activity_tests::"
# (file, test) pairs; None selects the whole file. A test absent from the checkout
# (another release) is left out rather than failing collection.
PYTHON_TESTS = [("tests/test_activity.py", None),
                ("tests/worker/test_extstore.py", "test_store_metadata_standalone_activity")]
GO_RUN = ("^Test(Integration|ExternalStorage)Suite$/"
          "^(TestExecuteActivitySuite|TestInterceptorStandaloneActivity|"
          "TestStandaloneActivity.*|TestTargetContext_ExecuteStandaloneActivity|"
          "TestTargetContext_CompleteActivityByActivityID)$")

# Python test dependencies that upstream's conftest needs. Their versions come
# from the checkout's uv.lock (upstream's own lock); these ranges, from its
# pyproject.toml, are the fallback.
PYTHON_TEST_DEPS = {"pytest": "~=9.0", "pytest-asyncio": ">=0.21,<0.22",
                    "pytest-timeout": "~=2.2", "opentelemetry-api": ">=1.11.1,<2",
                    "opentelemetry-sdk": ">=1.11.1,<2"}

# Dynamic config for the Temporal dev server: what this project's oracle runs
# use, plus what the SDKs' own test set-ups pass that bears on activities.
ORACLE_DYNAMIC_CONFIG = [
    "activity.enableStandalone=true",
    "activity.startDelayEnabled=true",
    "activity.enableCallbacks=true",
    "matching.enableFairness=true",
    "history.enableStandaloneActivityOperatorCommands=true",
    "frontend.enableBatchOperationsForStandaloneActivities=true",
    "frontend.activityAPIsEnabled=true",
    "history.enableChasm=true",
    "history.enableTransitionHistory=true",
    "system.forceSearchAttributesCacheRefreshOnRead=true",
    "frontend.enableCancelWorkerPollsOnShutdown=true",
    "frontend.WorkerHeartbeatsEnabled=true",
    "frontend.ListWorkersEnabled=true",
    "system.enableEagerWorkflowStart=true",
    "history.enableRequestIdRefLinks=true",
    "nexusoperation.enableStandalone=true",
    "history.enableCHASMCallbacks=true",
    'callback.allowedAddresses=[{"Pattern":"*","AllowInsecure":true}]',
    'system.refreshNexusEndpointsMinWait="0s"',
]


def log(msg: str) -> None:
    print(f"[upstream] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


class SetupError(Exception):
    pass


# ---------------------------------------------------------------- servers


class Server:
    """A server process started here, on free loopback ports, with throw-away state."""

    def __init__(self, what: str, args: list[str], port: int, workdir: Path):
        self.what = what
        self.address = f"127.0.0.1:{port}"
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, python: str, deadline: float = 90.0) -> None:
        """Waits until namespace "default" answers an activity call (the dev server
        registers it a little after it starts listening)."""
        probe = ("import asyncio,sys\n"
                 "from temporalio.client import Client\n"
                 "from temporalio.api.workflowservice.v1 import CountActivityExecutionsRequest\n"
                 "async def m():\n"
                 "    c = await Client.connect(sys.argv[1])\n"
                 "    await c.workflow_service.count_activity_executions(\n"
                 "        CountActivityExecutionsRequest(namespace='default', query=''))\n"
                 "asyncio.run(m())\n")
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SetupError(f"{self.what} exited with code {self.proc.returncode}; "
                                 f"log: {self.log_path}")
            r = subprocess.run([python, "-c", probe, self.address], capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.5)
        raise SetupError(f"{self.what} at {self.address} not ready after {deadline}s; "
                         f"log: {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_errand(binary: str, workdir: Path) -> Server:
    port = free_port()
    return Server("errand", [binary, "serve", "--listen", f"127.0.0.1:{port}",
                             "--data-dir", str(workdir / "data"), "--sync", "false",
                             "--http-listen", ""],
                  port, workdir)


def start_oracle(cli: str, workdir: Path) -> Server:
    port = free_port()
    args = [cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(port), "--ui-port", str(free_port()),
            "--http-port", str(free_port()), "--metrics-port", str(free_port()),
            "--db-filename", str(workdir / "temporal.db"), "--log-level", "warn"]
    for kv in ORACLE_DYNAMIC_CONFIG:
        args += ["--dynamic-config-value", kv]
    return Server("temporal dev server", args, port, workdir)


# ---------------------------------------------------------------- results


@dataclass
class Result:
    suite: str
    version: str = ""
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unavailable: str = ""  # why the suite did not run
    log: str = ""
    why: dict[str, str] = field(default_factory=dict)  # failed test -> hint

    def fail(self, name: str, text: str) -> None:
        self.failed.append(name)
        hint = failure_hint(text)
        if hint:
            self.why[name] = hint

    def line(self) -> str:
        if self.unavailable:
            return f"{self.suite:<7} {self.version:<10} not run: {self.unavailable}"
        return (f"{self.suite:<7} {self.version:<10} {len(self.passed)} passed, "
                f"{len(self.failed)} failed, {len(self.skipped)} skipped")


UNIMPLEMENTED_CALL = re.compile(r"[Mm]ethod (\w+) (?:is )?not implemented")


def failure_hint(text: str) -> str:
    """A first guess at why a test failed, from the first call errand answered
    UNIMPLEMENTED (errand runs no workflows and no Nexus); docs/compatibility.md
    has the verdicts, checked against the Temporal dev server."""
    m = UNIMPLEMENTED_CALL.search(text)
    if not m:
        return ""
    method = m.group(1)
    if "Nexus" in method:
        return f"needs Nexus ({method} is not implemented)"
    if "Workflow" in method:
        return f"needs workflows ({method} is not implemented)"
    return f"{method} is not implemented"


def parse_junit(path: Path, res: Result) -> None:
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name')}"
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            res.fail(name, (bad.get("message") or "") + (bad.text or ""))
        elif case.find("skipped") is not None:
            res.skipped.append(name)
        else:
            res.passed.append(name)


def parse_go_json(path: Path, res: Result) -> None:
    """Counts leaf tests: a suite or a test with subtests is not a test itself."""
    outcome: dict[str, str] = {}
    output: dict[str, list[str]] = {}
    for line in path.read_text(errors="replace").splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not ev.get("Test"):
            continue
        if ev.get("Action") in ("pass", "fail", "skip"):
            outcome[ev["Test"]] = ev["Action"]
        elif ev.get("Action") == "output":
            output.setdefault(ev["Test"], []).append(ev.get("Output", ""))
    names = sorted(outcome)
    for name in names:
        children = [o for o in names if o.startswith(name + "/")]
        if children:
            # A suite that failed while none of its tests did failed in its own
            # set-up or tear-down (e.g. upstream's goroutine-leak check).
            if outcome[name] == "fail" and all(outcome[c] != "fail" for c in children):
                res.fail(f"{name} (suite set-up or tear-down)",
                         "".join(output.get(name, [])))
            continue
        if outcome[name] == "fail":
            res.fail(name, "".join(output.get(name, [])))
        else:
            (res.passed if outcome[name] == "pass" else res.skipped).append(name)


LIBTEST_START = re.compile(r"^test (\S+) \.\.\. ?(.*)$")
LIBTEST_STATUS = re.compile(r"^(ok|FAILED|ignored)\b")
LIBTEST_SUMMARY = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")


def parse_libtest(text: str, res: Result) -> None:
    """libtest's text output, one test at a time (--test-threads 1). A test's log
    lines may come between `test NAME ... ` and its status, which then stands
    on a line of its own."""
    pending = None
    status: dict[str, str] = {}
    summary = None
    for line in text.splitlines():
        m = LIBTEST_START.match(line)
        if m:
            pending = m.group(1)
            line = m.group(2)
        m = LIBTEST_STATUS.match(line.strip())
        if pending and m:
            status[pending] = m.group(1)
            pending = None
        m = LIBTEST_SUMMARY.match(line)
        if m:
            summary = tuple(int(g) for g in m.groups())
    for name, st in status.items():
        if st == "FAILED":
            # libtest prints each failure's output under "---- NAME stdout ----".
            block = re.search(rf"---- {re.escape(name)} stdout ----\n(.*?)(?:\n---- |\Z)",
                              text, re.S)
            res.fail(name, block.group(1) if block else "")
        else:
            (res.passed if st == "ok" else res.skipped).append(name)
    got = (len(res.passed), len(res.failed), len(res.skipped))
    if summary is not None and summary != got:
        raise SetupError(f"libtest reported {summary} (passed, failed, ignored); "
                         f"parsed {got}")


# ---------------------------------------------------------------- suites


def pinned_python_sdk_version() -> str:
    lock = (ROOT / "tests/compat/python/requirements.lock").read_text()
    m = re.search(r"^temporalio==([0-9.]+)", lock, re.M)
    if not m:
        raise SetupError("no temporalio pin in tests/compat/python/requirements.lock")
    return m.group(1)


def fetch_core(cache: Path, python: str) -> tuple[str, Path]:
    """The Core SDK source of the pinned temporalio release, from its sdist."""
    version = pinned_python_sdk_version()
    dest = cache / "core" / version
    core = dest / f"temporalio-{version}" / "temporalio" / "bridge" / "sdk-core"
    if not (core / "crates/sdk-core/tests/integ_tests/standalone_activity_tests.rs").exists():
        dest.mkdir(parents=True, exist_ok=True)
        sdist = dest / f"temporalio-{version}.tar.gz"
        if not sdist.exists():
            log(f"fetching the temporalio {version} sdist")
            # The sdist, not a wheel; its build backend (maturin), which pip runs to
            # read the sdist's metadata, still comes as a wheel.
            run([python, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", "temporalio", f"temporalio=={version}", "-d", str(dest)])
        with tarfile.open(sdist) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, filter="data")
            else:  # Python before 3.11.4: check the member paths by hand
                for m in tf.getmembers():
                    if m.name.startswith("/") or ".." in Path(m.name).parts:
                        raise SetupError(f"unexpected path in {sdist}: {m.name}")
                tf.extractall(dest)
        # The Core SDK workspace ships no lock file; start from the bridge's, which
        # pins the same crates, so the build does not float to newer releases.
        shutil.copy(core.parent / "Cargo.lock", core / "Cargo.lock")
    return version, core


def cargo_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(cache / "core" / "target"))
    # The source names an exact toolchain channel (rust-toolchain.toml); use the
    # installed stable one instead of having rustup download another.
    env.setdefault("RUSTUP_TOOLCHAIN", "stable")
    return env


# integ_tests' required features, and otel, which its shared test code imports.
CORE_FEATURES = "temporalio-common/serde_serialize,test-utilities,ephemeral-server,otel"


class CoreSuite:
    """Prepared (fetched, built) before any server starts; then run against one."""

    def __init__(self, cache: Path, python: str, workdir: Path):
        self.res = Result("core")
        self.cache, self.python, self.workdir = cache, python, workdir
        self.base = ["cargo", "test", "-p", "temporalio-sdk-core", "--test", "integ_tests",
                     "--features", CORE_FEATURES]

    def prepare(self) -> None:
        if shutil.which("cargo") is None:
            self.res.unavailable = "cargo not installed"
            return
        self.res.version, self.core = fetch_core(self.cache, self.python)
        self.env = cargo_env(self.cache)
        log("building the Core SDK integration tests (the first build takes a while)")
        b = subprocess.run(self.base + ["--no-run"], cwd=self.core, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if b.returncode != 0:
            (self.workdir / "core-build.log").write_text(b.stdout)
            raise SetupError(f"Core SDK test build failed; see {self.workdir / 'core-build.log'}")

    def run(self, address: str) -> Result:
        res = self.res
        env = dict(self.env, TEMPORAL_SERVICE_ADDRESS=f"http://{address}")
        log(f"running core {CORE_FILTER}* against {address}")
        r = subprocess.run(self.base + ["--", CORE_FILTER, "--test-threads", "1"], cwd=self.core,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=900)
        res.log = str(self.workdir / "core.log")
        Path(res.log).write_text(r.stdout)
        parse_libtest(r.stdout, res)
        if r.returncode != 0 and not res.failed:
            raise SetupError(f"core tests exited {r.returncode} without a failed test; "
                             f"see {res.log}")
        return res


def source_version_python(src: Path) -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', (src / "pyproject.toml").read_text(), re.M)
    if not m:
        raise SetupError(f"no version in {src / 'pyproject.toml'}")
    return m.group(1)


def python_test_requirements(src: Path) -> list[str]:
    """upstream's locked versions of the test dependencies (uv.lock), where present:
    e.g. pytest-asyncio 0.21 does not work with pytest newer than 9.0."""
    locked: dict[str, str] = {}
    lock = src / "uv.lock"
    if lock.exists():
        for m in re.finditer(r'^\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"',
                             lock.read_text(), re.M):
            locked[m.group(1)] = m.group(2)
    return [f"{n}=={locked[n]}" if n in locked else f"{n}{rng}"
            for n, rng in PYTHON_TEST_DEPS.items()]


def python_venv(cache: Path, version: str, requirements: list[str]) -> str:
    """A venv of its own with temporalio==version and upstream's test dependencies;
    the project's pinned venv stays as it is."""
    venv = cache / "python" / f"venv-{version}"
    py = venv / "bin" / "python"
    stamp = venv / ".complete"
    want = "\n".join([f"temporalio=={version}", *requirements]) + "\n"
    if not stamp.exists() or stamp.read_text() != want:
        log(f"creating {venv} (temporalio {version} and test dependencies)")
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(py), "-m", "pip", "install", "--quiet", *want.split()])
        stamp.write_text(want)
    return str(py)


def pinned_go_sdk_version() -> str:
    mod = (ROOT / "tests/compat/go/go.mod").read_text()
    m = re.search(r"^\s*go\.temporal\.io/sdk (v[0-9.]+)", mod, re.M)
    if not m:
        raise SetupError("no go.temporal.io/sdk in tests/compat/go/go.mod")
    return m.group(1)


def clone(cache: Path, what: str, url: str, ref: str) -> Path:
    """A shallow clone of url at tag ref, kept in the cache (for machines that reach
    the SDK repositories; package registries do not carry these tests)."""
    dest = cache / what / f"git-{ref}"
    if not (dest / ".complete").exists():
        log(f"cloning {url} at {ref}")
        shutil.rmtree(dest, ignore_errors=True)
        run(["git", "-c", "advice.detachedHead=false", "clone", "--quiet", "--depth", "1",
             "--branch", ref, url, str(dest)])
        (dest / ".complete").write_text(f"{url} {ref}\n")
    return dest


class PythonSuite:
    def __init__(self, cache: Path, src: Path | None, sdk: str | None, workdir: Path):
        self.res = Result("python")
        self.cache, self.src, self.sdk, self.workdir = cache, src, sdk, workdir

    def prepare(self) -> None:
        res = self.res
        if self.src is None:
            res.unavailable = ("PyPI does not carry the Python SDK's tests; "
                               "pass --python-src DIR (an sdk-python checkout) or --clone")
            return
        src = self.src.resolve()
        # The tests run against the release they were written with, unless told
        # otherwise (e.g. a snapshot between releases that needs a newer SDK).
        res.version = source_version_python(src)
        sdk = self.sdk or res.version
        if sdk != res.version:
            res.version = f"{res.version}+sdk{sdk}"
        self.py = python_venv(self.cache, sdk, python_test_requirements(src))
        # Copy the tests into the cache so the run never writes into the checkout and
        # the temporalio package comes from the venv, not from the checkout.
        self.tree = self.cache / "python" / f"src-{res.version}"
        shutil.rmtree(self.tree, ignore_errors=True)
        shutil.copytree(src / "tests", self.tree / "tests",
                        ignore=shutil.ignore_patterns("__pycache__", "contrib"))
        shutil.copy(src / "pyproject.toml", self.tree / "pyproject.toml")
        self.selected = []
        for path, test in PYTHON_TESTS:
            f = self.tree / path
            if f.exists() and (test is None or re.search(rf"def {test}\(", f.read_text())):
                self.selected.append(path if test is None else f"{path}::{test}")
        if not self.selected:
            raise SetupError(f"none of the Python tests found in {src}")

    def run(self, address: str) -> Result:
        res = self.res
        junit = self.workdir / "python-junit.xml"
        log(f"running python {' '.join(self.selected)} against {address}")
        r = subprocess.run([self.py, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                            "-E", address, f"--junitxml={junit}", "-o", "junit_family=xunit2",
                            *self.selected],
                           cwd=self.tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=1800)
        res.log = str(self.workdir / "python.log")
        Path(res.log).write_text(r.stdout)
        if not junit.exists():
            raise SetupError(f"pytest wrote no report (exit {r.returncode}); see {res.log}")
        parse_junit(junit, res)
        return res


class GoSuite:
    def __init__(self, src: Path | None, workdir: Path):
        self.res = Result("go")
        self.src, self.workdir = src, workdir
        self.cmd = ["go", "test", "-count=1", "-timeout", "20m", "-run", GO_RUN, "."]

    def prepare(self) -> None:
        res = self.res
        if self.src is None:
            res.unavailable = ("the Go module proxy does not carry go.temporal.io/sdk/test; "
                               "pass --go-src DIR (an sdk-go checkout) or --clone")
            return
        # test/ builds against the checkout's SDK (its go.mod replaces the SDK with
        # ../). It runs in place: go test leaves the source tree alone (go.mod and
        # go.sum are read-only by default).
        self.tree = self.src.resolve() / "test"
        if not (self.tree / "go.mod").exists():
            raise SetupError(f"{self.tree}/go.mod not found: --go-src wants an sdk-go checkout")
        version_go = self.src.resolve() / "internal/version.go"
        m = re.search(r'SDKVersion\s*=\s*"([^"]+)"', version_go.read_text()) if (
            version_go.exists()) else None
        res.version = m.group(1) if m else "?"
        log("building the Go SDK's test/ suite")
        b = subprocess.run(["go", "test", "-c", "-o", os.devnull, "."], cwd=self.tree,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if b.returncode != 0:
            (self.workdir / "go-build.log").write_text(b.stdout)
            raise SetupError(f"Go test build failed; see {self.workdir / 'go-build.log'}")

    def run(self, address: str) -> Result:
        res = self.res
        out = self.workdir / "go.json"
        log(f"running go test/ standalone-activity tests against {address}")
        with open(out, "w") as f:
            r = subprocess.run(self.cmd[:2] + ["-json"] + self.cmd[2:], cwd=self.tree,
                               env=dict(os.environ, SERVICE_ADDR=address), stdout=f,
                               stderr=subprocess.STDOUT, timeout=1800)
        res.log = str(out)
        parse_go_json(out, res)
        if r.returncode != 0 and not res.failed:
            raise SetupError(f"go test exited {r.returncode} without a failed test; see {out}")
        return res


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--core", action="store_true", help="run the Core SDK suite")
    ap.add_argument("--python", action="store_true", help="run the Python SDK suite")
    ap.add_argument("--go", action="store_true", help="run the Go SDK suite")
    ap.add_argument("--python-src", type=Path, help="an sdk-python checkout")
    ap.add_argument("--go-src", type=Path, help="an sdk-go checkout")
    ap.add_argument("--clone", action="store_true",
                    help="clone the Python and Go SDK repositories (shallow, at --python-ref "
                         "and --go-ref) into the cache where no --*-src is given")
    ap.add_argument("--python-sdk", help="temporalio version for the Python tests "
                    "[the one in the checkout's pyproject.toml]")
    ap.add_argument("--python-repo", default="https://github.com/temporalio/sdk-python.git")
    ap.add_argument("--python-ref", help="tag to clone [the pinned temporalio version]")
    ap.add_argument("--go-repo", default="https://github.com/temporalio/sdk-go.git")
    ap.add_argument("--go-ref", help="tag to clone [the pinned go.temporal.io/sdk version]")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--oracle", action="store_true",
                       help="start the Temporal dev server (pinned CLI) instead of errand")
    where.add_argument("--address", help="use a server already running at HOST:PORT")
    ap.add_argument("--errand-bin", default=os.environ.get("ERRAND_BIN",
                                                           str(ROOT / "build/errand")))
    ap.add_argument("--temporal-cli", help="the Temporal CLI binary (for --oracle)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "ERRAND_CACHE", Path.home() / ".cache/errand")) / "upstream-tests")
    ap.add_argument("--fresh-server", action="store_true",
                    help="start a new server for each suite (default: one for all)")
    args = ap.parse_args()
    suites = [s for s in ("core", "python", "go") if getattr(args, s)] or [
        "core", "python", "go"]
    args.cache.mkdir(parents=True, exist_ok=True)
    try:
        if args.clone and "python" in suites and args.python_src is None:
            args.python_src = clone(args.cache, "python", args.python_repo,
                                    args.python_ref or pinned_python_sdk_version())
        if args.clone and "go" in suites and args.go_src is None:
            args.go_src = clone(args.cache, "go", args.go_repo,
                                args.go_ref or pinned_go_sdk_version())
    except (SetupError, subprocess.CalledProcessError) as e:
        log(f"setup failure: {e}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="errand-upstream-"))
    python = sys.executable

    server: Server | None = None

    def start_server(tag: str) -> str:
        nonlocal server
        if args.address:
            return args.address
        d = workdir / f"server-{tag}"
        d.mkdir()
        if args.oracle:
            if not args.temporal_cli:
                raise SetupError("--oracle needs --temporal-cli")
            server = start_oracle(args.temporal_cli, d)
        else:
            if not os.access(args.errand_bin, os.X_OK):
                raise SetupError(f"errand binary not found at {args.errand_bin}; "
                                 "build it or set ERRAND_BIN")
            server = start_errand(args.errand_bin, d)
        log(f"{server.what} on {server.address} (log {server.log_path})")
        server.wait_ready(python)
        return server.address

    def stop_server() -> None:
        nonlocal server
        if server is not None:
            server.stop()
            server = None

    target = "address " + args.address if args.address else (
        "temporal dev server" if args.oracle else f"errand ({args.errand_bin})")
    runners = {"core": lambda: CoreSuite(args.cache, python, workdir),
               "python": lambda: PythonSuite(args.cache, args.python_src, args.python_sdk, workdir),
               "go": lambda: GoSuite(args.go_src, workdir)}
    prepared = [runners[s]() for s in suites]
    results: list[Result] = []
    try:
        # Fetch and build everything first, so no server idles through a build.
        for suite in prepared:
            suite.prepare()
        address = None
        for suite in prepared:
            if suite.res.unavailable:
                results.append(suite.res)
                continue
            if address is None or args.fresh_server:
                stop_server()
                address = start_server(suite.res.suite)
            res = suite.run(address)
            if not (res.passed or res.failed or res.skipped):
                raise SetupError(f"{res.suite}: no test ran; see {res.log}")
            results.append(res)
    except (SetupError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        log(f"setup failure: {e}")
        return 2
    finally:
        stop_server()

    print(f"\nUpstream SDK standalone-activity tests against {target}")
    for r in results:
        print(r.line())
        for name in r.failed:
            hint = r.why.get(name)
            print(f"  FAILED  {name}" + (f"  [{hint}]" if hint else ""))
        for name in r.skipped:
            print(f"  skipped {name}")
        if r.log:
            print(f"  log: {r.log}")
    ran = [r for r in results if not r.unavailable]
    total = [sum(len(getattr(r, k)) for r in ran) for k in ("passed", "failed", "skipped")]
    print(f"upstream: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    if not ran:
        log("no suite could run")
        return 2
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
