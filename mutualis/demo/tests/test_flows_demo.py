"""The demo's flows: its connectors reach the local servers, and an act goes through by itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mutualis.demo.flows import load_flows_demo
from mutualis.flows import engine, services, supervision
from mutualis.flows.enums import FlowType, State
from mutualis.flows.localservers.launcher import Running, start_all, stop_all
from mutualis.flows.models import ConnectorInstance

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def servers() -> Iterator[list[Running]]:
    running = start_all({"s2low": 0, "iparapheur": 0, "asalae": 0, "pastell": 0}, auto_after=1)
    try:
        yield running
    finally:
        stop_all(running)


def test_the_demo_connectors_reach_the_local_servers_and_an_act_goes_through(world, servers):
    ports = {key: int(r.url.rsplit(":", 1)[1]) for key, r in zip(("s2low", "iparapheur", "asalae", "pastell"), servers)}
    assert load_flows_demo(members=1, ports=ports) == 4
    assert load_flows_demo(members=1, ports=ports) == 4  # idempotent
    member = ConnectorInstance.objects.first().member
    assert len(supervision.documents(ConnectorInstance.objects.get(kind="pastell"))) == 5  # its Pastell page
    for instance in ConnectorInstance.objects.all():
        ok, message = services.connector_check(actor=world.staff, instance=instance)
        assert ok, message
    document = services.document_create(
        actor=world.staff,
        member=member,
        flow=FlowType.ACTE,
        data={
            "number": "DEMO_1",
            "subject": "Délibération de démonstration",
            "nature": 1,
            "decision_date": dt.date(2026, 1, 15),
            "classification": "1.1",
        },
        steps=["signature", "transmission", "archive"],
        main=SimpleUploadedFile("deliberation.pdf", PDF),
    )
    at = dt.datetime.now(tz=dt.UTC)
    for hour in range(12):
        if engine.document_advance(document.pk, now=at + dt.timedelta(hours=hour)) == State.TERMINE:
            break
    document.refresh_from_db()
    assert document.state == State.TERMINE, document.error_message
