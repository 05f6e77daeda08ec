"""Writes on governance: bodies and mandates, by operator staff."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.core.services import model_create, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.governance.models import Body, Mandate, Person


def body_create(*, actor: User, data: dict[str, Any]) -> Body:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Body, data=data)


def person_create(*, actor: User, data: dict[str, Any]) -> Person:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Person, data=data)


def mandate_create(*, actor: User, data: dict[str, Any]) -> Mandate:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Mandate, data=data)


def mandate_end(*, actor: User, mandate: Mandate, end_on: Any) -> dict[str, list[Any]]:
    require_operator_staff(actor)
    require_writer(actor)
    _, changes = model_update(actor=actor, instance=mandate, data={"end_on": end_on}, fields=("end_on",))
    return changes


def mandate_appoint(*, actor: User, person_name: str, data: dict[str, Any]) -> Mandate:
    """Seat a person (created on first appointment) on a body."""
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.utils.text import slugify

    require_operator_staff(actor)
    require_writer(actor)
    name = " ".join(person_name.split())
    if not name:
        raise ValidationError({"person_name": gettext("indiquez le nom de la personne")})
    with transaction.atomic():
        person = Person.objects.filter(slug=slugify(name)).first()
        if person is None:
            person = model_create(actor=actor, model=Person, data={"slug": slugify(name)[:80], "full_name": name})
        return model_create(actor=actor, model=Mandate, data={**data, "person": person})
