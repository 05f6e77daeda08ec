"""Transport: a Content-Security-Policy without inline script on every page (that no page holds one
is checked on the demo world, in `demo/tests/test_transport_security.py`), HSTS once the cookies
are Secure, no-store on what a signed-in account reads and on downloads, redirects that stay on
this site, and a dropped database connection that costs no request a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections, connection, connections
from django.http import HttpResponse
from django.test import RequestFactory

from mutualis.core.middleware import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware

EVIL = ["https://evil.example", "//evil.example", "///evil.example", "https:evil.example", "\\\\evil.example"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_it_allows_scripts_from_this_site_only():
    directives = _directives(CONTENT_SECURITY_POLICY)

    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "path", ["/comptes/connexion/", "/", "/assistance/", "/api/v1/collectivities/", "/api/v1/docs"]
)
def test_it_sends_the_policy_on_every_response(client, world, path):
    client.force_login(world.staff)

    assert client.get(path)["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_it_sends_hsts_when_cookies_are_secure(client, world, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000

    assert client.get("/comptes/connexion/")["Strict-Transport-Security"] == "max-age=31536000"


def test_it_sends_no_hsts_over_a_plain_http_setup(client, world, settings):
    settings.SESSION_COOKIE_SECURE = False

    assert "Strict-Transport-Security" not in client.get("/comptes/connexion/")


def test_it_reads_hsts_from_the_secure_cookies_setting():
    from config import settings as production

    assert (production.HSTS_SECONDS if production.SECURE_COOKIES else 0) == production.SECURE_HSTS_SECONDS


@pytest.mark.parametrize(
    "path", ["/", "/assistance/", "/adherents/", "/api/v1/collectivities/", "/catalogue/matrice.csv"]
)
def test_it_forbids_caching_what_a_signed_in_account_reads(client, world, path):
    client.force_login(world.staff)

    response = client.get(path)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_it_forbids_caching_a_download_even_without_a_session(client, world):
    request = RequestFactory().get("/export.csv")
    request.user = AnonymousUser()
    response = HttpResponse(b"a;b", headers={"Content-Disposition": 'attachment; filename="export.csv"'})

    assert SecurityHeadersMiddleware(lambda r: response)(request)["Cache-Control"] == "no-store"


def test_it_lets_the_sign_in_page_be_cached_by_the_rules_of_django(client, world):
    assert client.get("/comptes/connexion/").get("Cache-Control") != "no-store"


# --- redirects stay on this site ---------------------------------------------------------------


@pytest.mark.parametrize("target", EVIL)
def test_it_confines_the_sign_in_redirect_to_this_site(client, world, target):
    world.staff.set_password("mot-de-passe-solide-1")
    world.staff.save()

    response = client.post(
        f"/comptes/connexion/?next={target}",
        {"username": "staff", "password": "mot-de-passe-solide-1", "next": target},
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_it_confines_the_queue_bulk_action_redirect_to_this_site(client, world, target):
    client.force_login(world.staff)

    response = client.post("/assistance/lot/", {"next": target})

    assert response.status_code == 302
    assert response["Location"] == "/assistance/"


def test_it_keeps_a_local_next_for_the_queue_bulk_action(client, world):
    client.force_login(world.staff)

    response = client.post("/assistance/lot/", {"next": "/assistance/?view=open"})

    assert response["Location"] == "/assistance/?view=open"


@pytest.mark.parametrize("target", EVIL)
def test_it_confines_the_language_switch_redirect_to_this_site(client, world, target):
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})

    assert "evil.example" not in response.get("Location", "")


# --- a dropped connection ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_survives_a_database_connection_killed_between_two_requests(client, world):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL (DATABASE_URL=postgres://…)")
    # the settings as config.settings builds them from DATABASE_URL: persistent and checked
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    client.force_login(world.staff)
    client.raise_request_exception = False
    assert client.get("/api/v1/collectivities/").status_code == 200
    backend = connection.connection.info.backend_pid

    killer = type(connections["default"])(dict(connection.settings_dict), alias="killer")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    finally:
        killer.close()
    # What a WSGI server's request_started does before each request (Django's test client skips it).
    close_old_connections()

    assert client.get("/api/v1/collectivities/").status_code == 200
    assert connection.connection.info.backend_pid != backend


def test_it_lets_the_sign_out_form_reach_the_single_sign_on_provider(client, world, settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = "https://auth.example.org/lemon"

    directives = _directives(client.get("/comptes/connexion/")["Content-Security-Policy"])

    assert directives["form-action"] == ["'self'", "https://auth.example.org"]
    assert directives["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        ("/assistance/?q=a%00b", {}, 400),
        ("/api/v1/tickets/?q=a%00b", {}, 400),
        ("/nulle-part/", {}, 404),
        ("/api/v1/nulle-part/", {}, 404),
        ("/comptes/connexion/", {"CONTENT_LENGTH": "999999999"}, 413),
    ],
)
def test_it_sends_the_security_headers_on_every_error_answer(client, world, path, kwargs, status):
    response = client.post(path, **kwargs) if status == 413 else client.get(path)

    assert response.status_code == status
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["Cache-Control"] == "no-store"
