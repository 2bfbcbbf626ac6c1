from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.models import Store
from ordersync.imports.services import store_import_orders
from ordersync.management.commands.update_shipments import parse_since
from ordersync.models import RunStatus


class Command(BaseCommand):
    help = _("Export new and changed ship docs from Order Time and create or update the ShipStation orders.")

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NAME", help=_("Only this store (default: every active store)."))
        parser.add_argument("--since", metavar='"YYYY-MM-DD HH:MM"',
                            help=_("Read ship docs modified since this time (UTC) instead of since the cursor."))

    def handle(self, *args, **opts):
        since = parse_since(opts["since"]) if opts["since"] else None
        stores = Store.objects.filter(active=True)
        if opts["store"]:
            stores = Store.objects.filter(name=opts["store"])
            if not stores.exists():
                raise CommandError(_('No store named "%(name)s".') % {"name": opts["store"]})
        failed = False
        for store in stores:
            run = store_import_orders(store=store, since=since, trigger="command")
            counts = ", ".join(f"{key} {value}" for key, value in sorted(run.counts.items()) if value) or _("nothing new")
            self.stdout.write(f"{store.name}: {run.get_status_display()} ({counts})")
            for error in run.errors:
                self.stderr.write(f"  {error}")
            failed = failed or run.status == RunStatus.FAILED
        if failed:
            raise CommandError(_("At least one store's import failed."))
