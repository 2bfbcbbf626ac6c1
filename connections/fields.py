from __future__ import annotations

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; Python code sees the plain value.

    The plain value never reaches the database, a dump or a log line; the admin never renders it
    (see ``connections.forms.SecretInput``).
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
