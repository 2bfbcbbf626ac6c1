from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.models import Store
from ordersync.shipments.subscriptions import (
    SubscriptionCallFailed,
    store_webhook_secret_rotate,
    store_webhook_subscribe,
    store_webhook_unsubscribe,
    store_webhooks_list,
    webhook_target_url,
)


class Command(BaseCommand):
    help = _("Subscribe, list or remove the store's ShipStation SHIP_NOTIFY webhook (target: PUBLIC_BASE_URL), "
             "or rotate its secret (the subscription moves to the new target URL).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["subscribe", "list", "remove", "rotate"])
        parser.add_argument("--store", metavar="NAME", required=True)

    def handle(self, *args, **opts):
        store = Store.objects.filter(name=opts["store"]).first()
        if store is None:
            raise CommandError(_('No store named "%(name)s".') % {"name": opts["store"]})
        try:
            if opts["action"] == "subscribe":
                webhook_id = store_webhook_subscribe(store=store)
                self.stdout.write(_("Webhook %(id)s delivers SHIP_NOTIFY to %(url)s") % {
                    "id": webhook_id, "url": webhook_target_url(store).split("?")[0]})
            elif opts["action"] == "list":
                hooks = store_webhooks_list(store=store)
                for hook in hooks:
                    # The secret stays out of terminals and logs.
                    self.stdout.write(f"{hook.webhook_id}\t{hook.hook_type}\t{hook.url.split('?')[0]}\t"
                                      f"{_('active') if hook.active else _('inactive')}")
                if not hooks:
                    self.stdout.write(_("No webhook points at this store."))
            elif opts["action"] == "rotate":
                webhook_id = store_webhook_secret_rotate(store=store)
                self.stdout.write(_("New webhook secret saved; the old one no longer works."))
                if webhook_id is not None:
                    self.stdout.write(_("Webhook %(id)s delivers SHIP_NOTIFY to %(url)s") % {
                        "id": webhook_id, "url": webhook_target_url(store).split("?")[0]})
            else:
                removed = store_webhook_unsubscribe(store=store)
                self.stdout.write(_("Removed %(count)d webhook(s).") % {"count": len(removed)})
        except SubscriptionCallFailed as exc:
            raise CommandError(str(exc)) from exc
