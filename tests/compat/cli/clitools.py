"""Helpers shared by the CLI scenarios: unique names, waiting for eventually
consistent visibility, and normalising the CLI's JSON output where values
legitimately differ between runs and servers (run IDs, times, sizes, tokens)."""
from __future__ import annotations

import re
import uuid

# Shared with the Python SDK suite; conftest puts its directory on the path.
from compat_helpers import eventually  # noqa: F401 (re-exported)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DURATION_RE = re.compile(r"^\d+(\.\d+)?s$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def _is_time_key(key: str) -> bool:
    return key.endswith("Time")


def normalise(value, key: str = ""):
    """Replaces what varies from run to run with placeholders, checking its shape:
    timestamps -> "<time>", durations measured by the server -> "<duration>",
    run IDs -> "<run-id>", state sizes -> "<bytes>", long poll tokens -> "<token>"."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        if _is_time_key(key):
            assert RFC3339_RE.match(value), f"{key}: {value!r} is not an RFC 3339 UTC time"
            return "<time>"
        if key == "executionDuration":
            assert DURATION_RE.match(value), f"{key}: {value!r}"
            return "<duration>"
        if key == "runId" and value:
            assert UUID_RE.match(value), f"{key}: {value!r} is not a UUID"
            return "<run-id>"
        if key == "stateSizeBytes":
            assert value.isdigit() and int(value) > 0, f"{key}: {value!r}"
            return "<bytes>"
        if key == "longPollToken":
            assert value, "empty long poll token"
            return "<token>"
    return value


def reserved_search_attributes_dropped(entry: dict) -> dict:
    """The dev server's list entries carry its internal TemporalNamespaceDivision
    search attribute (an implementation detail of its SQL visibility store, not
    part of the activity); drop the Temporal-reserved ones before comparing."""
    entry = dict(entry)
    sa = dict(entry.get("searchAttributes") or {})
    fields = {k: v for k, v in (sa.get("indexedFields") or {}).items()
              if not k.startswith("Temporal")}
    if fields:
        sa["indexedFields"] = fields
    else:
        sa.pop("indexedFields", None)
    entry["searchAttributes"] = sa
    return entry


def table_rows(text: str) -> list[list[str]]:
    """Rows of the CLI's text table (header included), split on runs of 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


def card(text: str) -> dict[str, str]:
    """The `Key  Value` lines of a CLI text card (describe, start, result)."""
    fields = {}
    for line in text.splitlines():
        m = re.match(r"^\s+(\S+)\s{2,}(.*?)\s*$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields


def differences(actual, expected, path: str = "") -> list[str]:
    """Where `actual` differs from `expected`, one line per differing path."""
    where = path or "(top)"
    if isinstance(actual, dict) and isinstance(expected, dict):
        out = []
        for key in expected:
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{sub}: missing (expected {expected[key]!r})")
            else:
                out.extend(differences(actual[key], expected[key], sub))
        for key in actual:
            if key not in expected:
                sub = f"{path}.{key}" if path else key
                out.append(f"{sub}: unexpected {actual[key]!r}")
        return out
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        out = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            out.extend(differences(a, e, f"{path}[{i}]"))
        return out
    if actual != expected or type(actual) is not type(expected):
        return [f"{where}: {actual!r} != expected {expected!r}"]
    return []


def assert_same(actual, expected, context: str = "") -> None:
    diff = differences(actual, expected)
    assert not diff, "\n".join(([context] if context else []) + diff)
