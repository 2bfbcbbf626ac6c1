"""Settings for the test suite: the production settings with test-only secrets and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# A fixed Fernet key for tests only; production keys come from the environment.
os.environ.setdefault("CREDENTIALS_KEY", "yq5xQOZ4mJ3Eo1vQ8b0Q2d3q1m7WQ6Yk3r0fWc8xLZs=")
os.environ.setdefault("EMAIL_URL", "dummymail://")
# The simulators listen on plain http on loopback.
os.environ.setdefault("ORDERSYNC_ALLOW_HTTP_SERVICES", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from ordersync.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client and the browser tests speak plain HTTP to the test server.
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
CELERY_TASK_ALWAYS_EAGER = True
