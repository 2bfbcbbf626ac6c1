"""Four ``import_orders`` processes for four stores at once, on one SQLite file (issue 14).

The test always uses its own SQLite file in ``tmp_path``, whatever ``DATABASE_URL`` the suite runs on:
the point is SQLite's single writer lock, which PostgreSQL does not have.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest

from sandbox.faults import Faults
from sandbox.ordertime import OrderTimeSimulator, make_sample_docs
from sandbox.server import SimulatorServer
from tests.conftest import SS_KEY, SS_SECRET

REPO = Path(__file__).resolve().parents[2]
STORES = 4
DOCS_PER_STORE = 300  # six export pages and three createorders calls each: long enough for the runs to overlap

# manage.py, except that it waits for a line on stdin after Django is set up and before the command runs.
RELEASED_TOGETHER = """
import sys
import django
from django.core.management import execute_from_command_line
django.setup()
print("ready", flush=True)
sys.stdin.readline()
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


@pytest.fixture
def ordertime_sims():
    """One Order Time account per store, each on its own simulator."""
    with ExitStack() as stack:
        sims = []
        for number in range(STORES):
            sim = OrderTimeSimulator(username=f"store{number}@example.com", api_key=f"key-{number}", faults=Faults())
            sim.endpoint = f"{stack.enter_context(SimulatorServer(sim)).url}/api/shipstation"
            sims.append(sim)
        yield sims


def _env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: this test's SQLite file, file locks in tmp_path, no broker, no Redis."""
    env = {key: value for key, value in os.environ.items() if key not in ("CELERY_BROKER_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'concurrency.sqlite3'}", DJANGO_SETTINGS_MODULE="tests.settings",
               ORDERSYNC_LOCK_DIR=str(tmp_path / "locks"), REDIS_URL="", CELERY_BROKER_URL="")
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True)


def test_four_stores_importing_at_once_on_one_sqlite_file_never_meet_a_locked_database(
    tmp_path, ordertime_sims, shipstation_sim,
):
    env = _env(tmp_path)
    _manage(env, "migrate", "-v0")
    store_ids = [31001 + number for number in range(STORES)]
    shipstation_sim.add_stores([{"storeId": store_id, "storeName": f"Manual {store_id}"} for store_id in store_ids])
    for number, (sim, store_id) in enumerate(zip(ordertime_sims, store_ids, strict=True)):
        _manage(env, "connect_store", "--name", f"Store {number}", "--ordertime-username", sim.username,
                "--ordertime-api-key", sim.api_key, "--ordertime-url", sim.endpoint,
                "--shipstation-api-key", SS_KEY, "--shipstation-api-secret", SS_SECRET,
                "--shipstation-url", shipstation_sim.url, "--shipstation-store-id", str(store_id),
                "--status", "open=awaiting_shipment")
        sim.add_ship_docs(make_sample_docs(DOCS_PER_STORE, seed=number, first_order_id=60001 + 1000 * number))

    # Each process starts Django, says so and waits for one line on stdin: released together, the four imports
    # run side by side instead of one after the other.
    processes = [
        subprocess.Popen([sys.executable, "-c", RELEASED_TOGETHER, "import_orders", "--store", f"Store {number}"],
                         cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for number in range(STORES)
    ]
    for process in processes:
        assert process.stdout.readline() == "ready\n", process.stderr.read()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=180) for process in processes]

    for number, (process, (stdout, stderr)) in enumerate(zip(processes, outputs, strict=True)):
        assert process.returncode == 0, f"Store {number} exited {process.returncode}:\n{stdout}\n{stderr}"
        assert "database is locked" not in stdout + stderr
        assert f"imported {DOCS_PER_STORE}" in stdout, stdout
    # Overlap: every run started before the first one finished (otherwise the test proves nothing).
    with sqlite3.connect(tmp_path / "concurrency.sqlite3") as db:
        runs = db.execute("SELECT started_at, finished_at FROM ordersync_syncrun WHERE kind = 'import'").fetchall()
        imported = dict(db.execute(
            "SELECT store.name, COUNT(*) FROM ordersync_syncedorder AS synced "
            "JOIN connections_store AS store ON store.id = synced.store_id "
            "WHERE synced.state = 'imported' GROUP BY store.name").fetchall())
    assert len(runs) == STORES
    assert max(started for started, _ in runs) < min(finished for _, finished in runs)
    assert imported == {f"Store {number}": DOCS_PER_STORE for number in range(STORES)}

    orders = shipstation_sim.order_list()
    keys = Counter(order["orderKey"] for order in orders)
    assert len(keys) == STORES * DOCS_PER_STORE and set(keys.values()) == {1}
    assert set(shipstation_sim.create_calls_by_key.values()) == {1}  # each order sent once, by one run
    per_store = Counter(order["advancedOptions"]["storeId"] for order in orders)
    assert per_store == dict.fromkeys(store_ids, DOCS_PER_STORE)
