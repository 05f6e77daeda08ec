"""The governance pages: every account reads, operator staff writers act, member accounts are
refused every write (404, as for any operator page) and foreign ids are refused; a sitting walked
from planning to closing through the pages."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import URLResolver, get_resolver, reverse

from mutualis.core.models import AuditEntry
from mutualis.governance import selectors, services
from mutualis.governance.enums import SittingState
from mutualis.governance.models import AgendaItem, Sitting
from mutualis.governance.tests.conftest import at

pytestmark = pytest.mark.django_db

ROLES = ["admin", "staff", "manager_a", "agent_a", "elected_a"]
# name, method, expected for (admin, staff, manager_a, agent_a, elected_a)
READ = (200, 200, 200, 200, 200)
OPERATOR_GET = (200, 200, 404, 404, 404)
OPERATOR_POST = (302, 302, 404, 404, 404)
MATRIX = [
    ("index", "GET", READ),
    ("body", "GET", READ),
    ("sitting", "GET", READ),
    ("register", "GET", READ),
    ("delegations", "GET", READ),
    ("body_create", "GET", OPERATOR_GET),
    ("body_edit", "GET", OPERATOR_GET),
    ("sitting_create", "GET", OPERATOR_GET),
    ("mandate_create", "GET", OPERATOR_GET),
    ("mandate_replace", "GET", OPERATOR_GET),
    ("delegation_create", "GET", OPERATOR_GET),
    ("decision_create", "GET", OPERATOR_GET),
    ("mandate_end", "POST", OPERATOR_POST),
    ("item_add", "POST", OPERATOR_POST),
    ("sitting_convene", "POST", OPERATOR_POST),
    ("sitting_hold", "POST", OPERATOR_POST),
    ("item_vote", "POST", OPERATOR_POST),
    ("sitting_close", "POST", OPERATOR_POST),
]


def _args(name, committee, sitting):
    item = sitting.items.first()
    return {
        "body": [committee.body.slug],
        "body_edit": [committee.body.slug],
        "sitting_create": [committee.body.slug],
        "mandate_end": [committee.members[4].pk],
        "mandate_replace": [committee.members[4].pk],
        "sitting": [sitting.pk],
        "item_add": [sitting.pk],
        "sitting_convene": [sitting.pk],
        "sitting_hold": [sitting.pk],
        "item_vote": [sitting.pk, item.pk],
        "sitting_close": [sitting.pk],
    }.get(name, [])


def test_it_has_a_line_for_every_governance_route():
    (governance,) = [
        t for t in get_resolver().url_patterns if isinstance(t, URLResolver) and t.namespace == "governance"
    ]
    assert {r.name for r in governance.url_patterns} == {name for name, _, _ in MATRIX}


@pytest.mark.parametrize(("name", "method", "expected"), MATRIX, ids=[f"{m} {n}" for n, m, _ in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_it_answers_each_role_as_the_matrix_says(client, committee, name, method, expected, role):
    sitting = committee.plan(at(2030, 3, 10))
    client.force_login(getattr(committee.world, role))
    url = reverse(f"governance:{name}", args=_args(name, committee, sitting))
    before = AuditEntry.objects.count()

    response = (
        client.get(url)
        if method == "GET"
        else client.post(url, {"end_on": "2030-01-01", "title": "Point", "kind": "deliberation"})
    )

    assert response.status_code == expected[ROLES.index(role)]
    if expected[ROLES.index(role)] == 404:
        assert AuditEntry.objects.count() == before


def test_it_refuses_a_vote_on_an_item_of_another_sitting(client, committee):
    one = committee.held(at(2030, 3, 10))
    other = committee.held(at(2030, 3, 20))
    client.force_login(committee.world.staff)
    foreign = other.items.first()

    url = reverse("governance:item_vote", args=[one.pk, foreign.pk])
    data = {
        f"item{foreign.pk}-{k}": v
        for k, v in {"votes_for": 5, "votes_against": 0, "abstentions": 0, "not_voting": 0}.items()
    }
    response = client.post(url, data)

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.result == ""


def test_it_refuses_attendance_naming_a_mandate_of_another_body(client, committee):
    from mutualis.testing import factories as f

    sitting = committee.convened(at(2030, 3, 10))
    stranger = f.MandateFactory()
    client.force_login(committee.world.staff)
    data = {f"presence-{m.pk}": "present" for m in committee.members} | {f"presence-{stranger.pk}": "present"}

    response = client.post(reverse("governance:sitting_hold", args=[sitting.pk]), data, follow=True)

    assert "ne siègent pas dans cette instance" in response.content.decode()
    sitting.refresh_from_db()
    assert sitting.state == SittingState.CONVENED


def test_a_secretary_runs_a_sitting_through_the_pages(client, committee, django_capture_on_commit_callbacks):
    client.force_login(committee.world.staff)
    starts = (dt.datetime.now() + dt.timedelta(days=10)).replace(hour=18, minute=0, second=0, microsecond=0)
    response = client.post(
        reverse("governance:sitting_create", args=[committee.body.slug]),
        {"starts_at": starts.isoformat(timespec="minutes"), "place": "Salle du conseil", "kind": "ordinaire"},
    )
    sitting = Sitting.objects.get()
    assert response.status_code == 302
    for title in ("Budget primitif 2031", "Rapport d'activité"):
        client.post(reverse("governance:item_add", args=[sitting.pk]), {"title": title, "kind": "deliberation"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("governance:sitting_convene", args=[sitting.pk]), {"emergency_reason": ""})
    assert len(mail.outbox) == 1
    attendance = {f"presence-{m.pk}": "present" for m in committee.members[:4]}
    attendance |= {
        f"presence-{committee.members[4].pk}": "represente",
        f"pouvoir-{committee.members[4].pk}": committee.members[0].pk,
    }
    client.post(reverse("governance:sitting_hold", args=[sitting.pk]), attendance)
    page = client.get(reverse("governance:sitting", args=[sitting.pk])).content.decode()
    assert "5 membres en exercice, 4 présents, 1 représentés." in page and "Quorum atteint" in page
    for item in sitting.items.all():
        data = {"votes_for": 4, "votes_against": 1, "abstentions": 0, "not_voting": 0}
        client.post(
            reverse("governance:item_vote", args=[sitting.pk, item.pk]),
            {f"item{item.pk}-{k}": v for k, v in data.items()},
        )
    client.post(reverse("governance:sitting_close", args=[sitting.pk]), {"minutes": "Le comité a adopté…"})

    sitting.refresh_from_db()
    assert sitting.state == SittingState.CLOSED
    year = starts.year
    assert sorted(i.number for i in AgendaItem.objects.all()) == [f"{year}-001", f"{year}-002"]
    register = client.get(reverse("governance:register"), {"annee": year}).content.decode()
    assert f"{year}-001" in register and "Budget primitif 2031" in register
    closed = client.get(reverse("governance:sitting", args=[sitting.pk])).content.decode()
    assert f"{year}-002" in closed and "Le comité a adopté…" in closed and "Procès-verbal" in closed


def test_it_replaces_a_titular_from_the_body_page_and_shows_who_sat_when(client, committee):
    chloe = committee.members[2]
    client.force_login(committee.world.staff)

    response = client.post(
        reverse("governance:mandate_replace", args=[chloe.pk]),
        {"person_name": "Zoé Nouvelle", "email": "", "start_on": "2026-03-01", "reason": "démission"},
    )

    assert response.status_code == 302
    page = client.get(reverse("governance:body", args=[committee.body.slug])).content.decode()
    history = page.split('id="historique"')[1]
    assert "Zoé Nouvelle" in history and "01/03/2026" in history
    assert "Chloé Titulaire" in history and "28/02/2026" in history and "démission" in history


def test_it_offers_no_write_form_to_a_member_account(client, committee):
    sitting = committee.convened(at(2030, 3, 10))
    client.force_login(committee.world.elected_a)

    page = client.get(reverse("governance:sitting", args=[sitting.pk])).content.decode()
    body = client.get(reverse("governance:body", args=[committee.body.slug])).content.decode()

    assert "Point 1" in page and 'action="/gouvernance/' not in page
    assert "Anne Présidente" in body and 'action="/gouvernance/' not in body and "Remplacer" not in body


def test_it_shows_a_late_convocation_refusal_on_the_page(client, committee):
    sitting = committee.plan(at(2030, 3, 10))
    Sitting.objects.filter(pk=sitting.pk).update(starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    client.force_login(committee.world.staff)

    response = client.post(
        reverse("governance:sitting_convene", args=[sitting.pk]), {"emergency_reason": ""}, follow=True
    )

    assert "convocation trop tardive" in response.content.decode()
    sitting.refresh_from_db()
    assert sitting.state == SittingState.PLANNED


def test_it_keeps_the_sitting_page_query_count_flat(client, committee):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mutualis.testing import factories as f

    client.force_login(committee.world.staff)
    small = committee.held(at(2030, 3, 10), items=2)
    client.get(reverse("governance:sitting", args=[small.pk]))  # warms the per-process caches
    with CaptureQueriesContext(connection) as context:
        client.get(reverse("governance:sitting", args=[small.pk]))
    for n in range(5):
        f.MandateFactory(
            body=committee.body, role="titulaire", organisation=committee.world.member_b, person=f.PersonFactory()
        )
    big = committee.convened(at(2030, 4, 10), items=8)
    attendance = {m.pk: ("present", None) for m in selectors.sitting_members(sitting=big)}
    big = services.sitting_hold(actor=committee.world.staff, sitting=big, attendance=attendance)
    with CaptureQueriesContext(connection) as bigger:
        client.get(reverse("governance:sitting", args=[big.pk]))

    assert len(bigger.captured_queries) == len(context.captured_queries)
