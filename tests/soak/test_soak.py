"""The fleet under faults and crashes (bench/soak.py's scenario, N = SOAK_ORDERS, default 500).

Real Redis, real PostgreSQL (DATABASE_URL), two Celery workers and beat as subprocesses, both
simulators with 10% 5xx, 5% 429 bursts and 2% slow answers; two workers SIGKILLed mid-run.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from bench.soak import SoakConfig, format_table, run_soak, services_problem
from ordersync import tasks

pytestmark = pytest.mark.soak

DEADLINE_SECONDS = 240


@pytest.fixture(scope="module")
def soak():
    config = dataclasses.replace(SoakConfig(), orders=int(os.environ.get("SOAK_ORDERS", "500")),
                                 deadline_seconds=DEADLINE_SECONDS)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the soak needs PostgreSQL: set DATABASE_URL=postgres://…")
    if not hasattr(tasks, "import_due_stores"):
        pytest.skip("the import tasks have not landed yet (ordersync.tasks.import_due_stores)")
    problem = services_problem(config)
    if problem:
        pytest.skip(problem)
    result = run_soak(config, progress=lambda line: print(line, flush=True))
    print(format_table(result))
    return result


def test_the_fleet_finishes_within_the_deadline(soak):
    assert not soak.timed_out, soak.timed_out
    assert len(soak.kills) == 2


def test_no_order_is_lost(soak):
    assert soak.seeded == soak.config.orders
    assert soak.missing_order_keys == 0


def test_no_order_is_sent_twice(soak):
    assert soak.duplicate_order_keys == 0
    assert soak.orders_in_shipstation == soak.seeded


def test_every_label_gets_exactly_one_ship_notice(soak):
    assert soak.labels > 0.8 * soak.seeded
    assert soak.labels_without_notice == 0
    assert soak.labels_with_different_notices == 0
    # Only a notice caught between Order Time's answer and its record by a SIGKILL is delivered again,
    # identically (docs/shipment-updates.md); never more than the killed workers had in flight.
    assert soak.identical_redeliveries <= soak.redelivery_bound


def test_the_rate_limit_is_never_exceeded(soak):
    stats = soak.shipstation_stats
    assert stats["injected_429s"] > 0 and stats["injected_500s"] > 0  # the faults really happened
    assert stats["real_429s"] == 0
    assert stats["max_per_window"] <= soak.config.rate_limit


def test_nothing_is_left_needing_attention(soak):
    assert soak.database["orders_needing_attention"] == 0
    assert soak.database["notices_needing_attention"] == 0
