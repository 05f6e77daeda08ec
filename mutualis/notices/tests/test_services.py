"""Notice services: who is affected (from subscriptions), the state table, edits, the audit log,
linking tickets to a major incident and solving them together."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from mutualis.catalog.models import Subscription, SubscriptionStatus
from mutualis.core.models import AuditEntry
from mutualis.helpdesk import services as helpdesk
from mutualis.helpdesk.enums import Action as TicketAction
from mutualis.helpdesk.enums import Status
from mutualis.helpdesk.outbox_models import Notification
from mutualis.notices import selectors, services
from mutualis.notices.enums import Action, State, UpdateKind
from mutualis.notices.models import Notice
from mutualis.notices.tests.conftest import publish


def open_ticket(world, *, title="Messagerie en panne", actor=None, collectivity=None):  # type: ignore[no-untyped-def]
    return helpdesk.ticket_create(
        actor=actor or world.agent_a,
        collectivity=collectivity or world.member_a,
        requester=None,
        ticket_type="incident",
        title=title,
        description="Plus rien ne part.",
        group=world.staff.service,
    )


def test_it_derives_the_affected_members_from_active_subscriptions(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    # B's subscription to the mail is withdrawn: only A is affected.
    assert list(selectors.affected_members(notice=notice)) == [world.member_a]

    both = publish(world, [catalogue.mail, catalogue.finance], title="Coupure réseau")
    assert list(selectors.affected_members(notice=both)) == [world.member_a, world.member_b]


def test_it_follows_the_catalogue_when_a_subscription_changes(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    Subscription.objects.filter(collectivity=world.member_b, application=catalogue.mail).update(
        status=SubscriptionStatus.PRODUCTION
    )
    assert set(selectors.affected_members(notice=notice)) == {world.member_a, world.member_b}
    Subscription.objects.filter(application=catalogue.mail).update(status=SubscriptionStatus.PLANNED)
    assert list(selectors.affected_members(notice=notice)) == []


def test_it_shows_a_member_only_the_notices_about_its_applications(catalogue):
    world = catalogue.world
    about_a = publish(world, [catalogue.mail])
    about_b = publish(world, [catalogue.finance], title="Finances lentes")
    assert list(Notice.objects.visible_to(world.agent_a)) == [about_a]
    assert list(Notice.objects.visible_to(world.manager_b)) == [about_b]
    assert set(Notice.objects.visible_to(world.staff)) == {about_a, about_b}
    with pytest.raises(Http404):
        selectors.notice_get(actor=world.manager_a, pk=about_b.pk)


def test_it_publishes_with_an_audit_entry_and_a_first_timeline_line(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    assert notice.state == State.IN_PROGRESS
    assert [u.kind for u in notice.updates.all()] == [UpdateKind.PUBLISHED]
    entries = AuditEntry.objects.filter(object_id=str(notice.pk), content_type__model="notice")
    assert entries.filter(action="create", actor=world.staff).count() == 1
    assert entries.filter(changes__applications=[[], ["messagerie"]]).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applications": []}, "applications"),
        ({"title": "  "}, "title"),
        ({"lasts": dt.timedelta(hours=-1)}, "planned_end_at"),
    ],
)
def test_it_refuses_bad_input_with_a_french_message_and_writes_nothing(catalogue, change, field):
    world = catalogue.world
    starts_at = timezone.now()
    arguments = {
        "actor": world.staff,
        "kind": "maintenance",
        "title": change.get("title", "Montée de version"),
        "description": "Arrêt de 20 h à 22 h.",
        "applications": change.get("applications", [catalogue.mail]),
        "starts_at": starts_at,
        "planned_end_at": starts_at + change.get("lasts", dt.timedelta(hours=2)),
    }
    with pytest.raises(ValidationError) as refused:
        services.notice_create(**arguments)
    assert field in refused.value.message_dict
    assert Notice.objects.count() == 0
    assert not AuditEntry.objects.filter(content_type__model="notice").exists()


def test_it_lets_only_operator_staff_publish(catalogue):
    world = catalogue.world
    with pytest.raises(Http404):
        services.notice_create(
            actor=world.manager_a,
            kind="maintenance",
            title="x",
            description="y",
            applications=[catalogue.mail],
            starts_at=timezone.now(),
            planned_end_at=timezone.now() + dt.timedelta(hours=1),
        )
    assert Notice.objects.count() == 0


def test_it_moves_only_along_the_state_table(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail], kind="maintenance", starts_in=dt.timedelta(days=2), in_progress=False)
    with pytest.raises(ValidationError, match="impossible de « commencer »"):
        services.notice_transition(actor=world.staff, notice=publish(world, [catalogue.mail]), action=Action.START)
    started = services.notice_transition(actor=world.staff, notice=notice, action=Action.START, message="C'est parti.")
    assert started.state == State.IN_PROGRESS
    with pytest.raises(ValidationError, match="annuler"):
        services.notice_transition(actor=world.staff, notice=started, action=Action.CANCEL)
    report = services.notice_end(actor=world.staff, notice=started, message="Fini.")
    assert report.notice.state == State.ENDED
    assert report.notice.ended_at is not None
    assert [u.kind for u in notice.updates.order_by("pk")] == ["published", "started", "ended"]
    with pytest.raises(ValidationError):
        services.notice_message_add(actor=world.staff, notice=notice, body="encore ?")


def test_it_edits_with_the_diff_in_the_audit_log(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    changes = services.notice_edit(
        actor=world.staff,
        notice=notice,
        data={"title": "Messagerie : lenteurs"},
        applications=[catalogue.mail, catalogue.finance],
    )
    assert changes["title"] == ["Messagerie indisponible", "Messagerie : lenteurs"]
    assert changes["applications"] == [["messagerie"], ["finances", "messagerie"]]
    notice.refresh_from_db()
    assert notice.title == "Messagerie : lenteurs"
    assert AuditEntry.objects.filter(content_type__model="notice", changes__title__1="Messagerie : lenteurs").exists()


def test_it_links_a_ticket_by_reference_once(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    ticket = open_ticket(world)
    link = services.notice_ticket_link(actor=world.staff, notice=notice, reference=f" {ticket.reference.lower()} ")
    assert link.ticket == ticket
    assert AuditEntry.objects.filter(content_type__model="noticeticket", action="create").count() == 1
    with pytest.raises(ValidationError, match="déjà lié"):
        services.notice_ticket_link(actor=world.staff, notice=notice, reference=ticket.reference)
    with pytest.raises(ValidationError, match="aucun ticket"):
        services.notice_ticket_link(actor=world.staff, notice=notice, reference="2099-999999")
    maintenance = publish(world, [catalogue.mail], kind="maintenance", title="Mise à jour")
    with pytest.raises(ValidationError, match="incidents majeurs"):
        services.notice_ticket_link(actor=world.staff, notice=maintenance, reference=ticket.reference)
    assert list(selectors.ticket_notices(actor=world.staff, ticket_id=ticket.pk)) == [notice]


def test_it_solves_the_linked_tickets_together_and_says_why_one_is_refused(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    first = open_ticket(world, title="Pas de courriel")
    second = open_ticket(world, title="Boîte inaccessible")
    closed = open_ticket(world, title="Messagerie lente")
    helpdesk.ticket_transition(actor=world.staff, ticket=closed, action=TicketAction.SOLVE, comment="Redémarré.")
    helpdesk.ticket_transition(actor=world.staff, ticket=closed, action=TicketAction.CLOSE)
    for ticket in (first, second, closed):
        services.notice_ticket_link(actor=world.staff, notice=notice, reference=ticket.reference)
    Notification.objects.all().delete()

    report = services.notice_end(
        actor=world.staff,
        notice=notice,
        message="Le service est rétabli.",
        solve_linked=True,
        solution="Le serveur de messagerie a été rétabli à 14 h.",
    )

    assert report.notice.state == State.ENDED
    assert [t.reference for t in report.solved] == sorted([first.reference, second.reference])
    assert [(t.reference, reason) for t, reason in report.refused] == [
        (closed.reference, "transition refusée : « résoudre » n'est pas possible depuis le statut « clos »")
    ]
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.status == Status.SOLVED
        assert ticket.followups.get(is_solution=True).body == "Le serveur de messagerie a été rétabli à 14 h."
        assert AuditEntry.objects.filter(
            content_type__model="ticket", object_id=str(ticket.pk), changes__status=["new", "solved"]
        ).exists()
        assert Notification.objects.filter(ticket=ticket, event="solved").count() == 1
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    assert not Notification.objects.filter(ticket=closed).exists()


def test_it_requires_the_solution_before_ending_anything(catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    services.notice_ticket_link(actor=world.staff, notice=notice, reference=open_ticket(world).reference)
    with pytest.raises(ValidationError) as refused:
        services.notice_end(actor=world.staff, notice=notice, solve_linked=True, solution=" ")
    assert "solution" in refused.value.message_dict
    notice.refresh_from_db()
    assert notice.state == State.IN_PROGRESS


def test_it_lists_in_the_banner_what_is_current_or_starts_within_48_hours(catalogue):
    world = catalogue.world
    now = timezone.now()
    current = publish(world, [catalogue.mail])
    soon = publish(world, [catalogue.mail], kind="maintenance", starts_in=dt.timedelta(hours=47), in_progress=False)
    publish(world, [catalogue.mail], kind="maintenance", starts_in=dt.timedelta(hours=49), in_progress=False)
    ended = publish(world, [catalogue.mail], title="Déjà fini")
    services.notice_end(actor=world.staff, notice=ended)
    publish(world, [catalogue.finance], title="Chez B seulement")

    assert selectors.banner_notices(actor=world.agent_a, now=now) == [current, soon]
    assert selectors.banner_notices(actor=world.agent_a, dismissed=[current.pk], now=now) == [soon]
    assert len(selectors.banner_notices(actor=world.staff, now=now)) == 3


def test_it_replaces_and_revokes_a_calendar_token(world):
    first, secret = services.calendar_token_create(actor=world.agent_a)
    assert selectors.calendar_token_user(secret=secret) == world.agent_a
    second, new_secret = services.calendar_token_create(actor=world.agent_a)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert selectors.calendar_token_user(secret=secret) is None
    assert services.calendar_token_revoke(actor=world.agent_a) == 1
    assert selectors.calendar_token_user(secret=new_secret) is None
    assert AuditEntry.objects.filter(action="token_revoke", actor=world.agent_a).count() == 2
