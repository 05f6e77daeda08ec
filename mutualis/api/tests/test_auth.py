"""API authentication: personal tokens (only their digest stored), sessions, the OpenAPI schema
and the interactive docs served without any outside asset."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.staticfiles import finders
from django.core import serializers
from django.utils import timezone

from mutualis.accounts.models import ApiToken
from mutualis.accounts.services import api_token_create, api_token_revoke
from mutualis.core.models import AuditEntry


def _bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_it_answers_401_without_credentials(client, world):
    response = client.get("/api/v1/collectivities/")
    assert response.status_code == 401


def test_it_authenticates_a_bearer_token_as_its_account(client, world):
    _token, secret = api_token_create(actor=world.manager_a, name="tableur")

    response = client.get("/api/v1/collectivities/", **_bearer(secret))

    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["items"]] == ["alpha"]


@pytest.mark.parametrize("secret", ["mtl_not-a-token", "not-even-the-prefix", ""])
def test_it_answers_401_with_a_bad_token(client, world, secret):
    api_token_create(actor=world.staff, name="script")
    assert client.get("/api/v1/collectivities/", **_bearer(secret)).status_code == 401


def test_it_answers_401_with_a_revoked_token(client, world):
    token, secret = api_token_create(actor=world.staff, name="script")
    assert client.get("/api/v1/collectivities/", **_bearer(secret)).status_code == 200

    api_token_revoke(actor=world.staff, token=token)

    assert client.get("/api/v1/collectivities/", **_bearer(secret)).status_code == 401


def test_it_answers_401_with_the_token_of_a_deactivated_account(client, world):
    _token, secret = api_token_create(actor=world.staff, name="script")
    world.staff.is_active = False
    world.staff.save(update_fields=["is_active"])

    assert client.get("/api/v1/collectivities/", **_bearer(secret)).status_code == 401


def test_it_writes_with_an_operator_token_as_that_account(client, world):
    _token, secret = api_token_create(actor=world.staff, name="import")

    response = client.post(
        "/api/v1/collectivities/",
        {"slug": "charlie", "name": "Charlie", "kind": "commune"},
        content_type="application/json",
        **_bearer(secret),
    )

    assert response.status_code == 201
    entry = AuditEntry.objects.get(object_repr="Charlie")
    assert (entry.actor, entry.via) == (world.staff, "api")


def test_it_records_when_a_token_was_last_used(client, world):
    token, secret = api_token_create(actor=world.agent_a, name="tableur")
    assert token.last_used_at is None
    before = timezone.now()

    client.get("/api/v1/applications/", **_bearer(secret))

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert before <= token.last_used_at <= timezone.now()


def test_it_does_not_record_use_of_a_revoked_token(client, world):
    token, secret = api_token_create(actor=world.agent_a, name="tableur")
    api_token_revoke(actor=world.agent_a, token=token)

    client.get("/api/v1/applications/", **_bearer(secret))

    token.refresh_from_db()
    assert token.last_used_at is None


def test_it_stores_only_the_sha256_digest_of_the_secret(world):
    token, secret = api_token_create(actor=world.staff, name="script")

    token.refresh_from_db()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(token.prefix) < len(secret) // 2
    # Nothing in the tables holds the secret: neither the token row nor its audit entry.
    dump = serializers.serialize("json", [*ApiToken.objects.all(), *AuditEntry.objects.all()])
    assert secret not in dump
    assert len(secret) >= 40


# --- the schema and the docs page ---------------------------------------------------------------


def test_it_publishes_the_openapi_schema_with_every_path(client, world):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) == {
        "/api/v1/collectivities/",
        "/api/v1/collectivities/{slug}",
        "/api/v1/applications/",
        "/api/v1/applications/{slug}",
        "/api/v1/subscriptions/",
        "/api/v1/subscriptions/{pk}",
        "/api/v1/tickets/",
        "/api/v1/tickets/{reference}",
        "/api/v1/tickets/{reference}/followups",
        "/api/v1/tickets/{reference}/transitions",
        "/api/v1/tickets/{reference}/assignment",
        "/api/v1/forms/",
        "/api/v1/forms/{slug}",
        "/api/v1/forms/{slug}/submit",
    }
    assert set(paths["/api/v1/subscriptions/"]) == {"get", "post"}
    assert set(paths["/api/v1/subscriptions/{pk}"]) == {"get", "patch"}
    assert {"TokenAuth", "BrowserSession"} <= set(response.json()["components"]["securitySchemes"])


def test_it_serves_the_interactive_docs_from_local_static_files_only(client, world):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise call validator.swagger.io
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a bundled static file"


def test_it_answers_the_bundled_swagger_assets(client, world):
    response = client.get("/static/ninja/swagger-ui-bundle.js")

    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"SwaggerUIBundle" in content
