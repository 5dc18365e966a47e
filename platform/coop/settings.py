"""Settings for every mode, read from the environment.

With no environment at all the platform runs embedded: SQLite in ``var/`` and a
Celery broker on the file system, so ``make run`` needs no services. Production
(``docker-compose.yml``) and CI set ``DATABASE_URL`` and ``REDIS_URL`` and get
PostgreSQL and Redis with this same module.
"""

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import locale as django_locale
from django.core.exceptions import ImproperlyConfigured

from coop import schedule as beat_schedule

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("COOP_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", default=False)
# Under pytest: a fast password hasher, a private in-memory cache and eager jobs
# (tests that need a real Celery worker start one against Redis themselves).
TESTING = "pytest" in sys.modules or env_bool("COOP_TESTING")
# The embedded default key is only for `make run` and tests; production refuses it.
_DEV_SECRET = "embedded-development-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET)
PRODUCTION = env_bool("PRODUCTION", default=False)
if PRODUCTION and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")

ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "django_celery_beat",
    "anymail",
    # Two-factor authentication: TOTP devices and one-time backup codes (accounts.two_factor).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The project's own apps: the core under platform/, the rest at the top level.
    "core",
    "accounts",
    "ledger",
    "payments",
    "notifications",
    "governance",
    "tasks",
    "payouts",
    "disputes",
    "mturk",
    "webhooks",
    "staff",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "core.middleware.CommittedChangesMiddleware",
    "core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the switch's cookie, then the browser; the person's saved choice wins below.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with the second factor in this session.
    "django_otp.middleware.OTPMiddleware",
    # A signed-in person's saved language and time zone (notifications.middleware).
    "notifications.middleware.PersonalLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff, treasurers and organisation owners use their functions only so verified.
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "coop.urls"
WSGI_APPLICATION = "coop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.inbox",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'coop.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database is shared by the web server and the Celery worker.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # Django's backend, reading timestamps with psycopg's compiled parser (see its module).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
if IS_POSTGRES and env("DB_PREPARED_STATEMENTS", "1") == "1":
    # Server-side parameters, and a statement run twice on a connection is prepared there
    # (psycopg): PostgreSQL plans the platform's hot queries once per connection instead
    # of on every request. Set DB_PREPARED_STATEMENTS=0 behind a transaction-mode pooler
    # (PgBouncer before 1.21), which cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_RAISE_403 = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:  # Argon2 is slow on purpose; the suite hashes thousands of passwords
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
# How long each process keeps its copy of the live market for the task feed (seconds; 0:
# none). The feed may lag claims and new batches by that long; accepting checks live rows.
FEED_SNAPSHOT_SECONDS = float(env("FEED_SNAPSHOT_SECONDS", "0" if TESTING else "2"))
# How long an API token and its person are read from the cache (accounts.authentication).
TOKEN_CACHE_SECONDS = float(env("TOKEN_CACHE_SECONDS", "30"))
WEB_CREDENTIALS_RATE = env("WEB_CREDENTIALS_RATE", "10000/m" if TESTING else "10/m")
# Sign-in per account name (accounts.signin): this many failures within the window lock the
# name for the lockout, whatever the addresses they came from.
SIGNIN_ACCOUNT_FAILURES = int(env("SIGNIN_ACCOUNT_FAILURES", "10"))
SIGNIN_ACCOUNT_WINDOW_SECONDS = int(env("SIGNIN_ACCOUNT_WINDOW_SECONDS", "900"))
SIGNIN_LOCKOUT_SECONDS = int(env("SIGNIN_LOCKOUT_SECONDS", "900"))
# Changing a payout destination needs a sign-in (or password re-entry) at most this old.
REAUTHENTICATION_MINUTES = int(env("REAUTHENTICATION_MINUTES", "10"))
# Staff, treasurers and organisation owners must have signed in with a second factor to use
# those functions. The test suite turns it off by default (most tests sign such people in
# without a device); the tests of the rule turn it on.
SECOND_FACTOR_REQUIRED_FOR_ROLES = env_bool("SECOND_FACTOR_REQUIRED_FOR_ROLES", default=not TESTING)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Co-op crowdwork")
# Passkeys (WebAuthn): the relying-party id, by default the host name the page was served
# from (set it to the registrable domain to share passkeys across sub-domains).
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", "")
# The MTurk-compatible endpoint (boto3 backs off and retries on its throttling answer).
MTURK_RATE_PER_KEY = env("MTURK_RATE_PER_KEY", "100000/s" if TESTING else "20/s")
MTURK_RATE_PER_ADDRESS = env("MTURK_RATE_PER_ADDRESS", "100000/s" if TESTING else "50/s")
RATELIMIT_USE_CACHE = "default"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# The interface languages; a person picks one (saved in their settings) or gets the browser's.
# Every catalog is in locale/ and complete (tests/frontend/test_translations.py).
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("fil", "Filipino"),
]
# Django knows no Filipino of its own: its name for the language switch.
django_locale.LANG_INFO.setdefault("fil", {"bidi": False, "code": "fil", "name": "Filipino", "name_local": "Filipino"})
# Ours first; then the libraries' own messages (form and API errors, password rules, month
# names) in the languages the libraries ship none for (Filipino, and Hindi for DRF and
# django-filter), kept by hand in locale_libraries/ where makemessages does not look.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_libraries"]
USE_TZ = True
# Date formats Django lacks for Filipino and Hindi (coop/formats/).
FORMAT_MODULE_PATH = ["coop.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
# Requesters' identity documents: outside MEDIA_ROOT and STATIC_ROOT, never served by URL;
# only verifiers download them through the staff console.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
VERIFICATION_DOCUMENT_MAX_BYTES = int(env("VERIFICATION_DOCUMENT_MAX_BYTES", str(4 * 1024 * 1024)))
VERIFICATION_DOCUMENTS_MAX = 5
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Request bodies: a clear 413 past these sizes (see core.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Mail: the console by default; EMAIL_PROVIDER picks an anymail provider in production
# (mailgun, postmark, sendgrid, amazon_ses, brevo, ...), whose settings come from ANYMAIL_*
# variables (ANYMAIL_MAILGUN_API_KEY, ANYMAIL_WEBHOOK_SECRET, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY...).
EMAIL_PROVIDER = env("EMAIL_PROVIDER", "")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    if EMAIL_PROVIDER
    else "django.core.mail.backends.console.EmailBackend",
)
ANYMAIL: dict[str, Any] = {
    name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")
}
# Web Push (saved-search alerts in the browser): a VAPID key pair, base64url, and a contact.
VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env("VAPID_SUBJECT", "mailto:admin@localhost")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "co-op <noreply@localhost>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)

REDIS_URL = os.environ.get("REDIS_URL", "")
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared between the web process and the embedded Celery worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: Redis in production and CI, the file system when embedded.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A job delivered but not acknowledged when a worker or Redis dies is delivered again
    # once it is older than the visibility timeout (kombu sweeps for such jobs periodically).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600")),
        "unacked_restore_interval": int(env("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
        "unacked_restore_throttle": int(env("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
    }
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # The file-system transport has no fanout exchange, so no remote control.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
# Jobs are idempotent, so a job whose worker dies is delivered again rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every timer of the platform; apps add theirs in coop.schedule.
CELERY_BEAT_SCHEDULE = beat_schedule.BEAT_SCHEDULE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        # A person's token: their saved language and time zone become the request's.
        "notifications.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # An organisation's API key reaches only endpoints that declare they act for organisations.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.OrganisationKeysOnOrganisationEndpoints",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Rate limits: per user / per address, tighter on sign-in, registration and key creation
    # (fixed-window counters, see core.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
        "core.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", "100000/hour" if TESTING else "300/hour"),
        "user": env("THROTTLE_USER", "1000000/hour" if TESTING else "20000/hour"),
        "credentials": env("THROTTLE_CREDENTIALS", "100000/hour" if TESTING else "20/hour"),
    },
    # DRF's JSON, written by orjson (core.renderers.JSONRenderer); the browsable API as DRF has it.
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Co-op crowdwork API",
    "DESCRIPTION": "Requesters, workers, jurors, members and the treasurer of the worker-owned co-op.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript is served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation declares the error responses the exception handler can give.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.error_responses",
    ],
}

# Money: one platform currency, integer minor units everywhere.
PLATFORM_CURRENCY = env("PLATFORM_CURRENCY", "EUR")

# Stripe: reached only through payments.stripe_gateway.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Connect events (workers' connected accounts) come from a second endpoint with its own secret.
STRIPE_CONNECT_WEBHOOK_SECRET = os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # tests and stripe-mock only
# Worker payouts beyond Connect and SEPA (issue 21). A rail whose variables are unset
# shows "not configured on this server" to workers and these names to the operator.
# Stripe Global Payouts: the co-op's US or UK financial account (fa_...), its currency,
# and the signing secret of the v2 event destination (thin events) at /webhooks/stripe/v2/.
STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT = os.environ.get("STRIPE_GLOBAL_PAYOUTS_FINANCIAL_ACCOUNT", "")
STRIPE_GLOBAL_PAYOUTS_SOURCE_CURRENCY = os.environ.get("STRIPE_GLOBAL_PAYOUTS_SOURCE_CURRENCY", "usd")
STRIPE_EVENT_DESTINATION_SECRET = os.environ.get("STRIPE_EVENT_DESTINATION_SECRET", "")
# PayPal Payouts (REST): OAuth client credentials, the webhook id PayPal verifies
# signatures against, and the API host (https://api-m.sandbox.paypal.com to test).
PAYPAL_CLIENT_ID = os.environ.get("PAYPAL_CLIENT_ID", "")
PAYPAL_CLIENT_SECRET = os.environ.get("PAYPAL_CLIENT_SECRET", "")
PAYPAL_WEBHOOK_ID = os.environ.get("PAYPAL_WEBHOOK_ID", "")
PAYPAL_API_BASE = os.environ.get("PAYPAL_API_BASE", "https://api-m.paypal.com")
PAYPAL_TIMEOUT_SECONDS = float(os.environ.get("PAYPAL_TIMEOUT_SECONDS", "20"))
# Wise (local bank transfers where no other rail reaches): API token of the co-op's business
# profile, its id, and Wise's webhook public key (PEM) that signs transfers#state-change.
WISE_API_TOKEN = os.environ.get("WISE_API_TOKEN", "")
WISE_PROFILE_ID = os.environ.get("WISE_PROFILE_ID", "")
WISE_WEBHOOK_PUBLIC_KEY = os.environ.get("WISE_WEBHOOK_PUBLIC_KEY", "").replace("\\n", "\n")
WISE_API_BASE = os.environ.get("WISE_API_BASE", "https://api.wise.com")
WISE_TIMEOUT_SECONDS = float(os.environ.get("WISE_TIMEOUT_SECONDS", "20"))
if os.environ.get("PAYOUT_RAILS_ENABLED"):  # default: every rail (payouts.rails.DEFAULT_ENABLED)
    PAYOUT_RAILS_ENABLED = tuple(name.strip() for name in os.environ["PAYOUT_RAILS_ENABLED"].split(",") if name.strip())

# API key secrets are kept encrypted (SigV4 verification needs the secret itself).
API_KEY_ENCRYPTION_KEY = env("API_KEY_ENCRYPTION_KEY", "")

# The co-op's own bank account, for SEPA payout files and deposit instructions.
COOP_BANK_NAME = env("COOP_BANK_NAME", "Crowdwork Co-operative")
COOP_BANK_IBAN = env("COOP_BANK_IBAN", "DE89370400440532013000")
COOP_BANK_BIC = env("COOP_BANK_BIC", "COBADEFFXXX")
# The co-op's details printed on deposit receipts and monthly statements (payments.documents).
COOP_LEGAL_NAME = env("COOP_LEGAL_NAME", "Crowdwork Co-operative eG")
COOP_ADDRESS = env("COOP_ADDRESS", "Musterstrasse 1, 10115 Berlin, Germany")
COOP_REGISTRATION = env("COOP_REGISTRATION", "")  # register and number, e.g. "GnR 1234 B, Amtsgericht Berlin"
COOP_VAT_ID = env("COOP_VAT_ID", "")
COOP_CONTACT_EMAIL = env("COOP_CONTACT_EMAIL", "treasurer@coop.example")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
