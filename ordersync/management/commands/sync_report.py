import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.models import Store
from ordersync.models import Lifecycle
from ordersync.selectors import sync_report


class Command(BaseCommand):
    help = _("Per store: orders imported, rejected (with reasons) and held, ship notices sent, and what needs attention.")

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NAME", help=_("Only this store (default: every store)."))
        parser.add_argument("--json", action="store_true", help=_("Print JSON instead of text."))

    def handle(self, *args, **opts):
        stores = Store.objects.all()
        if opts["store"]:
            stores = Store.objects.filter(name=opts["store"])
            if not stores.exists():
                raise CommandError(_('No store named "%(name)s".') % {"name": opts["store"]})
        report = sync_report(stores=stores)
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        for store in report["stores"]:
            self._write_store(store)

    def _write_store(self, store: dict) -> None:
        write = self.stdout.write
        write(self.style.MIGRATE_HEADING(store["name"]))
        write("  " + _("Imported into ShipStation: %(count)d") % {"count": store["imported"]})
        write("  " + _("Ship notices sent to Order Time: %(count)d") % {"count": store["notified"]})
        if store["lifecycle"]:
            labels = dict(Lifecycle.choices)
            write("  " + _("In ShipStation: %(states)s") % {"states": ", ".join(
                f"{labels.get(state, state)} {count}" for state, count in store["lifecycle"].items())})
        write("  " + _("Rejected: %(count)d") % {"count": len(store["rejected"])})
        for order in store["rejected"]:
            write(f"    #{order['order_number']}")
            for reason in order["reasons"]:
                write(f"      - {reason}")
        write("  " + _("Held for a status mapping: %(count)d") % {"count": len(store["held"])})
        for order in store["held"]:
            write("    " + _('#%(number)s (status "%(status)s")') % {"number": order["order_number"], "status": order["status"]})
        write("  " + _("Errors: %(count)d") % {"count": len(store["errors"])})
        for error in store["errors"]:
            write(f"    - {error}")
