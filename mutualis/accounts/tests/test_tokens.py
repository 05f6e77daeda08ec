"""Personal API tokens on the profile page: made (secret shown once), listed, revoked, audited."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mutualis.accounts.models import ApiToken
from mutualis.accounts.services import api_token_authenticate, api_token_create
from mutualis.core.models import AuditAction, AuditEntry


def _secret_from(html: str) -> str:
    start = html.index('<code id="new-token">') + len('<code id="new-token">')
    return html[start : html.index("</code>", start)]


def test_it_shows_the_profile_with_no_token(client, world):
    client.force_login(world.agent_a)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert "Aucun jeton." in response.content.decode()


def test_it_shows_a_new_secret_once(client, world):
    client.force_login(world.agent_a)

    created = client.post(reverse("accounts:token_create"), {"name": "tableur"})
    secret = _secret_from(created.content.decode())
    again = client.get(reverse("accounts:profile")).content.decode()

    assert created.status_code == 200
    token = ApiToken.objects.get(user=world.agent_a)
    assert token.name == "tableur"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in again
    assert f"{token.prefix}…" in again


def test_it_keeps_the_secret_out_of_the_session_store(client, world):
    client.force_login(world.agent_a)

    secret = _secret_from(client.post(reverse("accounts:token_create"), {"name": "tableur"}).content.decode())

    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())


def test_it_audits_a_token_creation(client, world):
    client.force_login(world.manager_a)

    client.post(reverse("accounts:token_create"), {"name": "tableur"})

    entry = AuditEntry.objects.get(action=AuditAction.TOKEN_CREATE)
    token = ApiToken.objects.get()
    assert (entry.actor, entry.object_id, entry.organisation) == (world.manager_a, str(token.pk), world.member_a)


def test_it_refuses_a_token_without_a_name(client, world):
    client.force_login(world.agent_a)

    response = client.post(reverse("accounts:token_create"), {"name": "   "}, follow=True)

    assert not ApiToken.objects.exists()
    assert "donnez un nom au jeton" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.TOKEN_CREATE).exists()


def test_it_revokes_a_token_and_audits_it(client, world):
    token, secret = api_token_create(actor=world.staff, name="script")
    client.force_login(world.staff)

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.get(action=AuditAction.TOKEN_REVOKE)
    assert (entry.actor, entry.object_id) == (world.staff, str(token.pk))
    assert Client().get("/api/v1/collectivities/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "révoqué le" in page


def test_it_audits_a_revocation_only_once(client, world):
    token, _secret = api_token_create(actor=world.staff, name="script")
    client.force_login(world.staff)

    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert AuditEntry.objects.filter(action=AuditAction.TOKEN_REVOKE).count() == 1


def test_it_answers_404_when_revoking_someone_elses_token(client, world):
    token, secret = api_token_create(actor=world.manager_b, name="tableur")
    client.force_login(world.admin)

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEntry.objects.filter(action=AuditAction.TOKEN_REVOKE).exists()
    assert Client().get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_it_lists_only_the_accounts_own_tokens(client, world):
    api_token_create(actor=world.manager_b, name="outil de bravo")
    api_token_create(actor=world.manager_a, name="outil d'alpha")
    client.force_login(world.manager_a)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert "outil d&#x27;alpha" in page
    assert "outil de bravo" not in page


def test_it_refuses_token_pages_by_get(client, world):
    token, _secret = api_token_create(actor=world.staff, name="script")
    client.force_login(world.staff)

    assert client.get(reverse("accounts:token_create")).status_code == 405
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405


def test_it_records_a_tokens_use_at_most_once_a_minute(world, django_assert_num_queries):
    token, secret = api_token_create(actor=world.agent_a, name="script")
    assert api_token_authenticate(secret) == world.agent_a
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    with django_assert_num_queries(1):  # the lookup, no write
        assert api_token_authenticate(secret) == world.agent_a
    token.refresh_from_db()
    assert token.last_used_at == first


def test_it_records_a_tokens_use_again_after_a_minute(world):
    token, secret = api_token_create(actor=world.agent_a, name="script")
    old = timezone.now() - dt.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)

    assert api_token_authenticate(secret) == world.agent_a

    token.refresh_from_db()
    assert token.last_used_at > old + dt.timedelta(seconds=60)
