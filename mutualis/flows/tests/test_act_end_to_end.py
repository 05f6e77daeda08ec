"""An act from upload to archived, through the real adapters and the local i-Parapheur, S²low and
As@lae servers (HTTP on loopback, the protocols' own requests and answers)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from mutualis.flows import engine, services
from mutualis.flows.enums import FlowType, Port, State
from mutualis.flows.models import ConnectorInstance, FileRole
from mutualis.flows.tests.test_engine import make_member, upload_act


def connect(world, s2low_server, s2low_certificates, iparapheur_server, asalae_server) -> None:
    """The member's three connectors, set up as an operator does on the connectors page."""
    staff, member = world.staff, world.member_a
    made = [
        services.connector_save(
            actor=staff,
            member=member,
            kind="iparapheur",
            label="i-Parapheur",
            values={
                "url": iparapheur_server.url,
                "realm": "api",
                "client_id": "ipcore-web",
                "username": "mutualis",
                "password": "secret",
                "tenant_id": "tenant-1",
                "desk_id": "desk-1",
                "type": "ACTES",
                "subtype": "Délibération",
            },
        ),
        services.connector_save(
            actor=staff,
            member=member,
            kind="s2low",
            label="S²low",
            values={
                "url": s2low_server.url,
                "certificate": s2low_certificates.client_cert_pem,
                "private_key": s2low_certificates.client_key_pem,
                "server_ca": s2low_certificates.ca_pem,
            },
        ),
        services.connector_save(
            actor=staff,
            member=member,
            kind="asalae",
            label="As@lae",
            values={"url": asalae_server.url, "login": "mutualis", "password": "secret", "transferring_agency": "OPSN"},
        ),
    ]
    for instance in made:
        port = engine.adapters()[instance.kind].port
        services.binding_set(actor=staff, member=member, flow=FlowType.ACTE, port=port, instance=instance)
        ok, message = services.connector_check(actor=staff, instance=instance)
        assert ok, message


def test_an_act_is_signed_acknowledged_and_archived_through_the_local_servers(
    client, world, s2low_server, s2low_certificates, iparapheur_server, asalae_server
):
    make_member(world)
    connect(world, s2low_server, s2low_certificates, iparapheur_server, asalae_server)
    # The private key is stored encrypted: not in the row in clear.
    row = ConnectorInstance.objects.get(kind="s2low")
    assert "PRIVATE KEY" not in row.secrets and "PRIVATE KEY" not in str(row.config)

    act = upload_act(world)
    at = dt.datetime.now(tz=dt.UTC)

    def run(minutes: int) -> str:
        return engine.document_advance(act.pk, now=at + dt.timedelta(minutes=minutes))

    assert run(0) == State.SEND_IPARAPHEUR
    act.refresh_from_db()
    assert run(60) == State.SEND_IPARAPHEUR  # the signatory has not signed yet
    iparapheur_server.sign(act.signature_remote_id)
    assert run(120) == State.SEND_TDT  # signed, then sent to the prefecture in the same run
    act.refresh_from_db()
    s2low_server.acknowledge(int(act.transmission_remote_id))
    assert run(180) == State.SEND_ARCHIVE
    act.refresh_from_db()
    asalae_server.accept(act.archive_remote_id)
    assert run(300) == State.TERMINE

    roles = set(act.files.values_list("role", flat=True))
    assert {FileRole.SIGNED, FileRole.ARACTE, FileRole.ARCHIVE_TRANSFER, FileRole.ARCHIVE_REPLY} <= roles
    client.force_login(world.manager_a)
    page = client.get(reverse("flows:document", args=[act.pk])).content.decode()
    for action in ("send-iparapheur", "recu-iparapheur", "send-tdt", "acquiter-tdt", "send-archive", "accepter-sae"):
        assert action in page
    for proof in act.files.all():
        assert client.get(reverse("flows:file", args=[act.pk, proof.pk])).status_code == 200
    assert Port.TRANSMISSION in {b.port for b in act.member.flow_bindings.all()}


def test_a_prefecture_down_is_retried_then_resumes(
    world, s2low_server, s2low_certificates, iparapheur_server, asalae_server
):
    make_member(world)
    connect(world, s2low_server, s2low_certificates, iparapheur_server, asalae_server)
    act = upload_act(world, steps=["transmission"])
    at = dt.datetime.now(tz=dt.UTC)
    s2low_server.fail_next(2, status=500)
    assert engine.document_advance(act.pk, now=at) == State.CREATION
    act.refresh_from_db()
    assert act.tries == 1 and "HTTP 500" in act.last_message
    engine.document_advance(act.pk, now=act.next_try_at)
    act.refresh_from_db()
    assert engine.document_advance(act.pk, now=act.next_try_at) == State.SEND_TDT
    assert len(s2low_server.acts()) == 1
