"""Notice pages: the banner shown only to the affected members' users (and to operator staff),
its dismissal, each member's view limited to its own notices, the staff's forms, ending an
incident with its linked tickets, the home and ticket panels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import services as helpdesk
from mutualis.notices import services
from mutualis.notices.enums import State
from mutualis.notices.models import Notice, NoticeTicket
from mutualis.notices.tests.conftest import publish

BANNER = 'class="notices-banner"'


def open_ticket(world, title="Messagerie en panne"):  # type: ignore[no-untyped-def]
    return helpdesk.ticket_create(
        actor=world.agent_a,
        collectivity=world.member_a,
        requester=None,
        ticket_type="incident",
        title=title,
        description="Plus rien ne part.",
        group=world.staff.service,
    )


def test_it_shows_the_banner_only_to_the_affected_members_users(client, catalogue):
    world = catalogue.world
    publish(world, [catalogue.mail])
    for user, shown in ((world.agent_a, True), (world.manager_a, True), (world.manager_b, False), (world.staff, True)):
        client.force_login(user)
        page = client.get(reverse("core:home")).content.decode()
        assert (BANNER in page) is shown, user.username
        assert ("Messagerie indisponible" in page.split("<main")[0]) is shown, user.username


def test_it_words_the_banner_without_relying_on_colour(client, catalogue):
    world = catalogue.world
    publish(world, [catalogue.mail])
    publish(
        world,
        [catalogue.mail],
        kind="maintenance",
        title="Montée de version",
        starts_in=dt.timedelta(hours=20),
        in_progress=False,
    )
    client.force_login(world.agent_a)
    header = client.get(reverse("notices:list")).content.decode().split("<main")[0]
    assert 'aria-labelledby="notices-banner-title"' in header  # a named region, not a second live region
    assert 'role="status"' not in header
    assert "Incident majeur — en cours" in header
    assert "Maintenance planifiée — à partir du" in header


def test_it_forgets_a_dismissed_notice_for_the_session(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    client.force_login(world.agent_a)
    answer = client.post(reverse("notices:dismiss", args=[notice.pk]), {"next": "/avis/"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and answer.content == b""
    assert BANNER not in client.get(reverse("core:home")).content.decode()
    plain = client.post(reverse("notices:dismiss", args=[notice.pk]), {"next": "//evil.example/"})
    assert plain.status_code == 302 and plain["Location"] == "/"


def test_it_answers_404_for_another_members_notice(client, catalogue):
    world = catalogue.world
    about_b = publish(world, [catalogue.finance], title="Chez B")
    client.force_login(world.manager_a)
    assert client.get(reverse("notices:detail", args=[about_b.pk])).status_code == 404
    assert client.post(reverse("notices:dismiss", args=[about_b.pk])).status_code == 404
    assert client.get(reverse("notices:member", args=[world.member_b.slug])).status_code == 404
    listing = client.get(reverse("notices:list")).content.decode()
    assert "Chez B" not in listing


def test_it_shows_a_member_its_notice_without_the_other_members(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail, catalogue.finance])
    client.force_login(world.agent_a)
    page = client.get(reverse("notices:detail", args=[notice.pk])).content.decode()
    assert "Alpha est concernée par : Messagerie." in page
    assert "Bravo" not in page and "Adhérents concernés" not in page
    assert "Publier un point de situation" not in page
    member = client.get(reverse("notices:member", args=[world.member_a.slug])).content.decode()
    assert "Messagerie indisponible" in member


def test_it_shows_staff_the_affected_members_and_the_forms(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail, catalogue.finance])
    client.force_login(world.staff)
    page = client.get(reverse("notices:detail", args=[notice.pk])).content.decode()
    assert "Adhérents concernés" in page
    assert ">Alpha</a>" in page and ">Bravo</a>" in page
    assert "Publier un point de situation" in page and "Lier le ticket" in page


@pytest.mark.parametrize("route", ["notices:create"])
def test_it_hides_the_staff_forms_from_members(client, world, route):
    client.force_login(world.manager_a)
    assert client.get(reverse(route)).status_code == 404


def test_it_refuses_member_writes_and_changes_nothing(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    client.force_login(world.manager_a)
    for name in ("notices:message", "notices:end", "notices:cancel", "notices:link", "notices:edit"):
        assert client.post(reverse(name, args=[notice.pk]), {"body": "x", "reference": "x"}).status_code == 404
    notice.refresh_from_db()
    assert notice.state == State.IN_PROGRESS and notice.updates.count() == 1


def test_it_publishes_from_the_form_in_paris_time(client, catalogue):
    world = catalogue.world
    client.force_login(world.staff)
    response = client.post(
        reverse("notices:create"),
        {
            "kind": "maintenance",
            "title": "Montée de version de la messagerie",
            "applications": [catalogue.mail.pk],
            "starts_at": "2026-12-10T20:00",
            "planned_end_at": "2026-12-10T22:00",
            "description": "Arrêt **de deux heures**.",
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("notices:detail", args=[notice.pk])
    assert notice.starts_at == dt.datetime(2026, 12, 10, 19, 0, tzinfo=dt.UTC)
    assert notice.state == State.PLANNED
    page = client.get(response["Location"]).content.decode()
    assert "jeudi 10 décembre 2026 à 20:00" in page
    assert "<strong>de deux heures</strong>" in page


def test_it_shows_the_services_refusal_next_to_the_field(client, catalogue):
    world = catalogue.world
    client.force_login(world.staff)
    response = client.post(
        reverse("notices:create"),
        {
            "kind": "maintenance",
            "title": "À l'envers",
            "applications": [catalogue.mail.pk],
            "starts_at": "2026-12-10T22:00",
            "planned_end_at": "2026-12-10T20:00",
            "description": "x",
        },
    )
    assert response.status_code == 200
    assert "la fin prévue doit suivre le début" in response.content.decode()
    assert Notice.objects.count() == 0


def test_it_ends_an_incident_and_reports_each_linked_ticket(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    open_one = open_ticket(world)
    closed = open_ticket(world, title="Déjà réglé")
    helpdesk.ticket_transition(actor=world.staff, ticket=closed, action="solve", comment="Fait.")
    helpdesk.ticket_transition(actor=world.staff, ticket=closed, action="close")
    client.force_login(world.staff)
    for ticket in (open_one, closed):
        client.post(reverse("notices:link", args=[notice.pk]), {"reference": ticket.reference})
    assert NoticeTicket.objects.filter(notice=notice).count() == 2
    form = client.get(reverse("notices:end", args=[notice.pk])).content.decode()
    assert "2 tickets sont liés à cet incident" in form

    page = client.post(
        reverse("notices:end", args=[notice.pk]),
        {"message": "Rétabli.", "solve_linked": "on", "solution": "Le serveur est reparti."},
    ).content.decode()

    assert "1 ticket résolu." in page and "1 ticket non résolu." in page
    assert f"{closed.reference}</a> — Déjà réglé : transition refusée" in page
    open_one.refresh_from_db()
    assert open_one.status == "solved"


def test_it_shows_the_linked_incident_on_the_staff_ticket_page(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    ticket = open_ticket(world)
    services.notice_ticket_link(actor=world.staff, notice=notice, reference=ticket.reference)
    client.force_login(world.staff)
    page = client.get(reverse("helpdesk:ticket", args=[ticket.reference])).content.decode()
    assert "Incident majeur lié" in page
    assert reverse("notices:detail", args=[notice.pk]) in page


def test_it_lists_the_members_notices_on_its_home(client, catalogue):
    world = catalogue.world
    publish(world, [catalogue.mail])
    publish(world, [catalogue.finance], title="Chez B")
    client.force_login(world.manager_a)
    main = client.get(reverse("core:home")).content.decode().split("<main")[1]
    assert "Avis de maintenance et d&#x27;incident" in main or "Avis de maintenance et d'incident" in main
    assert "Messagerie indisponible" in main and "Chez B" not in main


def test_it_filters_the_staff_list(client, catalogue):
    world = catalogue.world
    publish(world, [catalogue.mail])
    publish(world, [catalogue.finance], kind="maintenance", title="Sauvegarde", in_progress=False)
    client.force_login(world.staff)
    page = client.get(reverse("notices:list"), {"nature": "maintenance"}).content.decode().split("<main")[1]
    assert "Sauvegarde" in page and "Messagerie indisponible" not in page
    page = client.get(reverse("notices:list"), {"application": "messagerie"}).content.decode().split("<main")[1]
    assert "Sauvegarde" not in page and "Messagerie indisponible" in page


def test_it_unlinks_a_ticket_with_an_audit_entry(client, catalogue):
    world = catalogue.world
    notice = publish(world, [catalogue.mail])
    link = services.notice_ticket_link(actor=world.staff, notice=notice, reference=open_ticket(world).reference)
    other = publish(world, [catalogue.mail], title="Autre incident")
    client.force_login(world.staff)
    assert client.post(reverse("notices:unlink", args=[other.pk, link.pk])).status_code == 404
    response = client.post(reverse("notices:unlink", args=[notice.pk, link.pk]))
    assert response.status_code == 302
    assert not NoticeTicket.objects.filter(pk=link.pk).exists()
    assert AuditEntry.objects.filter(content_type__model="noticeticket", action="delete").count() == 1


def queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("route", ["notices:list", "core:home"])
def test_it_keeps_the_query_count_flat_as_notices_grow(client, catalogue, route):
    world = catalogue.world
    client.force_login(world.staff)
    publish(world, [catalogue.mail])
    url = reverse(route)
    queries(client, url)  # the first request fills the caches (operator, reference data)
    few = queries(client, url)
    for n in range(4):
        publish(world, [catalogue.mail, catalogue.finance], title=f"Incident {n}")
    assert queries(client, url) == few


def test_it_starts_and_cancels_from_the_notice_page(client, catalogue):
    world = catalogue.world
    first = publish(world, [catalogue.mail], kind="maintenance", starts_in=dt.timedelta(hours=1), in_progress=False)
    second = publish(world, [catalogue.mail], kind="maintenance", title="Reportée", in_progress=False)
    client.force_login(world.staff)
    page = client.get(reverse("notices:detail", args=[first.pk])).content.decode()
    assert 'id="id_start-message"' in page and 'id="id_cancel-message"' in page
    client.post(reverse("notices:start", args=[first.pk]), {"start-message": "On commence."})
    client.post(reverse("notices:cancel", args=[second.pk]), {"cancel-message": "Reportée à janvier."})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.IN_PROGRESS, State.CANCELLED)
    assert first.updates.get(kind="started").body == "On commence."
    assert second.updates.get(kind="cancelled").body == "Reportée à janvier."


def test_it_lists_a_members_current_notices_on_its_page(client, catalogue):
    world = catalogue.world
    publish(world, [catalogue.mail])
    publish(world, [catalogue.finance], title="Chez B")
    client.force_login(world.staff)
    page = client.get(reverse("members:detail", args=[world.member_a.slug])).content.decode().split("<main")[1]
    assert "Messagerie indisponible" in page and "Chez B" not in page  # staff's banner, above <main>, has both
    assert reverse("notices:member", args=[world.member_a.slug]) in page


def test_it_renders_the_page_without_the_banner_when_the_database_fails(client, catalogue, monkeypatch):
    from django.db import DatabaseError

    from mutualis.notices import selectors

    world = catalogue.world
    publish(world, [catalogue.mail])
    client.force_login(world.agent_a)

    def broken(**kwargs: object) -> list[Notice]:
        raise DatabaseError("connexion perdue")

    monkeypatch.setattr(selectors, "banner_notices", broken)
    page = client.get(reverse("notices:calendar"))
    assert page.status_code == 200 and BANNER not in page.content.decode()
