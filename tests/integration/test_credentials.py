"""Secrets at rest: key rotation with MultiFernet."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from connections import crypto
from connections.models import ShipStationAccount


@pytest.fixture
def rotate_keys(settings):
    old = settings.CREDENTIALS_KEY
    yield settings, old
    settings.CREDENTIALS_KEY = old
    crypto.reset_cache()


def _raw_secret() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_secret FROM connections_shipstationaccount")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_old_tokens_stay_readable(rotate_keys):
    settings, old_key = rotate_keys
    ShipStationAccount.objects.create(api_key="k", api_secret="s3cret")
    token_before = _raw_secret()

    new_key = Fernet.generate_key().decode()
    settings.CREDENTIALS_KEY = f"{new_key},{old_key}"
    crypto.reset_cache()
    assert ShipStationAccount.objects.get().api_secret == "s3cret"  # old token, read with the old key

    call_command("rotate_credentials", stdout=StringIO())
    token_after = _raw_secret()
    assert token_after != token_before
    assert Fernet(new_key.encode()).decrypt(token_after.encode()) == b"s3cret"

    settings.CREDENTIALS_KEY = new_key  # the old key can now be retired
    crypto.reset_cache()
    assert ShipStationAccount.objects.get().api_secret == "s3cret"


def test_generate_credentials_key_prints_a_usable_key():
    out = StringIO()
    call_command("generate_credentials_key", stdout=out)
    assert Fernet(out.getvalue().strip().encode()).decrypt(Fernet(out.getvalue().strip().encode()).encrypt(b"x")) == b"x"
