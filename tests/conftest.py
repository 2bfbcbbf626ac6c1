"""Shared fixtures: both simulators on loopback, and a store connected to them.

Each simulator object gets ``.url`` (the server root) for the test's convenience; the Order Time
endpoint is ``ordertime_sim.endpoint``.
"""

from __future__ import annotations

import pytest

from sandbox.faults import Faults
from sandbox.ordertime import OrderTimeSimulator
from sandbox.server import SimulatorServer
from sandbox.shipstation import ShipStationSimulator

OT_USER, OT_KEY = "demo@example.com", "demo-key"
SS_KEY, SS_SECRET = "demo-key", "demo-secret"
SS_STORE_ID = 22766


@pytest.fixture
def ordertime_sim():
    sim = OrderTimeSimulator(username=OT_USER, api_key=OT_KEY, faults=Faults())
    with SimulatorServer(sim) as server:
        sim.url = server.url
        sim.endpoint = f"{server.url}/api/shipstation"
        yield sim


@pytest.fixture
def shipstation_sim():
    # A generous limit: tests about the limit build their own simulator.
    sim = ShipStationSimulator(api_key=SS_KEY, api_secret=SS_SECRET, rate_limit=10_000, faults=Faults())
    with SimulatorServer(sim) as server:
        sim.url = server.url
        sim.base_url = server.url
        yield sim


@pytest.fixture
def store(db, ordertime_sim, shipstation_sim):
    from connections.services import store_connect

    return store_connect(
        name="Test Store",
        ordertime_username=OT_USER,
        ordertime_api_key=OT_KEY,
        ordertime_url=ordertime_sim.endpoint,
        shipstation_api_key=SS_KEY,
        shipstation_api_secret=SS_SECRET,
        shipstation_url=shipstation_sim.url,
        shipstation_store_id=SS_STORE_ID,
        verify=False,
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limiters():
    """Limiters are per process and per key; tests must not inherit another test's budget."""
    from connections import rate_limits

    reset = getattr(rate_limits, "reset_for_tests", None)
    if reset:
        reset()
    yield
