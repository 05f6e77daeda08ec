"""Create/update/delete with validation and an audit entry: the bricks every app's services use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from mutualis.core.actors import Actor
from mutualis.core.audit import audit_delete, audit_record, diff, snapshot
from mutualis.core.models import AuditAction

M = TypeVar("M", bound=models.Model)


def model_create(*, actor: Actor | None, model: type[M], data: Mapping[str, Any], via: str = "web") -> M:
    """Validate and insert one row, and log its creation in the same transaction."""
    instance = model(**data)
    instance.full_clean()
    with transaction.atomic():
        try:
            instance.save(force_insert=True)
        except IntegrityError as error:  # a race past full_clean's uniqueness check
            raise ValidationError(f"enregistrement impossible : {error}") from error
        audit_record(
            actor=actor, action=AuditAction.CREATE, obj=instance, changes=diff({}, snapshot(instance)), via=via
        )
    return instance


def model_update(
    *,
    actor: Actor | None,
    instance: M,
    data: Mapping[str, Any],
    fields: Iterable[str],
    via: str = "web",
) -> tuple[M, dict[str, list[Any]]]:
    """Apply the allowed `fields` of `data`, validate, save only what changed, log the diff."""
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"champs non modifiables : {', '.join(sorted(unknown))}")
    before = snapshot(instance)
    for name, value in data.items():
        setattr(instance, name, value)
    after = snapshot(instance)
    changes = diff(before, after)
    if not changes:
        return instance, {}
    instance.full_clean()
    with transaction.atomic():
        try:
            instance.save(update_fields=[*changes, "updated_at"] if _has_updated_at(instance) else [*changes])
        except IntegrityError as error:
            raise ValidationError(f"enregistrement impossible : {error}") from error
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=instance, changes=changes, via=via)
    return instance, changes


def model_delete(*, actor: Actor | None, instance: models.Model, via: str = "web") -> None:
    with transaction.atomic():
        audit_delete(actor=actor, obj=instance, via=via)
        instance.delete()


def _has_updated_at(instance: models.Model) -> bool:
    return any(f.name == "updated_at" for f in instance._meta.concrete_fields)
