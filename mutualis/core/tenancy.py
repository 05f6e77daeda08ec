"""The one place that scopes data by the acting account, and the role checks of pages and services.

Operator accounts see every organisation's rows; a member's account sees its own organisation's
rows only, and asking for another's object is answered 404 (its existence is not disclosed). A
tenant model's queryset is a `TenantQuerySet`: its `visible_to(user)` is the one gate.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from mutualis.core.actors import Visitor, signed_in_actor

M = TypeVar("M", bound=models.Model)


def is_operator(user: Visitor | None) -> bool:
    actor = signed_in_actor(user)
    return actor is not None and actor.is_operator


class TenantQuerySet(models.QuerySet[M, M]):
    """The tenancy gate of a model whose rows belong to one organisation.

    A subclass names once, in `tenant_field`, the path from the model to its organisation
    (`"collectivity"`, `"ticket__collectivity"`, `"pk"` for the organisation itself); the model
    takes it as its manager (`objects = TicketQuerySet.as_manager()`). Views, the API and exports
    read through `visible_to` (or a selector that does): `core/tests/test_tenancy_gate.py` fails
    on a read of such a model around it."""

    tenant_field: ClassVar[str]

    def visible_to(self, user: Visitor | None) -> Self:
        """The rows `user` may read: every row for operator staff, its organisation's for a
        member's account, none for an anonymous visitor or an account without organisation."""
        actor = signed_in_actor(user)
        if actor is None:
            return self.none()
        if actor.is_operator:
            return self
        if actor.organisation_id is None:
            return self.none()
        return self.filter(**{self.tenant_field: actor.organisation_id})

    def get_visible(self, user: Visitor | None, **lookup: Any) -> M:
        """The row matching `lookup` among what `user` may read, or 404: another member's object
        is answered as if it did not exist."""
        try:
            return self.visible_to(user).get(**lookup)
        except self.model.DoesNotExist:  # type: ignore[attr-defined]
            raise Http404(f"{self.model._meta.verbose_name} introuvable") from None


def require_operator_staff(user: Visitor | None) -> None:
    """Operator-only pages and actions: members are told nothing exists (404)."""
    if not is_operator(user):
        raise Http404("page réservée à l'opérateur")


def require_operator_admin(user: Visitor | None) -> None:
    actor = signed_in_actor(user)
    if not (actor is not None and actor.is_operator and actor.is_operator_admin):
        raise Http404("page réservée aux administrateurs de l'opérateur")


def may_write(user: Visitor | None) -> bool:
    """Whether `user` may change anything: elected officials read only.

    Pages ask this to decide whether to show a form, and `require_writer` asks it before a write,
    so no one is offered a form that the POST would then refuse."""
    actor = signed_in_actor(user)
    return actor is not None and not actor.is_read_only


def require_writer(user: Visitor | None) -> None:
    """Elected officials read only."""
    if not may_write(user):
        raise PermissionDenied("votre rôle est en lecture seule")
