from django.utils.translation import gettext as _

from ordersync.imports.cycle import store_import_orders
from ordersync.management.cycle_command import StoreCycleCommand


class Command(StoreCycleCommand):
    help = _("Export new and changed ship docs from Order Time and create or update the ShipStation orders.")
    since_help = _("Read ship docs modified since this time (UTC) instead of since the cursor.")
    failure_message = _("At least one store's import failed.")

    def run_cycle(self, *, store, since, trigger):
        return store_import_orders(store=store, since=since, trigger=trigger)
