"""The flows API: an act submitted with a token scoped to one member and one flow."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from mutualis.core.models import AuditEntry
from mutualis.flows import services
from mutualis.flows.enums import FlowType
from mutualis.flows.models import FlowDocument
from mutualis.flows.tests.fakes import Remote, installed
from mutualis.flows.tests.test_engine import PDF, make_member, upload_act

URL = "/api/v1/flux/actes"


@pytest.fixture
def remote() -> Iterator[Remote]:
    with installed() as fakes:
        yield fakes


def act(**overrides):
    data = {
        "number": "2026_AR_003",
        "nature": "2",
        "subject": "Règlement du cimetière",
        "decision_date": "2026-02-21",
        "classification": "6.1",
        "steps": ["transmission"],
        "main": SimpleUploadedFile("arrete.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def token(world) -> str:
    make_member(world)
    _token, secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="Logiciel d'actes"
    )
    return secret


def test_an_application_submits_an_act_and_reads_its_state(client, world, token):
    response = client.post(URL, act(attachments=[SimpleUploadedFile("annexe.pdf", PDF)]), **bearer(token))
    assert response.status_code == 201, response.content
    body = response.json()
    document = FlowDocument.objects.get(pk=body["id"])
    assert (document.member, document.number, document.files.count()) == (world.member_a, "2026_AR_003", 2)
    assert body["state"] == "creation" and body["steps"] == ["transmission"]
    assert AuditEntry.objects.filter(object_id=str(document.pk), via="api").exists()
    read = client.get(f"/api/v1/flux/documents/{document.pk}", **bearer(token))
    assert read.status_code == 200 and read.json()["number"] == "2026_AR_003"


def test_the_api_says_what_is_wrong_in_french(client, token):
    response = client.post(URL, act(number="bad number", classification="6"), **bearer(token))
    assert response.status_code == 422
    text = response.content.decode()
    assert "majuscules" in text and "deux niveaux" in text
    assert not FlowDocument.objects.exists()


def test_the_token_is_valid_for_its_member_and_flow_only(client, world, token, remote):
    foreign = upload_act(world, number="B001", steps=["archive"])
    foreign.member = world.member_b
    FlowDocument.objects.filter(pk=foreign.pk).update(member=world.member_b)
    assert client.get(f"/api/v1/flux/documents/{foreign.pk}", **bearer(token)).status_code == 404
    _t, other_flow = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.DOCUMENT_A_SIGNER, name="GED"
    )
    assert client.post(URL, act(), **bearer(other_flow)).status_code == 403
    own = upload_act(world, number="A001", steps=["archive"])
    # A document of its member but of another flow is outside a token's scope too.
    FlowDocument.objects.filter(pk=own.pk).update(flow=FlowType.DOCUMENT_A_SIGNER)
    assert client.get(f"/api/v1/flux/documents/{own.pk}", **bearer(token)).status_code == 404


def test_other_credentials_are_refused(client, world, token):
    assert client.post(URL, act()).status_code == 401
    assert client.post(URL, act(), **bearer("mtf_not-a-token")).status_code == 401
    client.force_login(world.staff)  # a browser session is not a flow token
    assert client.post(URL, act()).status_code == 401


def test_a_token_stops_when_its_account_leaves_the_member(client, world, token):
    world.agent_a.organisation = world.member_b
    world.agent_a.save(update_fields=["organisation"])
    assert client.post(URL, act(), **bearer(token)).status_code == 401


def test_a_token_is_for_one_of_the_members_accounts(world):
    with pytest.raises(Exception, match="appartenir à l'adhérent"):
        services.flow_token_create(actor=world.staff, user=world.manager_b, member=world.member_a, flow="x", name="n")


def test_the_command_creates_a_token(world, client):
    make_member(world)
    out = StringIO()
    call_command(
        "flows_token", member="alpha", flow=FlowType.ACTE, user=world.agent_a.username, name="Actes", stdout=out
    )
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("mtf_")
    assert client.post(URL, act(), **bearer(secret)).status_code == 201


def test_the_api_is_described(client):
    schema = client.get("/api/v1/flux/openapi.json").json()
    assert {"/api/v1/flux/actes", "/api/v1/flux/documents/{document_id}"} <= set(schema["paths"])


def test_the_command_revokes_a_token(world, client, token):
    out = StringIO()
    call_command("flows_token", revoke=token[:12], stdout=out)
    assert "1 jeton(s) révoqué(s)" in out.getvalue()
    assert client.post(URL, act(), **bearer(token)).status_code == 401
    assert AuditEntry.objects.filter(action="token_revoke").count() == 1
