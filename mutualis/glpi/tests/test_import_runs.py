"""Runs of the GLPI import side by side with GLPI: the second run, what changed meanwhile, a
ticket taken over in Mutualis, an interrupted run, the dry run, the audit entry, the read-only
session, GLPI with its time zones on, the command and the ticket page's panel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pymysql
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from mutualis.core.models import AuditEntry
from mutualis.glpi import importer as importer_module
from mutualis.glpi.models import Checkpoint, ImportRecord, ImportRun
from mutualis.glpi.source import Source
from mutualis.glpi.tests.world import (
    MAPPING_PATH,
    Sample,
    World,
    build_world,
    glpi_rows,
    glpi_write,
    run_import,
    sample_database,
)
from mutualis.helpdesk.enums import OPEN_STATUSES, Status
from mutualis.helpdesk.models import Followup, SlaEvent, Ticket
from mutualis.helpdesk.services import followup_add, sla_escalate
from mutualis.identity.models import Agent
from mutualis.members.models import Organisation

pytestmark = pytest.mark.django_db


class Interrupted(Exception):
    """A failure in the middle of a page (the process killed, the database gone)."""


@pytest.fixture
def sample(glpi_server: str, tmp_path: Path) -> Iterator[Sample]:
    with sample_database(glpi_server, tmp_path / "files") as found:
        yield found


@pytest.fixture
def world() -> World:
    return build_world()


def snapshot() -> dict[str, object]:
    return {
        "tickets": sorted(Ticket.objects.values_list("pk", "updated_at", "title", "status")),
        "followups": sorted(Followup.objects.values_list("pk", "body")),
        "records": ImportRecord.objects.count(),
    }


def test_a_second_run_writes_nothing(sample, world):
    first = run_import(sample, world)
    before = snapshot()
    second = run_import(sample, world)
    assert snapshot() == before
    assert second.report.counts["tickets created"] == second.report.counts["tickets updated"] == 0
    # Only the last hour before the checkpoint is read again (rows GLPI wrote in the same second).
    assert 0 < second.report.counts["tickets unchanged"] < first.report.counts["tickets created"]


def test_the_next_run_brings_what_changed_or_appeared_in_glpi(sample, world):
    run_import(sample, world)
    changed, untouched = sample.facts.waited[0], sample.facts.waited[1]
    glpi_write(
        sample.url,
        "UPDATE glpi_tickets SET name = 'Titre corrigé dans GLPI', date_mod = NOW() WHERE id = %s",
        (changed,),
    )
    glpi_write(
        sample.url,
        "INSERT INTO glpi_itilfollowups (itemtype, items_id, date, users_id, content, is_private, date_mod,"
        " date_creation) VALUES ('Ticket', %s, NOW(), 3, '&#60;p&#62;Relance du soir&#60;/p&#62;', 0, NOW(), NOW())",
        (untouched,),
    )
    before = Ticket.objects.get(external_id=f"glpi:{untouched}").reference
    outcome = run_import(sample, world)
    assert Ticket.objects.get(external_id=f"glpi:{changed}").title == "Titre corrigé dans GLPI"
    # A followup GLPI added without moving the ticket's date_mod is found through the followups' own.
    ticket = Ticket.objects.get(external_id=f"glpi:{untouched}")
    assert ticket.followups.filter(body="Relance du soir").exists()
    assert ticket.reference == before
    assert outcome.report.counts["tickets updated"] == 2
    assert outcome.report.counts["tickets created"] == 0


def test_a_ticket_taken_over_in_mutualis_is_never_overwritten(sample, world):
    run_import(sample, world)
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES).order_by("pk")
    ticket, other = open_tickets[0], open_tickets[1]
    taken, free = (int(t.external_id.removeprefix("glpi:")) for t in (ticket, other))
    followup_add(actor=world.support, ticket=ticket, body="Repris en main dans Mutualis.")
    title = ticket.title
    glpi_write(
        sample.url,
        "UPDATE glpi_tickets SET name = 'Changé dans GLPI', date_mod = NOW() WHERE id IN (%s, %s)",
        (taken, free),
    )
    outcome = run_import(sample, world)
    assert Ticket.objects.get(external_id=f"glpi:{taken}").title == title
    assert (
        Ticket.objects.get(external_id=f"glpi:{taken}").followups.filter(body="Repris en main dans Mutualis.").exists()
    )
    assert Ticket.objects.get(external_id=f"glpi:{free}").title == "Changé dans GLPI"
    assert taken in outcome.report.taken
    assert "Tickets déjà repris en main dans Mutualis (non écrasés)" in outcome.report.text()


def test_an_interrupted_run_keeps_its_whole_pages_and_the_next_one_resumes(sample, world, monkeypatch):
    pages = {"n": 0}
    flush = importer_module._Children.flush

    def failing_flush(self):  # noqa: ANN001, ANN202
        pages["n"] += 1
        if pages["n"] == 3:
            flush(self)  # the page's rows are written... then the page fails before committing
            raise Interrupted("page 3")
        flush(self)

    monkeypatch.setattr(importer_module._Children, "flush", failing_flush)
    with pytest.raises(Interrupted):
        run_import(sample, world, batch_size=30)
    run = ImportRun.objects.get()
    assert run.status == "failed"
    written = Ticket.objects.count()
    assert 0 < written < sample.facts.tickets_expected
    # Nothing half-written: every ticket kept has all its followups, and the checkpoint is on page 2.
    for ticket in Ticket.objects.all():
        glpi_id = int(ticket.external_id.removeprefix("glpi:"))
        records = ImportRecord.objects.filter(table="glpi_itilfollowups", ticket_glpi_id=glpi_id).count()
        assert ticket.followups.filter(is_solution=False).exclude(body__startswith="Solution ").count() == records
    ((date_mod, last_id),) = glpi_rows(
        sample.url, "SELECT date_mod, id FROM glpi_tickets ORDER BY date_mod, id LIMIT 1 OFFSET 59"
    )
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.date_mod, checkpoint.last_id) == (date_mod.isoformat(), last_id)
    monkeypatch.setattr(importer_module._Children, "flush", flush)
    outcome = run_import(sample, world, batch_size=30)
    assert Ticket.objects.count() == sample.facts.tickets_expected
    assert outcome.report.counts["tickets created"] == sample.facts.tickets_expected - written


def test_a_dry_run_writes_nothing_and_shows_the_mapping(sample, world):
    vaulx = Organisation.objects.get(slug="vaulx-en-velin")
    Agent.objects.create(collectivity=vaulx, hr_id="A42", last_name="Martin", first_name="Julien", login="jmartin")
    outcome = run_import(sample, world, dry_run=True)
    assert not Ticket.objects.exists()
    assert not ImportRun.objects.exists() and not Checkpoint.objects.exists() and not ImportRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="import").exists()
    assert "4 « Entité racine > Mornant » → SANS CORRESPONDANCE" in outcome.mapping_text
    assert (
        "Julien Martin (jmartin) → SANS COMPTE (agent de l'annuaire Julien Martin (vaulx-en-velin), sans compte ;"
        " jamais créé)" in outcome.mapping_text
    )
    assert "Agent Support (support) → support (par login)" in outcome.mapping_text
    assert "Marie Durand (m.durand) → dsi-givors (par mail)" in outcome.mapping_text
    assert outcome.report.counts["tickets created"] == sample.facts.tickets_expected


def test_one_audit_entry_per_run_with_its_counts(sample, world):
    outcome = run_import(sample, world)
    entry = AuditEntry.objects.get(action="import")
    assert entry.object_id == str(outcome.run.pk)
    assert entry.changes["tickets created"] == [None, sample.facts.tickets_expected]
    assert entry.changes["status"] == [None, "done"]


def test_the_session_on_glpi_is_read_only(sample, world):
    source = Source(sample.url, php_timezone="Europe/Paris")
    try:
        with pytest.raises(pymysql.MySQLError) as refused, source.connection.cursor() as cursor:
            cursor.execute("UPDATE glpi_tickets SET name = 'x' WHERE id = 1")
        assert "READ ONLY" in str(refused.value).upper()
    finally:
        source.close()


def test_glpi_with_its_time_zones_on_is_read_as_utc(glpi_server, tmp_path, world):
    with sample_database(glpi_server, tmp_path / "files", timezones=True) as sample:
        outcome = run_import(sample, world)
        assert outcome.report.timezones
        for glpi_id in (sample.facts.dst_spring, sample.facts.dst_autumn):
            ((opened,),) = glpi_rows(sample.url, "SELECT date FROM glpi_tickets WHERE id = %s", (glpi_id,), utc=True)
            assert Ticket.objects.get(external_id=f"glpi:{glpi_id}").opened_at == opened.replace(tzinfo=dt.UTC)
        assert Ticket.objects.count() == sample.facts.tickets_expected


def test_the_command_prints_the_report_and_its_summary(sample, world):
    out = StringIO()
    call_command(
        "glpi_import",
        url=sample.url,
        mapping=MAPPING_PATH,
        documents_dir=sample.documents_dir,
        batch_size=50,
        stdout=out,
        stderr=StringIO(),
    )
    text = out.getvalue()
    assert f"{sample.facts.tickets_expected} ticket(s) créé(s)" in text
    assert "Délais différents de ceux de GLPI" in text


def test_the_staff_ticket_page_says_where_the_ticket_comes_from(sample, world, client):
    run_import(sample, world)
    glpi_id = sample.facts.anonymous[0]
    ticket = Ticket.objects.get(external_id=f"glpi:{glpi_id}")
    client.force_login(world.support)
    body = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
    assert f"Repris de GLPI, n° {glpi_id}" in body
    assert "Demandeur sans compte" in body


def test_thresholds_crossed_before_the_import_are_not_news_for_the_escalation_sweep(sample, world):
    glpi_id = sample.facts.solution_accepted
    glpi_write(
        sample.url,
        "UPDATE glpi_tickets SET status = 2, solvedate = NULL, closedate = NULL WHERE id = %s",
        (glpi_id,),
    )
    run_import(sample, world)
    ticket = Ticket.objects.get(external_id=f"glpi:{glpi_id}")
    assert ticket.status == Status.ASSIGNED
    # Open since 2024: every level of its resolution clock was crossed long ago, recorded as told.
    assert set(SlaEvent.objects.filter(ticket=ticket, clock="ttr").values_list("percent", flat=True)) == {50, 75, 100}
    assert sla_escalate(now=timezone.now()) == 0


def test_glpi_9_5_without_takeintoaccountdate_takes_the_delay_statistic(sample, world):
    glpi_write(sample.url, "ALTER TABLE glpi_tickets DROP COLUMN takeintoaccountdate")
    run_import(sample, world)
    glpi_id = sample.facts.solution_accepted
    ((stat,),) = glpi_rows(sample.url, "SELECT takeintoaccount_delay_stat FROM glpi_tickets WHERE id = %s", (glpi_id,))
    ticket = Ticket.objects.get(external_id=f"glpi:{glpi_id}")
    assert stat > 0
    assert ticket.taken_at == ticket.opened_at + dt.timedelta(seconds=stat)


def test_observers_of_the_tickets_member_watch_it_and_no_one_else(sample, world):
    ((glpi_id,),) = glpi_rows(
        sample.url, "SELECT MIN(id) FROM glpi_tickets WHERE entities_id = 1 AND is_deleted = 0"
    )  # a Vénissieux ticket
    for user in (4, 6):  # dsi-venissieux (Vénissieux), dsi-vaulx-en-velin (another member)
        glpi_write(
            sample.url,
            "INSERT INTO glpi_tickets_users (tickets_id, users_id, type, use_notification) VALUES (%s, %s, 3, 1)",
            (glpi_id, user),
        )
    run_import(sample, world)
    ticket = Ticket.objects.get(external_id=f"glpi:{glpi_id}")
    assert list(ticket.watchers.values_list("username", flat=True)) == ["dsi-venissieux"]


def test_a_ticket_deleted_in_mutualis_is_not_brought_back(sample, world):
    run_import(sample, world)
    glpi_id = sample.facts.solution_accepted
    Ticket.objects.filter(external_id=f"glpi:{glpi_id}").delete()
    glpi_write(sample.url, "UPDATE glpi_tickets SET name = 'Changé', date_mod = NOW() WHERE id = %s", (glpi_id,))
    outcome = run_import(sample, world)
    assert not Ticket.objects.filter(external_id=f"glpi:{glpi_id}").exists()
    assert outcome.report.taken[glpi_id] == "supprimé dans Mutualis"
