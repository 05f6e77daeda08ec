"""Reading the helpdesk's mail and background-work settings from the environment (no Django
import: config/settings.py uses it before the apps load)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from mutualis.lib.env import ConfigError

TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}


def parse_imap_url(name: str, url: str) -> dict[str, Any] | None:
    """`imaps://user:password@host:993/INBOX` (or `imap://…:143/…`, clear text: tests and a
    local relay only) into the poller's settings; empty means no polling."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"imap", "imaps"}:
        raise ConfigError(name, f"unknown scheme {parts.scheme!r} (use imaps://user:password@host:993/INBOX)")
    if not parts.hostname:
        raise ConfigError(name, "an IMAP URL needs a host, e.g. imaps://user:password@imap.example.org/INBOX")
    if not parts.username:
        raise ConfigError(name, "an IMAP URL needs a user, e.g. imaps://user:password@imap.example.org/INBOX")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(name, "the port is not a number") from None
    return {
        "ssl": scheme == "imaps",
        "host": parts.hostname,
        "port": port or (993 if scheme == "imaps" else 143),
        "user": unquote(parts.username),
        "password": unquote(parts.password or ""),
        "mailbox": unquote(parts.path.strip("/")) or "INBOX",
    }


def tasks_setting(name: str, value: str) -> dict[str, Any]:
    """TASKS for Django's tasks API: `database` (a `mutualis db_worker` process runs the jobs)
    or `immediate` (run in the request, for a demo without a worker)."""
    key = value.strip().lower() or "database"
    if key not in TASK_BACKENDS:
        raise ConfigError(name, f"expected one of {', '.join(TASK_BACKENDS)}, got {value!r}")
    return {"default": {"BACKEND": TASK_BACKENDS[key], "QUEUES": ["default"]}}
