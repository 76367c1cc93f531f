"""Observation capture, normalisation, diffing and the allow-list.

A scenario records *observations* (name -> JSON-like value) per target. An RPC
observation is either {"ok": MessageToDict(response)} or {"error": {"code",
"message", "details"}}. Before diffing, values that legitimately vary between
two servers are normalised:

- run IDs and other values a scenario registered with Target.alias() are
  replaced by their label wherever they occur (also inside messages);
- any other string that is a UUID becomes "<uuid>";
- RFC 3339 timestamps become "<timestamp>" (presence is still compared);
- opaque tokens and time-dependent durations become "<present>";
- payloads are decoded to "<encoding>:<data>" for readability.

The diff then compares the flattened values path by path.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict

import temporalio.api.errordetails.v1  # noqa: F401  (registers detail types)
import temporalio.api.failure.v1  # noqa: F401
from temporalio.service import RPCError

ABSENT = "<absent>"

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# Keys whose value is opaque or depends on wall-clock timing / storage layout.
PRESENT_ONLY_KEYS = {
    "taskToken",            # opaque, server specific encoding
    "longPollToken",        # opaque
    "nextPageToken",        # opaque (presence matters, content does not)
    "executionDuration",    # close_time - schedule_time
    "stateSizeBytes",       # storage-layout specific
}


def rpc_ok(response) -> dict:
    return {"ok": MessageToDict(response)}


def rpc_error(err: RPCError) -> dict:
    details = []
    try:
        for any_msg in err.grpc_status.details:
            type_name = any_msg.type_url.rsplit("/", 1)[-1]
            try:
                value = MessageToDict(any_msg)
                value.pop("@type", None)
            except Exception:  # unknown detail type: keep only its name
                value = "<undecodable>"
            details.append({"type": type_name, "value": value})
    except Exception as e:  # pragma: no cover - malformed status
        details.append({"type": "<status parse error>", "value": str(e)})
    return {"error": {"code": err.status.name if err.status is not None else "UNKNOWN",
                      "message": err.message, "details": details}}


def _decode_payload(d: dict) -> str | None:
    meta = d.get("metadata")
    if not isinstance(meta, dict) or set(d) - {"metadata", "data", "externalPayloads"}:
        return None
    try:
        enc = base64.b64decode(meta.get("encoding", "")).decode()
        data = base64.b64decode(d.get("data", "")).decode()
        # Other metadata (a search attribute's "type") is compared too.
        extra = "".join(f" [{k}={base64.b64decode(v).decode()}]"
                        for k, v in sorted(meta.items()) if k != "encoding")
    except Exception:
        return None
    return f"{enc}:{data}{extra}"


class Normaliser:
    def __init__(self, aliases: dict[str, str]):
        # Longest first so that a value containing another is replaced whole.
        self.aliases = sorted(aliases.items(), key=lambda kv: -len(kv[0]))

    def string(self, s: str) -> str:
        for raw, label in self.aliases:
            if raw and raw in s:
                s = s.replace(raw, label)
        if UUID_RE.match(s):
            return "<uuid>"
        if TIMESTAMP_RE.match(s):
            return "<timestamp>"
        return s

    def value(self, v: Any, key: str | None = None) -> Any:
        if key in PRESENT_ONLY_KEYS:
            return "<present>"
        if isinstance(v, dict):
            decoded = _decode_payload(v)
            if decoded is not None:
                return self.string(decoded)
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            return self.string(v)
        return v


def flatten(v: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(v, dict):
        if not v:
            out[prefix] = "{}"
        for k, x in v.items():
            flatten(x, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(v, list):
        if not v:
            out[prefix] = "[]"
        for i, x in enumerate(v):
            flatten(x, f"{prefix}[{i}]", out)
    else:
        out[prefix] = v


@dataclass
class Difference:
    scenario: str
    path: str
    temporal: Any
    errand: Any
    allowed_by: "AllowRule | None" = None


def diff_observations(scenario: str, temporal: dict, errand: dict) -> list[Difference]:
    ft: dict[str, Any] = {}
    fe: dict[str, Any] = {}
    flatten(temporal, "", ft)
    flatten(errand, "", fe)
    diffs = []
    # Group by observation (in the order the scenario recorded them), then
    # Temporal's field order, then Errand-only fields.
    order = {name: i for i, name in enumerate(dict.fromkeys([*temporal, *errand]))}
    paths = list(ft) + [p for p in fe if p not in ft]
    for p in paths:
        a = ft.get(p, ABSENT)
        b = fe.get(p, ABSENT)
        if a != b:
            diffs.append(Difference(scenario, p, a, b))
    diffs.sort(key=lambda d: order.get(observation_of(d.path, order), len(order)))
    return diffs


def observation_of(path: str, names) -> str:
    """The observation name a flattened path starts with (names may contain dots)."""
    best = ""
    for name in names:
        if (path == name or path.startswith(name + ".") or path.startswith(name + "[")) \
                and len(name) > len(best):
            best = name
    return best


OUTCOME_RE = re.compile(r"\.(ok|error)(?=[.\[]|$)")


def field_of(path: str) -> str:
    """The path below the observation: 'describe.x.ok.info.header' -> 'ok.info.header'."""
    m = OUTCOME_RE.search(path)
    return path[m.start() + 1:] if m else path


@dataclass
class AllowRule:
    cls: str
    scenario: str
    path: str
    reason: str
    line: int
    used: int = 0

    def matches(self, d: Difference) -> bool:
        return fnmatch.fnmatchcase(d.scenario, self.scenario) and fnmatch.fnmatchcase(d.path, self.path)


def load_allowlist(path: Path) -> list[AllowRule]:
    """Lines: `<class> | <scenario glob> | <path glob> | <reason>`; '#' comments."""
    rules = []
    if not path.exists():
        return rules
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|", 3)]
        if len(parts) != 4 or parts[0] not in ("b", "c", "d"):
            raise SystemExit(f"{path}:{n}: expected '<b|c|d> | <scenario> | <path> | <reason>', got: {raw}")
        rules.append(AllowRule(parts[0], parts[1], parts[2], parts[3], n))
    return rules


def apply_allowlist(diffs: list[Difference], rules: list[AllowRule]) -> None:
    for d in diffs:
        for r in rules:
            if r.matches(d):
                d.allowed_by = r
                r.used += 1
                break


def show(v: Any) -> str:
    if isinstance(v, str):
        return v if v in (ABSENT, "{}", "[]") else json.dumps(v)
    return json.dumps(v)
