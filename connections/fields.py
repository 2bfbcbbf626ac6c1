from __future__ import annotations

from django.db import models

from . import crypto

FERNET_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with version byte 0x80 + timestamp


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; Python code sees the plain value.

    The plain value never reaches the database, a ``dumpdata`` fixture or a log line (serialisation
    writes the token, and loading a token decrypts it back); the admin never renders it
    (see ``connections.forms``).
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return crypto.encrypt(value) if value else value

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(FERNET_TOKEN_PREFIX):
            try:
                return crypto.decrypt(value)
            except Exception:  # noqa: BLE001 - a plain value that merely looks like a token
                return value
        return value
