"""services.ticket_merge: the duplicate closes through the transition table, both tickets are
locked and audited, the duplicate's people are told where their request goes on."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import mail, notifications, services
from mutualis.helpdesk.enums import Action, Actor, PendingReason, Status, allowed_actions
from mutualis.helpdesk.models import Ticket, TransitionLog
from mutualis.helpdesk.outbox_models import Notification
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.testing import factories as f


def _entries(ticket: Ticket) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_id=str(ticket.pk), content_type__model="ticket").order_by("pk"))


def test_it_closes_the_duplicate_through_the_transition_table_with_a_log_row(world):
    kept, duplicate = make_ticket(world, title="Original"), make_ticket(world, title="Doublon")
    services.ticket_transition(actor=world.staff, ticket=duplicate, action=Action.TAKE)

    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.CLOSED, kept.pk)
    log = TransitionLog.objects.get(ticket=duplicate, action=Action.MERGE)
    assert (log.from_status, log.to_status, log.actor) == (Status.IN_PROGRESS, Status.CLOSED, world.staff)
    assert kept.reference in log.comment
    assert not TransitionLog.objects.filter(ticket=kept, action=Action.MERGE).exists()


def test_it_audits_both_tickets(world):
    kept, duplicate = make_ticket(world), make_ticket(world)
    duplicate.watchers.add(world.manager_a)
    before_kept, before_duplicate = len(_entries(kept)), len(_entries(duplicate))

    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)

    *_, duplicate_entry = _entries(duplicate)
    assert len(_entries(duplicate)) == before_duplicate + 1
    assert duplicate_entry.changes["merged_into"] == [None, kept.pk]
    assert duplicate_entry.changes["status"] == [Status.NEW, Status.CLOSED]
    assert duplicate_entry.actor == world.staff
    *_, kept_entry = _entries(kept)
    assert len(_entries(kept)) == before_kept + 1
    assert kept_entry.changes["merged"] == [None, duplicate.reference]
    assert kept_entry.changes["watchers"] == [[], sorted([world.agent_a.pk, world.manager_a.pk])]


def test_it_tells_the_duplicates_requester_and_watchers_where_the_request_goes_on(world):
    kept, duplicate = make_ticket(world, title="Original"), make_ticket(world, title="Doublon")
    world.agent_a.email = "agent@alpha.test"
    world.agent_a.save(update_fields=["email"])
    watcher = f.UserFactory.create(organisation=world.member_a, email="veille@alpha.test")
    duplicate.watchers.add(watcher)

    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)

    (notification,) = Notification.objects.filter(ticket=duplicate, event="merged")
    duplicate.refresh_from_db()
    assert notifications.recipients(duplicate, "merged") == sorted([world.agent_a.email, watcher.email])
    subject, text, _html = mail.render(duplicate, "merged", notification.summary)
    assert duplicate.reference in subject and "regroupée" in subject
    assert kept.reference in text and mail.ticket_url(kept) in text


def test_it_stops_a_pending_duplicates_clocks_as_a_closure_does(world):
    kept, duplicate = make_ticket(world), make_ticket(world)
    services.ticket_transition(
        actor=world.staff, ticket=duplicate, action=Action.WAIT, pending_reason=PendingReason.VENDOR
    )
    now = timezone.now() + dt.timedelta(hours=1)

    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept, now=now)

    duplicate.refresh_from_db()
    assert (duplicate.closed_at, duplicate.solved_at) == (now, now)
    assert duplicate.solved_offset is not None
    assert duplicate.pending_since is None and duplicate.pending_reason == ""


def test_it_keeps_a_solved_duplicates_solution_time(world):
    kept, duplicate = make_ticket(world), make_ticket(world)
    services.ticket_transition(actor=world.staff, ticket=duplicate, action=Action.SOLVE, comment="Corrigé.")
    duplicate.refresh_from_db()
    solved_at = duplicate.solved_at

    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)

    duplicate.refresh_from_db()
    assert duplicate.solved_at == solved_at and duplicate.closed_at is not None


def test_it_refuses_a_closed_duplicate(world):
    kept, duplicate = make_ticket(world), make_ticket(world)
    services.ticket_transition(actor=world.staff, ticket=duplicate, action=Action.SOLVE, comment="Corrigé.")
    services.ticket_transition(actor=world.staff, ticket=duplicate, action=Action.CLOSE)

    with pytest.raises(ValidationError, match="est clos"):
        services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)
    assert not TransitionLog.objects.filter(action=Action.MERGE).exists()


def test_it_refuses_a_duplicate_already_merged_even_through_a_stale_copy(world):
    kept, other, duplicate = make_ticket(world), make_ticket(world), make_ticket(world)
    stale = Ticket.objects.get(pk=duplicate.pk)
    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)

    with pytest.raises(ValidationError, match=f"déjà fusionné dans {kept.reference}"):
        services.ticket_merge(actor=world.staff, duplicate=stale, into=other)
    assert TransitionLog.objects.filter(action=Action.MERGE).count() == 1
    assert not Notification.objects.filter(ticket=other).exclude(event="created").exists()


def test_it_refuses_tickets_of_two_collectivities(world):
    kept, foreign = make_ticket(world), make_ticket(world, side="foreign")

    with pytest.raises(ValidationError, match="même collectivité"):
        services.ticket_merge(actor=world.staff, duplicate=foreign, into=kept)
    foreign.refresh_from_db()
    assert foreign.status == Status.NEW and foreign.merged_into_id is None


def test_it_refuses_a_closed_ticket_to_keep_and_a_ticket_into_itself(world):
    kept, duplicate = make_ticket(world), make_ticket(world)
    services.ticket_transition(actor=world.staff, ticket=kept, action=Action.SOLVE, comment="Corrigé.")
    services.ticket_transition(actor=world.staff, ticket=kept, action=Action.CLOSE)

    with pytest.raises(ValidationError, match="conservé est clos"):
        services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)
    with pytest.raises(ValidationError, match="lui-même"):
        services.ticket_merge(actor=world.staff, duplicate=duplicate, into=duplicate)


def test_a_member_cannot_merge(client, world):
    kept, duplicate = make_ticket(world), make_ticket(world)

    with pytest.raises(Http404):
        services.ticket_merge(actor=world.manager_a, duplicate=duplicate, into=kept)
    client.force_login(world.manager_a)
    response = client.post(reverse("helpdesk:merge", args=[duplicate.reference]), {"into": kept.reference})

    assert response.status_code == 404
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


def test_the_merge_is_no_status_change_of_the_generic_transition(world):
    ticket = make_ticket(world)

    assert Action.MERGE not in allowed_actions(Status.NEW, Actor.STAFF)
    with pytest.raises(ValidationError, match="propre formulaire"):
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.MERGE)


def test_the_merge_page_shows_why_a_merge_is_refused(client, world):
    kept, other, duplicate = make_ticket(world), make_ticket(world), make_ticket(world)
    services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)
    client.force_login(world.staff)

    response = client.post(reverse("helpdesk:merge", args=[duplicate.reference]), {"into": other.reference})

    assert response.status_code == 200
    assert f"déjà fusionné dans {kept.reference}" in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_it_locks_both_tickets_in_key_order(world):
    kept, duplicate = make_ticket(world), make_ticket(world)

    with CaptureQueriesContext(connection) as captured:
        services.ticket_merge(actor=world.staff, duplicate=kept, into=duplicate)

    (lock,) = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert f"IN ({kept.pk}, {duplicate.pk})" in lock or f"IN ({duplicate.pk}, {kept.pk})" in lock
    assert lock.index("ORDER BY") < lock.index("FOR UPDATE")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_merge_waits_for_the_first_then_is_refused(world):
    kept, other, duplicate = make_ticket(world), make_ticket(world), make_ticket(world)
    outcome: dict[str, object] = {}

    def second_merge() -> None:
        try:
            services.ticket_merge(actor=world.staff, duplicate=duplicate, into=other)
        except ValidationError as error:
            outcome["refused"] = " ".join(error.messages)
        else:
            outcome["merged"] = True
        finally:
            connection.close()

    with transaction.atomic():
        services.ticket_merge(actor=world.staff, duplicate=duplicate, into=kept)
        racer = threading.Thread(target=second_merge)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive(), "the second merge should wait for the first one's row locks"
    racer.join(timeout=10)

    assert "déjà fusionné" in str(outcome.get("refused"))
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == kept.pk
    assert TransitionLog.objects.filter(ticket=duplicate, action=Action.MERGE).count() == 1
