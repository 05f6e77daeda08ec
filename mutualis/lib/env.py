"""Typed readers for environment variables: a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A setting read from the environment has a value Mutualis cannot use."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non", ""}


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"expected a boolean (true/false, 1/0), got {raw!r}")


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ, *, minimum: int | None = None) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_email_url(name: str, url: str) -> dict[str, Any]:
    """Turn EMAIL_URL (smtp://, smtp+tls://, smtp+ssl://, console://, file:///path, memory://)
    into Django's EMAIL_* settings."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "memory":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        if not parts.path:
            raise ConfigError(name, "file:// needs a folder, e.g. file:///var/mail")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parts.path,
        }
    if scheme not in {"smtp", "smtp+tls", "smtp+ssl"}:
        raise ConfigError(
            name, f"unknown scheme {parts.scheme!r} (use smtp, smtp+tls, smtp+ssl, console, file, memory)"
        )
    if not parts.hostname:
        raise ConfigError(name, "an SMTP URL needs a host, e.g. smtp://127.0.0.1:25")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(name, "the port is not a number") from None
    default_port = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme == "smtp+ssl",
    }


def parse_storage_url(name: str, url: str) -> dict[str, Any]:
    """Turn STORAGE_URL (s3://KEY:SECRET@host[:port]/bucket?region=…&secure=0) into the
    STORAGES["default"] entry for django-storages' S3 backend."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"s3", "s3+http", "s3+https"}:
        raise ConfigError(name, f"unknown scheme {parts.scheme!r} (use s3://KEY:SECRET@host/bucket)")
    bucket = parts.path.strip("/")
    if not parts.hostname or not bucket:
        raise ConfigError(name, "expected s3://KEY:SECRET@host[:port]/bucket")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme.lower() != "s3+http" and query.get("secure", "1") not in {"0", "false"}
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise ConfigError(name, "the port is not a number") from None
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": f"{'https' if secure else 'http'}://{parts.hostname}{port}",
            "access_key": unquote(parts.username or ""),
            "secret_key": unquote(parts.password or ""),
            "region_name": query.get("region") or None,
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }


def parse_cache_url(name: str, url: str) -> dict[str, Any]:
    """Turn CACHE_URL into Django's CACHES["default"]: empty or locmem:// is a cache inside each
    process; redis://[:password@]host[:port]/db (rediss:// over TLS) the cache every process and
    server shares, through Mutualis' RedisCache that turns Redis down into a miss."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not url.strip() or scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mutualis"}
    if scheme not in {"redis", "rediss"}:
        raise ConfigError(name, f"unknown scheme {parts.scheme!r} (use redis://host:6379/0, rediss://…, locmem://)")
    if not parts.hostname:
        raise ConfigError(name, "a Redis URL needs a host, e.g. redis://127.0.0.1:6379/0")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ConfigError(name, "the port is not a number") from None
    database = parts.path.strip("/") or "0"  # the query string (rediss' ssl_cert_reqs…) goes to redis-py
    if not database.isdigit():
        raise ConfigError(name, f"the database must be a number (redis://host:6379/0), got {database!r}")
    return {"BACKEND": "mutualis.core.cache.ResilientRedisCache", "LOCATION": url.strip()}
