"""What ``import_orders`` and ``update_shipments`` share: --store/--since, one cycle per store, a summary."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.models import Store
from ordersync.models import RunStatus, SyncRun


def parse_since(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CommandError(_('--since must look like "YYYY-MM-DD HH:MM" (UTC), got "%(text)s"') % {"text": text}) from exc


class StoreCycleCommand(BaseCommand):
    """Runs ``run_cycle`` for the named store, or for every active store, in this process."""

    since_help: str = ""
    failure_message: str = ""

    def run_cycle(self, *, store: Store, since: datetime | None, trigger: str) -> SyncRun:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--store", metavar="NAME", help=_("Only this store (default: every active store)."))
        parser.add_argument("--since", metavar='"YYYY-MM-DD HH:MM"', help=self.since_help)

    def handle(self, *args, **opts):
        since = parse_since(opts["since"]) if opts["since"] else None
        stores = Store.objects.filter(active=True)
        if opts["store"]:
            stores = Store.objects.filter(name=opts["store"])
            if not stores.exists():
                raise CommandError(_('No store named "%(name)s".') % {"name": opts["store"]})
        failed = False
        for store in stores:
            store_since = since
            while True:  # bounded cycles: go on until the store's window is read to its end
                run = self.run_cycle(store=store, since=store_since, trigger="command")
                self.report(store, run)
                failed = failed or run.status == RunStatus.FAILED
                if not run.more_to_read:
                    break
                store_since = None  # the walk is saved on the store; the next cycle resumes it
        if failed:
            raise CommandError(self.failure_message)

    def report(self, store: Store, run: SyncRun) -> None:
        counts = ", ".join(f"{key} {value}" for key, value in sorted(run.counts.items()) if value) or _("nothing new")
        more = _(" - more to read") if run.more_to_read else ""
        self.stdout.write(f"{store.name}: {run.get_status_display()} ({counts}){more}")
        for error in run.errors:
            self.stderr.write(f"  {error}")
