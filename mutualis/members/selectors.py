"""Reads on organisations, scoped by the acting account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise

from mutualis.accounts.models import User
from mutualis.members.models import Contact, Organisation, OrganisationKind, StaffFigures


@dataclass(frozen=True)
class CollectivityFigure:
    """A count per collectivity that an app above adds to the members list, as a column with its
    total (the catalogue's active subscriptions): registered from that app's AppConfig.ready, so
    members does not import it."""

    name: str  # the annotation on each collectivity
    label: str | Promise  # the column's heading
    expression: Callable[[], Any]  # the aggregate, built per query


_figures: dict[str, CollectivityFigure] = {}


def collectivity_figure_register(*, name: str, label: str | Promise, expression: Callable[[], Any]) -> None:
    _figures[name] = CollectivityFigure(name=name, label=label, expression=expression)


def collectivity_figures() -> list[CollectivityFigure]:
    return list(_figures.values())


def collectivity_list(*, actor: User, kind: str | None = None, include_former: bool = True) -> QuerySet[Organisation]:
    """Collectivities (not the operator) the actor may see, with the registered figures (their
    active subscriptions)."""
    qs = Organisation.objects.collectivities()
    if kind:
        qs = qs.filter(kind=kind)
    if not include_former:
        qs = qs.filter(left_on__isnull=True)
    if _figures:
        qs = qs.annotate(**{figure.name: figure.expression() for figure in _figures.values()})
    return qs.visible_to(actor).order_by("name")


def collectivity_get(*, actor: User, slug: str) -> Organisation:
    return Organisation.objects.collectivities().get_visible(actor, slug=slug)


def contact_get(*, actor: User, organisation: Organisation, pk: int) -> Contact:
    """One of `organisation`'s contacts, or 404 (another member's contact is not disclosed)."""
    return Contact.objects.filter(organisation=organisation).get_visible(actor, pk=pk)


def member_count() -> int:
    """How many members there are today: a public figure (the governance's seats), no member's rows."""
    return Organisation.objects.members().count()


def operator_siret() -> str:
    """The operator's SIRET, the buyer of its public contracts (the DECP export)."""
    return Organisation.objects.filter(kind=OrganisationKind.OPERATOR).values_list("siret", flat=True).first() or ""


def operator_get() -> Organisation | None:
    return Organisation.objects.filter(kind=OrganisationKind.OPERATOR).prefetch_related("services").first()


def operator_staff_figures(operator: Organisation) -> StaffFigures | None:
    return operator.staff_figures.order_by("-year").first()
