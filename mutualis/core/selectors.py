"""Reads on the audit log (operator admins only) and the home page's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils.translation import gettext

from mutualis.core.actors import Visitor
from mutualis.core.models import AuditEntry
from mutualis.core.tenancy import require_operator_admin


def audit_entry_list(
    *,
    actor: Visitor,
    who: str | None = None,
    action: str | None = None,
    model: str | None = None,
    organisation: str | None = None,
    object_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    require_operator_admin(actor)
    qs = AuditEntry.objects.select_related("content_type", "organisation")
    if who:
        qs = qs.filter(actor_label__icontains=who)
    if action:
        qs = qs.filter(action=action)
    if model:
        app_label, _, model_name = model.partition(".")
        qs = qs.filter(content_type__app_label=app_label, content_type__model=model_name)
    if organisation:
        qs = qs.filter(organisation__slug=organisation)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs.order_by("-created_at", "-id")


# -- the journal's display rows ------------------------------------------------------------------
EMPTY = "—"


@dataclass(frozen=True)
class ChangeRow:
    label: str
    before: str
    after: str


def _hidden(name: str) -> bool:
    # Bookkeeping the services keep in step themselves (cumulative business seconds): no reader acts on it.
    return name.endswith("_offset") or name in {"created_at", "updated_at", "password"}


def _shown(field: Any, value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return gettext("oui") if value else gettext("non")
    if field is not None and getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def audit_change_rows(entry: AuditEntry) -> list[ChangeRow]:
    """An entry's changes as people read them: the field's French name, yes/no, a choice's label,
    « — » for empty; bookkeeping fields left out. `_meta` is in memory: no query per row."""
    model = entry.content_type.model_class() if entry.content_type is not None else None
    rows = []
    for name, values in (entry.changes or {}).items():
        if _hidden(name):
            continue
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
        label = str(getattr(field, "verbose_name", "") or name)
        before, after = values if isinstance(values, list) and len(values) == 2 else (None, values)
        rows.append(ChangeRow(label=label, before=_shown(field, before), after=_shown(field, after)))
    return rows
