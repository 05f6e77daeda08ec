"""Reads on the audit log (operator admins only) and the home page's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from mutualis.core.models import AuditEntry
from mutualis.core.tenancy import require_operator_admin


def audit_entry_list(
    *,
    actor: Any,
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
