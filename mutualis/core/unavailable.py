"""The database away (restarting, failing over, unreachable) is a 503 with Retry-After, not a 500.

A request that meets a lost or refused database connection answers « service momentanément
indisponible » (the API's error shape under /api/) with `Retry-After`, so a load balancer, a
browser or an API client knows to come back in a few seconds; nothing was written, since the
transaction that met the error rolled back. Django drops the broken connection at the end of the
request (CONN_HEALTH_CHECKS checks the next one), so the first request after the database is back
succeeds.

Only connection failures qualify: a query error (a missing table, a constraint) stays a 500, which
is a bug to fix, not a moment to wait. The page renders without the database: no layout, no
session, no context processor."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from mutualis.core.middleware import is_api

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5

# SQLSTATE of a connection lost or refused: class 08 (connection exception), 57P01 terminated by an
# administrator (pg_ctl stop/restart -m fast), 57P02 crash shutdown, 57P03 starting up / shutting down.
_POSTGRES_UNAVAILABLE = {"57P01", "57P02", "57P03"}
# SQLite: another process holds the write lock longer than the busy timeout, or the file is gone.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def is_database_unavailable(error: BaseException) -> bool:
    """True when `error` (Django's wrapper or the driver's own) says the database cannot be
    reached right now, as opposed to a query it refused."""
    if isinstance(error, InterfaceError | psycopg.InterfaceError):
        return True
    cause = error.__cause__ if isinstance(error, OperationalError) else error
    if isinstance(cause, psycopg.OperationalError):
        # psycopg leaves sqlstate empty when the server never answered (refused, closed, timed out).
        state = cause.sqlstate
        return state is None or state.startswith("08") or state in _POSTGRES_UNAVAILABLE
    if isinstance(cause, sqlite3.OperationalError):
        return str(cause).lower().startswith(_SQLITE_UNAVAILABLE)
    return False


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's error shape under /api/, a French page (no database) elsewhere."""
    if is_api(request):
        message = _("Service momentanément indisponible : la base de données ne répond pas. Réessayez dans un instant.")
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        # A page asked for reloads itself; a form sent does not (the reload would lose what was typed).
        context = {"retry_after": RETRY_AFTER_S, "refresh": request.method == "GET"}
        page = render_to_string("503.html", context)
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that meets the database away answers 503 (errors.server_error does the same for
    the middleware that read or write sessions, outside any view)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable, answered 503: %s %s (%s)", request.method, request.path, exception)
        return database_unavailable(request)


def current_exception_is_database_unavailable() -> bool:
    """Inside handler500: whether the exception being handled is the database away."""
    error = sys.exc_info()[1]
    return error is not None and is_database_unavailable(error)
