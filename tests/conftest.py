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


# ---------------------------------------------------------------------- no network call inside a transaction

# Code whose calls inside ``atomic()`` are known and owned by other work; a hit there is recorded but does
# not fail the test. Remove an entry once its call is moved out of the transaction (issue 10).
NETWORK_IN_ATOMIC_ALLOWED: tuple[str, ...] = (
    ", in store_connect\n",  # connections/services.py: verifies both connections inside its atomic()
)


def _in_own_atomic() -> bool:
    """Whether the calling thread's default connection is inside an ``atomic()`` the code under test opened.

    pytest-django's ``db`` fixture wraps each test in atomics of its own (marked ``_from_testcase``);
    those are the test's baseline and do not count. ``transactional_db`` opens none.
    """
    from django.db import connection

    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@pytest.fixture(autouse=True)
def no_network_in_atomic(monkeypatch):
    """Fail any test in which an HTTP or SMTP call runs inside ``transaction.atomic`` (the simulators too).

    Hooks requests, http.client (which urllib3 builds on), smtplib and the configured e-mail backend.
    A hit is collected and the test fails at teardown, so no client's error handling can swallow it.
    """
    import http.client
    import smtplib
    import traceback

    import requests
    from django.conf import settings
    from django.core.mail.backends import smtp as smtp_backend
    from django.utils.module_loading import import_string

    hits: list[tuple[str, str]] = []

    def guard(what: str, original):
        def guarded(*args, **kwargs):
            if _in_own_atomic():
                stack = "".join(traceback.format_stack(limit=25)[:-1])
                hits.append((what, stack))
            return original(*args, **kwargs)
        return guarded

    targets = [
        (requests.Session, "send", "HTTP (requests)"),
        (http.client.HTTPConnection, "putrequest", "HTTP (http.client / urllib3)"),
        (smtplib.SMTP, "connect", "SMTP connect"),
        (smtplib.SMTP, "sendmail", "SMTP sendmail"),
        (smtp_backend.EmailBackend, "send_messages", "e-mail (SMTP backend)"),
    ]
    backend = import_string(settings.EMAIL_BACKEND)
    if backend is not smtp_backend.EmailBackend:
        targets.append((backend, "send_messages", f"e-mail ({settings.EMAIL_BACKEND})"))
    for owner, name, what in targets:
        monkeypatch.setattr(owner, name, guard(what, getattr(owner, name)))
    yield hits
    failing = [(what, stack) for what, stack in hits
               if not any(allowed in stack for allowed in NETWORK_IN_ATOMIC_ALLOWED)]
    if failing:
        what, stack = failing[0]
        pytest.fail(f"{len(failing)} network call(s) inside transaction.atomic; first: {what} from\n{stack}",
                    pytrace=False)
