"""Recording writes in the audit log: services call `audit_record` inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from mutualis.core.models import AuditAction, AuditEntry


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        # Read by people on the audit page: the same instant, written in Paris time.
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of `obj`, JSON-ready; foreign keys as their ids."""
    names = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"created_at", "updated_at"}:
            continue
        if names is not None and field.name not in names:
            continue
        data[field.name] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [before, after]}."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def actor_label(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "système"
    return str(actor.get_username())


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    organisation_id: int | None = None,
    object_repr: str | None = None,
    via: str = "web",
) -> AuditEntry:
    """Append one entry; call it inside the service's transaction so both commit together."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    if organisation_id is None and obj is not None:
        organisation_id = _organisation_of(obj)
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label(actor),
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:300],
        changes=changes or {},
        organisation_id=organisation_id,
        via=via,
    )


def audit_create(*, actor: Any, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, changes=diff({}, snapshot(obj)), via=via)


def audit_delete(*, actor: Any, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.DELETE, obj=obj, changes=diff(snapshot(obj), {}), via=via)


def _organisation_of(obj: models.Model) -> int | None:
    """The tenant an object belongs to, so a member's entries can be filtered."""
    from mutualis.members.models import Organisation

    if isinstance(obj, Organisation):
        return obj.pk
    for attname in ("organisation_id", "collectivity_id"):
        value = getattr(obj, attname, None)
        if value is not None:
            return int(value)
    return None
