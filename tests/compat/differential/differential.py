"""Differential test: run the same Standalone Activity scenarios against a real
Temporal dev server and against errand, and diff what they answer.

Usually started by scripts/differential.sh, which passes --temporal-cli.
Exit code: 0 when every difference is allow-listed (allowlist.txt), 1 when
an unexplained difference remains or a scenario could not run, 2 on setup
failure.

Options for iterating: --temporal-address / --errand-address use servers that
are already running (namespace "default"); --only a,b runs some scenarios;
--json FILE writes the raw normalised observations.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "python"))  # errand_harness

from temporalio.client import Client  # noqa: E402

from diffcore import (  # noqa: E402
    Normaliser, apply_allowlist, diff_observations, field_of, load_allowlist, show,
)
from errand_harness import ErrandProcess, free_port  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402
from target import CLIENT_IDENTITY, Ids, ScenarioAbort, Target  # noqa: E402

ALLOWLIST = HERE / "allowlist.txt"


class TemporalDevServer:
    def __init__(self, cli: str):
        self.cli = cli
        self.dir = tempfile.mkdtemp(prefix="errand-diff-temporal-")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = Path(self.dir) / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [self.cli, "server", "start-dev", "--ip", "127.0.0.1",
                "--port", str(self.port), "--ui-port", str(free_port()), "--headless",
                "--http-port", str(free_port()), "--metrics-port", str(free_port()),
                "--db-filename", str(Path(self.dir) / "temporal.db"),
                "--dynamic-config-value", "activity.enableStandalone=true",
                # Pause / unpause / reset / update options and batch operations
                # over standalone activities are off by default in Temporal.
                "--dynamic-config-value", "history.enableStandaloneActivityOperatorCommands=true",
                "--dynamic-config-value", "frontend.enableBatchOperationsForStandaloneActivities=true",
                "--log-level", "warn"]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-n:])
        except OSError:
            return ""

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def connect(address: str, what: str, deadline: float = 90.0, proc=None) -> Client:
    """Connects once the server answers, then waits until namespace "default" serves
    activity RPCs (the dev server registers it shortly after it starts listening)."""
    from temporalio.api.workflowservice.v1 import CountActivityExecutionsRequest
    end = time.monotonic() + deadline
    last = None
    client = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if client is None:
                client = await Client.connect(address, namespace="default",
                                              identity=CLIENT_IDENTITY)
            await client.workflow_service.count_activity_executions(
                CountActivityExecutionsRequest(namespace="default", query=""))
            return client
        except Exception as e:  # not up yet
            last = e
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{what} at {address} not ready after {deadline}s: {last}")


async def run_target(fn, t: Target, ids: Ids) -> None:
    try:
        await fn(t, ids)
    except ScenarioAbort as e:
        t.record("__aborted__", str(e))
    except Exception as e:  # a harness bug or an unexpected client error
        t.record("__exception__", f"{type(e).__name__}: {e}")
        traceback.print_exc()


async def run(args) -> int:
    rules = load_allowlist(ALLOWLIST)
    names = list(SCENARIOS)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in SCENARIOS]
        if unknown:
            print(f"unknown scenarios: {unknown}; known: {names}", file=sys.stderr)
            return 2
        names = wanted

    servers = []
    try:
        if args.temporal_address:
            t_addr, t_proc = args.temporal_address, None
        else:
            if not args.temporal_cli:
                print("need --temporal-cli or --temporal-address", file=sys.stderr)
                return 2
            temporal = TemporalDevServer(args.temporal_cli)
            servers.append(temporal)
            temporal.start()
            t_addr, t_proc = temporal.address, temporal.proc
        if args.errand_address:
            e_addr, e_proc = args.errand_address, None
        else:
            errand = ErrandProcess()
            servers.append(errand)
            errand.start()
            e_addr, e_proc = errand.address, errand.proc

        started = time.monotonic()
        try:
            temporal_client, errand_client = await asyncio.gather(
                connect(t_addr, "temporal dev server", proc=t_proc),
                connect(e_addr, "errand", proc=e_proc))
        except Exception as e:
            print(f"setup failed: {e}", file=sys.stderr)
            for s in servers:
                tail = s.tail() if hasattr(s, "tail") else s.log[-4000:]
                print(f"--- {type(s).__name__} log tail ---\n{tail}", file=sys.stderr)
            return 2
        print(f"temporal dev server: {t_addr}   errand: {e_addr}   "
              f"(ready in {time.monotonic() - started:.1f}s)")

        nonce = args.nonce or secrets.token_hex(4)
        results = {}
        all_diffs = []
        problems = []
        for name in names:
            about, fn = SCENARIOS[name]
            t0 = time.monotonic()
            tt = Target("temporal", temporal_client)
            et = Target("errand", errand_client)
            ids = Ids(name, nonce)
            await asyncio.gather(run_target(fn, tt, ids), run_target(fn, et, ids))
            nt = Normaliser(tt.aliases).value(tt.obs)
            ne = Normaliser(et.aliases).value(et.obs)
            results[name] = {"temporal": nt, "errand": ne}
            diffs = diff_observations(name, nt, ne)
            apply_allowlist(diffs, rules)
            all_diffs.extend(diffs)
            for side, obs in (("temporal", nt), ("errand", ne)):
                for key in ("__aborted__", "__exception__"):
                    if key in obs:
                        problems.append(f"{name} [{side}] {key.strip('_')}: {obs[key]}")
            bad = sum(1 for d in diffs if d.allowed_by is None)
            print(f"  {name:<28} {time.monotonic() - t0:5.1f}s  "
                  f"{len(diffs):3d} differences ({bad} unexplained)", flush=True)

        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=False))
        return report(all_diffs, problems, rules, args.verbose)
    finally:
        for s in servers:
            s.cleanup()


def report(diffs, problems, rules, verbose: bool) -> int:
    unexplained = [d for d in diffs if d.allowed_by is None]
    allowed = [d for d in diffs if d.allowed_by is not None]
    print()
    if problems:
        print("SCENARIO PROBLEMS (a scenario could not run to its end on a server):")
        for p in problems:
            print(f"  - {p}")
        print()
    if unexplained:
        print(f"UNEXPLAINED DIFFERENCES ({len(unexplained)}):")
        _print_diffs(unexplained)
    if allowed:
        print(f"ALLOW-LISTED DIFFERENCES ({len(allowed)}):")
        if verbose:
            _print_diffs(allowed, with_reason=True)
        else:
            by_rule = {}
            for d in allowed:
                by_rule.setdefault(d.allowed_by.line, (d.allowed_by, []))[1].append(d)
            for _, (r, ds) in sorted(by_rule.items()):
                print(f"  ({r.cls}) line {r.line}: {r.scenario} | {r.path}: {len(ds)} "
                      f"difference(s) -- {r.reason}")
            print("  (run with -v to see each one)")
        print()
    stale = [r for r in rules if r.used == 0]
    if stale:
        print("allow-list entries that matched nothing this run:")
        for r in stale:
            print(f"  line {r.line}: ({r.cls}) {r.scenario} | {r.path}")
        print()
    if unexplained:
        print_distinct(unexplained)
    ok = not unexplained and not problems
    print(f"RESULT: {'OK' if ok else 'DIFFERENCES FOUND'} -- {len(unexplained)} unexplained, "
          f"{len(allowed)} allow-listed, {len(problems)} scenario problem(s)")
    return 0 if ok else 1


def print_distinct(diffs) -> None:
    """The same mismatch usually shows up in many observations (e.g. every
    Describe); list each distinct (field, Temporal value, Errand value) once."""
    groups: dict[tuple, list] = {}
    for d in diffs:
        key = (field_of(d.path), show(d.temporal), show(d.errand))
        groups.setdefault(key, []).append(d)
    print(f"DISTINCT UNEXPLAINED DIFFERENCES ({len(groups)}; field below the observation, "
          f"Temporal value, Errand value, where):")
    for (field, tv, ev), ds in groups.items():
        where = list(dict.fromkeys(f"{d.scenario}:{d.path[:len(d.path) - len(field) - 1]}"
                                   for d in ds))
        shown = ", ".join(where[:4]) + (f", ... ({len(where) - 4} more)" if len(where) > 4 else "")
        print(f"  - {field}")
        print(f"        temporal: {tv}")
        print(f"        errand:   {ev}")
        print(f"        seen {len(ds)}x: {shown}")
    print()


def _print_diffs(diffs, with_reason: bool = False) -> None:
    current = None
    for d in diffs:
        if d.scenario != current:
            current = d.scenario
            print(f"\n  [{d.scenario}]")
        print(f"    {d.path}")
        print(f"        temporal: {show(d.temporal)}")
        print(f"        errand:   {show(d.errand)}")
        if with_reason and d.allowed_by is not None:
            print(f"        allowed ({d.allowed_by.cls}): {d.allowed_by.reason}")
    print()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--temporal-cli", default=os.environ.get("TEMPORAL_CLI"))
    p.add_argument("--temporal-address")
    p.add_argument("--errand-address")
    p.add_argument("--only", help="comma-separated scenario names")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--nonce", help="ID suffix (default: random)")
    p.add_argument("--json", help="write normalised observations to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="print allow-listed differences too")
    args = p.parse_args()
    if args.list:
        for name, (about, _) in SCENARIOS.items():
            print(f"{name:<28} {about}")
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
