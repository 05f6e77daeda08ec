"""Compliance per service commitment, member and month: measured through the policies that name
the commitment, scoped by tenancy, with a number of queries that does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mutualis.helpdesk import sla
from mutualis.helpdesk.models import SlaPolicy
from mutualis.quality import selectors
from mutualis.quality.kpis import Month
from mutualis.quality.tests.test_kpis import at, solved_ticket
from mutualis.testing import factories as f
from mutualis.testing.factories import PASSWORD

PAGE = "/qualite/engagements/"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def measured(world):
    """« Système d'information » measured by the incidents' priority-3 rule (8 business hours to
    own, 10 business days to resolve); « Hébergement » measured by none."""
    si = f.ServiceCommitmentFactory(slug="systeme-information", name="Système d'information", position=1)
    f.ServiceCommitmentFactory(slug="hebergement", name="Hébergement", position=2)
    policy = sla.policy_for(ticket_type="incident", priority=3, blocking=False)
    si.sla_policies.add(policy.id)
    # Alpha, November: owned in 30 min, solved in 1 h.
    solved_ticket(world, opened=at(11, 3, 9), taken=at(11, 3, 9, 30), solved=at(11, 3, 10))
    # Bravo, November: owned the next day (> 8 business hours), solved 12 business days later.
    solved_ticket(world, opened=at(11, 3, 9), taken=at(11, 4, 17), solved=at(11, 20, 12), member=world.member_b)
    # Alpha, October: on time. And a blocking incident, whose rule measures no commitment.
    solved_ticket(world, opened=at(10, 6, 9), taken=at(10, 6, 10), solved=at(10, 7, 9))
    solved_ticket(world, opened=at(11, 5, 9), taken=at(11, 5, 9, 10), solved=at(11, 5, 11), blocking=True)
    return si


def _table(response, slug):
    return next(t for t in response.context["tables"] if t["commitment"].slug == slug)


def _cells(line, months):
    return dict(zip(months, line["cells"], strict=True))


def test_it_measures_each_commitment_by_member_and_month(measured, world):
    rows = selectors.commitment_compliance(actor=world.staff, first=Month(2026, 10), last=Month(2026, 11))
    got = {(r["collectivity_id"], r["month"]): (r["solved"], r["ttr_ok"], r["tto_ok"]) for r in rows}
    assert got == {
        (world.member_a.pk, "2026-10"): (1, 1, 1),
        (world.member_a.pk, "2026-11"): (1, 1, 1),
        (world.member_b.pk, "2026-11"): (1, 0, 0),
    }
    assert {r["commitment_id"] for r in rows} == {measured.pk}


def test_it_shows_compliance_per_commitment_member_and_month_to_staff(measured, world, client):
    login(client, world.staff)
    response = client.get(PAGE, {"month": "2026-11"})
    assert response.status_code == 200
    table = _table(response, "systeme-information")
    assert [line["member"].name for line in table["lines"]] == ["Alpha", "Bravo"]
    alpha, bravo = table["lines"]
    assert _cells(alpha, table["months"])["2026-10"] == {"solved": 1, "ttr_pct": 100.0, "tto_pct": 100.0}
    assert _cells(bravo, table["months"])["2026-11"] == {"solved": 1, "ttr_pct": 0.0, "tto_pct": 0.0}
    assert _cells(bravo, table["months"])["2026-10"] is None
    assert table["all"]["total"] == {"solved": 3, "ttr_pct": 66.7, "tto_pct": 66.7}
    assert _table(response, "hebergement")["policies"] == []
    html = response.content.decode()
    assert "Aucune politique de niveau de service ne mesure cet engagement." in html
    assert '<th scope="row">Bravo</th>' in html
    assert "66,7 %" in html


def test_it_shows_a_member_only_its_own_compliance(measured, world, client):
    login(client, world.manager_a)
    response = client.get(PAGE, {"month": "2026-11", "member": "bravo"})
    assert response.status_code == 200
    table = _table(response, "systeme-information")
    assert [line["member"].name for line in table["lines"]] == ["Alpha"]
    assert table["all"] is None
    assert "Bravo" not in response.content.decode()
    login(client, world.elected_a)
    assert client.get(PAGE).status_code == 200
    login(client, world.agent_a)
    assert client.get(PAGE).status_code == 404


def test_it_follows_the_policies_that_name_the_commitment(measured, world):
    SlaPolicy.objects.get(blocking_only=True).commitments.add(measured)
    rows = selectors.commitment_compliance(actor=world.staff, first=Month(2026, 11), last=Month(2026, 11))
    assert sum(r["solved"] for r in rows if r["collectivity_id"] == world.member_a.pk) == 2


def test_it_keeps_the_query_count_constant(measured, world, client):
    login(client, world.staff)
    client.get(PAGE, {"month": "2026-11"})  # warm the session and the content types
    with CaptureQueriesContext(connection) as small:
        client.get(PAGE, {"month": "2026-11"})
    other = f.OrganisationFactory(name="Charlie", slug="charlie")
    for day in range(6):
        solved_ticket(
            world,
            opened=at(9 + day % 3, 2 + day, 9),
            taken=at(9 + day % 3, 2 + day, 10),
            solved=at(9 + day % 3, 2 + day, 15),
            member=(world.member_a, world.member_b, other)[day % 3],
        )
    f.ServiceCommitmentFactory(slug="messagerie", name="Messagerie")
    with CaptureQueriesContext(connection) as large:
        response = client.get(PAGE, {"month": "2026-11"})
    assert len(_table(response, "systeme-information")["lines"]) == 3
    assert len(large) == len(small)
