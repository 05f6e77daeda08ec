"""The member list: the demo's 8 towns with their figures, and each other row said for what it is."""

import datetime as dt

import pytest
from django.urls import reverse

from mutualis.accounts.models import User
from mutualis.demo.loader import load_demo
from mutualis.members.models import OrganisationKind
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def test_it_shows_population_siren_and_membership_of_the_eight_demo_towns(client):
    load_demo()
    client.force_login(User.objects.get(username="support"))

    response = client.get(reverse("members:list"))

    groups = {group["key"]: group for group in response.context["groups"]}
    towns = groups["members"]["rows"]
    assert len(towns) == 8
    assert all(town.population and town.population_year and town.siren for town in towns)
    assert groups["members"]["totals"]["population"] == sum(town.population for town in towns)
    assert {o.name for o in groups["partners"]["rows"]} == {"Métropole de Lyon", "Ville de Lyon"}
    html = response.content.decode()
    assert "Collectivités adhérentes (8)" in html and "Partenaires (2)" in html
    assert "partenaire, non adhérent" in html
    assert "adhérente (date d'adhésion non renseignée)" in html
    assert "216902593" in html  # Vénissieux's SIREN
    assert "67\N{NO-BREAK SPACE}129 (2018)" in html or "67 129 (2018)" in html


def test_it_separates_members_partners_and_former_members(client, world):
    f.OrganisationFactory(name="Partenaire", kind=OrganisationKind.PARTNER, population=None)
    f.OrganisationFactory(name="Ancienne", joined_on=dt.date(2010, 1, 1), left_on=dt.date(2020, 1, 1))
    world.member_a.joined_on = dt.date(2015, 3, 1)
    world.member_a.save(update_fields=["joined_on"])
    client.force_login(world.staff)

    response = client.get(reverse("members:list"))

    groups = {group["key"]: [o.name for o in group["rows"]] for group in response.context["groups"]}
    assert groups == {"members": ["Alpha", "Bravo"], "partners": ["Partenaire"], "former": ["Ancienne"]}
    html = response.content.decode()
    assert "adhérente depuis le 01/03/2015" in html
    assert "retirée le 01/01/2020" in html
    assert "Anciens adhérents (1)" in html
