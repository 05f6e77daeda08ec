"""The configuration services: each bad input is refused with its message and writes nothing;
each change leaves its audit entry; a calendar change moves its tickets' offsets and due dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.migrations import __path__ as migrations_path
from mutualis.helpdesk.models import Calendar, Category, Closure, OpeningInterval, PriorityCell, SlaPolicy
from mutualis.helpdesk.sla import default_calendar
from mutualis.testing import factories as f

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


def _writes() -> int:
    return AuditEntry.objects.exclude(action__in=["login", "logout"]).count()


def _refused(call, *, field: str | None = None, contains: str = "") -> str:
    before = _writes()
    with pytest.raises(ValidationError) as caught:
        call()
    assert _writes() == before
    error = caught.value
    if field is not None:
        assert field in error.message_dict, error
        text = " ".join(error.message_dict[field])
    else:
        text = " ".join(error.messages)
    assert contains in text, text
    return text


def _blocking_ticket(world, **kwargs):
    return services.ticket_create(
        actor=world.staff,
        collectivity=world.member_a,
        requester=world.agent_a,
        ticket_type="incident",
        title="Messagerie en panne",
        description="Plus rien ne part.",
        blocking=True,
        now=kwargs.pop("now", MONDAY_10),
        **kwargs,
    )


# -- calendars ----------------------------------------------------------------------------------
def test_it_creates_a_calendar_with_default_hours_and_audits_it(world):
    before = _writes()
    calendar = cs.calendar_create(actor=world.staff, name="Astreinte Réunion", timezone_name="Indian/Reunion")
    assert calendar.slug == "astreinte-reunion"
    assert calendar.intervals.count() == 10
    assert _writes() == before + 11
    assert AuditEntry.objects.filter(object_repr="Astreinte Réunion", action="create").exists()


def test_it_refuses_an_unknown_time_zone(world):
    _refused(
        lambda: cs.calendar_create(actor=world.staff, name="X", timezone_name="Europe/Atlantide"),
        field="timezone",
        contains="fuseau horaire inconnu",
    )
    _refused(lambda: cs.calendar_create(actor=world.staff, name="X", timezone_name="../etc/passwd"), field="timezone")
    assert not Calendar.objects.filter(name="X").exists()


def test_it_refuses_a_calendar_without_a_name(world):
    _refused(lambda: cs.calendar_create(actor=world.staff, name="  "), field="name", contains="nom")


def test_it_keeps_exactly_one_default_calendar(world):
    standard = default_calendar()
    other = cs.calendar_create(actor=world.staff, name="Autre", is_default=True)
    standard.refresh_from_db()
    assert other.is_default and not standard.is_default
    _refused(
        lambda: cs.calendar_update(actor=world.staff, calendar=other, data={"is_default": False}),
        field="is_default",
        contains="désignez-en un autre",
    )
    cs.calendar_update(actor=world.staff, calendar=standard, data={"is_default": True})
    assert list(Calendar.objects.filter(is_default=True)) == [standard]


def test_it_hides_configuration_writes_from_members_and_refuses_elected_officials(world):
    with pytest.raises(Http404):
        cs.calendar_create(actor=world.manager_a, name="Pirate")
    with pytest.raises(Http404):
        cs.closure_add(actor=world.elected_a, calendar=default_calendar(), label="x", start=None, end=None)
    assert not Calendar.objects.filter(name="Pirate").exists()


def test_it_refuses_an_interval_ending_before_it_starts(world):
    calendar = default_calendar()
    _refused(
        lambda: cs.interval_add(actor=world.staff, calendar=calendar, weekday=5, start=dt.time(12), end=dt.time(9)),
        field="end",
        contains="doit suivre",
    )
    _refused(
        lambda: cs.interval_add(actor=world.staff, calendar=calendar, weekday=5, start=dt.time(9), end=dt.time(9)),
        field="end",
    )


def test_it_refuses_an_interval_overlapping_another_of_the_same_day(world):
    calendar = default_calendar()
    text = _refused(
        lambda: cs.interval_add(actor=world.staff, calendar=calendar, weekday=0, start=dt.time(12), end=dt.time(14))
    )
    assert "08:30" in text or "13:30" in text
    assert calendar.intervals.filter(weekday=0).count() == 2


def test_it_accepts_adjacent_intervals_and_audits_them(world):
    calendar = default_calendar()
    before = _writes()
    cs.interval_add(actor=world.staff, calendar=calendar, weekday=0, start=dt.time(12, 30), end=dt.time(13, 30))
    assert calendar.intervals.filter(weekday=0).count() == 3
    assert _writes() == before + 1


def test_it_keeps_at_least_one_opening_interval(world):
    calendar = cs.calendar_create(actor=world.staff, name="Petit")
    intervals = list(calendar.intervals.all())
    for interval in intervals[:-1]:
        cs.interval_remove(actor=world.staff, interval=interval)
    _refused(lambda: cs.interval_remove(actor=world.staff, interval=intervals[-1]), contains="au moins une plage")
    assert calendar.intervals.count() == 1


def test_it_refuses_a_closure_ending_before_it_starts(world):
    calendar = default_calendar()
    _refused(
        lambda: cs.closure_add(
            actor=world.staff, calendar=calendar, label="Pont", start=dt.date(2026, 5, 15), end=dt.date(2026, 5, 14)
        ),
        field="end",
        contains="précède",
    )
    _refused(
        lambda: cs.closure_add(actor=world.staff, calendar=calendar, label="", start=None, end=None),
        field="label",
        contains="motif",
    )
    assert not Closure.objects.exists()


def test_it_removes_a_closure_with_an_audit_entry(world):
    calendar = default_calendar()
    closure = cs.closure_add(
        actor=world.staff, calendar=calendar, label="Pont", start=dt.date(2026, 5, 15), end=dt.date(2026, 5, 15)
    )
    before = _writes()
    cs.closure_remove(actor=world.staff, closure=closure)
    assert not Closure.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_repr__startswith="Pont").count() == 1
    assert _writes() == before + 1


# -- the recompute --------------------------------------------------------------------------------
def test_it_moves_an_open_tickets_due_date_when_a_closure_covers_it(world):
    ticket = _blocking_ticket(world)
    assert ticket.ttr_due_at == dt.datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)  # two business days
    calendar = ticket.calendar
    version = calendar.updated_at

    cs.closure_add(
        actor=world.staff, calendar=calendar, label="Séminaire", start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 4)
    )

    ticket.refresh_from_db()
    calendar.refresh_from_db()
    assert calendar.updated_at > version
    assert ticket.ttr_due_at == dt.datetime(2026, 3, 5, 10, 0, tzinfo=PARIS)


def test_it_moves_stored_offsets_when_a_closure_precedes_the_opening(world):
    ticket = _blocking_ticket(world)
    services.ticket_transition(
        actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="ok", now=MONDAY_10 + dt.timedelta(hours=2)
    )
    ticket.refresh_from_db()
    opened, solved = ticket.opened_offset, ticket.solved_offset
    due = ticket.ttr_due_at
    assert solved - opened == 7200

    cs.closure_add(
        actor=world.staff,
        calendar=ticket.calendar,
        label="Inventaire",
        start=dt.date(2026, 2, 27),
        end=dt.date(2026, 2, 27),
    )

    ticket.refresh_from_db()
    assert ticket.opened_offset == opened - 8 * 3600
    assert ticket.solved_offset == solved - 8 * 3600
    assert ticket.ttr_due_at == due  # solved: its due date is history


def test_it_recomputes_in_chunks(world, monkeypatch):
    monkeypatch.setattr(cs, "RECOMPUTE_CHUNK", 2)
    tickets = [_blocking_ticket(world, now=MONDAY_10 + dt.timedelta(minutes=n)) for n in range(5)]
    changed = cs.closure_add(
        actor=world.staff,
        calendar=tickets[0].calendar,
        label="Séminaire",
        start=dt.date(2026, 3, 4),
        end=dt.date(2026, 3, 4),
    )
    assert changed
    for n, ticket in enumerate(tickets):
        ticket.refresh_from_db()
        assert ticket.ttr_due_at == dt.datetime(2026, 3, 5, 10, n, tzinfo=PARIS)


def test_it_leaves_tickets_untouched_when_nothing_moves(world):
    ticket = _blocking_ticket(world)
    stamp = ticket.updated_at
    assert cs.calendar_recompute(calendar=ticket.calendar) == 0
    ticket.refresh_from_db()
    assert ticket.updated_at == stamp


def test_it_recomputes_when_the_time_zone_changes(world):
    ticket = _blocking_ticket(world)
    cs.calendar_update(actor=world.staff, calendar=ticket.calendar, data={"timezone": "America/Guadeloupe"})
    ticket.refresh_from_db()
    # 10:00 in Paris is 05:00 in Guadeloupe: the 16 business hours start at 08:30 there.
    assert ticket.ttr_due_at == dt.datetime(2026, 3, 3, 17, 30, tzinfo=ZoneInfo("America/Guadeloupe"))
    assert ticket.opened_offset == ticket.calendar.offsets().offset(
        dt.datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo("America/Guadeloupe"))
    )


# -- policies -----------------------------------------------------------------------------------
def _policy(**overrides):
    data = {
        "name": "Demandes standard",
        "commitments": [],
        "ticket_type": "request",
        "priority": 3,
        "blocking_only": False,
        "calendar": default_calendar(),
        "tto_value": 4,
        "tto_unit": "hours",
        "ttr_value": 5,
        "ttr_unit": "days",
        "escalation_percents": "75, 50,100",
    }
    data.update(overrides)
    return data


def test_it_creates_a_policy_with_sorted_escalation_levels(world):
    commitment = f.ServiceCommitmentFactory()
    policy = cs.policy_create(actor=world.staff, data=_policy(commitments=[commitment]))
    assert policy.escalation_percents == "50,75,100"
    assert list(policy.commitments.all()) == [commitment]
    assert AuditEntry.objects.filter(action="create", object_repr="Demandes standard").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "contains"),
    [
        ({"escalation_percents": "50,cent"}, "escalation_percents", "entre 1 et 100"),
        ({"escalation_percents": "0,50"}, "escalation_percents", "entre 1 et 100"),
        ({"escalation_percents": "50,150"}, "escalation_percents", "entre 1 et 100"),
        ({"tto_value": None, "ttr_value": None}, "ttr_value", "au moins un délai"),
        ({"ttr_value": 0}, "ttr_value", "au moins 1"),
        ({"tto_unit": "weeks"}, "tto_unit", "unité inconnue"),
        ({"priority": 7}, "priority", "entre 1 et 6"),
        ({"name": " "}, "name", "nom"),
        ({"calendar": None}, "calendar", "calendrier"),
        ({"ticket_type": "problem"}, "ticket_type", "type inconnu"),
    ],
)
def test_it_refuses_a_bad_policy(world, overrides, field, contains):
    count = SlaPolicy.objects.count()
    _refused(lambda: cs.policy_create(actor=world.staff, data=_policy(**overrides)), field=field, contains=contains)
    assert SlaPolicy.objects.count() == count


def test_it_updates_and_deactivates_a_policy_for_new_tickets_only(world):
    policy = SlaPolicy.objects.get(blocking_only=True)
    ticket = _blocking_ticket(world)
    cs.policy_update(actor=world.staff, policy=policy, data={"ttr_value": 1})
    ticket.refresh_from_db()
    assert ticket.ttr_due_at == dt.datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)
    assert _blocking_ticket(world).ttr_due_at == dt.datetime(2026, 3, 3, 10, 0, tzinfo=PARIS)
    cs.policy_set_active(actor=world.staff, policy=policy, active=False)
    fallback = _blocking_ticket(world).policy  # the incidents' rule for its priority
    assert fallback is not None and fallback != policy and not fallback.blocking_only
    assert AuditEntry.objects.filter(object_repr=policy.name, action="update").count() == 2


def test_it_previews_a_policys_due_dates(world):
    due = cs.policy_preview(
        calendar=default_calendar(), tto_value=4, tto_unit="hours", ttr_value=2, ttr_unit="days", now=MONDAY_10
    )
    assert due["tto"] == dt.datetime(2026, 3, 2, 15, 0, tzinfo=PARIS)  # lunch break excluded
    assert due["ttr"] == dt.datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)


# -- categories ---------------------------------------------------------------------------------
def test_it_creates_a_category_with_a_slug_from_its_name(world):
    group = world.staff.service
    category = cs.category_create(actor=world.staff, data={"name": "Messagerie électronique", "default_group": group})
    assert category.slug == "messagerie-electronique"
    assert category.default_group == group
    assert AuditEntry.objects.filter(action="create", object_repr="Messagerie électronique").exists()


def test_it_refuses_a_taken_slug_and_a_parent_cycle(world):
    parent = cs.category_create(actor=world.staff, data={"name": "Logiciels"})
    child = cs.category_create(actor=world.staff, data={"name": "Finances", "parent": parent})
    _refused(
        lambda: cs.category_create(actor=world.staff, data={"name": "Autre", "slug": "logiciels"}),
        field="slug",
        contains="déjà pris",
    )
    _refused(
        lambda: cs.category_update(actor=world.staff, category=parent, data={"parent": child}),
        field="parent",
        contains="sous elle-même",
    )
    parent.refresh_from_db()
    assert parent.parent is None
    assert Category.objects.count() == 2


# -- the priority matrix ------------------------------------------------------------------------
def test_it_loads_glpis_matrix_by_migration_as_the_service_knows_it():
    from importlib import import_module

    migration = import_module("mutualis.helpdesk.migrations.0002_defaults")
    assert migration.MATRIX == cs.GLPI_MATRIX
    assert migrations_path


@pytest.mark.django_db
def test_it_updates_the_matrix_all_or_nothing():
    cells = dict(cs.priority_matrix())
    cells[(1, 1)] = 3
    cells[(5, 5)] = 9
    _refused(lambda: cs.priority_matrix_update(actor=None, cells=cells), contains="urgence 5 × impact 5")
    assert PriorityCell.objects.get(urgency=1, impact=1).priority == 1
    cells[(5, 5)] = 5
    assert cs.priority_matrix_update(actor=None, cells=cells) == 1
    assert services.priority_for(1, 1) == 3


@pytest.mark.django_db
def test_it_restores_glpis_matrix():
    PriorityCell.objects.filter(urgency=2).delete()
    PriorityCell.objects.filter(urgency=4, impact=4).update(priority=1)
    assert cs.priority_matrix_restore(actor=None) == 6
    assert {(c.urgency, c.impact): c.priority for c in PriorityCell.objects.all()} == {
        (u, i): p for u, row in cs.GLPI_MATRIX.items() for i, p in row.items()
    }
    assert OpeningInterval.objects.exists()
