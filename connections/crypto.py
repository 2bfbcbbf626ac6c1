"""Encryption of stored credentials (Fernet; MultiFernet for key rotation).

``CREDENTIALS_KEY`` holds one or more comma-separated Fernet keys: the first encrypts, every key
decrypts. Rotate by putting a new key first and running ``manage.py rotate_credentials``.
With no key configured, a development key is generated into ``var/`` (and a warning is logged);
outside DEBUG that is refused.
"""

from __future__ import annotations

import functools
import logging
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)


def _configured_keys() -> list[str]:
    raw = settings.CREDENTIALS_KEY.strip()
    if raw:
        return [k.strip() for k in raw.split(",") if k.strip()]
    path = settings.CREDENTIALS_KEY_FILE
    if not settings.DEBUG:
        raise ImproperlyConfigured("CREDENTIALS_KEY is not set; generate one with `python manage.py generate_credentials_key`.")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(Fernet.generate_key().decode())
        log.warning("CREDENTIALS_KEY is not set: generated a development key in %s. Set CREDENTIALS_KEY in production.", path)
    return [path.read_text().strip()]


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in _configured_keys()])


def reset_cache() -> None:
    _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored credential cannot be decrypted with CREDENTIALS_KEY (wrong or rotated-out key).") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the current first key."""
    return _fernet().rotate(token.encode()).decode()
