from django.core.management.base import BaseCommand
from django.db import transaction

from connections import crypto
from connections.models import OrderTimeAccount, ShipStationAccount, Store


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of CREDENTIALS_KEY (after adding a new key first)."

    @transaction.atomic
    def handle(self, *args, **opts):
        crypto.reset_cache()
        count = 0
        for model, fields in ((OrderTimeAccount, ["api_key"]), (ShipStationAccount, ["api_key", "api_secret"]),
                              (Store, ["webhook_secret"])):
            for obj in model.objects.select_for_update():
                # Loading decrypted with any key; saving encrypts with the first.
                obj.save(update_fields=fields)
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} records with the current key.")
