"""« Jetons d'API »: operator staff create and revoke a member's flow tokens, the member's manager reads them."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.flows import services, views_tokens
from mutualis.flows.enums import FlowType
from mutualis.flows.models import FlowToken
from mutualis.flows.tests.test_api import URL as ACTS_URL
from mutualis.flows.tests.test_api import act, bearer
from mutualis.flows.tests.test_engine import make_member
from mutualis.testing import factories as f

SECRET = re.compile(r'<code id="flow-token-secret">(mtf_[^<]+)</code>')


def tokens_url(slug: str = "alpha") -> str:
    return reverse("flows:tokens", args=[slug])


def create(client, world, **overrides):
    data = {"name": "Logiciel d'actes", "flow": FlowType.ACTE, "user": world.agent_a.pk, **overrides}
    return client.post(tokens_url(), data)


def create_and_read_secret(client, world) -> tuple[FlowToken, str]:
    response = create(client, world)
    assert response.status_code == 302, response.content.decode()
    token = FlowToken.objects.get()
    assert response["Location"] == reverse("flows:token_secret", args=["alpha", token.pk])
    match = SECRET.search(client.get(response["Location"]).content.decode())
    assert match is not None
    return token, match.group(1)


def test_it_creates_a_token_whose_secret_is_shown_once_and_stored_as_a_digest_only(client, world):
    client.force_login(world.staff)
    response = create(client, world)
    token = FlowToken.objects.get()
    # Between the creation and the page that shows it, the session holds the secret encrypted only.
    pending = client.session[f"flows:token-secret:{token.pk}"]
    assert "mtf_" not in pending

    page = client.get(response["Location"])
    body = page.content.decode()
    secret = SECRET.search(body).group(1)  # type: ignore[union-attr]
    assert 'data-copy="flow-token-secret"' in body and "flows/copy.js" in body
    assert f'curl -H "Authorization: Bearer {secret}"' in html.unescape(body) and "/api/v1/flux/actes" in body

    token.refresh_from_db()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(secret) > len(token.prefix) + 20
    assert (token.member, token.flow, token.user, token.created_by) == (
        world.member_a,
        FlowType.ACTE,
        world.agent_a,
        world.staff,
    )
    stored = [str(v) for v in FlowToken.objects.values_list(flat=False).get()]
    assert not any(secret in value for value in stored)
    assert not any(secret in str(s.get_decoded()) for s in Session.objects.all())
    assert not any(secret in str(entry.changes) for entry in AuditEntry.objects.all())

    again = client.get(response["Location"]).content.decode()
    assert secret not in again and SECRET.search(again) is None
    assert "n'est plus affiché" in again
    assert secret not in client.get(tokens_url()).content.decode()


def test_the_new_token_submits_an_act_on_the_api_and_its_last_use_is_shown(client, world):
    make_member(world)
    client.force_login(world.staff)
    token, secret = create_and_read_secret(client, world)
    assert token.last_used_at is None
    client.logout()

    assert client.post(ACTS_URL, act(), **bearer(secret)).status_code == 201
    token.refresh_from_db()
    assert token.last_used_at is not None
    client.force_login(world.manager_a)
    body = client.get(tokens_url()).content.decode()
    assert "jamais" not in body


def test_revoking_asks_for_confirmation_then_the_api_refuses_the_token(client, world):
    make_member(world)
    client.force_login(world.staff)
    token, secret = create_and_read_secret(client, world)
    body = client.get(tokens_url()).content.decode()
    revoke_url = reverse("flows:token_revoke", args=["alpha", token.pk])
    assert revoke_url in body

    confirm = client.get(revoke_url)
    assert confirm.status_code == 200 and "Révoquer définitivement" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # asking is not revoking

    response = client.post(revoke_url)
    assert response.status_code == 302 and response["Location"] == tokens_url()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert revoke_url not in client.get(tokens_url()).content.decode()
    client.logout()
    assert client.post(ACTS_URL, act(), **bearer(secret)).status_code == 401


def test_creation_and_revocation_are_in_the_audit_log(client, world):
    client.force_login(world.staff)
    token, _secret = create_and_read_secret(client, world)
    client.post(reverse("flows:token_revoke", args=["alpha", token.pk]))
    entries = AuditEntry.objects.filter(
        object_id=str(token.pk), action__in=[AuditAction.TOKEN_CREATE, AuditAction.TOKEN_REVOKE]
    )
    assert sorted((e.action, e.actor_id, e.organisation_id, e.via) for e in entries) == [
        (AuditAction.TOKEN_CREATE, world.staff.pk, world.member_a.pk, "web"),
        (AuditAction.TOKEN_REVOKE, world.staff.pk, world.member_a.pk, "web"),
    ]
    created = entries.get(action=AuditAction.TOKEN_CREATE)
    assert created.changes["name"] == [None, "Logiciel d'actes"]
    assert created.changes["user"] == [None, world.agent_a.pk]


def test_the_members_manager_reads_the_list_but_cannot_create_or_revoke(client, world):
    token, _secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="Logiciel d'actes"
    )
    client.force_login(world.manager_a)
    response = client.get(tokens_url())
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Logiciel d'actes" in body and token.prefix in body and "agent-a" in body
    assert "Créer le jeton" not in body and "Révoquer" not in body and 'name="flow"' not in body

    assert create(client, world, name="Autre").status_code == 404
    assert FlowToken.objects.count() == 1
    revoke_url = reverse("flows:token_revoke", args=["alpha", token.pk])
    assert client.get(revoke_url).status_code == 404
    assert client.post(revoke_url).status_code == 404
    assert client.get(reverse("flows:token_secret", args=["alpha", token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("who", ["manager_b", "agent_a", "elected_a"])
def test_other_accounts_get_404(client, world, who):
    services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="Logiciel d'actes"
    )
    client.force_login(getattr(world, who))
    assert client.get(tokens_url()).status_code == 404
    assert create(client, world, name="Autre").status_code == 404
    assert FlowToken.objects.count() == 1


def test_another_members_token_is_404_under_this_members_address(client, world):
    foreign, _secret = services.flow_token_create(
        actor=world.staff, user=world.manager_b, member=world.member_b, flow=FlowType.ACTE, name="Actes de Bravo"
    )
    client.force_login(world.staff)
    assert "Actes de Bravo" not in client.get(tokens_url()).content.decode()
    assert client.get(reverse("flows:token_revoke", args=["alpha", foreign.pk])).status_code == 404
    assert client.post(reverse("flows:token_revoke", args=["alpha", foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_the_operators_own_organisation_has_no_tokens_page(client, world):
    client.force_login(world.staff)
    assert client.get(tokens_url(world.operator.slug)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Donnez un nom au jeton"),
        ({"name": "   "}, "name", "Donnez un nom au jeton"),
        ({"flow": "paie-secrete"}, "flow", "Flux inconnu : « paie-secrete »"),
        ({"user": "manager-b"}, "user", "pas un compte actif de l&#x27;adhérent"),
        ({"user": 999_999}, "user", "pas un compte actif de l&#x27;adhérent"),
    ],
)
def test_the_form_says_what_is_wrong_in_french(client, world, overrides, field, message):
    client.force_login(world.staff)
    if overrides.get("user") == "manager-b":
        overrides = {"user": world.manager_b.pk}  # another member's account
    response = create(client, world, **overrides)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in response.content.decode()
    assert not FlowToken.objects.exists()


def test_only_the_members_active_accounts_that_may_write_are_offered(client, world):
    gone = f.UserFactory.create(username="ancien-logiciel", organisation=world.member_a, is_active=False)
    client.force_login(world.staff)
    body = client.get(tokens_url()).content.decode()
    assert "agent-a" in body and "manager-a" in body
    assert "manager-b" not in body and "elected-a" not in body and "ancien-logiciel" not in body
    response = create(client, world, user=gone.pk)
    assert response.status_code == 400 and not FlowToken.objects.exists()


@pytest.mark.parametrize(
    ("who", "flow", "name", "field", "message"),
    [
        ("manager_b", FlowType.ACTE, "Actes", "user", "doit appartenir à l'adhérent Alpha"),
        ("elected_a", FlowType.ACTE, "Actes", "user", "lecture seule"),
        ("agent_a", "inconnu", "Actes", "flow", "flux inconnu"),
        ("agent_a", FlowType.ACTE, "  ", "name", "donnez un nom"),
        ("agent_a", FlowType.ACTE, "x" * 101, "name", "100 au plus"),
    ],
)
def test_the_service_refuses_what_the_form_would(world, who, flow, name, field, message):
    """The command goes through the same checks, without the form."""
    with pytest.raises(ValidationError) as raised:
        services.flow_token_create(
            actor=world.staff, user=getattr(world, who), member=world.member_a, flow=flow, name=name
        )
    assert list(raised.value.error_dict) == [field]
    assert message in " ".join(raised.value.messages)
    assert not FlowToken.objects.exists()


def test_an_inactive_account_cannot_be_a_service_account(world):
    world.agent_a.is_active = False
    world.agent_a.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="désactivé"):
        services.flow_token_create(actor=None, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="n")


def test_the_last_use_is_written_at_most_once_a_minute(world):
    token, secret = services.flow_token_create(
        actor=None, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="Actes"
    )
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert services.flow_token_authenticate(secret, now=start) is not None
    with CaptureQueriesContext(connection) as queries:
        services.flow_token_authenticate(secret, now=start + dt.timedelta(seconds=30))
    assert len(queries) == 1  # the lookup, no write
    token.refresh_from_db()
    assert token.last_used_at == start
    services.flow_token_authenticate(secret, now=start + dt.timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(seconds=61)


def test_a_token_made_by_the_command_shows_it_and_the_command_still_revokes(client, world):
    make_member(world)
    out = StringIO()
    call_command("flows_token", member="alpha", flow=FlowType.ACTE, user="agent-a", name="Actes", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    client.force_login(world.staff)
    assert "commande sur le serveur" in client.get(tokens_url()).content.decode()
    assert AuditEntry.objects.get(action=AuditAction.TOKEN_CREATE).via == "cli"
    call_command("flows_token", revoke=secret[:12], stdout=StringIO())
    client.logout()
    assert client.post(ACTS_URL, act(), **bearer(secret)).status_code == 401


def test_the_page_after_creation_names_the_endpoints_of_a_flow_without_deposit(client, world):
    client.force_login(world.staff)
    response = create(client, world, flow=FlowType.DOCUMENT_A_SIGNER)
    body = client.get(response["Location"]).content.decode()
    assert "pas encore de point de dépôt" in body
    assert "/api/v1/flux/documents/12" in body  # reading a document's state is open to every flow's token
    for endpoint in views_tokens.api_endpoints():
        assert endpoint.path in body


def test_every_deposit_endpoint_of_the_api_has_its_example_on_the_page():
    """api.py gaining a POST endpoint (a new flow's deposit) must add its example to views_tokens.DEPOSITS."""
    endpoints = views_tokens.api_endpoints()
    posts = {e.path for e in endpoints if e.method == "POST"}
    covered = {e.path for flow in FlowType.values if (e := views_tokens.deposit_endpoint(flow, endpoints)) is not None}
    assert posts and posts == covered


def test_the_list_query_count_does_not_grow_with_tokens(client, world):
    client.force_login(world.staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(tokens_url()).status_code == 200
        return len(queries)

    services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="1"
    )
    count()  # the session's first read
    one = count()
    for n in range(5):
        services.flow_token_create(
            actor=None, user=world.manager_a, member=world.member_a, flow=FlowType.DOCUMENT_A_SIGNER, name=f"n{n}"
        )
    assert count() == one


@pytest.mark.parametrize(("who", "linked"), [("staff", True), ("manager_a", True), ("agent_a", False)])
def test_the_flows_page_links_to_the_tokens_page_for_those_who_may_open_it(client, world, who, linked):
    client.force_login(getattr(world, who))
    body = client.get(reverse("flows:index")).content.decode()
    assert (tokens_url() in body) is linked
