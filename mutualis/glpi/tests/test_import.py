"""The import of the sample GLPI history (200 tickets, every trap): one import for the module,
read by each test — what GLPI holds that catches importers, one test each, and the counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.glpi import figures
from mutualis.glpi.models import ImportRecord
from mutualis.glpi.services import Outcome
from mutualis.glpi.tests.world import (
    Sample,
    World,
    build_world,
    glpi_rows,
    glpi_write,
    run_import,
    sample_database,
)
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.models import Attachment, Followup, Ticket, TicketTask
from mutualis.lib.markup import markdown_html

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


@dataclass
class Imported:
    sample: Sample
    world: World
    outcome: Outcome

    @property
    def facts(self):  # noqa: ANN201 — history.SampleFacts
        return self.sample.facts

    def ticket(self, glpi_id: int) -> Ticket:
        return Ticket.objects.get(external_id=f"glpi:{glpi_id}")

    def figure(self, glpi_id: int) -> figures.Figures:
        return next(f for f in self.outcome.report.figures if f.glpi_id == glpi_id)


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker, glpi_server, tmp_path_factory) -> Iterator[Imported]:  # noqa: ANN001
    """The sample imported once for the module, in a transaction rolled back at its end (each
    test runs in a savepoint inside it)."""
    folder = tmp_path_factory.mktemp("glpi-files")
    with sample_database(glpi_server, folder) as sample, django_db_blocker.unblock(), transaction.atomic():
        # A technician who left before the switch: one task in five is theirs, and « jmartin »
        # matches no account (the sample's tasks are otherwise all by matched technicians).
        glpi_write(sample.url, "UPDATE glpi_tickettasks SET users_id = 7, users_id_tech = 7 WHERE MOD(id, 5) = 0")
        world = build_world()
        outcome = run_import(sample, world, batch_size=40)
        yield Imported(sample=sample, world=world, outcome=outcome)
        transaction.set_rollback(True)


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, PARIS).replace(tzinfo=None)


def test_it_imports_as_many_tickets_per_month_and_member_as_glpi_counts(imported):
    counts: dict[str, Counter[str]] = {}
    for slug, opened in Ticket.objects.values_list("collectivity__slug", "opened_at"):
        counts.setdefault(slug, Counter())[f"{local(opened):%Y-%m}"] += 1
    assert {slug: dict(c) for slug, c in counts.items()} == imported.facts.tickets_per_month
    assert Ticket.objects.count() == imported.facts.tickets_expected


def test_every_followup_task_and_solution_is_there_with_its_author(imported):
    facts = imported.facts
    assert ImportRecord.objects.filter(table="glpi_itilfollowups").count() == facts.followups_expected
    assert Followup.objects.filter(is_solution=True).count() == facts.solutions_expected
    assert Followup.objects.filter(is_private=True).count() == facts.private_followups_expected
    assert TicketTask.objects.count() == facts.tasks_expected
    assert sum(TicketTask.objects.values_list("duration_seconds", flat=True)) == facts.task_seconds_expected
    # Every followup has its account, or says in its text who wrote it (or approved) in GLPI.
    signed = ("*Écrit dans GLPI par ", "Solution acceptée par ", "Solution refusée par ")
    for author, body in Followup.objects.values_list("author_id", "body"):
        assert author is not None or body.startswith(signed), body


def test_a_task_whose_author_has_no_account_is_imported_with_its_time_and_their_name(imported):
    facts = imported.facts
    rows = glpi_rows(
        imported.sample.url,
        "SELECT k.id, k.actiontime FROM glpi_tickettasks k JOIN glpi_tickets t ON t.id = k.tickets_id"
        " WHERE k.users_id_tech = 7 AND t.is_deleted = 0",
    )
    records = dict(ImportRecord.objects.filter(table="glpi_tickettasks").values_list("glpi_id", "object_id"))
    theirs = {records[glpi_id]: seconds for glpi_id, seconds in rows if glpi_id in records}
    assert len(theirs) > 10
    tasks = TicketTask.objects.in_bulk(list(theirs))
    for pk, seconds in theirs.items():
        task = tasks[pk]
        assert task.author is None and task.duration_seconds == seconds
        assert task.description.startswith("*Écrit dans GLPI par Julien Martin (jmartin) (sans compte dans Mutualis)*")
    assert TicketTask.objects.filter(author=None).count() == len(theirs)
    counts = imported.outcome.report.as_counts()
    assert counts["tasks without account"] == len(theirs)
    assert counts["tasks"] == facts.tasks_expected
    text = imported.outcome.report.text()
    assert f"tâches d'auteurs sans compte : {len(theirs)}" in text and "non reprises" not in text


def test_every_document_is_there_but_the_missing_and_the_altered_file(imported):
    facts = imported.facts
    documents = set(ImportRecord.objects.filter(table="glpi_documents_items").values_list("glpi_id", flat=True))
    assert documents == set(facts.document_files) - {facts.document_missing, facts.document_bad_sha1} & documents
    assert len(documents) == facts.documents_expected - 2
    problems = {(t, d) for t, d, _path, _problem in imported.outcome.report.files}
    assert (facts.document_missing_on, facts.document_missing) in problems
    assert (facts.document_bad_sha1_on, facts.document_bad_sha1) in problems


def test_dates_in_php_time_are_read_in_paris_time_across_the_daylight_saving_changes(imported):
    for glpi_id in (imported.facts.dst_spring, imported.facts.dst_autumn):
        ((opened, solved),) = glpi_rows(
            imported.sample.url, "SELECT date, solvedate FROM glpi_tickets WHERE id = %s", (glpi_id,)
        )
        ticket = imported.ticket(glpi_id)
        assert local(ticket.opened_at) == opened
        # The hour that happens twice reads as its first occurrence (summer time), as PHP reads it.
        assert ticket.opened_at == opened.replace(tzinfo=PARIS).astimezone(dt.UTC)
        if solved is not None and ticket.solved_at is not None:
            assert local(ticket.solved_at) == solved


def test_rich_text_of_both_generations_and_mixed_is_decoded_and_never_relayed_as_markup(imported):
    facts = imported.facts
    for glpi_id in (facts.html_v9, facts.html_v10, facts.html_mixed, facts.script):
        ticket = imported.ticket(glpi_id)
        texts = [ticket.description, *ticket.followups.values_list("body", flat=True)]
        for text in texts:
            for leftover in ("&lt;", "&#60;", "&gt;", "&#62;", "<p>", "&amp;lt;"):
                assert leftover not in text, (glpi_id, text)
            assert "<script" not in markdown_html(text)
    script = imported.ticket(facts.script)
    assert "Message d'erreur copié" in script.description
    assert "alert" not in script.description  # a script's code is dropped, not shown as text


def test_an_inline_image_becomes_the_ticket_attachment_named_in_the_text(imported):
    facts = imported.facts
    ticket = imported.ticket(facts.inline_image)
    attachment = ticket.attachments.get()
    assert ImportRecord.objects.filter(
        table="glpi_documents_items", glpi_id=facts.inline_image_document, object_id=attachment.pk
    ).exists()
    assert f"image : {attachment.name}" in ticket.description
    assert "document.send.php" not in ticket.description


def test_tickets_in_glpis_trash_are_not_history(imported):
    trashed = imported.facts.trashed
    assert not Ticket.objects.filter(external_id__in=[f"glpi:{i}" for i in trashed]).exists()
    assert imported.outcome.report.counts["tickets in GLPI's trash"] == len(trashed)


def test_the_root_entity_0_is_the_operator_and_an_unmapped_entity_is_listed_not_imported(imported):
    facts = imported.facts
    for glpi_id in facts.root_entity:
        assert imported.ticket(glpi_id).collectivity.slug == imported.world.mapping.entities[0]
    assert not Ticket.objects.filter(external_id__in=[f"glpi:{i}" for i in facts.unmapped_entity]).exists()
    assert sorted(imported.outcome.report.entities[4]) == sorted(facts.unmapped_entity)
    assert f"4 « Entité racine > Mornant » : {len(facts.unmapped_entity)} ticket(s)" in imported.outcome.report.text()


def test_an_anonymous_requester_keeps_its_address_and_no_account_is_invented(imported):
    facts = imported.facts
    users = User.objects.count()
    for glpi_id in facts.anonymous:
        ticket = imported.ticket(glpi_id)
        assert ticket.requester is None
        record = ImportRecord.objects.get(table="glpi_tickets", glpi_id=glpi_id)
        assert record.extra and record.extra["requesters"]
    assert not User.objects.filter(email=facts.anonymous_email).exists()
    assert User.objects.count() == users


def test_a_group_alone_is_the_assignment(imported):
    for glpi_id in imported.facts.group_only:
        ticket = imported.ticket(glpi_id)
        assert ticket.group is not None
        assert ticket.technician is None


def test_a_problems_and_a_changes_rows_sharing_the_tickets_id_stay_out(imported):
    facts = imported.facts
    glpi_id = facts.shared_items_id
    ((followups,),) = glpi_rows(
        imported.sample.url,
        "SELECT COUNT(*) FROM glpi_itilfollowups WHERE itemtype = 'Ticket' AND items_id = %s",
        (glpi_id,),
    )
    ((solutions,),) = glpi_rows(
        imported.sample.url,
        "SELECT COUNT(*) FROM glpi_itilsolutions WHERE itemtype = 'Ticket' AND items_id = %s",
        (glpi_id,),
    )
    assert facts.problem_change_followups and facts.problem_change_solutions
    ticket = imported.ticket(glpi_id)
    assert ImportRecord.objects.filter(table="glpi_itilfollowups", ticket_glpi_id=glpi_id).count() == followups
    assert ticket.followups.filter(is_solution=True).count() == solutions


def test_documents_on_a_followup_and_one_file_serving_two_tickets(imported):
    facts = imported.facts
    on_followup = Attachment.objects.get(
        pk=ImportRecord.objects.get(table="glpi_documents_items", glpi_id=facts.document_on_followup).object_id
    )
    assert on_followup.followup is not None
    assert on_followup.ticket == imported.ticket(facts.followup_with_document)
    first, second = facts.document_two_tickets_on
    shared = Attachment.objects.filter(
        pk__in=ImportRecord.objects.filter(table="glpi_documents_items", glpi_id=facts.document_two_tickets).values(
            "object_id"
        )
    )
    assert {a.ticket.external_id for a in shared} == {f"glpi:{first}", f"glpi:{second}"}
    assert len({a.file.name for a in shared}) == 1  # stored once, referenced twice
    assert shared[0].file.storage.exists(shared[0].file.name)


def test_solutions_accepted_refused_and_waiting(imported):
    facts = imported.facts
    accepted = imported.ticket(facts.solution_accepted)
    assert accepted.status == Status.CLOSED
    assert accepted.followups.filter(body__startswith="Solution acceptée par").exists()
    refused = imported.ticket(facts.solution_refused)
    assert refused.followups.filter(is_solution=True).count() == 2
    assert refused.followups.filter(body__startswith="Solution refusée par").exists()
    assert refused.reopen_count == 1
    waiting = imported.ticket(facts.solution_waiting)
    assert waiting.status == Status.SOLVED
    assert waiting.followups.filter(is_solution=True).exists()


def test_satisfaction_answers_keep_glpis_stars(imported):
    facts = imported.facts
    ((stars,),) = glpi_rows(
        imported.sample.url,
        "SELECT satisfaction FROM glpi_ticketsatisfactions WHERE tickets_id = %s",
        (facts.satisfaction_answered,),
    )
    answered = imported.ticket(facts.satisfaction_answered)
    assert answered.satisfaction == max(1, stars)
    assert answered.satisfaction_at is not None
    assert imported.ticket(facts.satisfaction_unanswered).satisfaction is None
    assert Ticket.objects.filter(satisfaction__isnull=False).count() == facts.satisfactions_expected


def test_linked_and_duplicate_tickets(imported):
    facts = imported.facts
    one, two = facts.linked
    assert imported.ticket(one).linked_to == imported.ticket(two)
    kept = facts.duplicate
    assert imported.ticket(kept[0]).merged_into == imported.ticket(kept[1])


def test_a_reopened_tickets_stale_statistic_is_reported(imported):
    assert imported.figure(imported.facts.reopened).reason == str(figures.STALE)


def test_paused_time_glpi_lost_is_counted_and_reported(imported):
    facts = imported.facts
    for glpi_id in facts.lost_waiting:
        figure = imported.figure(glpi_id)
        assert figure.reason == str(figures.PAUSE_LOST)
        assert figure.waiting_glpi == 0 and figure.waiting_mutualis > 0
    for glpi_id in facts.waited:
        assert imported.figure(glpi_id).reason != str(figures.PAUSE_LOST)
        assert imported.ticket(glpi_id).waiting_seconds > 0


def test_users_match_by_login_mail_or_mapping_and_the_unmatched_are_listed_never_created(imported):
    facts = imported.facts
    technicians = set(Ticket.objects.exclude(technician=None).values_list("technician__username", flat=True))
    assert technicians <= {"support", "admin"} and "admin" in technicians  # jdupont → admin (mapping)
    requesters = set(Ticket.objects.exclude(requester=None).values_list("requester__username", flat=True))
    assert {"dsi-venissieux", "dsi-vaulx-en-velin", "dsi-givors"} <= requesters  # dsi-givors: by mail
    assert not User.objects.filter(username="jmartin").exists()
    assert set(imported.outcome.report.users) == {"jmartin"}
    for glpi_id in facts.jmartin_tickets:
        record = ImportRecord.objects.get(table="glpi_tickets", glpi_id=glpi_id)
        assert "Julien Martin (jmartin)" in record.extra["unmatched"]


def test_an_unmapped_category_comes_without_application_and_is_listed(imported):
    facts = imported.facts
    for glpi_id in facts.unmapped_category:
        assert imported.ticket(glpi_id).application is None
    assert sorted(imported.outcome.report.categories[9]) == sorted(facts.unmapped_category)


def test_the_report_is_kept_with_the_run(imported):
    run = imported.outcome.run
    assert run is not None and run.status == "done"
    assert run.report == imported.outcome.report.text(limit=None)
    assert run.report.count(str(figures.CALENDAR)) == 1 and len(run.report) > len(imported.outcome.report.text())
    assert run.counts["tickets created"] == imported.facts.tickets_expected
