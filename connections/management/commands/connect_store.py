from django.core.management.base import BaseCommand, CommandError

from connections.credential_rules import CredentialRefused
from connections.services import ConnectionCheckFailed, parse_status_option, store_connect


class Command(BaseCommand):
    help = "Connect (create or update) a store: an Order Time account, a ShipStation account and store, verified."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--ordertime-username", required=True, metavar="EMAIL")
        parser.add_argument("--ordertime-api-key", required=True, metavar="KEY")
        parser.add_argument("--ordertime-url", metavar="URL")
        parser.add_argument("--shipstation-api-key", required=True, metavar="KEY")
        parser.add_argument("--shipstation-api-secret", required=True, metavar="SECRET")
        parser.add_argument("--shipstation-url", metavar="URL")
        parser.add_argument("--shipstation-store-id", required=True, type=int, metavar="ID")
        parser.add_argument("--status", action="append", default=[], metavar='"ORDER TIME STATUS=shipstation_status"')
        parser.add_argument("--no-verify", action="store_true", help="Save without calling either service.")

    def handle(self, *args, **opts):
        try:
            statuses = dict(parse_status_option(text) for text in opts["status"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            store = store_connect(
                name=opts["name"],
                ordertime_username=opts["ordertime_username"],
                ordertime_api_key=opts["ordertime_api_key"],
                ordertime_url=opts["ordertime_url"],
                shipstation_api_key=opts["shipstation_api_key"],
                shipstation_api_secret=opts["shipstation_api_secret"],
                shipstation_url=opts["shipstation_url"],
                shipstation_store_id=opts["shipstation_store_id"],
                statuses=statuses,
                verify=not opts["no_verify"],
            )
        except (ConnectionCheckFailed, CredentialRefused) as exc:
            raise CommandError(str(exc)) from exc
        verified = "not verified (--no-verify)" if opts["no_verify"] else "both connections verified"
        self.stdout.write(f'Store "{store.name}" connected: {verified}.')
