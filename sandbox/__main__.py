"""Run both simulators standalone: ``python -m sandbox [--seed N] [--rate-limit 40 --rate-window 60]``.

Drive them over HTTP through their ``/_sim/`` control endpoints (see each module's docstring).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .demo import seed_ordertime
from .faults import FaultConfig, Faults
from .ordertime import OrderTimeSimulator, make_sample_docs
from .server import SimulatorServer
from .shipstation import ShipStationSimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ordertime-port", type=int, default=8101)
    parser.add_argument("--shipstation-port", type=int, default=8102)
    parser.add_argument("--ordertime-user", default="demo@example.com")
    parser.add_argument("--ordertime-key", default="demo-ordertime-key")
    parser.add_argument("--shipstation-key", default="demo-ss-key")
    parser.add_argument("--shipstation-secret", default="demo-ss-secret")
    parser.add_argument("--rate-limit", type=int, default=40, help="ShipStation requests per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="ShipStation window, seconds")
    parser.add_argument("--page-size", type=int, default=50, help="Order Time export page size")
    parser.add_argument("--demo", action="store_true", help="seed the demo ship docs")
    parser.add_argument("--seed", type=int, default=0, help="seed N generated ship docs")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--burst-rate", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)

    def faults() -> Faults:
        return Faults(FaultConfig(error_rate=args.error_rate, rate_limit_burst_rate=args.burst_rate,
                                  latency_rate=args.slow_rate, latency_seconds=args.slow_seconds))

    ordertime = OrderTimeSimulator(args.ordertime_user, args.ordertime_key, page_size=args.page_size, faults=faults())
    shipstation = ShipStationSimulator(args.shipstation_key, args.shipstation_secret, rate_limit=args.rate_limit,
                                       rate_window_seconds=args.rate_window, faults=faults(), deliver_webhooks=True)
    if args.demo:
        seed_ordertime(ordertime)
    if args.seed:
        ordertime.add_ship_docs(make_sample_docs(args.seed))
    ot_server = SimulatorServer(ordertime, args.host, args.ordertime_port).start()
    ss_server = SimulatorServer(shipstation, args.host, args.shipstation_port).start()
    shipstation.base_url = ss_server.url
    print(f"Order Time simulator:  {ot_server.url}/api/shipstation", flush=True)
    print(f"ShipStation simulator: {ss_server.url}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    ot_server.stop()
    ss_server.stop()


if __name__ == "__main__":
    main()
