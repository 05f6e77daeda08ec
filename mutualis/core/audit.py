"""Recording writes in the audit log, the only module that inserts entries: services call
`audit_record` (one entry) or `audit_many` (a batch) inside their transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.utils import timezone

from mutualis.core.actors import Actor, signed_in_actor
from mutualis.core.bulk import insert_rows
from mutualis.core.models import AuditAction, AuditEntry

_ACTIONS = frozenset(AuditAction.values)


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


def actor_label(actor: Actor | None) -> str:
    user = signed_in_actor(actor)
    if user is None:
        return "système"
    return user.get_username()


@dataclasses.dataclass(frozen=True, slots=True)
class AuditDraft:
    """One entry of a batch for `audit_many`: the object by its model and id (bulk paths hold
    ids, not instances), its text, the changes and the organisation concerned."""

    action: str
    model: type[models.Model] | None = None
    object_id: str | int = ""
    object_repr: str = ""
    changes: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    organisation_id: int | None = None


def _columns(
    *,
    actor: Actor | None,
    action: str,
    content_type: ContentType | None,
    object_id: str | int,
    object_repr: str,
    changes: dict[str, list[Any]] | None,
    organisation_id: int | None,
    via: str,
) -> dict[str, Any]:
    """The row both writers insert: one place checks the action and trims what the columns hold."""
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action: {action!r}")
    if not via or len(via) > 16:
        raise ValueError(f"bad audit channel: {via!r}")
    user = signed_in_actor(actor)
    return {
        "actor_id": user.pk if user is not None else None,
        "actor_label": actor_label(actor)[:200],
        "action": action,
        "content_type_id": content_type.pk if content_type is not None else None,
        "object_id": str(object_id)[:64],
        "object_repr": object_repr[:300],
        "changes": changes or {},
        "organisation_id": organisation_id,
        "via": via,
    }


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    organisation_id: int | None = None,
    object_repr: str | None = None,
    via: str = "web",
) -> AuditEntry:
    """Append one entry; call it inside the service's transaction so both commit together."""
    if organisation_id is None and obj is not None:
        organisation_id = _organisation_of(obj)
    return AuditEntry.objects.create(
        **_columns(
            actor=actor,
            action=action,
            content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=object_repr if object_repr is not None else str(obj) if obj is not None else "",
            changes=changes,
            organisation_id=organisation_id,
            via=via,
        )
    )


def audit_many(*, actor: Actor | None, entries: Iterable[AuditDraft], via: str = "web") -> int:
    """Append a batch of entries by one actor, as `audit_record` would write each one, in one
    INSERT (COPY on PostgreSQL): the directory sync writes 30,000 at a time. Returns the count."""
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    adapt_json = connection.ops.adapt_json_value
    encoder = AuditEntry._meta.get_field("changes").encoder
    types: dict[type[models.Model], ContentType] = {}
    rows: list[tuple[Any, ...]] = []
    for draft in entries:
        content_type = None
        if draft.model is not None:
            content_type = types.get(draft.model)
            if content_type is None:
                content_type = types[draft.model] = ContentType.objects.get_for_model(draft.model)
        row = _columns(
            actor=actor,
            action=draft.action,
            content_type=content_type,
            object_id=draft.object_id,
            object_repr=draft.object_repr,
            changes=draft.changes,
            organisation_id=draft.organisation_id,
            via=via,
        )
        row["changes"] = adapt_json(row["changes"], encoder)
        rows.append((at, *(row[column] for column in _BATCH_COLUMNS.values())))
    insert_rows(AuditEntry, ("created_at", *_BATCH_COLUMNS), rows)
    return len(rows)


# field name -> key of the row `_columns` returns
_BATCH_COLUMNS = {
    "actor": "actor_id",
    "actor_label": "actor_label",
    "action": "action",
    "content_type": "content_type_id",
    "object_id": "object_id",
    "object_repr": "object_repr",
    "changes": "changes",
    "organisation": "organisation_id",
    "via": "via",
}


def audit_create(*, actor: Actor | None, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.CREATE, obj=obj, changes=diff({}, snapshot(obj)), via=via)


def audit_delete(*, actor: Actor | None, obj: models.Model, via: str = "web") -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.DELETE, obj=obj, changes=diff(snapshot(obj), {}), via=via)


def organisation_model() -> type[models.Model]:
    """The tenant model (members' Organisation), read from the entry's own foreign key: core, the
    base layer, names it only by that key's "members.Organisation" and imports nothing above it."""
    model = AuditEntry._meta.get_field("organisation").related_model
    assert isinstance(model, type)
    return model


def _organisation_of(obj: models.Model) -> int | None:
    """The tenant an object belongs to, so a member's entries can be filtered."""
    if isinstance(obj, organisation_model()):
        return obj.pk
    for attname in ("organisation_id", "collectivity_id"):
        value = getattr(obj, attname, None)
        if value is not None:
            return int(value)
    return None
