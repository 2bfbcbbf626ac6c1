"""Webhook-to-notice latency with a real worker: label created in the ShipStation simulator → ship notice
recorded by the Order Time simulator.

Starts everything it needs as real processes: the web app (gunicorn) receiving SHIP_NOTIFY webhooks, a
Celery worker (Redis broker) running ``fetch_webhook_resource``, and both simulators in this process on
loopback, the ShipStation one delivering webhooks over HTTP. No beat runs, so every notice travels the
webhook path. The ShipStation rate limit is set far above what 200 labels need, so no number includes
a rate-limit wait.

    .venv/bin/python bench/webhook_latency.py [--labels 200] [--rate 20] [--database-url postgres://...]

Prints one table: count, median, p95, max (milliseconds).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


def wait_for_worker(timeout: float = 60.0) -> None:
    from ordersync.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise TimeoutError("the Celery worker did not answer a ping")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="labels created per second")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/ordersync_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--worker-concurrency", type=int, default=8)
    args = parser.parse_args()

    web_port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ordersync.settings",
        "SECRET_KEY": "bench-only-secret-key",
        "CREDENTIALS_KEY": "yq5xQOZ4mJ3Eo1vQ8b0Q2d3q1m7WQ6Yk3r0fWc8xLZs=",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        "REDIS_URL": args.redis_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ORDERSYNC_WEBHOOK_ALLOW_HTTP": "1",  # the simulator serves plain http on loopback
        "ORDERSYNC_ALLOW_HTTP_SERVICES": "1",
        "ORDERSYNC_LOCK_DIR": tempfile.mkdtemp(prefix="ordersync-bench-locks-"),
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "consolemail://",
        "SECURE_SSL_REDIRECT": "0",  # plain http on loopback
    }
    os.environ.update(env)
    if args.database_url.startswith("postgres"):
        name = args.database_url.rsplit("/", 1)[1]
        subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(args.redis_url).flushdb()  # a dedicated database index: stale tasks would skew numbers
    call_command("migrate", verbosity=0)

    from connections.clients_for_store import shipstation_client_for
    from connections.services import store_connect
    from ordersync.mapping.imports import ImportOptions, map_order
    from ordersync.models import OrderState, ShipmentNotice, SyncedOrder
    from ordersync.shipments.subscriptions import store_webhook_subscribe
    from sandbox.faults import Faults
    from sandbox.ordertime import OrderTimeSimulator
    from sandbox.server import SimulatorServer
    from sandbox.shipstation import ShipStationSimulator
    from tests.unit.builders import order_1187

    ordertime = OrderTimeSimulator(username="bench@example.com", api_key="ot-key", faults=Faults())
    shipstation = ShipStationSimulator(api_key="ss-key", api_secret="ss-secret", rate_limit=1_000_000,
                                       deliver_webhooks=True, faults=Faults())
    processes: list[subprocess.Popen] = []
    with SimulatorServer(ordertime) as ot_server, SimulatorServer(shipstation) as ss_server:
        shipstation.base_url = ss_server.url
        store = store_connect(
            name="Bench", ordertime_username="bench@example.com", ordertime_api_key="ot-key",
            ordertime_url=f"{ot_server.url}/api/shipstation", shipstation_api_key="ss-key",
            shipstation_api_secret="ss-secret", shipstation_url=ss_server.url, shipstation_store_id=22766,
            verify=False,
        )
        options = ImportOptions(order_key_prefix=store.order_key_prefix, shipstation_store_id=22766,
                                status_mapping={"open": "awaiting_shipment"})
        client = shipstation_client_for(store)
        orders = [replace(order_1187(), order_id=str(50_000 + n), order_number=str(7_000 + n)) for n in range(args.labels)]
        mapped = [map_order(order, options).order for order in orders]
        for order in orders:
            ordertime.upsert_ship_doc(order)
        for start in range(0, len(mapped), 100):
            result = client.create_orders(mapped[start:start + 100])
            SyncedOrder.objects.bulk_create(
                SyncedOrder(store=store, ordertime_order_id=orders[start + i].order_id,
                            order_number=orders[start + i].order_number, order_key=r.order_key,
                            shipstation_order_id=r.order_id, state=OrderState.IMPORTED,
                            payload=mapped[start + i])
                for i, r in enumerate(result.results)
            )
        store_webhook_subscribe(store=store)

        python = str(ROOT / ".venv" / "bin")
        processes.append(subprocess.Popen(
            [f"{python}/gunicorn", "-w", "4", "-b", f"127.0.0.1:{web_port}", "ordersync.wsgi"], cwd=ROOT, env=env))
        processes.append(subprocess.Popen(
            [f"{python}/celery", "-A", "ordersync", "worker", "-c", str(args.worker_concurrency), "--loglevel",
             "WARNING", "-Q", "ordersync,ordersync.update"], cwd=ROOT, env=env))
        try:
            wait_for_port(web_port)
            wait_for_worker()  # a worker still starting up would add its start-up time to the first labels
            created_at: dict[str, datetime] = {}
            for synced in SyncedOrder.objects.filter(store=store).order_by("pk"):
                before = datetime.now(UTC)
                shipment = shipstation.create_label(synced.shipstation_order_id, carrier_code="ups",
                                                    service_code="ups_ground")
                created_at[shipment["trackingNumber"]] = before
                time.sleep(1 / args.rate)
            deadline = time.monotonic() + 120
            while len([n for n in ordertime.notices() if n["status"] == 200]) < args.labels:
                if time.monotonic() > deadline:
                    raise TimeoutError("not every label reached Order Time within 120 s")
                time.sleep(0.05)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=30)

        accepted = [n for n in ordertime.notices() if n["status"] == 200]
        latencies = [
            (datetime.fromisoformat(n["received_at"]) - created_at[n["query"]["tracking_number"]]).total_seconds() * 1000
            for n in accepted
        ]
        # Where the time goes: label → notice row recorded by the worker (webhook delivery, queue, fetch).
        recorded_ms = [
            (row.created_at - created_at[row.tracking_number]).total_seconds() * 1000
            for row in ShipmentNotice.objects.filter(store=store)
        ]
        duplicates = len(accepted) - len({n["query"]["tracking_number"] for n in accepted})
        sent = ShipmentNotice.objects.filter(store=store, state="sent").count()
        print()
        print("| labels | notices sent | duplicates | median ms | p95 ms | max ms |")
        print("|---:|---:|---:|---:|---:|---:|")
        print(f"| {len(created_at)} | {sent} | {duplicates} | {statistics.median(latencies):.0f} "
              f"| {percentile(latencies, 0.95):.0f} | {max(latencies):.0f} |")
        print(f"\nlabel → notice row recorded: median {statistics.median(recorded_ms):.0f} ms, "
              f"p95 {percentile(recorded_ms, 0.95):.0f} ms")
        print(f"\nShipStation simulator: {shipstation.stats.requests} API requests, "
              f"{shipstation.stats.real_429s} answered 429; webhooks delivered: {len(shipstation.deliveries)}")


if __name__ == "__main__":
    main()
