"""The one place that scopes data by the acting account.

Operator accounts see every organisation's rows; a member's account sees its own organisation's
rows only, and asking for another's object is answered 404 (its existence is not disclosed).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def is_operator(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_operator)


def scope(queryset: models.QuerySet[M], user: Any, *, field: str) -> models.QuerySet[M]:
    """Restrict `queryset` to what `user` may read; `field` leads from the model to its organisation."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.is_operator:
        return queryset
    if user.organisation_id is None:
        return queryset.none()
    return queryset.filter(**{field: user.organisation_id})


def get_scoped(queryset: models.QuerySet[M], user: Any, *, field: str, **lookup: Any) -> M:
    """The object matching `lookup` among what `user` may read, or 404."""
    try:
        return scope(queryset, user, field=field).get(**lookup)
    except queryset.model.DoesNotExist:  # type: ignore[attr-defined]
        raise Http404(f"{queryset.model._meta.verbose_name} introuvable") from None


def require_operator_staff(user: Any) -> None:
    """Operator-only pages and actions: members are told nothing exists (404)."""
    if not is_operator(user):
        raise Http404("page réservée à l'opérateur")


def require_operator_admin(user: Any) -> None:
    if not (is_operator(user) and user.is_operator_admin):
        raise Http404("page réservée aux administrateurs de l'opérateur")


def may_write(user: Any) -> bool:
    """Whether `user` may change anything: elected officials read only.

    Pages ask this to decide whether to show a form, and `require_writer` asks it before a write,
    so no one is offered a form that the POST would then refuse."""
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "is_read_only", True)


def require_writer(user: Any) -> None:
    """Elected officials read only."""
    if not may_write(user):
        raise PermissionDenied("votre rôle est en lecture seule")
