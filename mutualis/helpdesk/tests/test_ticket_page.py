"""The ticket page (issue 14): the panels the apps above show beside it, the single timeline, the
service-level bars, the live updates and presence, and the satisfaction survey answered inline."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mutualis.core import panels
from mutualis.core.models import AuditEntry
from mutualis.core.panels import panel_register
from mutualis.helpdesk import services, timeline
from mutualis.helpdesk.enums import Action
from mutualis.helpdesk.models import Followup, Ticket, TicketTask
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.helpdesk.views import staff
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

PANEL = "members/panels/home_card.html"


def page(ticket):
    return reverse("helpdesk:ticket", args=[ticket.reference])


@pytest.fixture
def ticket_slots():
    """The test's own panel goes; the panels the apps registered stay for the tests that follow."""
    kept = {slot: list(panels._slots.get(slot, [])) for slot in ("helpdesk.ticket.staff", "helpdesk.ticket.member")}
    yield
    panels._slots.update(kept)


# -- panels -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("who", "slot"), [("staff", "helpdesk.ticket.staff"), ("agent_a", "helpdesk.ticket.member")])
def test_it_shows_the_panels_registered_for_the_ticket_page_with_the_ticket(client, world, ticket_slots, who, slot):
    ticket = make_ticket(world)
    seen = []

    def context(request, *, ticket):
        seen.append(ticket.pk)
        return {"member_count": 4242}

    panel_register(slot, order=10, template=PANEL, context=context)
    client.force_login(getattr(world, who))

    body = client.get(page(ticket)).content.decode()

    assert '<p class="figure">4242</p>' in body
    assert seen == [ticket.pk]


# -- the timeline -----------------------------------------------------------------------------------
def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


def busy_ticket(world):
    named(world.staff, "Camille", "Durand")
    named(world.agent_a, "Léa", "Martin")
    ticket = make_ticket(world)  # requested by agent_a
    services.followup_add(actor=world.staff, ticket=ticket, body="Pouvez-vous redémarrer ?")
    services.followup_add(actor=world.staff, ticket=ticket, body="Serveur 3 en cause", is_private=True)
    services.task_add(actor=world.staff, ticket=ticket, description="Diagnostic interne", duration_seconds=600)
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    services.followup_add(actor=world.agent_a, ticket=ticket, body="C'est fait, merci.")
    return ticket


def test_it_merges_every_kind_of_event_in_time_order_with_who_and_their_role(world):
    ticket = busy_ticket(world)

    entries = timeline.ticket_timeline(actor=world.staff, ticket=ticket)

    assert [e.at for e in entries] == sorted(e.at for e in entries)
    kinds = [(e.kind, e.person.initials if e.person else None, e.person.role if e.person else None, e.private)
             for e in entries]  # fmt: skip
    assert kinds == [
        ("followup", "CD", "staff", False),
        ("followup", "CD", "staff", True),
        ("task", "CD", "staff", True),
        ("transition", "CD", "staff", False),
        ("followup", "LM", "requester", False),
    ]


def test_it_marks_private_items_in_words_for_staff_and_never_shows_them_to_the_member(client, world):
    ticket = busy_ticket(world)
    client.force_login(world.staff)
    staff_body = client.get(page(ticket)).content.decode()
    client.force_login(world.agent_a)
    member_body = client.get(page(ticket)).content.decode()

    assert "Serveur 3 en cause" in staff_body and "privé — invisible pour la collectivité" in staff_body
    assert "Diagnostic interne" in staff_body and "interne — invisible pour la collectivité" in staff_body
    assert '<span class="hd-avatar role-requester" aria-hidden="true">LM</span>' in staff_body
    assert "demandeur" in staff_body and "opérateur" in staff_body
    assert "Pouvez-vous redémarrer ?" in member_body and "C'est fait, merci." in member_body
    assert "Serveur 3 en cause" not in member_body and "Diagnostic interne" not in member_body
    assert "invisible pour la collectivité" not in member_body


def test_it_shows_a_watchers_and_the_systems_entries_by_their_role(world):
    ticket = make_ticket(world)
    watcher = f.UserFactory(organisation=world.member_a, username="obs")
    ticket.watchers.add(watcher)
    people = timeline.People(ticket)

    assert people.of(watcher).role == "watcher" and people.of(watcher).initials == "OB"
    assert people.of(None).role == "system"
    assert people.of(world.manager_a).role == "member"


def test_it_shows_a_task_taken_over_from_glpi_without_author_like_an_authorless_followup(client, world):
    """The GLPI import writes a task whose author has no account with no author, its text naming
    them: it reads like the authorless followup beside it, and counts as the latest activity."""
    named(world.staff, "Camille", "Durand")
    ticket = make_ticket(world)
    signed = "*Écrit dans GLPI par Julien Martin (jmartin) (sans compte dans Mutualis)*\n\n"
    Followup.objects.create(ticket=ticket, author=None, body=signed + "Je regarde.", is_private=False)
    TicketTask.objects.create(
        ticket=ticket,
        author=None,
        description=signed + "Remplacement du poste",
        duration_seconds=5400,
        done_on=dt.date(2024, 3, 4),
        is_private=False,
    )

    entries = timeline.ticket_timeline(actor=world.staff, ticket=ticket)
    kinds = {e.kind: e.person for e in entries}
    assert kinds["task"] == kinds["followup"] == timeline.People(ticket).of(None)
    assert timeline.latest_activity(actor=world.staff, ticket=ticket).actor_name == "système"
    for reader in (world.staff, world.agent_a):
        client.force_login(reader)
        response = client.get(page(ticket))
        assert response.status_code == 200
        body = response.content.decode()
        assert body.count("Écrit dans GLPI par Julien Martin (jmartin) (sans compte dans Mutualis)") == 2
        assert "Remplacement du poste" in body and "Réalisée le 04/03/2024 · 90 min" in body


def _timeline_queries(world, ticket, actor):
    with CaptureQueriesContext(connection) as ctx:
        timeline.ticket_timeline(actor=actor, ticket=ticket)
    return len(ctx)


@pytest.mark.parametrize("who", ["staff", "agent_a"])
def test_it_builds_the_timeline_in_a_constant_number_of_queries(world, who):
    ticket = make_ticket(world)

    def grow(n):
        for i in range(n):
            services.followup_add(actor=world.staff, ticket=ticket, body=f"suivi {i}",
                                  attachments=[SimpleUploadedFile(f"f{i}.txt", b"x")])  # fmt: skip
            services.followup_add(actor=world.staff, ticket=ticket, body=f"privé {i}", is_private=True)
            services.task_add(actor=world.staff, ticket=ticket, description=f"tâche {i}", duration_seconds=60)
            services.attachment_add(actor=world.staff, ticket=ticket, upload=SimpleUploadedFile(f"g{i}.txt", b"y"))
            ticket.watchers.add(f.UserFactory(organisation=world.member_a))
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="vendor")
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.RESUME)

    actor = getattr(world, who)
    grow(1)
    small = _timeline_queries(world, ticket, actor)
    grow(6)
    assert _timeline_queries(world, ticket, actor) == small
    assert len(timeline.ticket_timeline(actor=actor, ticket=ticket)) > 15


# -- service-level bars -------------------------------------------------------------------------------
class FixedTable:
    """A calendar's offsets where `now` sits `at` business seconds after the opening."""

    def __init__(self, at):
        self.at = at

    def offset(self, instant):
        return self.at


def clock_ticket(**kwargs):
    values = {"opened_at": timezone.now(), "opened_offset": 0, "tto_budget_s": 8 * 3600, "ttr_budget_s": 16 * 3600}
    values.update(kwargs)
    return Ticket(**values)


def test_it_says_business_time_elapsed_and_left_on_each_bar():
    now = timezone.now()
    ticket = clock_ticket()

    tto, ttr = staff.clocks(ticket, FixedTable(3 * 3600 + 20 * 60), now)

    assert tto["text"] == "3 h 20 ouvrées écoulées sur 8 h — reste 4 h 40"
    assert (tto["elapsed_s"], tto["left_s"], tto["percent"], tto["state"]) == (12000, 16800, 42, "ok")
    assert ttr["text"] == "3 h 20 ouvrées écoulées sur 16 h — reste 12 h 40"


@pytest.mark.parametrize(
    ("elapsed", "state", "reached"),
    [(3 * 3600, "ok", 0), (4 * 3600, "notice", 50), (6 * 3600, "warn", 75), (8 * 3600, "breached", 100)],
)
def test_it_colours_the_bar_at_the_escalation_thresholds(elapsed, state, reached):
    tto, _ttr = staff.clocks(clock_ticket(ttr_budget_s=None), FixedTable(elapsed), timezone.now())

    assert (tto["state"], tto["reached"]) == (state, reached)


def test_it_follows_a_policys_own_thresholds():
    assert staff.clock_state(65, [60, 90, 100]) == ("notice", 60)
    assert staff.clock_state(95, [60, 90, 100]) == ("warn", 90)
    assert staff.clock_state(65, [80]) == ("ok", 0)


def test_it_says_by_how_much_a_clock_is_exceeded_and_pauses_while_pending():
    now = timezone.now()
    late = staff.clocks(clock_ticket(), FixedTable(9 * 3600 + 5 * 60), now)[0]
    assert late["text"] == "9 h 05 ouvrées écoulées sur 8 h — dépassé de 1 h 05"
    assert late["breached"] is True and late["bar"] == 100

    pending = clock_ticket(pending_since=now, taken_at=now, taken_offset=600)
    ttr = staff.clocks(pending, FixedTable(2 * 3600), now)[1]
    assert ttr["paused"] is True


def test_it_draws_an_accessible_meter_with_the_same_words(client, world):
    ticket = make_ticket(world, blocking=True, urgency=5, impact=5)
    client.force_login(world.staff)

    body = client.get(page(ticket)).content.decode()

    assert 'role="meter"' in body and 'aria-valuemin="0"' in body
    assert "ouvrées écoulées sur" in body


# -- grouped actions ----------------------------------------------------------------------------------
def test_it_offers_the_actions_in_disclosures_below_a_reply_area(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)

    body = client.get(page(ticket)).content.decode()

    assert body.count('<details class="hd-action"') == 6
    for label in ("Attribuer", "Changer le statut / Résoudre", "Ajouter une tâche", "Requalifier",
                  "Fusionner un doublon", "Joindre des fichiers"):  # fmt: skip
        assert f">{label}</summary>" in body
    assert 'name="is_private" value="true"' in body and "Message à la collectivité" in body
    assert body.index('id="followup-title"') < body.index('id="actions-title"')


def test_it_reopens_the_disclosure_of_a_refused_form(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)

    body = client.post(reverse("helpdesk:merge", args=[ticket.reference]), {"into": "T-0000"}).content.decode()

    assert '<details class="hd-action" open><summary id="merge-title">' in body


def test_it_adds_a_public_or_private_followup_from_the_toggle(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    url = reverse("helpdesk:followup", args=[ticket.reference])

    client.post(url, {"body": "Pour vous", "is_private": "false"})
    client.post(url, {"body": "Entre nous", "is_private": "true"})

    assert list(ticket.followups.values_list("body", "is_private")) == [("Pour vous", False), ("Entre nous", True)]


# -- live updates and presence ------------------------------------------------------------------------
def live(client, ticket, since):
    return client.get(reverse("helpdesk:ticket_live", args=[ticket.reference]), {"since": since}).content.decode()


def test_it_tells_staff_when_someone_else_acted_since_the_page_was_drawn(client, world):
    named(world.agent_a, "Léa", "Martin")
    ticket = make_ticket(world)
    client.force_login(world.staff)
    since = client.get(page(ticket)).context["activity"].stamp
    assert "Mis à jour" not in live(client, ticket, since)

    services.followup_add(actor=world.agent_a, ticket=ticket, body="Du nouveau")
    fragment = live(client, ticket, since)

    assert "Mis à jour par Léa Martin" in fragment
    assert f'hx-get="{page(ticket)}" hx-select="#hd-timeline"' in fragment


def test_it_does_not_announce_ones_own_action(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    since = client.get(page(ticket)).context["activity"].stamp

    services.followup_add(actor=world.staff, ticket=ticket, body="Par moi")

    assert "Mis à jour" not in live(client, ticket, since)


def test_it_keeps_a_private_note_from_changing_the_members_page(client, world):
    ticket = make_ticket(world)
    client.force_login(world.manager_a)
    since = client.get(page(ticket)).context["activity"].stamp

    services.followup_add(actor=world.staff, ticket=ticket, body="Interne", is_private=True)
    services.task_add(actor=world.staff, ticket=ticket, description="Interne", duration_seconds=60)
    assert "Mis à jour" not in live(client, ticket, since)

    services.followup_add(actor=world.staff, ticket=ticket, body="Public")
    assert "Mis à jour par" in live(client, ticket, since)


def test_it_shows_who_else_has_the_ticket_open_within_30_seconds(client, world):
    named(world.admin, "Alex", "Roux")
    ticket = make_ticket(world)
    cache.delete(timeline.presence_key(ticket))
    long_ago = timezone.now() - dt.timedelta(seconds=45)
    timeline.presence_touch(actor=world.manager_a, ticket=ticket, now=long_ago)
    timeline.presence_touch(actor=world.admin, ticket=ticket)
    client.force_login(world.staff)

    fragment = live(client, ticket, "")

    assert "Aussi sur cette demande : Alex Roux" in fragment
    assert "manager-a" not in fragment  # seen 45 s ago
    assert timeline.presence_touch(actor=world.admin, ticket=ticket) == ["staff"]


def test_it_shows_no_presence_to_members(client, world):
    ticket = make_ticket(world)
    timeline.presence_touch(actor=world.staff, ticket=ticket)
    client.force_login(world.agent_a)

    assert "Aussi sur cette demande" not in live(client, ticket, "")


# -- satisfaction on the page -------------------------------------------------------------------------
def closed_ticket(world):
    ticket = make_ticket(world)
    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.SOLVE, comment="fait")
    return services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.CLOSE)


def test_it_offers_the_survey_inline_once_and_then_shows_the_answer(client, world):
    ticket = closed_ticket(world)
    client.force_login(world.agent_a)
    assert 'id="survey-title"' in client.get(page(ticket)).content.decode()
    url = reverse("helpdesk:ticket_satisfaction", args=[ticket.reference])

    response = client.post(url, {"rating": 4, "comment": "Rapide et clair"}, follow=True)

    ticket.refresh_from_db()
    assert (ticket.satisfaction, ticket.satisfaction_comment) == (4, "Rapide et clair")
    body = response.content.decode()
    assert "Merci pour votre avis." in body
    assert "Satisfaction : 4 sur 5" in body and "Rapide et clair" in body
    assert "Envoyer mon avis" not in body
    assert AuditEntry.objects.filter(via="survey", changes__satisfaction=[None, 4]).count() == 1

    again = client.post(url, {"rating": 1}, follow=True)
    ticket.refresh_from_db()
    assert ticket.satisfaction == 4
    assert "pas ouverte pour cette demande" in again.content.decode()


def test_it_asks_for_a_rating_and_writes_nothing_without_one(client, world):
    ticket = closed_ticket(world)
    client.force_login(world.agent_a)

    body = client.post(reverse("helpdesk:ticket_satisfaction", args=[ticket.reference]), {"comment": "?"}).content
    ticket.refresh_from_db()

    assert ticket.satisfaction_at is None
    assert "Ce champ est obligatoire." in body.decode()


def test_it_offers_the_survey_only_to_the_requester_of_a_recently_closed_ticket(client, world, settings):
    ticket = closed_ticket(world)
    client.force_login(world.manager_a)  # same collectivity, not the requester
    assert 'id="survey-title"' not in client.get(page(ticket)).content.decode()

    client.force_login(world.agent_a)
    open_ticket = make_ticket(world)
    assert 'id="survey-title"' not in client.get(page(open_ticket)).content.decode()

    Ticket.objects.filter(pk=ticket.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=settings.HELPDESK_SURVEY_DAYS + 1)
    )
    assert 'id="survey-title"' not in client.get(page(ticket)).content.decode()
