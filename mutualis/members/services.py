"""Writes on organisations, contacts, operator services and staff figures."""

from __future__ import annotations

from typing import Any

from mutualis.accounts.models import User
from mutualis.core.services import model_create, model_delete, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.members.cache import operator_changed
from mutualis.members.models import Contact, Organisation, OrganisationKind

# What a member's manager may edit on their own organisation; identity fields stay with the operator.
MEMBER_EDITABLE_FIELDS = ("website", "agents_count", "notes")
OPERATOR_EDITABLE_FIELDS = (
    "name",
    "short_name",
    "kind",
    "parent",
    "insee_code",
    "siren",
    "siret",
    "department",
    "arrondissement",
    "authority_nature",
    "population",
    "population_year",
    "agents_count",
    "joined_on",
    "left_on",
    "website",
    "notes",
)
CONTACT_FIELDS = ("full_name", "role", "function", "email", "phone")


def collectivity_create(*, actor: User, data: dict[str, Any], via: str = "web") -> Organisation:
    require_operator_staff(actor)
    require_writer(actor)
    organisation = model_create(actor=actor, model=Organisation, data=data, via=via)
    if organisation.kind == OrganisationKind.OPERATOR:
        operator_changed()
    return organisation


def collectivity_update(
    *, actor: User, organisation: Organisation, data: dict[str, Any], via: str = "web"
) -> dict[str, list[Any]]:
    """Operator staff edit everything; a member manager edits a few fields of their own organisation.
    The caller has fetched `organisation` through a scoped selector, so a foreign one is already 404."""
    require_writer(actor)
    fields = OPERATOR_EDITABLE_FIELDS if actor.is_operator else _member_fields(actor, organisation)
    _, changes = model_update(actor=actor, instance=organisation, data=data, fields=fields, via=via)
    if changes and (organisation.kind == OrganisationKind.OPERATOR or "kind" in changes):
        operator_changed()  # the name every page prints
    return changes


def _member_fields(actor: User, organisation: Organisation) -> tuple[str, ...]:
    if not actor.is_member_manager or actor.organisation_id != organisation.pk:
        require_operator_staff(actor)  # raises 404: not theirs to edit
    return MEMBER_EDITABLE_FIELDS


def can_edit_organisation(actor: User, organisation: Organisation) -> bool:
    if actor.is_read_only:
        return False
    return bool(actor.is_operator or (actor.is_member_manager and actor.organisation_id == organisation.pk))


def contact_create(*, actor: User, organisation: Organisation, data: dict[str, Any]) -> Contact:
    _require_contact_editor(actor, organisation)
    return model_create(actor=actor, model=Contact, data={**data, "organisation": organisation})


def contact_update(*, actor: User, contact: Contact, data: dict[str, Any]) -> dict[str, list[Any]]:
    _require_contact_editor(actor, contact.organisation)
    _, changes = model_update(actor=actor, instance=contact, data=data, fields=CONTACT_FIELDS)
    return changes


def contact_delete(*, actor: User, contact: Contact) -> None:
    _require_contact_editor(actor, contact.organisation)
    model_delete(actor=actor, instance=contact)


def _require_contact_editor(actor: User, organisation: Organisation) -> None:
    require_writer(actor)
    if not can_edit_organisation(actor, organisation):
        require_operator_staff(actor)
