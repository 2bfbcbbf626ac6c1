"""gunicorn settings read from the working directory (``/app`` in the image); command-line flags win.

The access log goes to stdout through a logger that masks the webhook secret: ShipStation's target URL
carries it in the query string (``/hooks/shipstation/<id>/?s=…``), and gunicorn's default access line
prints the whole request line.
"""

from gunicorn.glogging import Logger

from ordersync.shipments.webhook_logging import HOOK_PATH_PREFIX, mask_secret_param

accesslog = "-"


class WebhookSecretMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if (environ.get("PATH_INFO") or "").startswith(HOOK_PATH_PREFIX):
            # Every atom: the request line, the query string and the raw URI (also as {raw_uri}e) all carry it.
            for name, value in atoms.items():
                if isinstance(value, str):
                    atoms[name] = mask_secret_param(value)
        return atoms


logger_class = WebhookSecretMaskingLogger
