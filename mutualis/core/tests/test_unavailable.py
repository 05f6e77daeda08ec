"""The database away answers 503 with Retry-After (a French page, the API's error shape), a query
error stays a 500; the connection errors are the drivers' own, met for real."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError, connection
from django.test import Client

from mutualis.core.unavailable import RETRY_AFTER_S, is_database_unavailable


def refused_postgres_error() -> psycopg.OperationalError:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        psycopg.connect(f"host=127.0.0.1 port={port} user=mutualis connect_timeout=1")
    except psycopg.OperationalError as error:
        return error
    raise AssertionError("a closed port accepted a PostgreSQL connection")


def locked_sqlite_error(tmp_path) -> sqlite3.OperationalError:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return error
    finally:
        holder.close()
    raise AssertionError("two writers held SQLite's lock at once")


def wrapped(error: Exception) -> OperationalError:
    """As Django's DatabaseErrorWrapper raises it."""
    try:
        raise OperationalError(*error.args) from error
    except OperationalError as django_error:
        return django_error


def test_it_recognises_a_refused_postgresql_connection():
    error = refused_postgres_error()
    assert is_database_unavailable(error)
    assert is_database_unavailable(wrapped(error))


def test_it_recognises_a_locked_sqlite_database(tmp_path):
    assert is_database_unavailable(wrapped(locked_sqlite_error(tmp_path)))


def test_it_recognises_a_connection_already_closed():
    assert is_database_unavailable(InterfaceError("connection already closed"))


def test_it_leaves_a_query_error_to_the_500_page(tmp_path):
    try:
        sqlite3.connect(tmp_path / "empty.sqlite3").execute("SELECT * FROM nowhere")
    except sqlite3.OperationalError as error:
        assert not is_database_unavailable(wrapped(error))
    assert not is_database_unavailable(ProgrammingError("relation does not exist"))
    assert not is_database_unavailable(ValueError("not a database error"))


@pytest.fixture
def signed_in(world, client) -> Client:
    client.force_login(world.staff)
    client.raise_request_exception = False
    return client


@pytest.fixture
def database_away(monkeypatch, tmp_path, signed_in) -> Iterator[None]:
    """Every new cursor fails as this engine fails when its server is away; Django wraps the
    driver's error as it does in production."""
    error = refused_postgres_error() if connection.vendor == "postgresql" else locked_sqlite_error(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    with monkeypatch.context() as patch:  # undone before the test database is rolled back
        patch.setattr(connection, "create_cursor", fail)
        yield


def test_it_answers_a_page_with_503_and_retry_after(signed_in, database_away):
    response = signed_in.get("/adherents/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "La base de données ne répond pas" in page
    assert f'http-equiv="refresh" content="{RETRY_AFTER_S}"' in page


def test_it_does_not_reload_a_form_that_was_sent(database_away):
    response = Client(raise_request_exception=False).post("/comptes/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "http-equiv" not in page
    assert "vérifiez dans un instant qu'il a été pris en compte" in page


def test_it_answers_the_api_in_its_error_shape(signed_in, database_away):
    response = signed_in.post("/api/v1/tickets/", data={"title": "x"}, content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response.json() == {
        "detail": "Service momentanément indisponible : la base de données ne répond pas. Réessayez dans un instant."
    }


def test_it_answers_503_when_a_middleware_meets_the_database_away(signed_in, monkeypatch):
    error = wrapped(refused_postgres_error())

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    # The second-factor middleware reads the account, hence the session, before any view runs.
    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", fail)
    response = signed_in.get("/adherents/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_S)
