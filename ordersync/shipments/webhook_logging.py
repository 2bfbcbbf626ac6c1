"""Keeps the webhook secret out of log lines: a logging filter for Django's handlers, and the masking
that ``gunicorn.conf.py``'s access logger uses. Free of Django imports: the logging configuration and
gunicorn's master process load it before Django is set up.

The secret is the ``s`` query parameter of ``/hooks/shipstation/<store id>/`` (the target URL
ShipStation posts to, shipstation-v1.md §13.3).
"""

from __future__ import annotations

import logging
import re

HOOK_PATH_PREFIX = "/hooks/"
MASK = "[redacted]"
# ``s=`` at the start of a query string or after ? or &, up to the next separator.
_SECRET_PARAM = re.compile(r"((?:^|[?&])s=)[^&\s\"'#]*")
# In free text (a log message), only in a URL of the webhook endpoint.
_SECRET_IN_HOOK_URL = re.compile(r"(/hooks/shipstation/[^\s?#\"']*\?(?:[^\s#\"']*?&)?s=)[^&\s\"'#]*")


def mask_secret_param(text: str) -> str:
    """``text`` (a request line, a URI or a query string of a webhook request) with the secret masked."""
    return _SECRET_PARAM.sub(rf"\g<1>{MASK}", text)


def mask_webhook_secret(text: str) -> str:
    """``text`` with the secret of every webhook endpoint URL in it masked; other text is left alone."""
    return _SECRET_IN_HOOK_URL.sub(rf"\g<1>{MASK}", text)


class WebhookSecretFilter(logging.Filter):
    """Masks webhook secrets in a record's message (and its formatted traceback) before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_webhook_secret(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask_webhook_secret(record.exc_text)
        return True
