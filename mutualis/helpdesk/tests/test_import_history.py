"""`mutualis helpdesk_import`: a GLPI-like history imported whole or not at all, idempotent by
external id, with its service levels computed and one audit entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from mutualis.catalog.models import SubscriptionStatus
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk.enums import Source, Status
from mutualis.helpdesk.importer import COLUMNS, ImportRejected, ticket_import
from mutualis.helpdesk.models import SlaPolicy, Ticket, TicketSequence
from mutualis.testing import factories as f

PARIS = ZoneInfo("Europe/Paris")
HEADER = ",".join(COLUMNS)


def row(**cells: object) -> str:
    values = {
        "external_id": "GLPI-1",
        "title": "Imprimante bloquée",
        "type": "incident",
        "status": "closed",
        "urgency": "4",
        "impact": "3",
        "priority": "",
        "application": "Paie",
        "collectivity": "alpha",
        "requester": "agent-a",
        "group": "relations-adherents",
        "technician": "staff",
        "opened_at": "2024-03-04 09:00:00",
        "taken_at": "2024-03-04 09:30:00",
        "solved_at": "2024-03-05 10:00:00",
        "closed_at": "2024-03-06 10:00:00",
        "waiting_seconds": "0",
        "satisfaction": "5",
    }
    values.update({k: str(v) for k, v in cells.items()})
    return ",".join(f'"{values[name]}"' if "," in values[name] else values[name] for name in COLUMNS)


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.fixture
def history(world):
    paie = f.ApplicationFactory(slug="paie", name="Paie")
    # History may name an application the member has since withdrawn (Alpha's Paie), not one it
    # never had (Voirie, Bravo's only).
    f.SubscriptionFactory(collectivity=world.member_a, application=paie, status=SubscriptionStatus.WITHDRAWN)
    f.SubscriptionFactory(collectivity=world.member_b, application=f.ApplicationFactory(slug="voirie", name="Voirie"))
    world.member_a.insee_code = "69123"
    world.member_a.save()
    world.agent_a.email = "agent@alpha.fr"
    world.agent_a.save()
    return world


def test_it_imports_a_good_file_with_its_timestamps_and_one_audit_entry(history, tmp_path, capsys):
    path = tmp_path / "glpi.csv"
    path.write_bytes(
        csv_bytes(
            row(),
            row(
                external_id="GLPI-2",
                type="request",
                status="new",
                application="paie",
                collectivity="69123",
                requester="AGENT@alpha.fr",
                group="Relations adhérents",
                technician="",
                taken_at="",
                solved_at="",
                closed_at="",
                satisfaction="",
                urgency="",
                impact="",
                title="Créer un compte, vite",
                opened_at="2023-12-30T10:00:00+01:00",
            ),
            row(external_id="GLPI-3", requester="parti@ailleurs.fr", collectivity="Alpha", application=""),
        )
    )

    call_command("helpdesk_import", str(path))

    assert "3 créé(s), 0 mis à jour, 0 rejeté(s)" in capsys.readouterr().out
    first = Ticket.objects.get(external_id="GLPI-1")
    assert first.reference == "2024-000001"
    assert first.source == Source.IMPORT
    assert first.status == Status.CLOSED
    assert first.priority == 4  # GLPI's matrix: urgency 4 × impact 3
    assert first.opened_at == dt.datetime(2024, 3, 4, 9, tzinfo=PARIS)
    assert first.closed_at == dt.datetime(2024, 3, 6, 10, tzinfo=PARIS)
    assert first.requester == history.agent_a
    assert first.technician == history.staff
    assert first.group.slug == "relations-adherents"
    assert first.satisfaction == 5 and first.satisfaction_at == first.closed_at
    # Monday 09:00 → Tuesday 10:00 on the default calendar: 7.5 + 1.5 business hours.
    assert first.solved_offset - first.opened_offset == 9 * 3600
    assert first.taken_offset - first.opened_offset == 30 * 60
    second = Ticket.objects.get(external_id="GLPI-2")
    assert second.reference == "2023-000001"
    assert second.title == "Créer un compte, vite"
    assert (second.urgency, second.impact, second.priority) == (3, 3, 3)
    assert second.requester == history.agent_a
    assert second.group.slug == "relations-adherents"
    third = Ticket.objects.get(external_id="GLPI-3")
    assert third.requester is None  # unknown requester: allowed, left empty
    assert third.application is None
    assert third.reference == "2024-000002"
    assert TicketSequence.objects.get(year=2024).last == 2
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.changes["created"] == [None, 3]
    assert AuditEntry.objects.count() == 1  # one entry for the file, none per ticket


def test_it_computes_due_dates_and_marks_a_resolution_after_the_due_date(history):
    # Only the blocking incidents' rule of the defaults (migration 0009), and this one.
    SlaPolicy.objects.filter(blocking_only=False).update(active=False)
    SlaPolicy.objects.create(
        name="Demandes P4",
        ticket_type="request",
        priority=4,
        calendar=SlaPolicy.objects.first().calendar,
        tto_value=4,
        tto_unit="hours",
        ttr_value=1,
        ttr_unit="days",
    )
    content = csv_bytes(
        # Monday 09:00 + 1 business day = Tuesday 09:00; solved Tuesday 10:00: breached.
        row(type="request", solved_at="2024-03-05 10:00:00"),
        # One business hour pending moves the due date to Tuesday 10:00: solved at 10:00, in time.
        row(external_id="GLPI-2", type="request", waiting_seconds="3600", solved_at="2024-03-05 10:00:00"),
        # No policy for incidents that are not blocking: no clock.
        row(external_id="GLPI-3", type="incident"),
    )

    ticket_import(actor=None, content=content)

    late, waited, free = (Ticket.objects.get(external_id=f"GLPI-{n}") for n in (1, 2, 3))
    assert late.policy.name == "Demandes P4"
    assert late.ttr_due_at == dt.datetime(2024, 3, 5, 9, tzinfo=PARIS)
    assert late.tto_due_at == dt.datetime(2024, 3, 4, 14, 0, tzinfo=PARIS)  # lunch break excluded
    assert late.ttr_breached and not late.tto_breached
    assert waited.ttr_due_at == dt.datetime(2024, 3, 5, 10, tzinfo=PARIS)
    assert not waited.ttr_breached
    assert free.policy is None and free.ttr_due_at is None and not free.ttr_breached
    assert free.calendar.is_default


BAD_ROWS = [
    (row(application="Foo"), "ligne 2, colonne application : application inconnue « Foo »"),
    (row(application="voirie"), "ligne 2, colonne application : Alpha n'est pas abonnée à l'application « Voirie »"),
    (row(collectivity="Zulu"), "ligne 2, colonne collectivity : collectivité inconnue « Zulu »"),
    (row(opened_at="04/03/2024"), "ligne 2, colonne opened_at : date illisible « 04/03/2024 »"),
    (
        row(solved_at="2024-03-01 10:00"),
        "ligne 2, colonne solved_at : la date de résolution précède la date d'ouverture",
    ),
    (
        row(closed_at="2024-03-05 09:00"),
        "ligne 2, colonne closed_at : la date de clôture précède la date de résolution",
    ),
    (row(taken_at="2024-03-04 08:00"), "ligne 2, colonne taken_at : la prise en compte précède l'ouverture"),
    (row(type="bug"), "ligne 2, colonne type : type inconnu « bug »"),
    (row(status="open"), "ligne 2, colonne status : statut inconnu « open »"),
    (row(urgency="9"), "ligne 2, colonne urgency : « 9 » : un entier de 1 à 5 attendu"),
    (row(satisfaction="bien"), "ligne 2, colonne satisfaction : « bien » : un entier de 1 à 5 attendu"),
    (row(waiting_seconds="-5"), "ligne 2, colonne waiting_seconds : « -5 » n'est pas un nombre de secondes positif"),
    (row(group="Compta"), "ligne 2, colonne group : groupe inconnu « Compta »"),
    (row(technician="nobody"), "ligne 2, colonne technician : compte inconnu « nobody »"),
    (row(technician="agent-a"), "ligne 2, colonne technician : « agent-a » n'est pas un agent de l'opérateur"),
    (row(requester="manager-b"), "ligne 2, colonne requester : le demandeur « manager-b » n'appartient pas à Alpha"),
    (row(title=""), "ligne 2, colonne title : valeur obligatoire"),
    (row(external_id=""), "ligne 2, colonne external_id : valeur obligatoire"),
    (row(opened_at=""), "ligne 2, colonne opened_at : valeur obligatoire"),
    (row() + ",extra", "ligne 2 : 19 cellule(s) pour 18 colonnes"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_ROWS, ids=[m.split(" : ", 1)[-1][:40] for _, m in BAD_ROWS])
def test_it_rejects_a_bad_row_with_its_line_column_and_reason_and_writes_nothing(history, bad, message):
    with pytest.raises(ImportRejected) as rejected:
        ticket_import(actor=None, content=csv_bytes(bad, row(external_id="GLPI-2")))

    assert any(error.startswith(message) for error in rejected.value.errors), rejected.value.errors
    assert rejected.value.result.rejected == 1
    assert not Ticket.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not TicketSequence.objects.exists()


def test_it_collects_every_error_of_the_file_and_exits_non_zero(history, tmp_path, capsys):
    path = tmp_path / "glpi.csv"
    path.write_bytes(
        csv_bytes(
            row(),
            row(external_id="GLPI-2", application="Foo", opened_at="hier"),
            row(external_id="GLPI-1"),
            row(external_id="GLPI-4", collectivity="Zulu"),
        )
    )

    with pytest.raises(CommandError, match="rien n'a été importé — 0 créé"):
        call_command("helpdesk_import", str(path))

    err = capsys.readouterr().err.splitlines()
    assert err == [
        "ligne 3, colonne application : application inconnue « Foo »",
        "ligne 3, colonne opened_at : date illisible « hier » (ISO 8601 attendu, par exemple 2024-03-05 14:30:00)",
        "ligne 4, colonne external_id : l'identifiant « GLPI-1 » figure déjà ligne 2",
        "ligne 5, colonne collectivity : collectivité inconnue « Zulu » (identifiant, nom ou code INSEE d'un adhérent)",
    ]
    assert not Ticket.objects.exists()


def test_it_names_missing_and_unknown_columns_of_a_wrong_header(history):
    header = HEADER.replace("urgency", "urgence").replace(",satisfaction", "")

    with pytest.raises(ImportRejected) as rejected:
        ticket_import(actor=None, content=csv_bytes(header=header))

    assert rejected.value.errors == [
        "en-tête : colonne(s) manquante(s) : urgency, satisfaction",
        "en-tête : colonne(s) inconnue(s) : urgence",
    ]


def test_it_refuses_a_file_that_is_not_utf8(history):
    with pytest.raises(ImportRejected, match="ligne 2 : le fichier n'est pas en UTF-8"):
        ticket_import(actor=None, content=csv_bytes(row(title="Problème")).decode().encode("latin-1"))


def test_it_accepts_a_byte_order_mark_and_multiline_titles(history):
    content = b"\xef\xbb\xbf" + csv_bytes(
        row(external_id="A"), row(external_id="B", title='"deux\nlignes"'), row(external_id="C", application="Foo")
    )
    with pytest.raises(ImportRejected) as rejected:
        ticket_import(actor=None, content=content)
    assert rejected.value.errors[0].startswith("ligne 5, colonne application")


def test_it_updates_on_a_second_import_and_never_duplicates(history):
    content = csv_bytes(
        row(), row(external_id="GLPI-2", status="in_progress", solved_at="", closed_at="", satisfaction="")
    )
    first = ticket_import(actor=None, content=content)
    reference = Ticket.objects.get(external_id="GLPI-2").reference

    again = ticket_import(actor=None, content=content)
    changed = ticket_import(
        actor=None,
        content=csv_bytes(row(external_id="GLPI-2", status="solved", closed_at="", satisfaction="", title="Réglé")),
    )

    assert (first.created, first.updated) == (2, 0)
    assert (again.created, again.updated) == (0, 2)
    assert (changed.created, changed.updated) == (0, 1)
    assert Ticket.objects.count() == 2
    ticket = Ticket.objects.get(external_id="GLPI-2")
    assert ticket.reference == reference
    assert (ticket.status, ticket.title) == (Status.SOLVED, "Réglé")
    assert ticket.solved_at == dt.datetime(2024, 3, 5, 10, tzinfo=PARIS)
    assert TicketSequence.objects.get(year=2024).last == 2
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT).count() == 3


def test_it_writes_nothing_on_a_dry_run(history, tmp_path, capsys):
    path = tmp_path / "glpi.csv"
    path.write_bytes(csv_bytes(row(), row(external_id="GLPI-2")))

    call_command("helpdesk_import", str(path), "--dry-run")

    assert "2 créé(s), 0 mis à jour, 0 rejeté(s) (simulation" in capsys.readouterr().out
    assert not Ticket.objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_imports_thousands_of_rows_with_bulk_writes(history, django_assert_max_num_queries):
    rows = [
        row(
            external_id=f"GLPI-{n}",
            opened_at=f"{2015 + n % 10}-03-04 09:00:00",
            solved_at=f"{2015 + n % 10}-03-05 10:00:00",
            closed_at=f"{2015 + n % 10}-03-06 10:00:00",
            type=("incident", "request")[n % 2],
        )
        for n in range(2000)
    ]
    content = csv_bytes(*rows)

    # SQLite caps a statement at 999 parameters, so its inserts carry ~20 rows each: still a tenth
    # of a query per row at most (PostgreSQL takes the 500-row batches whole).
    with django_assert_max_num_queries(200):
        result = ticket_import(actor=None, content=content)
    with django_assert_max_num_queries(200):
        again = ticket_import(actor=None, content=content)

    assert (result.created, again.updated) == (2000, 2000)
    assert Ticket.objects.count() == 2000
    assert TicketSequence.objects.get(year=2024).last == 200


def test_it_reports_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="lecture impossible"):
        call_command("helpdesk_import", str(Path(tmp_path) / "absent.csv"))
