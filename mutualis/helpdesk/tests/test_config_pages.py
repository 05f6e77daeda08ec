"""The configuration pages: what they show, how a bad input comes back, and query counts that
do not grow with the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import config_services as cs
from mutualis.helpdesk.models import Closure, OpeningInterval, SlaPolicy
from mutualis.helpdesk.sla import default_calendar
from mutualis.testing import factories as f

BASE = "/assistance/configuration/"


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _more_calendars(n: int) -> None:
    for k in range(n):
        cs.calendar_create(actor=None, name=f"Calendrier {k}")


def _more_policies(n: int) -> None:
    calendar = default_calendar()
    for k in range(n):
        cs.policy_create(
            actor=None,
            data={
                "name": f"P{k}",
                "commitments": [f.ServiceCommitmentFactory()],
                "calendar": calendar,
                "ttr_value": 3,
                "ttr_unit": "days",
                "tto_unit": "hours",
                "escalation_percents": "50",
            },
        )


def _more_categories(n: int) -> None:
    parent = cs.category_create(actor=None, data={"name": "Parent"})
    for k in range(n):
        cs.category_create(
            actor=None, data={"name": f"C{k}", "parent": parent, "default_group": f.OperatorServiceFactory()}
        )


@pytest.mark.parametrize(
    ("url", "grow"),
    [
        ("calendriers/", _more_calendars),
        ("politiques/", _more_policies),
        ("categories/", _more_categories),
        ("matrice/", lambda n: None),
    ],
)
def test_it_keeps_list_query_counts_flat(client, world, url, grow):
    client.force_login(world.staff)
    grow(1)
    client.get(BASE + url)  # the first request of a session loads what later ones find cached
    few = _queries(client, BASE + url)
    grow(6)
    assert _queries(client, BASE + url) == few


def test_it_shows_the_week_closures_and_holidays_of_a_calendar(client, world):
    calendar = default_calendar()
    today = timezone.localdate()
    cs.closure_add(
        actor=None,
        calendar=calendar,
        label="Fermeture d'été",
        start=today + dt.timedelta(days=30),
        end=today + dt.timedelta(days=33),
    )
    cs.closure_add(
        actor=None,
        calendar=calendar,
        label="Ancienne",
        start=today - dt.timedelta(days=60),
        end=today - dt.timedelta(days=59),
    )
    client.force_login(world.staff)
    body = client.get(f"{BASE}calendriers/{calendar.pk}/").content.decode()
    assert "08:30–12:30" in body and "13:30–17:30" in body
    assert "Fermeture d&#x27;été" in body
    assert "Ancienne" not in body
    assert "1 fermeture passée" in body
    assert "40 h" in body
    # Twelve months always hold Christmas and New Year's Day (11 holidays a year in metropolitan France).
    assert body.count("<tr><td>") >= 10


def test_it_redisplays_a_bad_interval_with_its_message(client, world):
    calendar = default_calendar()
    client.force_login(world.staff)
    response = client.post(
        f"{BASE}calendriers/{calendar.pk}/plages/",
        {"interval-weekday": "0", "interval-start": "12:00", "interval-end": "14:00"},
    )
    assert response.status_code == 200
    assert "chevauche" in response.content.decode()
    assert OpeningInterval.objects.filter(calendar=calendar).count() == 10


def test_it_redisplays_a_closure_ending_before_it_starts(client, world):
    calendar = default_calendar()
    client.force_login(world.staff)
    response = client.post(
        f"{BASE}calendriers/{calendar.pk}/fermetures/",
        {"closure-label": "Pont", "closure-start": "2030-05-10", "closure-end": "2030-05-09"},
    )
    assert "précède" in response.content.decode()
    assert not Closure.objects.exists()


def test_it_refuses_an_unknown_time_zone_on_the_form(client, world):
    client.force_login(world.staff)
    response = client.post(f"{BASE}calendriers/nouveau/", {"name": "Lune", "timezone": "Mare/Tranquillitatis"})
    assert response.status_code == 200
    assert "fuseau horaire inconnu" in response.content.decode()


def test_it_previews_the_due_date_and_says_new_policies_apply_to_new_tickets(client, world):
    client.force_login(world.staff)
    body = client.get(f"{BASE}politiques/nouvelle/").content.decode()
    assert "tickets créés après son enregistrement" in body
    policy = SlaPolicy.objects.get(blocking_only=True)
    body = client.get(f"{BASE}politiques/{policy.pk}/").content.decode()
    assert "un ticket ouvert maintenant" in body
    fragment = client.get(
        f"{BASE}politiques/apercu/",
        {"calendar": policy.calendar_id, "tto_value": "4", "tto_unit": "hours", "ttr_value": "2", "ttr_unit": "days"},
    )
    assert fragment.content.decode().count("au plus tard le") == 2


def test_it_redisplays_a_bad_policy(client, world):
    client.force_login(world.staff)
    count = SlaPolicy.objects.count()
    response = client.post(
        f"{BASE}politiques/nouvelle/",
        {
            "name": "X",
            "calendar": default_calendar().pk,
            "tto_unit": "hours",
            "ttr_unit": "days",
            "escalation_percents": "50,200",
        },
    )
    body = response.content.decode()
    assert "au moins un délai" in body and "entre 1 et 100" in body
    assert SlaPolicy.objects.count() == count


def test_it_refuses_a_bad_matrix_cell_and_keeps_the_matrix(client, world):
    client.force_login(world.staff)
    data = {f"cell_{u}_{i}": "3" for u in range(1, 6) for i in range(1, 6)}
    data["cell_2_4"] = "8"
    response = client.post(f"{BASE}matrice/", data)
    assert "urgence 2 × impact 4" in response.content.decode()
    assert cs.priority_matrix()[(1, 1)] == 1


def test_it_links_the_configuration_from_the_staff_queue(client, world):
    client.force_login(world.staff)
    assert f'href="{BASE}"' in client.get("/assistance/").content.decode()


def test_it_names_the_commitments_a_policy_measures_from_its_form(client, world):
    client.force_login(world.staff)
    si = f.ServiceCommitmentFactory(slug="systeme-information", name="Système d'information")
    hosting = f.ServiceCommitmentFactory(slug="hebergement", name="Hébergement")
    policy = SlaPolicy.objects.get(blocking_only=True)
    data = {
        "name": policy.name,
        "ticket_type": "incident",
        "blocking_only": "on",
        "calendar": policy.calendar_id,
        "tto_value": "1",
        "tto_unit": "hours",
        "ttr_value": "2",
        "ttr_unit": "days",
        "escalation_percents": "50,75,100",
        "commitments": [si.pk, hosting.pk],
    }
    response = client.post(f"{BASE}politiques/{policy.pk}/", data)
    assert response.status_code == 302
    assert set(policy.commitments.all()) == {si, hosting}
    data["commitments"] = [hosting.pk]
    client.post(f"{BASE}politiques/{policy.pk}/", data)
    assert list(si.sla_policies.all()) == []
    body = client.get(f"{BASE}politiques/").content.decode()
    assert "Engagements de service et politiques qui les mesurent" in body
    assert "aucune : engagement non mesuré" in body  # Système d'information, now
    assert AuditEntry.objects.filter(object_repr=policy.name, changes__has_key="commitments").count() == 2
