"""The governance page: every body with its current mandates only, in a flat number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mutualis.governance.models import BodyKind, MandateRole
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def bodies(world):
    today = timezone.localdate()
    committee = f.BodyFactory(slug="comite", name="Comité syndical", kind=BodyKind.COMMITTEE, position=1)
    bureau = f.BodyFactory(slug="bureau", name="Bureau syndical", kind=BodyKind.BUREAU, position=2)
    f.BodyFactory(slug="cao", name="Commission d'appel d'offres", kind=BodyKind.TENDER, position=3)
    f.MandateFactory(
        person=f.PersonFactory(full_name="Claire Présidente"),
        body=committee,
        role=MandateRole.PRESIDENT,
        organisation=world.member_a,
        start_on=today - dt.timedelta(days=400),
    )
    f.MandateFactory(
        person=f.PersonFactory(full_name="Bruno Ancien"),
        body=committee,
        role=MandateRole.TITULAR,
        organisation=world.member_b,
        start_on=dt.date(2014, 4, 1),
        end_on=today - dt.timedelta(days=1),
    )
    f.MandateFactory(
        person=f.PersonFactory(full_name="Nina Future"),
        body=bureau,
        role=MandateRole.MEMBER,
        start_on=today + dt.timedelta(days=30),
    )
    f.MandateFactory(
        person=f.PersonFactory(full_name="Victor Vice"),
        body=bureau,
        role=MandateRole.VICE_PRESIDENT,
        organisation=world.member_b,
        end_on=today,
    )
    return world


@pytest.mark.parametrize("who", ["staff", "manager_a", "elected_a"])
def test_it_lists_bodies_with_their_current_mandates(client, bodies, who):
    client.force_login(getattr(bodies, who))

    response = client.get(reverse("governance:index"))

    assert response.status_code == 200
    listed = {b.name: [m.person.full_name for m in b.current_mandates] for b in response.context["bodies"]}
    assert listed == {
        "Comité syndical": ["Claire Présidente"],
        "Bureau syndical": ["Victor Vice"],  # a mandate ending today still counts today
        "Commission d'appel d'offres": [],
    }
    html = response.content.decode()
    assert "Claire Présidente" in html and "Victor Vice" in html
    assert "Bruno Ancien" not in html  # ended yesterday
    assert "Nina Future" not in html  # not started yet


def test_it_keeps_governance_query_count_flat_as_mandates_grow(client, bodies, django_assert_num_queries):
    client.force_login(bodies.staff)
    url = reverse("governance:index")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    small = len(context.captured_queries)
    assert 0 < small <= 8

    commission = f.BodyFactory(kind=BodyKind.COMMISSION)
    for _ in range(6):
        body = f.BodyFactory(titular_seats_per_member=2, substitute_seats_per_member=1)
        for _ in range(8):
            f.MandateFactory(body=body, organisation=f.OrganisationFactory(), commission_led=commission)
    client.get(url)
    with django_assert_num_queries(small):
        client.get(url)


def test_it_requires_a_login(client, bodies):
    response = client.get(reverse("governance:index"))
    assert response.status_code == 302
