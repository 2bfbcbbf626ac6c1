"""``manage.py rundemo``: migrate, demo admin, both simulators seeded, a connected demo store, the admin.

Everything runs in this one process: the simulators in threads, Celery tasks in-process (no broker).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from connections.models import Store
from connections.services import store_connect
from sandbox.demo import DEMO_READY_STATUS, DEMO_SHIPSTATION_STORE_ID, DEMO_STORE_NAME, seed_ordertime
from sandbox.faults import Faults
from sandbox.ordertime import OrderTimeSimulator
from sandbox.server import SimulatorServer
from sandbox.shipstation import ShipStationSimulator

DEMO_USER = "admin"


class Command(BaseCommand):
    help = "Run Ordersync on embedded defaults: simulators for both services, a demo store, the admin on :8000."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--ordertime-port", type=int, default=8101)
        parser.add_argument("--shipstation-port", type=int, default=8102)
        parser.add_argument("--no-serve", action="store_true", help="Set everything up, then exit (used by tests).")

    def handle(self, *args, **opts):
        call_command("migrate", interactive=False, verbosity=0)
        password = self._demo_admin()

        ordertime = OrderTimeSimulator(username="demo@example.com", api_key="demo-ordertime-key", faults=Faults())
        shipstation = ShipStationSimulator(api_key="demo-ss-key", api_secret="demo-ss-secret", faults=Faults(),
                                           deliver_webhooks=True)
        ot_server = SimulatorServer(ordertime, port=opts["ordertime_port"]).start()
        ss_server = SimulatorServer(shipstation, port=opts["shipstation_port"]).start()
        shipstation.base_url = ss_server.url
        seeded = seed_ordertime(ordertime)

        # The simulators start empty every time, so the demo store's history starts over too.
        Store.objects.filter(name=DEMO_STORE_NAME).delete()
        store = store_connect(
            name=DEMO_STORE_NAME,
            ordertime_username=ordertime.username, ordertime_api_key=ordertime.api_key,
            ordertime_url=f"{ot_server.url}/api/shipstation",
            shipstation_api_key="demo-ss-key", shipstation_api_secret="demo-ss-secret",
            shipstation_url=ss_server.url, shipstation_store_id=DEMO_SHIPSTATION_STORE_ID,
            statuses={DEMO_READY_STATUS: "awaiting_shipment"},
        )
        store.settings.display_name = "Evergreen Outfitters"
        store.settings.email_buyer = True
        store.settings.support_email = "help@evergreen.example"
        store.settings.save()

        imported, shipped = self._first_sync(store, shipstation)
        self.stdout.write(self.style.SUCCESS("\nOrdersync demo is ready."))
        self.stdout.write(f"  Admin:        http://{opts['addr']}/admin/")
        self.stdout.write(f"  Login:        {DEMO_USER} / {password}")
        self.stdout.write(f"  Order Time simulator:  {ot_server.url}/api/shipstation ({seeded} ship docs)")
        self.stdout.write(f"  ShipStation simulator: {ss_server.url} (store {DEMO_SHIPSTATION_STORE_ID})")
        self.stdout.write(f"  Demo store:   {store.name}: {imported} orders imported, {shipped} labels reported\n")
        if opts["no_serve"]:
            ot_server.stop()
            ss_server.stop()
            return
        call_command("runserver", opts["addr"], use_reloader=False)

    def _demo_admin(self) -> str:
        user_model = get_user_model()
        password = getattr(settings, "DEMO_ADMIN_PASSWORD", "") or secrets.token_urlsafe(9)
        user, _ = user_model.objects.get_or_create(username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True})
        user.set_password(password)
        user.save()
        return password

    def _first_sync(self, store, shipstation) -> tuple[int, int]:
        from ordersync.imports.cycle import store_import_orders
        from ordersync.shipments.services import store_update_shipments

        run = store_import_orders(store=store, trigger="demo")
        # A few labels bought "in ShipStation", so the demo shows notices going back to Order Time.
        orders = sorted(shipstation.order_list(), key=lambda o: o["orderId"])[:5]
        for order in orders:
            shipstation.create_label(order["orderId"])
        store_update_shipments(store=store, trigger="demo")
        return run.counts.get("imported", 0), len(orders)
