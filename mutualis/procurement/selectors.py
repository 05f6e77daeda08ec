"""Reads on the register. Contracts are the operator's public procurement data: every signed-in
account may read them (members included); writes are the operator staff's (see services)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, Vendor
from mutualis.governance.models import BodyKind
from mutualis.procurement.enums import MARKS, EventKind, Procedure, RenewalChoice, ThresholdKind
from mutualis.procurement.models import Contract, Lot, RenewalDecision, Threshold


def _with_history(qs: QuerySet[Contract]) -> QuerySet[Contract]:
    return qs.annotate(
        renewals_used=Count("renewal_decisions", filter=Q(renewal_decisions__decision=RenewalChoice.RENEW)),
        refusals=Count("renewal_decisions", filter=Q(renewal_decisions__decision=RenewalChoice.NOT_RENEW)),
    )


def contract_list(
    *,
    actor: User,
    year: int | None = None,
    vendor: str | None = None,
    procedure: str | None = None,
    application: str | None = None,
    ending_within: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[Contract]:
    """The register, filtered; a fixed number of queries whatever the number of contracts."""
    qs = _with_history(Contract.objects.select_related("award_body")).prefetch_related(
        Prefetch("holders", queryset=Vendor.objects.order_by("name")),
        Prefetch("applications", queryset=Application.objects.order_by("name").only("pk", "slug", "name")),
        Prefetch("lots", queryset=Lot.objects.select_related("holder").order_by("number")),
    )
    if year:
        qs = qs.filter(notified_on__year=year)
    if vendor:
        qs = qs.filter(Q(holders__slug=vendor) | Q(lots__holder__slug=vendor))
    if procedure:
        qs = qs.filter(procedure=procedure)
    if application:
        qs = qs.filter(applications__slug=application)
    if ending_within is not None:
        day = today or timezone.localdate()
        qs = qs.filter(ends_on__gte=day, ends_on__lte=day + dt.timedelta(days=ending_within))
    return qs.distinct().order_by("-notified_on", "code")


def contract_get(*, actor: User, code: str) -> Contract:
    qs = _with_history(Contract.objects.select_related("award_body")).prefetch_related(
        Prefetch("holders", queryset=Vendor.objects.order_by("name")),
        Prefetch("applications", queryset=Application.objects.order_by("name")),
        Prefetch(
            "renewal_decisions", queryset=RenewalDecision.objects.select_related("body").order_by("decided_on", "id")
        ),
        Prefetch("lots", queryset=Lot.objects.select_related("holder", "application").order_by("number")),
    )
    try:
        return qs.get(code=code)
    except Contract.DoesNotExist:
        raise Http404("marché introuvable") from None


def contract_list_for_application(*, actor: User, application: Application) -> list[Contract]:
    """The contracts covering an application, for its catalogue page (one query)."""
    return list(
        Contract.objects.filter(applications=application)
        .only("pk", "code", "object", "max_amount_ht", "notified_on", "ends_on")
        .order_by("-notified_on", "code")
    )


def contract_list_for_vendor(*, actor: User, vendor: Vendor) -> list[Contract]:
    """The contracts a vendor holds, whole or through a lot, for its page (one query)."""
    return list(
        Contract.objects.filter(Q(holders=vendor) | Q(lots__holder=vendor))
        .distinct()
        .only("pk", "code", "object", "max_amount_ht", "notified_on", "ends_on")
        .order_by("-notified_on", "code")
    )


def contract_years() -> list[int]:
    return sorted({d.year for d in Contract.objects.dates("notified_on", "year")}, reverse=True)


def vendor_choices() -> list[tuple[str, str]]:
    qs = Vendor.objects.filter(Q(contracts__isnull=False) | Q(lots__isnull=False)).distinct().order_by("name")
    return [(v.slug, v.name) for v in qs.only("slug", "name")]


def application_choices() -> list[tuple[str, str]]:
    qs = Application.objects.filter(contracts__isnull=False).distinct().order_by("name")
    return [(a.slug, a.name) for a in qs.only("slug", "name")]


# -- thresholds ---------------------------------------------------------------------------------
def threshold_list() -> QuerySet[Threshold]:
    return Threshold.objects.order_by("kind", "-valid_from")


def thresholds_in_force(*, on: dt.date) -> dict[str, Threshold]:
    """The value of each kind of threshold on `on`: the latest one valid from that day or before."""
    in_force: dict[str, Threshold] = {}
    for threshold in Threshold.objects.filter(valid_from__lte=on).order_by("kind", "-valid_from"):
        in_force.setdefault(threshold.kind, threshold)
    return in_force


@dataclass(frozen=True)
class ThresholdTable:
    """Every threshold, to answer "in force on" for many contracts with a single query."""

    rows: tuple[Threshold, ...]

    @classmethod
    def load(cls) -> ThresholdTable:
        return cls(tuple(Threshold.objects.order_by("kind", "-valid_from")))

    def on(self, day: dt.date) -> dict[str, Threshold]:
        in_force: dict[str, Threshold] = {}
        for threshold in self.rows:
            if threshold.valid_from <= day:
                in_force.setdefault(threshold.kind, threshold)
        return in_force


def _euros(value: Decimal) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") + " " + gettext("€ HT")


def contract_reference_date(contract: Contract) -> dt.date:
    return contract.notified_on or contract.awarded_on or contract.starts_on or timezone.localdate()


def contract_warnings(contract: Contract, table: ThresholdTable | None = None) -> list[str]:
    """Where the contract's procedure or award body does not fit its amount, in the active language.

    The European threshold is the works one for works (CPV division 45), else the supplies and
    services one for local authorities; the Bureau's delegation stops at it (delegation of the
    reference operator's Comité, 05/07/2020).
    """
    day = contract_reference_date(contract)
    in_force = (table or ThresholdTable.load()).on(day)
    kind = ThresholdKind.EU_WORKS if contract.cpv_code.startswith("45") else ThresholdKind.EU_SUPPLIES_SERVICES
    warnings: list[str] = []
    amount = contract.max_amount_ht
    european = in_force.get(kind)
    if european is not None and amount >= european.amount_ht:
        limit = _euros(european.amount_ht)
        if contract.procedure == Procedure.ADAPTED:
            warnings.append(
                gettext(
                    "Procédure adaptée au-delà du seuil européen (%(limit)s au %(day)s) : "
                    "une procédure formalisée est requise."
                )
                % {"limit": limit, "day": f"{day:%d/%m/%Y}"}
            )
        if contract.award_body is not None and contract.award_body.kind == BodyKind.BUREAU:
            warnings.append(
                gettext(
                    "Le Bureau n'a délégation que pour les marchés inférieurs aux seuils européens (%(limit)s) : "
                    "l'attribution relève de la commission d'appel d'offres."
                )
                % {"limit": limit}
            )
        if contract.award_body is None:
            warnings.append(
                gettext(
                    "Marché au-dessus du seuil européen (%(limit)s) : l'instance d'attribution n'est pas renseignée."
                )
                % {"limit": limit}
            )
    no_publicity = in_force.get(ThresholdKind.NO_PUBLICITY)
    if (
        no_publicity is not None
        and amount >= no_publicity.amount_ht
        and (contract.procedure == Procedure.WITHOUT_PUBLICITY or contract.award_mode == "sans_publicite")
    ):
        warnings.append(
            gettext(
                "Sans publicité ni mise en concurrence au-delà de %(limit)s : le marché doit relever d'un cas "
                "dérogatoire du code de la commande publique (art. R2122-1 et suivants), justification à conserver."
            )
            % {"limit": _euros(no_publicity.amount_ht)}
        )
    return warnings


def attach_warnings(contracts: Iterable[Contract]) -> list[Contract]:
    table = ThresholdTable.load()
    rows = list(contracts)
    for contract in rows:
        contract.warnings = contract_warnings(contract, table)  # type: ignore[attr-defined]
    return rows


# -- renewals and ends --------------------------------------------------------------------------
@dataclass(frozen=True)
class UpcomingEvent:
    contract: Contract
    event: str
    due_on: dt.date
    days_left: int

    @property
    def mark(self) -> int:
        """The tightest mark crossed: 30 within 30 days, 60 within 60, else 90."""
        return next(m for m in MARKS if self.days_left <= m)

    @property
    def label(self) -> str:
        return str(EventKind(self.event).label)


def upcoming_events(
    *, actor: User | None, today: dt.date | None = None, horizon: int = max(MARKS)
) -> list[UpcomingEvent]:
    """Renewal decisions and ends due within `horizon` days: a renewal decision is due at the end
    of the current period while renewals remain and none was refused; otherwise the end comes."""
    day = today or timezone.localdate()
    qs = (
        _with_history(Contract.objects.all())
        .filter(ends_on__gte=day, ends_on__lte=day + dt.timedelta(days=horizon))
        .order_by("ends_on", "code")
    )
    events = []
    for contract in qs:
        renewable = contract.refusals == 0 and contract.renewals_used < contract.renewals_allowed  # type: ignore[attr-defined]
        assert contract.ends_on is not None
        events.append(
            UpcomingEvent(
                contract=contract,
                event=EventKind.RENEWAL if renewable else EventKind.END,
                due_on=contract.ends_on,
                days_left=(contract.ends_on - day).days,
            )
        )
    return events


def events_by_mark(events: Iterable[UpcomingEvent]) -> dict[int, list[UpcomingEvent]]:
    buckets: dict[int, list[UpcomingEvent]] = {mark: [] for mark in MARKS}
    for event in events:
        buckets[event.mark].append(event)
    return buckets
