"""Writes on governance: bodies and mandates, by operator staff."""

from __future__ import annotations

from typing import Any

from mutualis.core.services import model_create, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.governance.models import Body, Mandate, Person


def body_create(*, actor: Any, data: dict[str, Any]) -> Body:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Body, data=data)


def person_create(*, actor: Any, data: dict[str, Any]) -> Person:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Person, data=data)


def mandate_create(*, actor: Any, data: dict[str, Any]) -> Mandate:
    require_operator_staff(actor)
    require_writer(actor)
    return model_create(actor=actor, model=Mandate, data=data)


def mandate_end(*, actor: Any, mandate: Mandate, end_on: Any) -> dict[str, list[Any]]:
    require_operator_staff(actor)
    require_writer(actor)
    _, changes = model_update(actor=actor, instance=mandate, data={"end_on": end_on}, fields=("end_on",))
    return changes
