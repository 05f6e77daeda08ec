"""Writes on a maintenance contract's commitments: operator staff only, validated, audited."""

from __future__ import annotations

from typing import Any

from mutualis.accounts.models import User
from mutualis.core.services import model_create, model_delete, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.ola.models import Commitment
from mutualis.procurement.models import Contract

COMMITMENT_FIELDS = (
    "ticket_type",
    "priority",
    "calendar",
    "respond_value",
    "respond_unit",
    "fix_value",
    "fix_unit",
)


def _require_editor(actor: User | None) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def commitment_create(*, actor: User, contract: Contract, data: dict[str, Any], via: str = "web") -> Commitment:
    """A new commitment of `contract`; episodes starting from now on are measured by it."""
    _require_editor(actor)
    fields = {name: data[name] for name in COMMITMENT_FIELDS if name in data}
    return model_create(actor=actor, model=Commitment, data={"contract": contract, **fields}, via=via)


def commitment_update(
    *, actor: User, commitment: Commitment, data: dict[str, Any], via: str = "web"
) -> tuple[Commitment, dict[str, list[Any]]]:
    """Change a commitment; running and past episodes keep the budget they started with."""
    _require_editor(actor)
    return model_update(actor=actor, instance=commitment, data=data, fields=COMMITMENT_FIELDS, via=via)


def commitment_delete(*, actor: User, commitment: Commitment, via: str = "web") -> None:
    """Remove a commitment; its episodes keep their budget and contract."""
    _require_editor(actor)
    model_delete(actor=actor, instance=commitment, via=via)
