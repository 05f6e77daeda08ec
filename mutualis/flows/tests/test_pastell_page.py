"""A member's documents in an existing Pastell, read live through its connector (the local Pastell)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.flows import rights, services, supervision
from mutualis.flows.enums import FlowType
from mutualis.flows.localservers.pastell import PastellServer
from mutualis.flows.models import ConnectorInstance


def connect(world, server: PastellServer, *, member=None, entity_id: str = "2", **values: str) -> ConnectorInstance:
    return services.connector_save(
        actor=world.staff,
        member=member or world.member_a,
        kind="pastell",
        label="Pastell du syndicat",
        values={"url": server.url, "login": "admin", "password": "secret", "entity_id": entity_id, **values},
    )


def page(client, slug: str = "alpha", query: str = ""):
    return client.get(reverse("flows:pastell", args=[slug]) + query)


def rows(body: str) -> list[str]:
    """The identifiers of the documents listed, in order."""
    return re.findall(r'<th scope="row"><code>(D\d+)</code>', body)


def test_staff_configure_and_test_a_pastell_connector_on_the_connectors_page(client, world, pastell_server):
    client.force_login(world.staff)
    assert (
        "Pastell (supervision en lecture seule)"
        in client.get(reverse("flows:connectors", args=["alpha"])).content.decode()
    )
    url = reverse("flows:connector_create", args=["alpha", "pastell"])
    assert 'name="s_entity_id"' in client.get(url).content.decode()
    values = {"label": "Pastell", "s_url": pastell_server.url, "s_login": "admin", "s_password": "secret"}
    assert client.post(url, {**values, "s_entity_id": "2"}).status_code == 302
    instance = ConnectorInstance.objects.get()
    assert instance.config["entity_id"] == "2"
    response = client.post(reverse("flows:connector_check", args=[instance.pk]), follow=True)
    assert "Entité de l&#x27;adhérent : Commune de Villeneuve." in response.content.decode()
    instance.config["entity_id"] = "99"
    instance.save()
    ok, message = services.connector_check(actor=world.staff, instance=instance)
    assert not ok and "ne voit pas l'entité 99" in message


def test_the_page_lists_the_entitys_documents_with_their_last_action_and_counts(client, world, pastell_server):
    connect(world, pastell_server)
    client.force_login(world.staff)
    assert reverse("flows:pastell", args=["alpha"]) in client.get(reverse("flows:index")).content.decode()
    audited = AuditEntry.objects.count()
    response = page(client)
    body = response.content.decode()
    assert response.status_code == 200
    assert rows(body) == ["D000005", "D000004", "D000003", "D000002", "D000001"]  # newest action first
    assert "DEL2026_002 Tarifs de la cantine" in body and "Convention de mise à disposition" not in body  # entity 3's
    assert "<code>acquiter-tdt</code> (acquitté par la préfecture)" in body
    assert "<code>verif-tdt</code> : 1" in body and "<code>termine</code> (terminé) : 1" in body
    assert "05/01/2026 09:04" in body
    assert 'class="table-wrap" tabindex="0" role="region"' in body
    assert "Tous les types (5)" in body and "actes-generique (4)" in body and "helios-generique (1)" in body
    # Read only: Pastell was only read, and nothing was written here.
    assert all(seen.startswith("GET ") for seen in pastell_server.seen)
    assert AuditEntry.objects.count() == audited


def test_the_type_filter(client, world, pastell_server):
    connect(world, pastell_server)
    pastell_server.act("D000001", "send-archive")
    # Hélios is a restricted flow (flows/rights.py): its documents are listed to the flow's managers.
    rights.flow_manager_grant(actor=world.staff, member=world.member_a, flow=FlowType.HELIOS, user=world.manager_a)
    client.force_login(world.manager_a)
    body = page(client, query="?type=helios-generique").content.decode()
    assert rows(body) == ["D000005"]
    assert "<code>verif-tdt</code> : 1" in body and "<code>termine</code>" not in body
    body = page(client, query="?type=actes-generique").content.decode()
    assert rows(body) == ["D000001", "D000004", "D000003", "D000002"]
    assert "<code>send-archive</code> (versé à l&#x27;archive) : 1" in body
    assert rows(page(client, query="?type=inconnu").content.decode()) == []


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda server: server.fail_next(1, status=500), "Pastell est indisponible (HTTP 500)."),
        (lambda server: (server.shutdown(), server.server_close()), "Pastell est injoignable"),
        (lambda server: server.delay_next(1, seconds=1.0), "Pastell n&#x27;a pas répondu dans les 0.2 s."),
    ],
    ids=["5xx", "down", "slow"],
)
def test_pastell_down_or_slow_is_said_with_a_502(client, world, pastell_server, monkeypatch, break_it, message):
    connect(world, pastell_server)
    monkeypatch.setattr(supervision, "TIMEOUT", 0.2)
    break_it(pastell_server)
    client.force_login(world.agent_a)
    response = page(client)
    assert response.status_code == 502
    body = response.content.decode()
    assert "Les documents de Pastell ne peuvent pas être affichés" in body and message in body
    assert reverse("flows:connectors", args=["alpha"]) not in body  # a member's account cannot fix it


def test_pastell_refusing_the_account_is_said(client, world, pastell_server):
    connect(world, pastell_server, password="wrong")
    client.force_login(world.staff)
    response = page(client)
    assert response.status_code == 502
    body = response.content.decode()
    assert "Pastell a refusé la demande (HTTP 401)" in body
    assert reverse("flows:connectors", args=["alpha"]) in body


def test_a_members_account_sees_only_its_own_member(client, world, pastell_server):
    connect(world, pastell_server)
    connect(world, pastell_server, member=world.member_b, entity_id="3")
    client.force_login(world.agent_a)
    index = client.get(reverse("flows:index")).content.decode()
    assert reverse("flows:pastell", args=["alpha"]) in index and reverse("flows:pastell", args=["bravo"]) not in index
    assert page(client).status_code == 200
    assert page(client, "bravo").status_code == 404
    client.force_login(world.manager_b)
    assert rows(page(client, "bravo").content.decode()) == ["D000007", "D000006"]
    # The choice of connector cannot reach another member's.
    alpha = ConnectorInstance.objects.get(member=world.member_a)
    assert rows(page(client, "bravo", f"?connecteur={alpha.pk}").content.decode()) == ["D000007", "D000006"]


def test_no_connector_is_a_404_and_a_connector_without_entity_says_so(client, world, pastell_server):
    client.force_login(world.staff)
    assert page(client).status_code == 404
    assert reverse("flows:pastell", args=["alpha"]) not in client.get(reverse("flows:index")).content.decode()
    assert page(client, world.operator.slug).status_code == 404
    connect(world, pastell_server, entity_id="")
    response = page(client)
    assert response.status_code == 200
    assert "n&#x27;indique pas l&#x27;entité de l&#x27;adhérent dans Pastell (id_e)" in response.content.decode()
    assert pastell_server.seen == []
