"""Mutualis settings: production by default, every value from the environment.

The embedded default (no DATABASE_URL) runs on a SQLite file under ./var/ with a secret key
generated once into ./var/. A bad value stops start-up with a message naming the variable.
The README lists every variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mutualis.helpdesk.conf import parse_imap_url, tasks_setting
from mutualis.identity.conf import DEFAULT_GENERIC_PATTERNS, oidc_settings, parse_share
from mutualis.lib.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
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
    HELPDESK_REOPEN_DAYS = env_int("MUTUALIS_HELPDESK_REOPEN_DAYS", 7, minimum=0)
    HELPDESK_SURVEY_DAYS = env_int("MUTUALIS_HELPDESK_SURVEY_DAYS", 30, minimum=1)
    # Helpdesk mail: the mailbox `mutualis helpdesk_poll_imap` reads (imaps://user:pass@host:993/INBOX),
    # and the address members' replies should go to (that mailbox's), empty: DEFAULT_FROM_EMAIL.
    HELPDESK_IMAP = parse_imap_url("MUTUALIS_HELPDESK_IMAP_URL", os.environ.get("MUTUALIS_HELPDESK_IMAP_URL", ""))
    HELPDESK_REPLY_TO = os.environ.get("MUTUALIS_HELPDESK_REPLY_TO", "").strip()
    # Background work (Django's tasks API): "database" needs a `mutualis db_worker` process.
    TASKS = tasks_setting("MUTUALIS_TASKS_BACKEND", os.environ.get("MUTUALIS_TASKS_BACKEND", "database"))
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
    _oidc = oidc_settings(os.environ)
    _email = parse_email_url("EMAIL_URL", os.environ.get("EMAIL_URL", "console://"))
    _storage_url = os.environ.get("STORAGE_URL", "").strip()
    _default_storage = parse_storage_url("STORAGE_URL", _storage_url) if _storage_url else None
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
        DATABASES = {"default": dict(dj_database_url.parse(_database_url, conn_max_age=60))}
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
    "django_tasks_db",
    "mutualis.core",
    "mutualis.accounts",
    "mutualis.members",
    "mutualis.governance",
    "mutualis.catalog",
    "mutualis.procurement",
    "mutualis.finance",
    "mutualis.helpdesk",
    "mutualis.quality",
    "mutualis.identity",
    "mutualis.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
                "mutualis.core.context_processors.platform",
            ],
        },
    }
]

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
USE_THOUSAND_SEPARATOR = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": _default_storage
    or {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files straight from the apps: `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Mail -----------------------------------------------------------------------------------
globals().update(_email)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "mutualis@localhost")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
OTP_TOTP_ISSUER = os.environ.get("MUTUALIS_OTP_ISSUER", "Mutualis")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

NINJA_PAGINATION_PER_PAGE = API_PAGE_SIZE

AUTHENTICATION_BACKENDS = ["mutualis.accounts.backends.AccountBackend"]
globals().update(_oidc)
if _oidc["OIDC_ENABLED"]:
    AUTHENTICATION_BACKENDS.append("mutualis.identity.oidc.DirectoryOIDCBackend")
