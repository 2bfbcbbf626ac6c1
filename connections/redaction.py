"""The one way an error becomes text a person reads: stored on a run, shown in the admin, written to a log.

Whatever the exception says, the store's known secrets never come out: the Order Time API key, the
ShipStation key and secret, the webhook secret, and the forms they travel in (the Basic auth
header's base64, a URL-encoded copy). A secret too short to be told from ordinary text is left alone;
real keys are far longer.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from .models import Store

MASK = "****"
# Shorter strings would mask ordinary words; every real key and secret is longer.
MIN_SECRET_LENGTH = 6
MAX_ERROR_CHARS = 2000


def _read(read) -> str:
    try:
        return str(read() or "")
    except Exception:  # noqa: BLE001 - a secret that cannot be read (a wrong CREDENTIALS_KEY) cannot leak either
        return ""


def store_secrets(store: Store) -> list[str]:
    """The secrets the store holds, as entered, and the Basic auth headers they are sent in."""
    ordertime_key = _read(lambda: store.ordertime_account.api_key)
    shipstation_key = _read(lambda: store.shipstation_account.api_key)
    shipstation_secret = _read(lambda: store.shipstation_account.api_secret)
    username = _read(lambda: store.ordertime_account.username)
    found = [ordertime_key, shipstation_key, shipstation_secret, _read(lambda: store.webhook_secret)]
    for user, password in ((username, ordertime_key), (shipstation_key, shipstation_secret)):
        if password:
            found.append(_basic(user, password))
    return [secret for secret in found if secret]


def _basic(user: str, password: str) -> str:
    pair = f"{user}:{password}"
    try:
        return base64.b64encode(pair.encode("latin-1")).decode()
    except UnicodeEncodeError:
        return base64.b64encode(pair.encode()).decode()


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret, its URL-encoded and its repr-escaped form replaced by ``****``."""
    forms = {
        form
        for secret in secrets if len(secret) >= MIN_SECRET_LENGTH
        for form in (secret, quote(secret, safe=""), repr(secret)[1:-1], secret.encode("unicode_escape").decode())
    }
    # Longest first, so that a Basic header is masked whole, not around a masked key.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def person_error_text(exc: BaseException, *, store: Store | None = None, extra_secrets: Iterable[str] = ()) -> str:
    """What a person may read of an exception: its type and message, the store's secrets masked, bounded."""
    message = getattr(exc, "message", None) or str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    secrets = [*(store_secrets(store) if store is not None else []), *extra_secrets]
    return redact(text, secrets)[:MAX_ERROR_CHARS]


__all__ = ["MASK", "person_error_text", "redact", "store_secrets"]
