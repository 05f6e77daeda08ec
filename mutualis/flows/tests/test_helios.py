"""Hélios: a member's PES Aller checked, sent to the Treasury through the local S²low (HTTPS with a
client certificate, the Hélios module's real requests and answers), its PES_ACQUIT kept, then archived."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.flows import engine, rights, services
from mutualis.flows.enums import FlowType, Port, State
from mutualis.flows.formats.pes import check_pes_aller, parse_pes_acquit, sample_pes_aller
from mutualis.flows.models import FileRole, FlowDocument

pytestmark = pytest.mark.django_db

SIREN = "216901234"
DAY = dt.date(2026, 3, 2)


def pes(number: int = 1, siret: str = SIREN + "00017") -> bytes:
    return sample_pes_aller(siret=siret, label="COMMUNE D'ALPHA", day=DAY, number=number)


def upload(content: bytes, name: str = "PES_0001.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/xml")


@pytest.fixture
def member(world):
    member = world.member_a
    member.siren = SIREN
    member.save(update_fields=["siren"])
    return member


@pytest.fixture
def connected(world, member, s2low_server, s2low_certificates, asalae_server):
    """The member's S²low account (its Hélios module) and archive, bound to the Hélios flow."""
    s2low = services.connector_save(
        actor=world.staff,
        member=member,
        kind="s2low",
        label="S²low",
        values={
            "url": s2low_server.url,
            "certificate": s2low_certificates.client_cert_pem,
            "private_key": s2low_certificates.client_key_pem,
            "server_ca": s2low_certificates.ca_pem,
        },
    )
    asalae = services.connector_save(
        actor=world.staff,
        member=member,
        kind="asalae",
        label="As@lae",
        values={"url": asalae_server.url, "login": "mutualis", "password": "secret", "transferring_agency": "OPSN"},
    )
    for port, instance in ((Port.TRANSMISSION, s2low), (Port.ARCHIVE, asalae)):
        services.binding_set(actor=world.staff, member=member, flow=FlowType.HELIOS, port=port, instance=instance)
    return s2low_server, asalae_server


def test_the_sample_file_passes_the_check():
    read = check_pes_aller(pes())
    assert (read.file_type, read.id_coll, read.blocks, read.bordereaux) == (
        "PESALR2",
        SIREN + "00017",
        ("PES_DepenseAller",),
        1,
    )
    assert pes(1) != pes(2)  # one file per bordereau number: S²low refuses a duplicate


def test_a_pes_is_acknowledged_by_the_treasury_then_archived(world, member, connected):
    s2low_server, asalae_server = connected
    document = services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    assert document.subject.startswith("PES dépenses — COMMUNE D'ALPHA - BUDGET PRINCIPAL — PESALR2_216901234")
    assert document.fields["id_post"] == "069001" and document.steps == ["helios", "archive"]
    at = dt.datetime.now(tz=dt.UTC)

    assert engine.document_advance(document.pk, now=at) == State.SEND_HELIOS
    document.refresh_from_db()
    transaction = s2low_server.helios[int(document.transmission_remote_id)]
    assert transaction.content == pes()  # relayed byte for byte
    assert engine.document_advance(document.pk, now=at + dt.timedelta(minutes=5)) == State.SEND_HELIOS
    s2low_server.helios_accept(int(document.transmission_remote_id))
    assert engine.document_advance(document.pk, now=at + dt.timedelta(minutes=10)) == State.SEND_ARCHIVE
    document.refresh_from_db()
    asalae_server.accept(document.archive_remote_id)
    assert engine.document_advance(document.pk, now=at + dt.timedelta(hours=1)) == State.TERMINE

    acquit = document.files.get(role=FileRole.PES_ACQUIT)
    assert parse_pes_acquit(acquit.file.read()).accepted
    transfer = document.files.get(role=FileRole.ARCHIVE_TRANSFER).file.read().decode()
    assert "Flux comptable PES" in transfer and "PES_0001.xml" in transfer and acquit.name in transfer
    actions = list(document.log.values_list("action", flat=True))
    assert actions[:3] == ["creation", "send-helios", "acquiter-helios"]


def test_a_pes_refused_by_the_treasury_ends_refused_with_the_reason(world, member, connected):
    s2low_server, _asalae = connected
    document = services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    at = dt.datetime.now(tz=dt.UTC)
    engine.document_advance(document.pk, now=at)
    document.refresh_from_db()
    s2low_server.helios_refuse(int(document.transmission_remote_id), "Bordereau déjà intégré")
    assert engine.document_advance(document.pk, now=at + dt.timedelta(minutes=10)) == State.REJET_HELIOS
    document.refresh_from_db()
    assert "Bordereau déjà intégré" in document.last_message
    assert document.files.filter(role=FileRole.PES_ACQUIT).count() == 1
    assert not document.files.filter(role=FileRole.ARCHIVE_TRANSFER).exists()  # a refused file is not archived


def test_a_pes_without_a_transmission_account_stops_with_the_reason(world, member):
    document = services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    assert engine.document_advance(document.pk) == State.ERREUR_HELIOS
    document.refresh_from_db()
    assert "Aucun connecteur" in document.error_message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"pas du XML", "XML"),
        (b"<?xml version='1.0'?><PES_ACQUIT/>", "PES_Aller"),
        (pes(siret="21380001300015"), "SIRET 21380001300015"),
    ],
)
def test_a_wrong_file_is_refused_before_anything_is_stored(world, member, content, message):
    with pytest.raises(ValidationError) as caught:
        services.pes_create(actor=world.staff, member=member, main=upload(content))
    assert message in " ".join(caught.value.message_dict["main"])
    assert not FlowDocument.objects.exists()


def test_the_same_file_twice_is_refused_and_a_cancelled_one_can_be_sent_again(world, member):
    first = services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    with pytest.raises(ValidationError, match="déjà été déposé"):
        services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    services.pes_create(actor=world.staff, member=member, main=upload(pes(2)))  # another bordereau
    services.document_cancel(actor=world.staff, document=first)
    services.pes_create(actor=world.staff, member=member, main=upload(pes()))
    assert FlowDocument.objects.filter(flow=FlowType.HELIOS).count() == 3


def test_the_helios_step_cannot_be_left_out(world, member):
    with pytest.raises(ValidationError, match="gardez l'étape Hélios"):
        services.pes_create(actor=world.staff, member=member, main=upload(pes()), steps=["archive"])


def test_the_upload_page_checks_the_file_and_shows_the_document(client, world, member):
    client.force_login(world.staff)
    url = reverse("flows:document_create", args=[member.slug, FlowType.HELIOS])
    page = client.get(url)
    assert page.status_code == 200 and "Fichier PES (XML)" in page.content.decode()
    refused = client.post(url, {"main": upload(b"<Autre/>"), "steps": ["helios", "archive"]})
    assert refused.status_code == 400 and "PES_Aller" in refused.content.decode()
    sent = client.post(url, {"main": upload(pes()), "steps": ["helios", "archive"]})
    document = FlowDocument.objects.get(flow=FlowType.HELIOS)
    assert sent.status_code == 302 and sent.url == reverse("flows:document", args=[document.pk])
    shown = client.get(sent.url).content.decode()
    assert "069001" in shown and "PESALR2_216901234_20260302_0001" in shown
    assert AuditEntry.objects.filter(object_id=str(document.pk), action="create").exists()
    listed = client.get(reverse("flows:documents", args=[member.slug, FlowType.HELIOS])).content.decode()
    assert "Déposer un fichier PES" in listed and reverse("flows:document", args=[document.pk]) in listed


def test_the_sample_command_writes_a_file_the_member_can_send(world, member, tmp_path: Path):
    target = tmp_path / "pes.xml"
    out = StringIO()
    call_command("flows_pes_sample", member.slug, "--number", "3", "-o", str(target), stdout=out)
    assert "pes.xml" in out.getvalue()
    document = services.pes_create(actor=world.staff, member=member, main=upload(target.read_bytes()))
    assert document.fields["id_coll"].startswith(SIREN)


def test_the_finance_software_submits_a_pes_through_the_api(client, world, member):
    # PES files are restricted: the token's account must be one of the flow's managers.
    rights.flow_manager_grant(actor=world.staff, member=member, flow=FlowType.HELIOS, user=world.agent_a)
    _token, secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=member, flow=FlowType.HELIOS, name="Logiciel de finances"
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.post("/api/v1/flux/pes", {"main": upload(pes())}, **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["flow"], body["state"], body["steps"]) == ("helios-generique", "creation", ["helios", "archive"])
    again = client.post("/api/v1/flux/pes", {"main": upload(pes())}, **headers)
    assert again.status_code == 422 and "déjà été déposé" in again.json()["detail"]
    assert client.get(f"/api/v1/flux/documents/{body['id']}", **headers).json()["id"] == body["id"]
    _acts, acts_secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=member, flow=FlowType.ACTE, name="Logiciel d'actes"
    )
    refused = client.post("/api/v1/flux/pes", {"main": upload(pes(2))}, HTTP_AUTHORIZATION=f"Bearer {acts_secret}")
    assert refused.status_code == 403
