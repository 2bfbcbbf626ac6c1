from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ordersync.retention import history_prune


class Command(BaseCommand):
    help = _("Delete sync runs and attempts older than the history setting, keeping what order pages still show.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, metavar="N",
                            help=_("Keep this many days (default: ORDERSYNC_HISTORY_DAYS, %(days)d).")
                            % {"days": settings.ORDERSYNC_HISTORY_DAYS})

    def handle(self, *args, **opts):
        if opts["days"] is not None and opts["days"] < 0:
            raise CommandError(_("--days must be 0 or more."))
        result = history_prune(days=opts["days"])
        self.stdout.write(_("Deleted %(attempts)d attempts and %(runs)d sync runs from before %(before)s.") % {
            "attempts": result["attempts"], "runs": result["runs"],
            "before": result["before"].strftime("%Y-%m-%d %H:%M UTC"),
        })
