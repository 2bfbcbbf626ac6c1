"""Import throughput against ShipStation's rate limit, and what each order costs.

    .venv/bin/python -m bench.throughput [--orders 1000,20000] [--workers 1,2] [--baseline-orders 400]

Time is scaled: the ShipStation simulator allows 40 requests per 2 s instead of per 60 s, so the
ceiling is 100 orders per ``createorders`` call × 40 calls per 2 s = 120,000 orders a minute (4,000 at
the real limit). For each N and each worker count W it spreads the N orders over W stores that share
one ShipStation key, and runs each store's import cycles in a process of its own (as a worker would,
one bounded cycle per task, the next one queued behind it), all at once, on a scratch database; the
processes share the key's budget through the Redis limiter. Then it pushes orders one ``createorder``
call each — how connectors without batching work — against the same limit.

Measured: orders per minute and the ratio to the ceiling; API calls per 1,000 orders; worker CPU ms
per order (all workers); a worker's peak memory (RSS high-water mark); database queries per
``createorders`` batch; and, to show where the machine's CPU goes, the simulators' and PostgreSQL's
CPU ms per order. One table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.soak import PYTHON, REPO, STATUS, SoakConfig, fleet_env, fresh_database, manage, services_problem

RATE_LIMIT = 40
RATE_WINDOW = 2.0
ORDERS_PER_CALL = 100


@dataclass
class Measurement:
    label: str
    orders: int
    seconds: float
    api_calls: int
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    queries: int | None = None
    batches: int | None = None
    windows: int = 0  # rate-limit windows the run used, as the simulator counted them
    simulators_cpu_seconds: float | None = None
    postgres_cpu_seconds: float | None = None

    @property
    def per_minute(self) -> float:
        return self.orders / self.seconds * 60 if self.seconds else 0.0

    @property
    def of_ceiling(self) -> float:
        """Orders sent / what the windows the run used allowed (100 orders × limit each).

        Counting the windows used rather than the wall time keeps a short run's first window, whose
        whole budget is there at once, from flattering the figure.
        """
        return self.orders / (ORDERS_PER_CALL * RATE_LIMIT * self.windows) if self.windows else 0.0


# --------------------------------------------------------------------------- the worker side


CONNECT_STORE = """
import os
from connections.models import Store
from connections.services import store_connect
store = store_connect(name=os.environ["BENCH_NAME"], ordertime_username=os.environ["BENCH_OT_USER"],
                      ordertime_api_key=os.environ["BENCH_OT_KEY"], ordertime_url=os.environ["BENCH_OT_URL"],
                      shipstation_api_key="bench-key", shipstation_api_secret="bench-secret",
                      shipstation_url=os.environ["BENCH_SS_URL"], shipstation_store_id=22766,
                      statuses={os.environ["BENCH_STATUS"]: "awaiting_shipment"}, verify=False)
print(store.pk)
"""


def cycle_main(store_id: int, expected: int) -> None:
    """Run import cycles for one store until every order is in, as a worker does; print what it cost."""
    import django

    django.setup()
    from django.db import connection

    from connections.models import Store
    from ordersync.models import SyncedOrder, SyncRun
    from ordersync.tasks import import_store_orders

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # The worker's queue, in this process: a cycle that leaves pages to read queues the next one.
    queue = [store_id]
    import_store_orders.delay = lambda store_id, *args: queue.append(store_id)
    store = Store.objects.get(pk=store_id)
    started, started_at = time.monotonic(), time.time()
    setup = resource.getrusage(resource.RUSAGE_SELF)  # Django's start-up is not the orders' cost
    backend = _backend_cpu_seconds(connection)
    with connection.execute_wrapper(count):
        while queue:
            import_store_orders.apply(args=(queue.pop(0),))  # the task body, as a worker runs it
            if not queue and SyncedOrder.objects.filter(store=store, shipstation_order_id__isnull=False).count() < expected:
                queue.append(store_id)  # the beat sweep's next tick
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    backend = _backend_cpu_seconds(connection) - backend
    print(json.dumps({
        "postgres_cpu_seconds": backend, "started_at": started_at, "finished_at": time.time(),
        "seconds": seconds, "peak_rss_kb": _peak_rss_kb(),
        "cpu_seconds": usage.ru_utime + usage.ru_stime - setup.ru_utime - setup.ru_stime,
        "queries": queries, "runs": SyncRun.objects.filter(store=store).count(),
    }))


# --------------------------------------------------------------------------- the bench


def measure_batched(orders: int, config: SoakConfig, shipstation, shipstation_url: str, *, workers: int = 1) -> Measurement:
    """N orders over ``workers`` stores on one ShipStation key, each store's cycles in a worker process
    of its own, all at once: the fleet sharing the key's budget through the Redis limiter."""
    import redis

    from sandbox.ordertime import OrderTimeSimulator, make_sample_docs
    from sandbox.server import SimulatorServer

    workdir = Path(tempfile.mkdtemp(prefix="ordersync-bench-"))
    env = fleet_env(config, fresh_database(config, "ordersync_bench"), workdir)
    env.update({"CELERY_BROKER_URL": "", "ORDERSYNC_RATE_LIMIT_RESERVE": "0", "ORDERSYNC_RATE_LIMIT_RESET_MARGIN": "0"})
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    manage(env, "migrate", "--noinput")
    with ExitStack() as servers:
        stores = []  # (store id, orders)
        for index in range(workers):
            count = orders // workers + (index < orders % workers)
            ordertime = OrderTimeSimulator(f"bench{index}@example.com", f"bench-ot-key-{index}", page_size=500)
            docs = make_sample_docs(count, seed=orders + index, first_order_id=100_001 + index * 1_000_000)
            for doc in docs:
                doc["OrderStatus"] = STATUS
            ordertime.add_ship_docs(docs)
            server = servers.enter_context(SimulatorServer(ordertime))
            store_id = manage({**env, "BENCH_NAME": f"Bench {index}", "BENCH_OT_USER": f"bench{index}@example.com",
                               "BENCH_OT_KEY": f"bench-ot-key-{index}", "BENCH_OT_URL": f"{server.url}/api/shipstation",
                               "BENCH_SS_URL": shipstation_url, "BENCH_STATUS": STATUS},
                              "shell", "--no-imports", stdin=CONNECT_STORE).strip().splitlines()[-1]
            stores.append((store_id, count))
        before = shipstation.stats.as_dict()
        simulators_before = _own_cpu_seconds()
        processes = [subprocess.Popen([PYTHON, "-m", "bench.throughput", "cycle", store_id, str(count)], cwd=REPO,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for store_id, count in stores]
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=3600)
            if process.returncode != 0:
                raise RuntimeError(f"an import worker failed:\n{out}\n{err}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        simulators_cpu = _own_cpu_seconds() - simulators_before
    after = shipstation.stats.as_dict()
    label = f"batched, N = {orders:,}" if workers == 1 else f"fleet of {workers} workers, N = {orders:,}"
    return Measurement(
        label=label, orders=orders,
        seconds=max(report["finished_at"] for report in reports) - min(report["started_at"] for report in reports),
        api_calls=after["requests"] - before["requests"],
        cpu_seconds=sum(report["cpu_seconds"] for report in reports),
        peak_rss_mb=max(report["peak_rss_kb"] for report in reports) / 1024,
        queries=sum(report["queries"] for report in reports),
        batches=after["createorders_calls"] - before["createorders_calls"], windows=after["windows"] - before["windows"],
        simulators_cpu_seconds=simulators_cpu,
        postgres_cpu_seconds=sum(report["postgres_cpu_seconds"] for report in reports),
    )


def _peak_rss_kb() -> int:
    """This process's RSS high-water mark. Not ``ru_maxrss``: Linux carries that across fork and exec,
    so a worker started by this bench would report the bench's own size (the simulators' data)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _backend_cpu_seconds(connection) -> float:
    """CPU of the PostgreSQL backend serving this connection (same machine), from /proc."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    values = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """This process's CPU: the two simulators' threads, as the bench does nothing else meanwhile."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_one_per_call(orders: int, simulators) -> Measurement:
    """The same kind of orders, mapped the same way, one per call, through the same limiter."""
    shipstation, ordertime, urls = simulators
    from connections.clients.ordertime import OrderTimeClient
    from connections.clients.ratelimit import InMemoryRateLimiter
    from connections.clients.shipstation import ShipStationClient
    from ordersync.mapping.imports import ImportOptions, MappedOrder, map_order
    from sandbox.ordertime import make_sample_docs

    docs = make_sample_docs(orders, seed=orders + 1, first_order_id=900_001)
    for doc in docs:
        doc["OrderStatus"] = STATUS
    ordertime.add_ship_docs(docs)
    options = ImportOptions(order_key_prefix="baseline", shipstation_store_id=22766,
                            status_mapping={STATUS: "awaiting_shipment"})
    source = OrderTimeClient(urls[1], "bench@example.com", "bench-ot-key")
    client = ShipStationClient(urls[0], "bench-key", "bench-secret",
                               rate_limiter=InMemoryRateLimiter(reserve=0, reset_margin=0))
    wanted = {doc["OrderID"] for doc in docs}
    mapped = [map_order(order, options) for order in source.iter_orders(*_export_window()) if order.order_id in wanted]
    payloads = [result.order for result in mapped if isinstance(result, MappedOrder)]
    windows_before = shipstation.stats.windows
    started = time.monotonic()
    for payload in payloads:
        client.create_order(payload)
    return Measurement(label=f"one order per call, N = {len(payloads):,}", orders=len(payloads),
                       seconds=time.monotonic() - started, api_calls=client.calls,
                       windows=shipstation.stats.windows - windows_before)


def _export_window():
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(minutes=5)


def format_table(rows: list[Measurement], window: float = RATE_WINDOW) -> str:
    header = ("run", "orders/min", "of ceiling", "API calls/1k orders", "CPU ms/order", "peak RSS MB",
              "DB queries/batch", "simulators CPU ms/order", "PostgreSQL CPU ms/order")
    per_order = lambda seconds, row: "-" if seconds is None else f"{seconds * 1000 / row.orders:.2f}"  # noqa: E731
    lines = []
    for row in rows:
        lines.append((
            row.label, f"{row.per_minute:,.0f}", f"{row.of_ceiling:.1%}",
            f"{row.api_calls / row.orders * 1000:,.0f}", per_order(row.cpu_seconds, row),
            "-" if row.peak_rss_mb is None else f"{row.peak_rss_mb:.0f}",
            "-" if not row.batches else f"{row.queries / row.batches:.0f}",
            per_order(row.simulators_cpu_seconds, row), per_order(row.postgres_cpu_seconds, row),
        ))
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    render = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))  # noqa: E731
    title = (f"ShipStation limit {RATE_LIMIT} requests / {window:g} s; ceiling "
             f"{ORDERS_PER_CALL} orders × limit = {ORDERS_PER_CALL * RATE_LIMIT / window * 60:,.0f} orders/min")
    return "\n".join([title, render(header), "  ".join("-" * w for w in widths), *map(render, lines)])


def say_measured(row: Measurement, shipstation) -> None:
    print(f"  {row.label}: {row.per_minute:,.0f} orders/min", file=sys.stderr, flush=True)
    if shipstation.stats.real_429s:
        print(f"  ! {shipstation.stats.real_429s} requests over the limit", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cycle"]:
        cycle_main(int(argv[1]), int(argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", default="1000,20000", help="comma-separated Ns for the batched runs")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (one store each) per N")
    parser.add_argument("--baseline-orders", type=int, default=400)
    parser.add_argument("--window", type=float, default=RATE_WINDOW,
                        help="seconds per 40-request window (60 is ShipStation's real one)")
    args = parser.parse_args(argv)
    config = SoakConfig()
    problem = services_problem(config)
    if problem:
        print(problem, file=sys.stderr)
        return 2

    import logging

    from sandbox.ordertime import OrderTimeSimulator
    from sandbox.server import SimulatorServer
    from sandbox.shipstation import ShipStationSimulator

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    rows = []
    for orders in [int(n) for n in args.orders.split(",")]:
        for workers in [int(n) for n in args.workers.split(",")]:
            shipstation = ShipStationSimulator("bench-key", "bench-secret", rate_limit=RATE_LIMIT,
                                               rate_window_seconds=args.window)
            with SimulatorServer(shipstation) as ss_server:
                rows.append(measure_batched(orders, config, shipstation, ss_server.url, workers=workers))
            say_measured(rows[-1], shipstation)
    shipstation = ShipStationSimulator("bench-key", "bench-secret", rate_limit=RATE_LIMIT, rate_window_seconds=args.window)
    ordertime = OrderTimeSimulator("bench@example.com", "bench-ot-key", page_size=500)
    with SimulatorServer(shipstation) as ss_server, SimulatorServer(ordertime) as ot_server:
        simulators = (shipstation, ordertime, (ss_server.url, f"{ot_server.url}/api/shipstation"))
        rows.append(measure_one_per_call(args.baseline_orders, simulators))
    say_measured(rows[-1], shipstation)
    print(format_table(rows, args.window))
    batched = [row for row in rows if row.batches]
    if batched and rows[-1].per_minute:
        print(f"batched / one-per-call: {batched[-1].per_minute / rows[-1].per_minute:.0f}×")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersync.settings")
    os.environ.setdefault("ORDERSYNC_ALLOW_HTTP_SERVICES", "1")  # the simulators speak plain http
    sys.exit(main())
