import pytest
import pytest_asyncio
from temporalio.client import Client

from errand_harness import ErrandProcess


@pytest.fixture
def errand():
    """A fresh errand per test: free port, empty data directory."""
    server = ErrandProcess()
    server.start()
    yield server
    server.cleanup()


@pytest_asyncio.fixture
async def client(errand):
    return await Client.connect(errand.address, namespace="default")
