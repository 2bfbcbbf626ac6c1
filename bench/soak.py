"""Soak: the whole fleet under faults and worker crashes, checked for lost, doubled and over-limit work.

    .venv/bin/python -m bench.soak [--orders 20000] [--workers 2] [--kills 2]

Real Redis (broker, shared limiter and locks), real PostgreSQL (a scratch database ``ordersync_soak``),
two or more real Celery workers and beat as subprocesses, and both simulators on loopback in this
process with fault injection (10% 5xx, 5% 429 bursts, 2% slow answers). N ship docs are spread over
three stores sharing one ShipStation key (so they share one rate limit); labels are bought for most
orders as they arrive; two workers are SIGKILLed mid-run and restarted. At the end it checks: every
ship doc became one ShipStation order, no orderKey twice, one ship notice per label, and the
simulator never counted a request over its limit. ``tests/soak/test_soak.py`` runs the same scenario
with N = 500.

Time is scaled: the ShipStation window is 40 requests per 2 s (not per 60 s) so the run stays short.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUEUES = "ordersync,ordersync.import,ordersync.update"
KILL_AT = 1 / 3  # of a phase's work
STATUS = "open"  # the status of every generated ship doc, mapped to awaiting_shipment


@dataclass
class SoakConfig:
    orders: int = 20_000
    stores: int = 3
    workers: int = 2
    concurrency: int = 2
    label_share: float = 0.9
    kills: int = 2
    rate_limit: int = 40
    rate_window: float = 2.0
    error_rate: float = 0.10
    burst_rate: float = 0.05
    slow_rate: float = 0.02
    slow_seconds: float = 1.0
    sweep_seconds: float = 3.0
    deadline_seconds: float = 3600.0
    seed: int = 1
    database_url: str = field(default_factory=lambda: os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    redis_url: str = field(default_factory=lambda: os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15"))
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class SoakResult:
    config: SoakConfig
    seeded: int = 0
    orders_in_shipstation: int = 0
    duplicate_order_keys: int = 0
    missing_order_keys: int = 0
    labels: int = 0
    labels_without_notice: int = 0
    labels_with_different_notices: int = 0  # two notices for one label that differ: never acceptable
    # The same notice delivered again: a worker killed between Order Time's answer and recording it
    # re-sends the stored payload after the sending lease (docs/shipment-updates.md). Bounded by the
    # notices in flight in the killed workers.
    identical_redeliveries: int = 0
    notices_received: int = 0
    shipstation_stats: dict = field(default_factory=dict)
    ordertime_requests: int = 0
    kills: list[str] = field(default_factory=list)
    database: dict = field(default_factory=dict)
    seconds: float = 0.0
    import_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    peak_worker_rss_mb: float = 0.0
    timed_out: str = ""

    @property
    def orders_per_minute(self) -> float:
        return self.orders_in_shipstation / self.import_seconds * 60 if self.import_seconds else 0.0

    @property
    def redelivery_bound(self) -> int:
        return len(self.kills) * self.config.concurrency

    @property
    def ok(self) -> bool:
        return (not self.timed_out and self.missing_order_keys == 0 and self.duplicate_order_keys == 0
                and self.labels_without_notice == 0 and self.labels_with_different_notices == 0
                and self.identical_redeliveries <= self.redelivery_bound
                and self.shipstation_stats.get("real_429s", 1) == 0
                and self.shipstation_stats.get("max_per_window", 10**9) <= self.config.rate_limit)


# --------------------------------------------------------------------------- services and database


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def services_problem(config: SoakConfig) -> str | None:
    """Why the soak cannot run here (no PostgreSQL, no Redis), or None."""
    import psycopg
    import redis

    if not config.database_url.startswith("postgres"):
        return f"the soak needs PostgreSQL (DATABASE_URL is {config.database_url!r})"
    try:
        psycopg.connect(_with_database(config.database_url, "postgres"), connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable: {exc}"
    try:
        redis.Redis.from_url(config.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {config.redis_url}: {exc}"
    return None


def fresh_database(config: SoakConfig, name: str) -> str:
    import psycopg

    with psycopg.connect(_with_database(config.database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(config.database_url, name)


def fleet_env(config: SoakConfig, database_url: str, workdir: Path) -> dict[str, str]:
    """The environment of every fleet process: production settings, scaled for a short run."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ordersync.settings",
        "PYTHONPATH": str(REPO),
        "DEBUG": "false",
        "ORDERSYNC_ALLOW_HTTP_SERVICES": "1",  # the simulators speak plain http on loopback
        "SECRET_KEY": "soak-only-" + os.urandom(16).hex(),
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "EMAIL_URL": os.environ.get("EMAIL_URL", "dummymail://"),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": _with_redis_db(config.redis_url, 14),
        "REDIS_URL": _with_redis_db(config.redis_url, 13),
        "LOG_LEVEL": "WARNING",
        # Production time limits (a cycle over 20,000 labels needs them); a dead worker's lock lapses
        # quickly, and its lost task is queued again by the next sweep long before Redis redelivers it.
        "ORDERSYNC_LOCK_TIMEOUT": "10",
        "ORDERSYNC_SWEEP_SECONDS": str(config.sweep_seconds),
        "ORDERSYNC_HTTP_TIMEOUT": "8",
        "ORDERSYNC_RATE_LIMIT_RESET_MARGIN": "0.1",
        # A notice caught mid-send by a SIGKILL is resent after this lease; 15 minutes would outlast the run.
        "ORDERSYNC_NOTICE_SENDING_LEASE_SECONDS": "40",
        # A notice whose Order Time call failed four times in a row (10 % 5xx) waits this long, not 5 minutes.
        "ORDERSYNC_NOTICE_RETRY_SECONDS": "5",
        "ORDERSYNC_LOCK_DIR": str(workdir / "locks"),
        **config.extra_env,
    }


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=env, input=stdin, text=True,
                          capture_output=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


CONNECT_STORES = """
import json, os
from connections.models import Store
from connections.services import store_connect
for spec in json.loads(os.environ["SOAK_STORES"]):
    store = store_connect(verify=False, statuses={os.environ["SOAK_STATUS"]: "awaiting_shipment"}, **spec)
    Store.objects.filter(pk=store.pk).update(import_interval_minutes=0, update_interval_minutes=0)
    print(store.name, store.order_key_prefix)
"""

DATABASE_REPORT = """
import json
from django.db.models import Count
from ordersync.models import ShipmentNotice, SyncedOrder, SyncRun
print(json.dumps({
    "orders_by_state": dict(SyncedOrder.objects.values_list("state").annotate(n=Count("pk"))),
    "orders_needing_attention": SyncedOrder.objects.filter(needs_attention=True).count(),
    "notices_by_state": dict(ShipmentNotice.objects.values_list("state").annotate(n=Count("pk"))),
    "notices_needing_attention": ShipmentNotice.objects.filter(needs_attention=True).count(),
    "runs_by_kind_status": {f"{k}/{s}": n for k, s, n in SyncRun.objects.values_list("kind", "status").annotate(n=Count("pk"))},
}))
"""


# --------------------------------------------------------------------------- simulators


class Simulators:
    """One ShipStation account (one key, one limit) and one Order Time company per store, on loopback."""

    def __init__(self, config: SoakConfig):
        from sandbox.faults import FaultConfig, Faults
        from sandbox.ordertime import OrderTimeSimulator
        from sandbox.server import SimulatorServer
        from sandbox.shipstation import ShipStationSimulator

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the report

        def faults(seed: int) -> Faults:
            return Faults(FaultConfig(error_rate=config.error_rate, rate_limit_burst_rate=config.burst_rate,
                                      latency_rate=config.slow_rate, latency_seconds=config.slow_seconds, seed=seed))

        self.shipstation = ShipStationSimulator("soak-key", "soak-secret", rate_limit=config.rate_limit,
                                                rate_window_seconds=config.rate_window, faults=faults(config.seed))
        self.store_ids = [31_000 + index for index in range(config.stores)]
        self.shipstation.add_stores([
            {"storeId": store_id, "storeName": f"Soak store {index}", "marketplaceId": 0,
             "marketplaceName": "ShipStation", "active": True}
            for index, store_id in enumerate(self.store_ids)
        ])
        self.ordertime = [OrderTimeSimulator(f"soak{index}@example.com", f"soak-ot-key-{index}", page_size=100,
                                             faults=faults(config.seed + 1 + index))
                          for index in range(config.stores)]
        self._servers = [SimulatorServer(sim).start() for sim in (self.shipstation, *self.ordertime)]
        self.shipstation_url = self._servers[0].url
        self.ordertime_urls = [f"{server.url}/api/shipstation" for server in self._servers[1:]]

    def stats(self) -> dict:
        """The ShipStation simulator's own counters, read the way another process would."""
        return requests.get(f"{self.shipstation_url}/_sim/stats", timeout=10).json()

    def stop(self) -> None:
        for server in self._servers:
            server.stop()


# --------------------------------------------------------------------------- the fleet


@dataclass
class FleetProcess:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None


class Fleet:
    """Celery workers and beat as subprocesses, each in its own process group so a kill takes its pool too."""

    def __init__(self, env: dict[str, str], workdir: Path, concurrency: int):
        self.env = env
        self.workdir = workdir
        self.concurrency = concurrency
        self.processes: dict[str, FleetProcess] = {}
        self._usage = _Usage()
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def start_worker(self, name: str) -> None:
        self._start(FleetProcess(name, [PYTHON, "-m", "celery", "-A", "ordersync", "worker", "-c", str(self.concurrency),
                                        "-n", f"{name}@%h", "-Q", QUEUES, "--without-gossip", "--without-mingle",
                                        "--loglevel=WARNING"]))

    def start_beat(self) -> None:
        self._start(FleetProcess("beat", [PYTHON, "-m", "celery", "-A", "ordersync", "beat", "--loglevel=WARNING",
                                          "-s", str(self.workdir / "beat-schedule")]))

    def _start(self, entry: FleetProcess) -> None:
        log = open(self.workdir / f"{entry.name}.log", "a")  # noqa: SIM115 - kept open for the child's lifetime
        entry.process = subprocess.Popen(entry.args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.processes[entry.name] = entry
        if not self._sampler.is_alive():
            self._sampler.start()

    def kill(self, name: str) -> None:
        """SIGKILL a worker and its pool, as a crashed machine would: nothing gets to clean up."""
        process = self.processes[name].process
        self._usage.sample_tree(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self, name: str) -> None:
        self._start(FleetProcess(name, self.processes[name].args))

    def stop(self) -> None:
        self._sampling.set()
        for entry in self.processes.values():
            if entry.process.poll() is None:
                self._usage.sample_tree(entry.process.pid)
                os.killpg(entry.process.pid, signal.SIGTERM)
        for entry in self.processes.values():
            try:
                entry.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(entry.process.pid, signal.SIGKILL)
                entry.process.wait()

    def _sample(self) -> None:
        while not self._sampling.wait(0.5):
            for entry in list(self.processes.values()):
                if entry.name != "beat" and entry.process.poll() is None:
                    self._usage.sample_tree(entry.process.pid)

    @property
    def cpu_seconds(self) -> float:
        return self._usage.cpu_seconds

    @property
    def peak_rss_mb(self) -> float:
        return self._usage.peak_rss_kb / 1024


class _Usage:
    """CPU time and peak memory of worker processes, read from /proc (Linux)."""

    def __init__(self):
        self._cpu: dict[int, float] = {}  # pid → its last CPU reading (s), kept after it dies
        self.peak_rss_kb = 0
        self._lock = threading.Lock()
        self._tick = os.sysconf("SC_CLK_TCK")

    def sample_tree(self, root: int) -> None:
        for pid in [root, *_descendants(root)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            cpu = (int(stat[11]) + int(stat[12])) / self._tick
            hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
            with self._lock:
                self._cpu[pid] = max(self._cpu.get(pid, 0.0), cpu)
                self.peak_rss_kb = max(self.peak_rss_kb, hwm)

    @property
    def cpu_seconds(self) -> float:
        with self._lock:
            return sum(self._cpu.values())


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


# --------------------------------------------------------------------------- the run


def _labelled(order_key: str, share: float) -> bool:
    """Whether the scenario buys a label for this order: a stable choice, the same on every run."""
    return int(hashlib.sha256(order_key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def wait_for(condition: Callable[[], bool], *, deadline: float, what: str, every: float = 0.5) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def run_soak(config: SoakConfig, progress: Callable[[str], None] = print) -> SoakResult:
    from sandbox.ordertime import make_sample_docs

    result = SoakResult(config=config)
    started = time.monotonic()
    deadline = started + config.deadline_seconds
    workdir = Path(tempfile.mkdtemp(prefix="ordersync-soak-"))
    progress(f"soak: {config.orders} ship docs, {config.stores} stores, {config.workers} workers; logs in {workdir}")
    env = fleet_env(config, fresh_database(config, "ordersync_soak"), workdir)
    import redis

    for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
        redis.Redis.from_url(url).flushdb()
    manage(env, "migrate", "--noinput")

    sims = Simulators(config)
    fleet = Fleet(env, workdir, config.concurrency)
    try:
        stores = [{"name": f"Soak {index}", "ordertime_username": f"soak{index}@example.com",
                   "ordertime_api_key": f"soak-ot-key-{index}", "ordertime_url": sims.ordertime_urls[index],
                   "shipstation_api_key": "soak-key", "shipstation_api_secret": "soak-secret",
                   "shipstation_url": sims.shipstation_url, "shipstation_store_id": sims.store_ids[index]}
                  for index in range(config.stores)]
        connected = manage({**env, "SOAK_STORES": json.dumps(stores), "SOAK_STATUS": STATUS},
                           "shell", "--no-imports", stdin=CONNECT_STORES)
        prefixes = [line.split()[-1] for line in connected.splitlines() if line.strip()]
        expected: set[str] = set()
        per_store = [config.orders // config.stores + (index < config.orders % config.stores)
                     for index in range(config.stores)]
        first_id = 100_001
        for index, count in enumerate(per_store):
            docs = make_sample_docs(count, seed=config.seed + index, first_order_id=first_id)
            for doc in docs:
                doc["OrderStatus"] = STATUS
                expected.add(f"ordertime-{prefixes[index]}-{doc['OrderID']}")
            sims.ordertime[index].add_ship_docs(docs)
            first_id += count
        result.seeded = len(expected)
        wanted_labels = {key for key in expected if _labelled(key, config.label_share)}

        for number in range(config.workers):
            fleet.start_worker(f"worker{number + 1}")
        fleet.start_beat()

        labelled: dict[str, int] = {}  # orderKey → shipmentId
        # Kills alternate between the phases: one while orders are being imported, one while notices are
        # being sent, each a third of the way into its phase, each a different worker.
        victims = [f"worker{number % config.workers + 1}" for number in range(config.kills)]

        def imported_keys() -> set[str]:
            with sims.shipstation._lock:
                return set(sims.shipstation.order_ids_by_key)

        def buy_labels() -> None:
            for key in sorted(imported_keys() & wanted_labels - labelled.keys()):
                labelled[key] = sims.shipstation.create_label(order_key=key)["shipmentId"]

        def noticed_keys() -> set[str]:
            """Orders Order Time accepted a ship notice for (a re-delivery must not stand in for a missing one)."""
            return {f"ordertime-{prefixes[index]}-{notice['order_id']}"
                    for index, sim in enumerate(sims.ordertime) for notice in sim.notices() if notice["status"] == 200}

        def step() -> bool:
            buy_labels()
            shares = (len(imported_keys() & expected) / len(expected),
                      len(noticed_keys() & wanted_labels) / max(1, len(wanted_labels)))
            while victims and shares[len(result.kills) % 2] >= KILL_AT:
                victim = victims.pop(0)
                progress(f"  SIGKILL {victim} at {shares[0]:.0%} of the orders, {shares[1]:.0%} of the notices")
                fleet.kill(victim)
                result.kills.append(victim)
                fleet.restart(victim)
            return expected <= imported_keys() and len(labelled) == len(wanted_labels) \
                and wanted_labels <= noticed_keys()

        last_report = 0.0
        import_done_at = None

        def progressing() -> bool:
            nonlocal last_report, import_done_at
            done = step()
            if import_done_at is None and expected <= imported_keys():
                import_done_at = time.monotonic()
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                progress(f"  {time.monotonic() - started:5.0f} s: {len(imported_keys() & expected)}/{len(expected)} "
                         f"orders, {len(labelled)} labels, {len(noticed_keys())} notified, "
                         f"{sims.stats()['requests']} ShipStation requests")
            return done

        try:
            wait_for(progressing, deadline=deadline, what="every order imported and every label reported")
            # Let the fleet go round again: a late duplicate (a redelivered task, a resent notice) shows now.
            settled_from = sims.stats()["requests"]
            wait_for(lambda: sims.stats()["requests"] >= settled_from + 6 * config.stores,
                     deadline=deadline, what="more update cycles after the work was done")
        except TimeoutError as exc:
            result.timed_out = str(exc)
        result.import_seconds = (import_done_at or time.monotonic()) - started
        result.seconds = time.monotonic() - started

        orders = sims.shipstation.order_list()
        keys = Counter(order["orderKey"] for order in orders)
        result.orders_in_shipstation = len(orders)
        result.duplicate_order_keys = sum(1 for n in keys.values() if n > 1)
        result.missing_order_keys = len(expected - keys.keys())
        result.labels = len(labelled)
        bodies_per_order: dict[str, list[str]] = {}
        for index, sim in enumerate(sims.ordertime):
            for notice in sim.notices():
                if notice["status"] == 200:
                    bodies_per_order.setdefault(f"ordertime-{prefixes[index]}-{notice['order_id']}", []).append(notice["body"])
        result.notices_received = sum(map(len, bodies_per_order.values()))
        result.labels_without_notice = sum(1 for key in labelled if key not in bodies_per_order)
        result.labels_with_different_notices = sum(1 for bodies in bodies_per_order.values() if len(set(bodies)) > 1)
        result.identical_redeliveries = sum(len(bodies) - 1 for bodies in bodies_per_order.values())
        result.shipstation_stats = {k: v for k, v in sims.stats().items() if k != "orders_per_call"}
        result.ordertime_requests = sum(len(sim.requests_log()) for sim in sims.ordertime)
    finally:
        fleet.stop()
        sims.stop()
    result.worker_cpu_seconds = fleet.cpu_seconds
    result.peak_worker_rss_mb = fleet.peak_rss_mb
    result.database = json.loads(manage(env, "shell", "--no-imports", stdin=DATABASE_REPORT).strip().splitlines()[-1])
    return result


def format_table(result: SoakResult) -> str:
    stats = result.shipstation_stats
    rows = [
        ("ship docs seeded", result.seeded),
        ("orders in ShipStation", result.orders_in_shipstation),
        ("lost orders", result.missing_order_keys),
        ("duplicate orderKeys", result.duplicate_order_keys),
        ("labels bought", result.labels),
        ("ship notices received (200)", result.notices_received),
        ("labels without a notice", result.labels_without_notice),
        ("labels with two different notices", result.labels_with_different_notices),
        ("identical re-deliveries after a kill", f"{result.identical_redeliveries} (at most {result.redelivery_bound})"),
        ("workers SIGKILLed and restarted", len(result.kills)),
        ("ShipStation requests", stats.get("requests")),
        ("  over the limit (real 429s)", stats.get("real_429s")),
        ("  most in one window / limit", f"{stats.get('max_per_window')} / {result.config.rate_limit}"),
        ("  injected 429s / 500s", f"{stats.get('injected_429s')} / {stats.get('injected_500s')}"),
        ("Order Time requests", result.ordertime_requests),
        ("orders needing attention", result.database.get("orders_needing_attention")),
        ("notices needing attention", result.database.get("notices_needing_attention")),
        ("import throughput (orders/min)", f"{result.orders_per_minute:,.0f}"),
        ("worker CPU ms per order", f"{result.worker_cpu_seconds * 1000 / max(1, result.seeded):.1f}"),
        ("peak worker memory (MB RSS)", f"{result.peak_worker_rss_mb:.0f}"),
        ("wall time (s)", f"{result.seconds:.0f}"),
        ("verdict", "PASS" if result.ok else f"FAIL {result.timed_out}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'soak':<{width}}  N = {result.config.orders:,}", "-" * (width + 16)]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- entry points


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--deadline", type=float, default=defaults.deadline_seconds, help="seconds")
    args = parser.parse_args(argv)
    config = dataclasses.replace(defaults, orders=args.orders, workers=args.workers, concurrency=args.concurrency,
                                 kills=args.kills, deadline_seconds=args.deadline)
    problem = services_problem(config)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # A SIGTERM (a CI timeout) stops the fleet and the simulators like Ctrl-C does, through ``finally``.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    result = run_soak(config)
    print(format_table(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
