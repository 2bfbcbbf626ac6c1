"""Django settings. Every value comes from the environment (one ``environ.Env``); see the README table."""

from __future__ import annotations

import logging
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="ordersync-development-only-secret-key-do-not-use-in-production")
else:
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "connections",
    "ordersync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ordersync.urls"
WSGI_APPLICATION = "ordersync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ordersync.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while a sync writes; NORMAL syncs at checkpoints, not at every commit
    # (safe in WAL: a power cut can only lose the last commits), so the one write lock is held for less.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # A transaction that reads first and writes later cannot wait for the write lock: SQLite answers
    # "database is locked" at once. IMMEDIATE takes it at BEGIN, where the 20 s timeout applies.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Parameters travel apart from the SQL: psycopg's client-side quoting cost the import a fifth of its CPU.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (development, the demo) WhiteNoise finds files in the apps themselves.
WHITENOISE_USE_FINDERS = True

# --- Secrets at rest -------------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (MultiFernet rotation).
CREDENTIALS_KEY = env("CREDENTIALS_KEY", default="")
CREDENTIALS_KEY_FILE = VAR_DIR / "credentials.key"
if not DEBUG and not CREDENTIALS_KEY.strip():
    # At start-up, not at the first decryption: a worker without the key would fail every cycle.
    raise ImproperlyConfigured("Set the CREDENTIALS_KEY environment variable (Fernet keys, see the README).")

# --- HTTPS -----------------------------------------------------------------------------------------
# On by default in production; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER to the header
# it sets (X-Forwarded-Proto), or SECURE_SSL_REDIRECT=0 if the proxy itself redirects.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
_proxy_header = env("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None

# --- E-mail ----------------------------------------------------------------------------------------
# Production names its mail server: a console default would count every buyer e-mail as sent.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://") if DEBUG else env.email_url("EMAIL_URL")
vars().update(EMAIL_CONFIG)
if EMAIL_BACKEND == "django.core.mail.backends.dummy.EmailBackend":  # noqa: F821 (set from EMAIL_CONFIG)
    # EMAIL_URL=dummymail:// means "no e-mail": it accepts none, so none is recorded as sent.
    EMAIL_BACKEND = "ordersync.mail.NoDeliveryBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ordersync@localhost")

# --- Celery ----------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Longer than the longest task, so a slow task is never redelivered while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
CELERY_TASK_DEFAULT_QUEUE = "ordersync"
# One queue per kind of cycle: workers consuming several queues take from each in turn, so a flood of
# imports never holds back shipment updates (docs/operations.md). A worker without -Q consumes all three.
CELERY_TASK_QUEUES = {"ordersync": {}, "ordersync.import": {}, "ordersync.update": {}}
CELERY_TASK_ROUTES = {
    "ordersync.tasks.import_store_orders": {"queue": "ordersync.import"},
    "ordersync.tasks.update_store_shipments": {"queue": "ordersync.update"},
    "ordersync.tasks.send_store_notices": {"queue": "ordersync.update"},
}
# The sweeps only queue the stores that are due; each cycle is a task of its own.
ORDERSYNC_SWEEP_SECONDS = env.float("ORDERSYNC_SWEEP_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE: dict = {
    "import-due-stores": {"task": "ordersync.tasks.import_due_stores", "schedule": ORDERSYNC_SWEEP_SECONDS},
    "update-due-stores": {"task": "ordersync.tasks.update_due_stores", "schedule": ORDERSYNC_SWEEP_SECONDS},
    "send-due-notices": {"task": "ordersync.tasks.send_due_notices", "schedule": ORDERSYNC_SWEEP_SECONDS},
    "prune-history": {"task": "ordersync.tasks.prune_history", "schedule": 24 * 60 * 60.0},
}
# Sync runs and attempts older than this are deleted daily (ordersync/retention.py says what stays).
ORDERSYNC_HISTORY_DAYS = env.int("ORDERSYNC_HISTORY_DAYS", default=90)

# --- Redis for shared locks and rate limits (falls back to in-process when unset) -----------------
REDIS_URL = env("REDIS_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")

# One cache for the fleet (carrier service names, dashboard figures) when Redis is there.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "ordersync"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# A cycle's store lock outlives a dead worker by this long; a live worker renews it every third of it.
ORDERSYNC_LOCK_TIMEOUT = env.float("ORDERSYNC_LOCK_TIMEOUT", default=60.0)
ORDERSYNC_LOCK_DIR = env.path("ORDERSYNC_LOCK_DIR", default=VAR_DIR / "locks")  # lock files without Redis
# How long import_orders / update_shipments wait for a running cycle of the same store before giving up.
ORDERSYNC_COMMAND_LOCK_WAIT = env.float("ORDERSYNC_COMMAND_LOCK_WAIT", default=120.0)
ORDERSYNC_ORDERTIME_CONCURRENCY = env.int("ORDERSYNC_ORDERTIME_CONCURRENCY", default=2)  # calls at once per account
ORDERSYNC_ORDERTIME_SLOT_WAIT = env.float("ORDERSYNC_ORDERTIME_SLOT_WAIT", default=30.0)  # then defer the work
# ShipStation budget: requests left unspent per window (other tools on the key), and slack after Reset.
ORDERSYNC_RATE_LIMIT_RESERVE = env.int("ORDERSYNC_RATE_LIMIT_RESERVE", default=1)
ORDERSYNC_RATE_LIMIT_RESET_MARGIN = env.float("ORDERSYNC_RATE_LIMIT_RESET_MARGIN", default=1.0)

# --- Sync behaviour --------------------------------------------------------------------------------
# Orders one import cycle reads before it hands the rest of the window to the next cycle (fairness, memory).
ORDERSYNC_IMPORT_ORDERS_PER_CYCLE = env.int("ORDERSYNC_IMPORT_ORDERS_PER_CYCLE", default=1000)
# createorders calls one import cycle keeps in flight while it reads on (the shared limiter still paces them).
ORDERSYNC_SHIPSTATION_CONCURRENCY = env.int("ORDERSYNC_SHIPSTATION_CONCURRENCY", default=2)
ORDERSYNC_IMPORT_OVERLAP_MINUTES = env.int("ORDERSYNC_IMPORT_OVERLAP_MINUTES", default=24 * 60)
# The label poll re-reads this much before its cursors every cycle (an hour at least: the autumn DST hour
# occurs twice in Pacific time), and the deep overlap every ..._DEEP_EVERY_MINUTES (late-listed labels).
ORDERSYNC_SHIPMENT_OVERLAP_MINUTES = env.int("ORDERSYNC_SHIPMENT_OVERLAP_MINUTES", default=120)
ORDERSYNC_SHIPMENT_DEEP_OVERLAP_MINUTES = env.int("ORDERSYNC_SHIPMENT_DEEP_OVERLAP_MINUTES", default=24 * 60)
ORDERSYNC_SHIPMENT_DEEP_EVERY_MINUTES = env.int("ORDERSYNC_SHIPMENT_DEEP_EVERY_MINUTES", default=6 * 60)
ORDERSYNC_HTTP_TIMEOUT = env.float("ORDERSYNC_HTTP_TIMEOUT", default=30.0)
# Bounds on what a broken or hostile server can make us do: the longest rate-limit wait slept through
# (longer ones stop the cycle with the reason), export pages walked, and bytes read of one answer.
ORDERSYNC_RATE_LIMIT_MAX_WAIT = env.float("ORDERSYNC_RATE_LIMIT_MAX_WAIT", default=120.0)
ORDERSYNC_EXPORT_MAX_PAGES = env.int("ORDERSYNC_EXPORT_MAX_PAGES", default=10_000)
ORDERSYNC_MAX_RESPONSE_BYTES = env.int("ORDERSYNC_MAX_RESPONSE_BYTES", default=20 * 1024 * 1024)
# Plain-http service addresses carry keys in clear text: development and the simulators only.
ORDERSYNC_ALLOW_HTTP_SERVICES = env.bool("ORDERSYNC_ALLOW_HTTP_SERVICES", default=DEBUG)
# Ship notices one task sends; the rest waits for a follow-up task queued behind other stores' work.
ORDERSYNC_NOTICES_PER_TASK = env.int("ORDERSYNC_NOTICES_PER_TASK", default=200)
# A notice whose send failed (after the client's own retries) is tried again after this, doubling up to 6 h.
ORDERSYNC_NOTICE_RETRY_SECONDS = env.float("ORDERSYNC_NOTICE_RETRY_SECONDS", default=300.0)
# Longer than the Order Time client's worst case (4 attempts × (5 s connect + HTTP timeout) plus back-off).
ORDERSYNC_NOTICE_SENDING_LEASE_SECONDS = env.float("ORDERSYNC_NOTICE_SENDING_LEASE_SECONDS", default=15 * 60.0)
ORDERSYNC_WEBHOOK_ALLOW_HTTP = env.bool("ORDERSYNC_WEBHOOK_ALLOW_HTTP", default=DEBUG)
# A webhook body is two short strings; anything past this is refused before it is parsed.
ORDERSYNC_WEBHOOK_MAX_BODY_BYTES = env.int("ORDERSYNC_WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
# The same resource_url again within this many seconds is answered without queueing a second fetch (0: off).
ORDERSYNC_WEBHOOK_REPLAY_SECONDS = env.int("ORDERSYNC_WEBHOOK_REPLAY_SECONDS", default=300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The webhook secret rides in the target URL's query string: no log line written here shows it.
    "filters": {"webhook_secret": {"()": "ordersync.shipments.webhook_logging.WebhookSecretFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["webhook_secret"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
logging.getLogger("urllib3").setLevel(logging.WARNING)
