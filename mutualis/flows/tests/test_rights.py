"""Rights per flow (flows/rights.py): restricted flows (payslips, Hélios) seen by their managers only,
open flows whose named managers alone deposit, retry and cancel, the page « Droits par flux », the API's
tokens, the commands, and the migration that turned payroll managers into managers of the payslips."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.accounts.models import Role, User
from mutualis.core.models import AuditEntry
from mutualis.flows import engine, rights, services
from mutualis.flows.enums import Action, FlowType, State
from mutualis.flows.formats.pes import sample_pes_aller
from mutualis.flows.models import ActionLog, FileRole, FlowDocument, FlowFile
from mutualis.flows.rights import FlowManager
from mutualis.flows.tests.test_engine import PDF, make_member, upload_act
from mutualis.testing import factories as f

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ACTS_ONLY_MANAGERS = "Seuls les gestionnaires du flux « actes (délibérations, arrêtés) » de Alpha peuvent"


def a_document(member, flow: str, subject: str) -> FlowDocument:
    """A document of `flow` with its file and its first log line (written directly: set-up)."""
    document = FlowDocument.objects.create(member=member, flow=flow, steps=["archive"], subject=subject)
    engine.store_file(document, role=FileRole.MAIN, name="piece.pdf", content=PDF)
    engine.log(document, action=Action.CREATION, to_state=State.CREATION, now=NOW)
    return document


def grant(world, flow: str, user: User, member=None) -> FlowManager:
    return rights.flow_manager_grant(actor=world.staff, member=member or world.member_a, flow=flow, user=user)


def visible(user: User, document: FlowDocument) -> tuple[bool, bool, bool]:
    """Whether `user` reads the document, its files and its log through the querysets' gate."""
    fresh = User.objects.get(pk=user.pk)  # a new request: no cached rights
    return (
        FlowDocument.objects.visible_to(fresh).filter(pk=document.pk).exists(),
        FlowFile.objects.visible_to(fresh).filter(document=document).exists(),
        ActionLog.objects.visible_to(fresh).filter(document=document).exists(),
    )


def pages(document: FlowDocument) -> list[str]:
    return [
        reverse("flows:document", args=[document.pk]),
        reverse("flows:file", args=[document.pk, document.files.get().pk]),
        reverse("flows:documents", args=[document.member.slug, document.flow]),
    ]


# --- restricted flows: payslips and Hélios ------------------------------------------------------


@pytest.mark.parametrize("flow", [FlowType.PAYSLIP, FlowType.HELIOS])
def test_the_it_director_sees_no_document_of_a_restricted_flow_and_its_manager_does(client, world, flow):
    document = a_document(world.member_a, flow, "Pièce nominative de Lovelace")
    grant(world, flow, world.agent_a)

    assert visible(world.manager_a, document) == (False, False, False)  # the IT director
    client.force_login(world.manager_a)
    assert [client.get(url).status_code for url in pages(document)] == [404, 404, 404]
    assert "Lovelace" not in client.get(reverse("flows:index")).content.decode()

    assert visible(world.agent_a, document) == (True, True, True)  # the flow's manager
    client.force_login(world.agent_a)
    assert [client.get(url).status_code for url in pages(document)] == [200, 200, 200]
    assert "Lovelace" in client.get(pages(document)[2]).content.decode()

    assert visible(world.staff, document) == (True, True, True)
    client.force_login(world.staff)
    assert [client.get(url).status_code for url in pages(document)] == [200, 200, 200]


def test_a_right_is_for_one_flow_only(world):
    payslip = a_document(world.member_a, FlowType.PAYSLIP, "Bulletin")
    pes = a_document(world.member_a, FlowType.HELIOS, "PES")
    grant(world, FlowType.PAYSLIP, world.agent_a)
    assert visible(world.agent_a, payslip) == (True, True, True)
    assert visible(world.agent_a, pes) == (False, False, False)  # a payroll manager is not the accountant


def test_a_manager_of_another_member_sees_nothing_of_this_ones(client, world):
    document = a_document(world.member_a, FlowType.HELIOS, "PES d'Alpha")
    grant(world, FlowType.HELIOS, world.manager_b, member=world.member_b)
    assert visible(world.manager_b, document) == (False, False, False)
    client.force_login(world.manager_b)
    assert client.get(reverse("flows:document", args=[document.pk])).status_code == 404


def test_the_it_director_cannot_deposit_a_pes_and_its_manager_can(world):
    world.member_a.siren = "216901234"
    world.member_a.save(update_fields=["siren"])

    def deposit(actor):
        content = sample_pes_aller(siret="21690123400017", label="ALPHA", day=dt.date(2026, 3, 2), number=1)
        return services.pes_create(actor=actor, member=world.member_a, main=SimpleUploadedFile("PES.xml", content))

    with pytest.raises(PermissionDenied, match="Aucun n'est nommé"):
        deposit(world.manager_a)
    grant(world, FlowType.HELIOS, world.agent_a)
    with pytest.raises(PermissionDenied) as refused:
        deposit(world.manager_a)
    assert str(refused.value) == (
        "Seuls les gestionnaires du flux « Hélios (PES au comptable) » de Alpha peuvent déposer."
    )
    assert deposit(world.agent_a).created_by == world.agent_a


def test_the_index_offers_only_the_deposits_the_account_may_make(client, world):
    client.force_login(world.manager_a)
    body = client.get(reverse("flows:index")).content.decode()
    assert "Déposer un acte" in body and "Déposer un fichier PES" not in body
    assert reverse("flows:rights", args=["alpha"]) in body
    grant(world, FlowType.HELIOS, world.manager_a)
    assert "Déposer un fichier PES" in client.get(reverse("flows:index")).content.decode()


def test_the_pastell_page_leaves_out_the_restricted_types(client, world, pastell_server):
    services.connector_save(
        actor=world.staff,
        member=world.member_a,
        kind="pastell",
        label="Pastell",
        values={"url": pastell_server.url, "login": "admin", "password": "secret", "entity_id": "2"},
    )
    url = reverse("flows:pastell", args=["alpha"])
    client.force_login(world.manager_a)
    body = client.get(url).content.decode()
    assert "actes-generique" in body and "helios-generique" not in body
    grant(world, FlowType.HELIOS, world.manager_a)
    assert "helios-generique" in client.get(url).content.decode()


# --- open flows with named managers -------------------------------------------------------------


def test_with_no_manager_named_every_writer_of_the_member_acts_as_today(world):
    make_member(world)
    assert upload_act(world, actor=world.manager_a, steps=["archive"]).created_by == world.manager_a
    with pytest.raises(PermissionDenied, match="lecture seule"):
        upload_act(world, actor=world.elected_a, number="2026_DE_002", steps=["archive"])


def test_when_an_open_flow_has_managers_the_others_read_but_do_not_deposit_retry_or_cancel(client, world):
    make_member(world)
    document = upload_act(world, actor=world.agent_a, steps=["archive"])
    grant(world, FlowType.ACTE, world.agent_a)

    with pytest.raises(PermissionDenied, match=re.escape(f"{ACTS_ONLY_MANAGERS} déposer.")):
        upload_act(world, actor=world.manager_a, number="2026_DE_002", steps=["archive"])
    with pytest.raises(PermissionDenied, match=re.escape(f"{ACTS_ONLY_MANAGERS} relancer un document.")):
        services.document_retry(actor=world.manager_a, document=document)
    with pytest.raises(PermissionDenied, match=re.escape(f"{ACTS_ONLY_MANAGERS} annuler un document.")):
        services.document_cancel(actor=world.manager_a, document=document)

    client.force_login(world.manager_a)  # reads the flow, is offered nothing
    assert client.get(reverse("flows:documents", args=["alpha", FlowType.ACTE])).status_code == 200
    page = client.get(reverse("flows:document", args=[document.pk])).content.decode()
    assert "Tarifs de la cantine" in page and "Annuler le document" not in page
    refused = client.get(reverse("flows:document_create", args=["alpha", FlowType.ACTE]))
    assert refused.status_code == 403 and ACTS_ONLY_MANAGERS in refused.content.decode()
    response = client.post(reverse("flows:cancel", args=[document.pk]), follow=True)
    assert ACTS_ONLY_MANAGERS in response.content.decode()
    document.refresh_from_db()
    assert document.state == State.CREATION

    assert upload_act(world, actor=world.agent_a, number="2026_DE_003", steps=["archive"]).pk  # the manager
    client.force_login(world.agent_a)
    assert "Annuler le document" in client.get(reverse("flows:document", args=[document.pk])).content.decode()
    assert services.document_cancel(actor=world.agent_a, document=document).state == State.ANNULATION
    assert services.document_cancel(actor=world.staff, document=upload_act(world, number="2026_DE_004")).pk


def test_a_flow_with_managers_leaves_the_other_flows_open(world):
    make_member(world)
    grant(world, FlowType.ACTE, world.agent_a)
    document = services.document_create(
        actor=world.manager_a,
        member=world.member_a,
        flow=FlowType.DOCUMENT_A_SIGNER,
        data={"subject": "Convention"},
        steps=["archive"],
        main=SimpleUploadedFile("convention.pdf", PDF),
    )
    assert document.created_by == world.manager_a


# --- the API: a token acts as its account --------------------------------------------------------


def test_a_token_for_a_restricted_flow_is_for_one_of_its_managers(client, world):
    with pytest.raises(ValidationError) as refused:
        services.flow_token_create(
            actor=world.staff, user=world.manager_a, member=world.member_a, flow=FlowType.HELIOS, name="Finances"
        )
    assert "gestionnaire" in " ".join(refused.value.messages)
    grant(world, FlowType.HELIOS, world.agent_a)
    _token, secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.HELIOS, name="Finances"
    )
    document = a_document(world.member_a, FlowType.HELIOS, "PES de mars")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    url = f"/api/v1/flux/documents/{document.pk}"
    assert client.get(url, **headers).json()["subject"] == "PES de mars"
    rights.flow_manager_revoke(actor=world.staff, member=world.member_a, flow=FlowType.HELIOS, user=world.agent_a)
    assert client.get(url, **headers).status_code == 404  # its account no longer sees the flow
    posted = client.post("/api/v1/flux/pes", {"main": SimpleUploadedFile("PES.xml", b"<x/>")}, **headers)
    assert posted.status_code == 403 and "Seuls les gestionnaires du flux" in posted.json()["detail"]


def test_a_token_for_an_open_flow_with_managers_is_for_one_of_them(client, world):
    grant(world, FlowType.ACTE, world.agent_a)
    with pytest.raises(ValidationError, match="gestionnaire"):
        services.flow_token_create(
            actor=world.staff, user=world.manager_a, member=world.member_a, flow=FlowType.ACTE, name="Actes"
        )
    token, _secret = services.flow_token_create(
        actor=world.staff, user=world.agent_a, member=world.member_a, flow=FlowType.ACTE, name="Actes"
    )
    assert token.user == world.agent_a


# --- the page « Droits par flux » -----------------------------------------------------------------


def test_staff_name_and_remove_a_manager_and_both_are_audited(client, world):
    url = reverse("flows:rights", args=["alpha"])
    client.force_login(world.staff)
    page = client.get(url).content.decode()
    assert "Bulletins de paie" in page and "Hélios (PES au comptable)" in page and "Ajouter" in page
    response = client.post(url, {"flow": FlowType.HELIOS, "user": world.agent_a.pk})
    assert response.status_code == 302 and response["Location"] == url
    row = FlowManager.objects.get()
    assert (row.member, row.flow, row.user) == (world.member_a, FlowType.HELIOS, world.agent_a)
    assert AuditEntry.objects.filter(action="create", object_id=str(row.pk), actor=world.staff).exists()
    assert "agent-a" in client.get(url).content.decode()

    assert client.post(url, {"retirer": row.pk}).status_code == 302
    assert not FlowManager.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(row.pk), actor=world.staff).exists()


def test_the_members_accounts_read_the_page_and_change_nothing(client, world):
    grant(world, FlowType.PAYSLIP, world.agent_a)
    url = reverse("flows:rights", args=["alpha"])
    client.force_login(world.manager_a)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "agent-a" in body and "Ajouter" not in body and "Retirer" not in body and "Lecture seule" in body
    assert client.post(url, {"flow": FlowType.HELIOS, "user": world.manager_a.pk}).status_code == 403
    assert client.post(url, {"retirer": FlowManager.objects.get().pk}).status_code == 403
    assert list(FlowManager.objects.values_list("user__username", flat=True)) == ["agent-a"]


def test_another_members_account_gets_404(client, world):
    client.force_login(world.manager_b)
    assert client.get(reverse("flows:rights", args=["alpha"])).status_code == 404
    client.force_login(world.staff)
    assert client.get(reverse("flows:rights", args=[world.operator.slug])).status_code == 404


def test_an_account_of_another_member_is_refused_in_the_add_form(client, world):
    client.force_login(world.staff)
    url = reverse("flows:rights", args=["alpha"])
    response = client.post(url, {"flow": FlowType.PAYSLIP, "user": world.manager_b.pk})
    assert response.status_code == 400
    assert "Ce compte n&#x27;est pas un compte actif de Alpha." in response.content.decode()
    foreign = grant(world, FlowType.PAYSLIP, world.manager_b, member=world.member_b)
    assert client.post(url, {"retirer": foreign.pk}).status_code == 404  # Bravo's manager, not Alpha's
    assert FlowManager.objects.get() == foreign


def test_the_service_refuses_what_the_form_does_not_offer(world):
    with pytest.raises(ValidationError, match="appartenir à l'adhérent Alpha"):
        grant(world, FlowType.PAYSLIP, world.manager_b)
    with pytest.raises(ValidationError, match="lecture seule"):
        grant(world, FlowType.PAYSLIP, world.elected_a)
    world.agent_a.is_active = False
    world.agent_a.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="désactivé"):
        grant(world, FlowType.PAYSLIP, world.agent_a)
    with pytest.raises(ValidationError, match="flux inconnu"):
        grant(world, "autre-flux", world.manager_a)
    with pytest.raises(Exception):  # noqa: B017, PT011 - 404: only operator staff name managers
        rights.flow_manager_grant(
            actor=world.manager_a, member=world.member_a, flow="actes-generique", user=world.manager_a
        )
    assert not FlowManager.objects.exists()


def test_naming_twice_keeps_one_row_and_one_audit_entry(world):
    first = grant(world, FlowType.ACTE, world.agent_a)
    assert grant(world, FlowType.ACTE, world.agent_a) == first
    assert AuditEntry.objects.filter(action="create", object_id=str(first.pk)).count() == 1


def test_the_pages_query_count_does_not_grow_with_managers(client, world):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("flows:rights", args=["alpha"])).status_code == 200
        return len(queries)

    client.force_login(world.staff)
    grant(world, FlowType.ACTE, world.agent_a)
    count()  # the session's first read
    few = count()
    for n in range(6):
        user = f.UserFactory.create(username=f"rh-{n}", role=Role.MEMBER_AGENT, organisation=world.member_a)
        grant(world, FlowType.PAYSLIP if n % 2 else FlowType.HELIOS, user)
    assert count() == few


# --- the commands ------------------------------------------------------------------------------------


def test_the_command_names_and_removes_a_manager_of_any_flow(world):
    out = StringIO()
    call_command("flows_manager", "--member", "alpha", "--flow", FlowType.HELIOS, "--user", "agent-a", stdout=out)
    assert "agent-a est gestionnaire du flux « Hélios (PES au comptable) » de Alpha" in out.getvalue()
    assert FlowManager.objects.filter(flow=FlowType.HELIOS, user=world.agent_a).exists()
    call_command("flows_manager", "--member", "alpha", "--flow", FlowType.HELIOS, "--user", "agent-a", "--revoke")
    assert not FlowManager.objects.exists()
    assert AuditEntry.objects.filter(via="command").count() == 2
    with pytest.raises(CommandError, match="appartenir"):
        call_command("flows_manager", "--member", "bravo", "--flow", FlowType.ACTE, "--user", "agent-a")


def test_the_payroll_manager_command_names_a_manager_of_the_payslips(world):
    call_command("flows_payroll_manager", "--member", "alpha", "--user", "agent-a", stdout=StringIO())
    assert FlowManager.objects.get().flow == FlowType.PAYSLIP


# --- the migration ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_payroll_manager_as_a_manager_of_the_payslips():
    target = ("flows", "0005_flow_managers")
    executor = MigrationExecutor(connection)
    before = [p for p in executor.loader.graph.node_map[target].parents if p.key[0] == "flows"][0].key
    member = f.OrganisationFactory.create(name="Alpha", slug="alpha")
    users = [f.UserFactory.create(username=f"rh-{n}", organisation=member) for n in range(2)]
    try:
        executor.migrate([before])
        old = executor.loader.project_state([before]).apps.get_model("flows", "PayrollManager")
        for user in users:
            old.objects.create(member_id=member.pk, user_id=user.pk)

        executor = MigrationExecutor(connection)
        executor.migrate([target])
        new = executor.loader.project_state([target]).apps.get_model("flows", "FlowManager")
        rows = sorted(new.objects.values_list("member_id", "flow", "user_id"))
        assert rows == [(member.pk, FlowType.PAYSLIP, user.pk) for user in users]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert rights.may_see_flow(User.objects.get(pk=users[0].pk), FlowType.PAYSLIP)
