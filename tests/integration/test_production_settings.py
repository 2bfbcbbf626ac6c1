"""Production settings: ``check --deploy`` is clean with the README's required variables, and a missing
``CREDENTIALS_KEY`` or ``EMAIL_URL`` stops the process at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ordersync.settings",
    "DEBUG": "0",
    "SECRET_KEY": "k7#w9!x2-production-shaped-secret-key-for-the-deploy-check-only-q3z",
    "CREDENTIALS_KEY": "yq5xQOZ4mJ3Eo1vQ8b0Q2d3q1m7WQ6Yk3r0fWc8xLZs=",
    "ALLOWED_HOSTS": "ordersync.example.com",
    "PUBLIC_BASE_URL": "https://ordersync.example.com",
    "EMAIL_URL": "smtp+tls://user:pass@smtp.example.com:587",
}


def manage(*args: str, drop: tuple[str, ...] = (), **extra: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "EMAIL_"))}
    env.update(PRODUCTION, **extra)
    for key in drop:
        env.pop(key, None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_deploy_check_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_settings_can_be_switched_off_for_a_tls_proxy():
    code = ("from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, "
            "s.SESSION_COOKIE_SECURE)")
    result = manage("shell", "-c", code, SECURE_SSL_REDIRECT="0", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.stdout.strip().splitlines()[-1] == "False ('HTTP_X_FORWARDED_PROTO', 'https') True", result.stderr


@pytest.mark.parametrize("missing", ["CREDENTIALS_KEY", "EMAIL_URL"])
def test_start_up_fails_without_a_required_variable(missing):
    result = manage("check", drop=(missing,))
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_dummy_mail_counts_nothing_as_sent():
    from django.core.mail import EmailMessage

    from ordersync.mail import NoDeliveryBackend

    assert NoDeliveryBackend().send_messages([EmailMessage("s", "b", "a@example.com", ["b@example.com"])]) == 0
