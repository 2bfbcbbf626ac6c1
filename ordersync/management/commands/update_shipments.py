from django.utils.translation import gettext as _

from ordersync.management.cycle_command import StoreCycleCommand
from ordersync.shipments.services import store_update_shipments


class Command(StoreCycleCommand):
    help = _("Read new labels, voids and fulfillments from ShipStation and send the ship notices to Order Time.")
    since_help = _("Re-read labels created since this time (UTC); cursors are not moved.")
    failure_message = _("At least one store's update failed.")

    def run_cycle(self, *, store, since, trigger):
        return store_update_shipments(store=store, since=since, trigger=trigger)
