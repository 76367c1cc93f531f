"""Async helpers shared by the Python SDK and CLI scenarios (the CLI suite
puts this directory on its path)."""
from __future__ import annotations

import asyncio

import pytest
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)


async def eventually(fetch, check, what: str, timeout: float = 10.0):
    """Calls `await fetch()` until check(result) holds; fails with the last
    result. The dev server's visibility store lags writes slightly; a
    read-your-writes server passes at the first call."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await fetch()
        if check(result):
            return result
        if asyncio.get_running_loop().time() >= deadline:
            pytest.fail(f"{what}: still not as expected after {timeout}s:\n{result!r}")
        await asyncio.sleep(0.1)


async def register_search_attributes(client, wanted: dict) -> None:
    """Registers the custom search attributes in `wanted` (name -> indexed
    value type) in the default namespace, unless already there."""
    have = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default"))
    missing = {k: v for k, v in wanted.items() if k not in have.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace="default", search_attributes=missing))
