"""The audit log page: operator admins only, filterable, flat query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.catalog import services as catalog_services
from mutualis.core.models import AuditAction
from mutualis.members import services as member_services
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world):
    """An update by staff on Alpha, one by Bravo's manager on Bravo, an application created by the admin."""
    member_services.collectivity_update(actor=world.staff, organisation=world.member_a, data={"population": 5000})
    member_services.collectivity_update(actor=world.manager_b, organisation=world.member_b, data={"notes": "Hello"})
    catalog_services.application_create(
        actor=world.admin, data={"slug": "paie", "name": "Paie", "domain": f.DomainFactory()}
    )
    return world


def listed(client, query=""):
    response = client.get(reverse("core:audit") + query)
    assert response.status_code == 200
    return [(e.actor_label, e.action, e.object_repr) for e in response.context["page"] if e.action != AuditAction.LOGIN]


def test_it_shows_every_entry_to_an_operator_admin_newest_first(client, history):
    client.force_login(history.admin)
    assert listed(client) == [
        ("admin", "create", "Paie"),
        ("manager-b", "update", "Bravo"),
        ("staff", "update", "Alpha"),
    ]


def test_it_shows_the_before_and_after_values(client, history):
    client.force_login(history.admin)
    html = client.get(reverse("core:audit") + "?who=manager").content.decode()
    assert "Hello" in html


def test_it_filters_by_action(client, history):
    client.force_login(history.admin)
    assert listed(client, "?action=create") == [("admin", "create", "Paie")]


def test_it_filters_by_organisation(client, history):
    client.force_login(history.admin)
    assert listed(client, "?organisation=alpha") == [("staff", "update", "Alpha")]
    assert listed(client, "?organisation=bravo") == [("manager-b", "update", "Bravo")]


def test_it_filters_by_who(client, history):
    client.force_login(history.admin)
    assert listed(client, "?who=manager") == [("manager-b", "update", "Bravo")]
    assert listed(client, "?who=staff&action=create") == []


def test_it_filters_by_object_type(client, history):
    client.force_login(history.admin)
    assert listed(client, "?model=catalog.application") == [("admin", "create", "Paie")]


@pytest.mark.parametrize("who", ["staff", "manager_a", "agent_a", "elected_a", "manager_b"])
def test_it_answers_404_to_everyone_but_operator_admins(client, history, who):
    client.force_login(getattr(history, who))
    assert client.get(reverse("core:audit")).status_code == 404


def test_it_keeps_the_audit_page_query_count_flat(client, history, django_assert_num_queries):
    client.force_login(history.admin)
    url = reverse("core:audit")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    small = len(context.captured_queries)
    assert 0 < small <= 8

    for i in range(60):  # more than a page, over many organisations and actors
        org = f.OrganisationFactory()
        member_services.collectivity_update(actor=history.staff, organisation=org, data={"population": i})
    client.get(url)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.context["page"].paginator.count > 50


def test_it_shows_changes_with_french_field_names_and_values(client, history, django_assert_num_queries):
    from mutualis.core.audit import AuditDraft, audit_many
    from mutualis.helpdesk.models import Ticket

    changes = {
        "blocking": [None, True],
        "tto_breached": [True, False],
        "status": ["new", "assigned"],
        "opened_offset": [None, 3600],
        "title": ["", "Imprimante"],
    }
    draft = AuditDraft(action=AuditAction.UPDATE, model=Ticket, object_id="7", changes=changes)
    audit_many(actor=None, entries=[draft] * 3)  # several rows of a known model: still no query per row
    client.force_login(history.admin)
    url = reverse("core:audit")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    page = response.content.decode()
    assert "bloquant : — → oui" in page
    assert "délai de prise en compte dépassé : oui → non" in page
    assert "statut : nouveau → attribué" in page
    assert "titre : — → Imprimante" in page
    for raw in ("blocking", "tto_breached", "opened_offset", "3600", "True", "False", "∅"):
        assert raw not in page
    audit_many(
        actor=None, entries=[AuditDraft(action=AuditAction.UPDATE, model=Ticket, object_id="8", changes=changes)]
    )
    with django_assert_num_queries(len(context.captured_queries)):
        client.get(url)
