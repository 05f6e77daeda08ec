"""Commitments of a maintenance contract: edited by operator staff only, through audited services
and the contract page's panel."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from mutualis.core.models import AuditAction, AuditEntry
from mutualis.helpdesk.enums import DurationUnit
from mutualis.ola import panels, services
from mutualis.ola.models import Commitment


@pytest.fixture(autouse=True)
def _panels():
    # Another test file may have emptied the slots; the app registers them once per process.
    panels.register()


def test_it_audits_a_commitment_created_changed_and_removed(world, ola):
    created = services.commitment_create(
        actor=world.staff,
        contract=ola.contract,
        data={"ticket_type": "incident", "priority": 5, "fix_value": 1, "fix_unit": DurationUnit.DAYS},
    )
    pk = created.pk
    services.commitment_update(actor=world.staff, commitment=created, data={"fix_value": 2})
    services.commitment_delete(actor=world.staff, commitment=created)

    entries = AuditEntry.objects.filter(object_id=str(pk), content_type__model="commitment").order_by("id")
    assert [e.action for e in entries] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    assert entries[1].changes == {"fix_value": [1, 2]}
    assert all(e.actor == world.staff for e in entries)


def test_it_refuses_members_and_duplicates(world, ola):
    with pytest.raises(Http404):
        services.commitment_create(actor=world.manager_a, contract=ola.contract, data={"fix_value": 1})
    with pytest.raises(ValidationError, match="déjà un engagement"):
        services.commitment_create(actor=world.staff, contract=ola.contract, data={"fix_value": 9})
    with pytest.raises(ValidationError):
        services.commitment_create(actor=world.staff, contract=ola.contract, data={"priority": 5, "fix_value": 0})
    assert Commitment.objects.count() == 1
    assert not AuditEntry.objects.filter(content_type__model="commitment").exists()


def test_the_contract_page_lists_the_commitments_for_staff_only(client, world, ola):
    url = reverse("procurement:detail", args=[ola.contract.code])
    client.force_login(world.staff)
    body = client.get(url).content.decode()
    assert "Engagements de maintenance" in body
    assert "4 heures ouvrées" in body
    assert reverse("ola:commitment_create", args=[ola.contract.code]) in body

    client.force_login(world.manager_a)
    body = client.get(url).content.decode()
    assert client.get(url).status_code == 200
    assert "Engagements de maintenance" not in body


def test_staff_add_and_edit_a_commitment_from_the_page(client, world, ola):
    client.force_login(world.staff)
    response = client.post(
        reverse("ola:commitment_create", args=[ola.contract.code]),
        {
            "ticket_type": "incident",
            "priority": "5",
            "calendar": "",
            "respond_value": "1",
            "respond_unit": "hours",
            "fix_value": "6",
            "fix_unit": "hours",
        },
    )
    assert response.status_code == 302
    added = Commitment.objects.get(priority=5)
    assert (added.fix_value, added.respond_value) == (6, 1)

    response = client.post(
        reverse("ola:commitment_edit", args=[added.pk]),
        {
            "ticket_type": "incident",
            "priority": "5",
            "calendar": "",
            "respond_value": "",
            "respond_unit": "hours",
            "fix_value": "0",
            "fix_unit": "hours",
        },
    )
    assert response.status_code == 200
    assert "un délai d&#x27;au moins 1" in response.content.decode()

    client.post(reverse("ola:commitment_delete", args=[added.pk]))
    assert not Commitment.objects.filter(pk=added.pk).exists()


def test_members_cannot_reach_the_commitment_pages(client, world, ola):
    client.force_login(world.manager_a)
    assert client.get(reverse("ola:commitment_create", args=[ola.contract.code])).status_code == 404
    assert client.get(reverse("ola:commitment_edit", args=[ola.commitment.pk])).status_code == 404
    assert client.post(reverse("ola:commitment_delete", args=[ola.commitment.pk])).status_code == 404
    assert Commitment.objects.filter(pk=ola.commitment.pk).exists()
