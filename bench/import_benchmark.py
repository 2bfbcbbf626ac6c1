"""What one import cycle costs: N ship docs from the Order Time simulator into the ShipStation simulator.

    .venv/bin/python bench/import_benchmark.py [--orders 10000] [--page-size 100]

Both simulators run in a child process (``python -m sandbox``) with no effective rate limit, so the CPU
time and memory measured here are the import's own. Django runs in this process on a scratch SQLite
database (or ``DATABASE_URL``), migrated first. The import is ``store_import_orders``, the code the
Celery task and ``import_orders`` run, called until the walk over the window is done (one bounded cycle
per ``ORDERSYNC_IMPORT_ORDERS_PER_CYCLE`` ship docs). A second walk over the same window shows the cost
of the overlap: nothing changed, so nothing is sent.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
OT_USER, OT_KEY = "bench@example.com", "bench-ot-key"
SS_KEY, SS_SECRET = "bench-ss-key", "bench-ss-secret"
SS_STORE_ID = 22766  # the simulator's manual store


@dataclass
class Measurement:
    label: str
    orders: int
    seconds: float
    cpu_seconds: float
    queries: int
    api_calls: int
    createorders_calls: int
    peak_rss_mb: float

    def row(self) -> list[str]:
        per_order = self.orders or 1
        batches = max(1, self.orders / 100)
        return [
            self.label,
            f"{self.orders / self.seconds:,.0f}" if self.seconds else "-",
            f"{self.cpu_seconds * 1000 / per_order:.2f}",
            f"{self.peak_rss_mb:,.0f}",
            f"{self.queries / batches:.1f}",
            f"{self.api_calls * 1000 / per_order:.1f}",
            f"{self.createorders_calls}",
        ]


HEADERS = ["run", "orders/s", "CPU ms/order", "peak RSS MB", "DB queries/100 orders", "API calls/1,000 orders",
           "createorders calls"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_simulators(orders: int, page_size: int) -> tuple[subprocess.Popen, str, str]:
    ot_port, ss_port = free_port(), free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--seed", str(orders), "--page-size", str(page_size),
         "--rate-limit", "100000000", "--ordertime-port", str(ot_port), "--shipstation-port", str(ss_port),
         "--ordertime-user", OT_USER, "--ordertime-key", OT_KEY,
         "--shipstation-key", SS_KEY, "--shipstation-secret", SS_SECRET],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    urls = [child.stdout.readline().strip().rsplit(" ", 1)[-1] for _ in range(2)]
    if not all(url.startswith("http") for url in urls):
        child.kill()
        raise RuntimeError(f"the simulators did not start: {urls}")
    ordertime_root = urls[0].removesuffix("/api/shipstation")  # the first line names the endpoint
    return child, ordertime_root, urls[1]


def setup_django(workdir: Path) -> None:
    sys.path.insert(0, str(REPO))
    from cryptography.fernet import Fernet

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ordersync.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("CREDENTIALS_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    os.environ.setdefault("ORDERSYNC_ALLOW_HTTP_SERVICES", "1")  # the simulators speak plain http
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("ORDERSYNC_LOCK_DIR", str(workdir / "locks"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CELERY_BROKER_URL"] = ""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def measure(label: str, store, orders: int, ot_url: str, ss_url: str) -> Measurement:
    from django.db import connection

    from ordersync.imports.cycle import store_import_orders

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    ss_before = requests.get(f"{ss_url}/_sim/stats", timeout=10).json()
    ot_before = len(requests.get(f"{ot_url}/_sim/requests", timeout=10).json()["log"])
    cpu, wall = time.process_time(), time.perf_counter()
    runs = []
    with connection.execute_wrapper(count):
        while not runs or runs[-1].more_to_read:  # the bounded cycles of one walk, back to back
            runs.append(store_import_orders(store=store, trigger="bench"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ss_after = requests.get(f"{ss_url}/_sim/stats", timeout=10).json()
    ot_after = len(requests.get(f"{ot_url}/_sim/requests", timeout=10).json()["log"])
    for run in runs:
        if run.status != "succeeded":
            raise RuntimeError(f"{label}: a run {run.status}: {run.errors}")
    return Measurement(
        label=label, orders=orders, seconds=wall, cpu_seconds=cpu, queries=queries,
        api_calls=(ss_after["requests"] - ss_before["requests"]) + (ot_after - ot_before),
        createorders_calls=ss_after["createorders_calls"] - ss_before["createorders_calls"],
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(HEADERS, *rows, strict=True)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True)),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
              for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100, help="Order Time export page size (unknown in reality)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ordersync-import-bench-"))
    setup_django(workdir)
    from connections.services import store_connect
    from ordersync.models import SyncedOrder

    child, ot_url, ss_url = start_simulators(args.orders, args.page_size)
    try:
        store = store_connect(
            name="Bench", ordertime_username=OT_USER, ordertime_api_key=OT_KEY, ordertime_url=f"{ot_url}/api/shipstation",
            shipstation_api_key=SS_KEY, shipstation_api_secret=SS_SECRET, shipstation_url=ss_url,
            shipstation_store_id=SS_STORE_ID, statuses={"open": "awaiting_shipment"}, verify=False,
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first = measure(f"first import, N = {args.orders:,}", store, args.orders, ot_url, ss_url)
        imported = SyncedOrder.objects.filter(store=store, shipstation_order_id__isnull=False).count()
        again = measure("re-run, nothing changed", store, args.orders, ot_url, ss_url)
        in_shipstation = len(requests.get(f"{ss_url}/_sim/orders", timeout=60).json()["orders"])
    finally:
        child.terminate()
        child.wait(timeout=10)

    print(format_table([first.row(), again.row()]))
    print(f"\n{imported:,} ship docs imported; {in_shipstation:,} orders in the ShipStation simulator; "
          f"peak RSS was {rss_before:,.0f} MB before the first import. Export page size {args.page_size}; "
          f"database {os.environ['DATABASE_URL'].split(':', 1)[0]}.")


if __name__ == "__main__":
    main()
