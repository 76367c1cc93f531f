import pytest
import pytest_asyncio
from temporalio.client import Client

# Oracle mode (COMPAT_ORACLE_ADDRESS) and its pytest hooks: see oracle_mode.py.
from oracle_mode import (  # noqa: F401 (pytest hooks)
    ORACLE_ADDRESS,
    pytest_collection_modifyitems,
    pytest_configure,
    server_per_test,
)


@pytest.fixture
def errand():
    """A fresh errand per test: free port, empty data directory."""
    yield from server_per_test()


@pytest_asyncio.fixture
async def client(errand):
    return await Client.connect(errand.address, namespace="default")
