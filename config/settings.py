"""Mutualis settings: production by default, every value from the environment.

The embedded default (no DATABASE_URL) runs on a SQLite file under ./var/ with a secret key
generated once into ./var/. A bad value stops start-up with a message naming the variable.
The README lists every variable.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from mutualis.core.backup_conf import parse_backup_at
from mutualis.helpdesk.conf import parse_imap_url, tasks_setting
from mutualis.identity.conf import DEFAULT_GENERIC_PATTERNS, oidc_settings, parse_share
from mutualis.lib.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    parse_cache_url,
    parse_email_url,
    parse_storage_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MUTUALIS_VAR_DIR", "var")).resolve()


def _fail(error: ConfigError) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Invalid configuration — {error}")


try:
    DEBUG = env_bool("DEBUG", False)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
    REQUIRE_2FA_FOR_STAFF = env_bool("MUTUALIS_REQUIRE_2FA", True)
    API_PAGE_SIZE = env_int("MUTUALIS_API_PAGE_SIZE", 50, minimum=1)
    SECURE_COOKIES = env_bool("MUTUALIS_SECURE_COOKIES", False)
    MUTUALIS_BASE_URL = os.environ.get("MUTUALIS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    HELPDESK_MAX_ATTACHMENT_BYTES = env_int("MUTUALIS_HELPDESK_MAX_ATTACHMENT_MB", 10, minimum=1) * 1024 * 1024
    HELPDESK_MAX_TEXT_BYTES = 1024 * 1024
    # A request body above this is refused (413) before it is read; a few attachments plus the form.
    MAX_REQUEST_BYTES = (
        env_int("MUTUALIS_MAX_REQUEST_MB", HELPDESK_MAX_ATTACHMENT_BYTES // (1024 * 1024) + 1, minimum=1) * 1024 * 1024
    )
    # Persistent connections, checked before each request reuses one (a restarted or killed database
    # connection then costs a reconnection, not a 500).
    CONN_MAX_AGE = env_int("MUTUALIS_DB_CONN_MAX_AGE", 60, minimum=0)
    HSTS_SECONDS = env_int("MUTUALIS_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    HELPDESK_REOPEN_DAYS = env_int("MUTUALIS_HELPDESK_REOPEN_DAYS", 7, minimum=0)
    HELPDESK_SURVEY_DAYS = env_int("MUTUALIS_HELPDESK_SURVEY_DAYS", 30, minimum=1)
    # Helpdesk mail: the mailbox `mutualis helpdesk_poll_imap` reads (imaps://user:pass@host:993/INBOX),
    # and the address members' replies should go to (that mailbox's), empty: DEFAULT_FROM_EMAIL.
    HELPDESK_IMAP = parse_imap_url("MUTUALIS_HELPDESK_IMAP_URL", os.environ.get("MUTUALIS_HELPDESK_IMAP_URL", ""))
    HELPDESK_REPLY_TO = os.environ.get("MUTUALIS_HELPDESK_REPLY_TO", "").strip()
    # The authserv-ids (RFC 8601) of the receiving mail servers whose Authentication-Results
    # headers inbound mail believes; empty: none, so no operator account acts by mail.
    HELPDESK_TRUSTED_AUTHSERV_IDS = env_list("MUTUALIS_HELPDESK_TRUSTED_AUTHSERV_IDS", [])
    # Background work (Django's tasks API): "database" needs a `mutualis db_worker` process.
    TASKS = tasks_setting("MUTUALIS_TASKS_BACKEND", os.environ.get("MUTUALIS_TASKS_BACKEND", "database"))
    # A job still "running" this many seconds after a worker took it is deemed lost with its worker
    # and requeued once (mutualis/core/jobs.py): longer than the longest task ever runs.
    TASKS_STALE_AFTER = env_int("MUTUALIS_TASKS_STALE_AFTER", 1800, minimum=1)
    # A notification mail that fails is tried again after 1 min, 5 min, 30 min, 2 h (then every 2 h),
    # up to this many tries in all; then operator admins see it as failed (/assistance/notifications/echecs/).
    HELPDESK_MAIL_MAX_TRIES = env_int("MUTUALIS_MAIL_MAX_TRIES", 5, minimum=1)
    # Contracts at or above this amount (€ HT) are published as open data (DECP).
    DECP_THRESHOLD = env_int("MUTUALIS_DECP_THRESHOLD", 40000, minimum=0)
    # Who receives renewal and end alerts; empty: the accounts of the "pole-ressources" service.
    PROCUREMENT_NOTIFY_TO = env_list("MUTUALIS_PROCUREMENT_NOTIFY_TO", [])
    # Finance: the debt-capacity ratio (outstanding debt / gross savings, in years) above which to alert.
    DEBT_RATIO_CEILING = env_int("MUTUALIS_DEBT_RATIO_CEILING", 6, minimum=1)
    # Identity: leavers a directory sync may deactivate at most (share of active agents) without
    # --force; generic account patterns; single sign-on, on when MUTUALIS_OIDC_ISSUER is set.
    DIRECTORY_MAX_DEACTIVATION = parse_share(
        "MUTUALIS_DIRECTORY_MAX_DEACTIVATION", os.environ.get("MUTUALIS_DIRECTORY_MAX_DEACTIVATION", "10")
    )
    GENERIC_ACCOUNT_PATTERNS = env_list("MUTUALIS_GENERIC_ACCOUNT_PATTERNS", DEFAULT_GENERIC_PATTERNS)
    # Accounts: password guesses allowed per account, per address and per pair before a lockout of
    # LOGIN_COOLOFF_MINUTES (django-axes); reset mails one address or one account may ask per hour;
    # how many reverse proxies stand in front (each appends to X-Forwarded-For), 0: none.
    LOGIN_FAILURE_LIMIT = env_int("MUTUALIS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
    LOGIN_COOLOFF_MINUTES = env_int("MUTUALIS_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
    PASSWORD_RESET_PER_HOUR = env_int("MUTUALIS_PASSWORD_RESET_PER_HOUR", 5, minimum=1)
    REVERSE_PROXY_COUNT = env_int("MUTUALIS_REVERSE_PROXY_COUNT", 0, minimum=0)
    # Monitoring (docs/monitoring.md): the bearer token Prometheus sends to /metriques/ (unset: the
    # endpoint answers 404, as if absent), and after how many seconds /sante/ calls the oldest job
    # waiting for a worker, or the scheduler's last tick, late.
    METRICS_TOKEN = os.environ.get("MUTUALIS_METRICS_TOKEN", "").strip()
    if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
        raise ConfigError("MUTUALIS_METRICS_TOKEN", "must be at least 32 characters long, or unset (no /metriques/)")
    HEALTH_JOB_AGE_WARN = env_int("MUTUALIS_HEALTH_JOB_AGE_WARN", 300, minimum=1)
    HEALTH_SCHEDULER_AGE_WARN = env_int("MUTUALIS_HEALTH_SCHEDULER_AGE_WARN", 300, minimum=1)
    # Backups (docs/backups.md): where `mutualis backup` writes its archives, how many of them it
    # keeps there, when the scheduler runs it (HH:MM Paris time; off: never), and where PostgreSQL's
    # client tools are (empty: the server's version under /usr/lib/postgresql, then the PATH).
    BACKUP_DIR = Path(os.environ.get("MUTUALIS_BACKUP_DIR", "").strip() or VAR_DIR / "backups").resolve()
    BACKUP_KEEP = env_int("MUTUALIS_BACKUP_KEEP", 14, minimum=1)
    BACKUP_AT = parse_backup_at("MUTUALIS_BACKUP_AT", os.environ.get("MUTUALIS_BACKUP_AT", "02:30"))
    PG_BIN_DIR = os.environ.get("MUTUALIS_PG_BIN_DIR", "").strip()
    _oidc = oidc_settings(os.environ)
    _email = parse_email_url("EMAIL_URL", os.environ.get("EMAIL_URL", "console://"))
    _storage_url = os.environ.get("STORAGE_URL", "").strip()
    _default_storage = parse_storage_url("STORAGE_URL", _storage_url) if _storage_url else None
    # The cache: unset, one per process; redis://host:6379/0, shared by every process and server
    # (Redis down is a miss, never an error: mutualis/core/cache.py). The prefix keeps two
    # installations apart on one Redis; moving the version discards every cached value at once.
    _cache = parse_cache_url("CACHE_URL", os.environ.get("CACHE_URL", ""))
    _cache["KEY_PREFIX"] = os.environ.get("MUTUALIS_CACHE_PREFIX", "mutualis").strip()
    _cache["VERSION"] = env_int("MUTUALIS_CACHE_VERSION", 1, minimum=1)
except ConfigError as error:
    raise _fail(error) from None

# --- Database -------------------------------------------------------------------------------
_database_url = os.environ.get("DATABASE_URL", "").strip()
EMBEDDED = not _database_url
if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "mutualis.sqlite3",
            # WAL lets readers go on while a write commits; IMMEDIATE avoids
            # "database is locked" on read-then-write transactions.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
else:
    try:
        DATABASES = {
            "default": dict(dj_database_url.parse(_database_url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True))
        }
    except Exception as error:  # dj_database_url raises bare ValueError/KeyError
        raise _fail(ConfigError("DATABASE_URL", f"cannot be read ({error})")) from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
        )
    if not DATABASES["default"].get("ENGINE"):
        raise _fail(ConfigError("DATABASE_URL", "unknown database scheme"))
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django reads choice lists (ModelChoiceField) with .iterator(), which on PostgreSQL opens a
        # server-side cursor: DECLARE, FETCH and CLOSE, three round trips for a 40-row list. Our
        # lists are small and bounded; plain cursors also keep a transaction-mode pooler possible.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        # A server that drops packets rather than refusing (a lost host, a failover in progress) fails
        # a connection after this many seconds, not the system's two minutes: pages and /sante/ answer
        # 503 in time, and a multi-host URL moves on to its next host. `?connect_timeout=` in the URL wins.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

# --- Secret key -----------------------------------------------------------------------------
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not EMBEDDED:
        raise _fail(ConfigError("SECRET_KEY", "is required when DATABASE_URL is set (production)"))
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
elif len(SECRET_KEY) < 32:
    raise _fail(ConfigError("SECRET_KEY", "must be at least 32 characters long"))

# --- Applications ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "django_tasks",
    "mutualis.core",
    # After mutualis.core, whose `db_worker` (the library's, plus the stale-job reaper) wins.
    "django_tasks_db",
    "mutualis.accounts",
    "mutualis.members",
    "mutualis.governance",
    "mutualis.catalog",
    "mutualis.procurement",
    "mutualis.finance",
    "mutualis.helpdesk",
    "mutualis.questionnaires",
    "mutualis.knowledge",
    "mutualis.notices",
    "mutualis.ola",
    "mutualis.glpi",
    "mutualis.flows",
    "mutualis.quality",
    "mutualis.identity",
    "mutualis.privacy",
    "mutualis.publication",
    "mutualis.api",
    "axes",
    # Django's form templates, after mutualis.core, whose templates/django/forms/ override them.
    "django.forms",
    # The top layer, last: demo data and generators; no production app imports it.
    "mutualis.demo",
]

MIDDLEWARE = [
    # Counts and times every answer, whatever the middleware below it decides (docs/monitoring.md).
    "mutualis.core.metrics.RequestMetricsMiddleware",
    # Outermost but one: every answer, the guard's refusals and the error pages included, gets the headers.
    "mutualis.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mutualis.core.middleware.RequestGuardMiddleware",
    # A view that meets the database away (restart, failover) answers 503 with Retry-After, not 500.
    "mutualis.core.unavailable.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mutualis.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mutualis.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "mutualis.members.context_processors.platform",
                "mutualis.notices.context_processors.banner",
            ],
        },
    }
]

# Forms render through the project's template engine, so an app's templates/django/forms/ can
# override a widget's template (mutualis/core/templates/django/forms/widgets/select.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language, time, formats ----------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "mutualis" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# Off: with it, Django groups every integer a template prints, so years read « exercice 2 022 »
# (pages and PDFs alike). Quantities are grouped where they are meant, explicitly: amounts by the
# `eur` filter, counts by `intcomma`.
USE_THOUSAND_SEPARATOR = False

# --- Cache ----------------------------------------------------------------------------------
CACHES = {"default": _cache}

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": _default_storage
    # A file appears whole or not at all, even when the disk fills up mid-write.
    or {"BACKEND": "mutualis.core.storage.MediaStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files straight from the apps: `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Source maps (5 MB beside the API docs' bundles) are for developer tools, never loaded by a page:
# compressing them made `collectstatic` spend 15 s of CPU (brotli at its best level, when installed).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# --- Mail -----------------------------------------------------------------------------------
globals().update(_email)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "mutualis@localhost")
# An SMTP server that stops answering is an error the outbox retries later, not a worker stuck
# for ever (Django waits without limit by default), and well within MUTUALIS_TASKS_STALE_AFTER.
EMAIL_TIMEOUT = 30

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# A failed CSRF check: a French page in the site's layout (the error shape under /api/).
CSRF_FAILURE_VIEW = "mutualis.core.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HSTS once the site runs behind HTTPS (the cookies say so); SecurityHeadersMiddleware sends it.
SECURE_HSTS_SECONDS = HSTS_SECONDS if SECURE_COOKIES else 0
# Behind the proxies MUTUALIS_REVERSE_PROXY_COUNT counts, the scheme is the one the nearest proxy
# states in X-Forwarded-Proto, which it overwrites (deploy/nginx/mutualis-proxy.conf): a request
# that came in over HTTPS is secure for Django too, so the addresses it builds (the single sign-on
# callback) say https and the CSRF check compares the browser's Origin with https://host.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if REVERSE_PROXY_COUNT else None
# Form and JSON bodies held in memory at most (files go to disk, capped by MAX_REQUEST_BYTES):
# a ticket's text (HELPDESK_MAX_TEXT_BYTES) with its escaping fits.
DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * HELPDESK_MAX_TEXT_BYTES
OTP_TOTP_ISSUER = os.environ.get("MUTUALIS_OTP_ISSUER", "Mutualis")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes says "login failed" at INFO for each failure: the audit log has them already.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = API_PAGE_SIZE

# The throttle first: it refuses a locked-out password before any backend checks it.
AUTHENTICATION_BACKENDS = [
    "mutualis.accounts.backends.LoginThrottleBackend",
    "mutualis.accounts.backends.AccountBackend",
]
globals().update(_oidc)
# The ones Mutualis reads by name, written out so the type checker sees them too.
OIDC_ENABLED: bool = _oidc["OIDC_ENABLED"]
OIDC_ISSUER: str = _oidc["OIDC_ISSUER"]
OIDC_STAFF_ACR: str = _oidc["OIDC_STAFF_ACR"]
OIDC_OP_LOGOUT_ENDPOINT: str = _oidc["OIDC_OP_LOGOUT_ENDPOINT"]
if _oidc["OIDC_ENABLED"]:
    AUTHENTICATION_BACKENDS.append("mutualis.identity.oidc.DirectoryOIDCBackend")

# --- Password guessing (django-axes) ---------------------------------------------------------
# Locked when the account, the address, or the two together reach the limit: the pair alone
# lets a spread attack through, the account alone lets one address try every name.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_CLIENT_IP_CALLABLE = "mutualis.accounts.throttle.client_ip"
AXES_WHITELIST_CALLABLE = "mutualis.accounts.throttle.not_a_password_attempt"
AXES_LOCKOUT_CALLABLE = "mutualis.accounts.views.locked_out"
AXES_ENABLE_ADMIN = False
# Logins are in the audit log already: no second, ever-growing table of them.
AXES_DISABLE_ACCESS_LOG = True
# Failures are in the audit log; axes' own start-up banner and lines would only add noise to commands.
AXES_VERBOSE = False
# A success would clear every failure from its address too: a guesser with one good account
# could wipe the count it is building against others.
AXES_RESET_ON_SUCCESS = False
