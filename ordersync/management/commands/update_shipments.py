from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.models import Store
from ordersync.shipments.services import store_update_shipments


def parse_since(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CommandError(_('--since must look like "YYYY-MM-DD HH:MM" (UTC), got "%(text)s"') % {"text": text}) from exc


class Command(BaseCommand):
    help = _("Read new labels, voids and fulfillments from ShipStation and send the ship notices to Order Time.")

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NAME", help=_("Only this store (default: every active store)."))
        parser.add_argument("--since", metavar='"YYYY-MM-DD HH:MM"',
                            help=_("Re-read labels created since this time (UTC); cursors are not moved."))

    def handle(self, *args, **opts):
        since = parse_since(opts["since"]) if opts["since"] else None
        stores = Store.objects.filter(active=True)
        if opts["store"]:
            stores = Store.objects.filter(name=opts["store"])
            if not stores.exists():
                raise CommandError(_('No store named "%(name)s".') % {"name": opts["store"]})
        failed = False
        for store in stores:
            run = store_update_shipments(store=store, since=since, trigger="command")
            counts = ", ".join(f"{key} {value}" for key, value in sorted(run.counts.items())) or _("nothing new")
            self.stdout.write(f"{store.name}: {run.get_status_display()} ({counts})")
            for error in run.errors:
                self.stderr.write(f"  {error}")
            failed = failed or run.status == "failed"
        if failed:
            raise CommandError(_("At least one store's update failed."))
