"""Writes on the register: contracts, holders, lots, renewal decisions, thresholds, DECP import
and the renewal/end alerts. Each checks everything first, then writes in one transaction with an
audit entry, so a refused input leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, Vendor
from mutualis.core.audit import actor_label, audit_record, diff, snapshot
from mutualis.core.models import AuditAction
from mutualis.core.services import model_create, model_update
from mutualis.core.tenancy import require_operator_staff, require_writer
from mutualis.governance.models import Body
from mutualis.lib.identifiers import siret_error
from mutualis.procurement import decp
from mutualis.procurement.enums import MARKS, RenewalChoice
from mutualis.procurement.models import Contract, Lot, ProcurementNotice, RenewalDecision, Threshold
from mutualis.procurement.selectors import UpcomingEvent, upcoming_events

CONTRACT_FIELDS = (
    "code",
    "object",
    "kind",
    "procedure",
    "award_mode",
    "amount_kind",
    "max_amount_ht",
    "budget_scope",
    "cpv_code",
    "notified_on",
    "starts_on",
    "duration_months",
    "planned_end_on",
    "renewals_allowed",
    "renewal_period_months",
    "award_body",
    "awarded_on",
    "buyer_siret",
    "decp_details",
    "decp_published_on",
    "notes",
)
RESOURCES_SERVICE = "pole-ressources"


def _require_procurement_writer(actor: Any) -> None:
    # Services called by batch jobs pass actor=None (the system); people must be operator staff.
    if actor is None:
        return
    require_operator_staff(actor)
    require_writer(actor)


def _euros(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + " € HT"


# -- holders ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewHolder:
    """A holder given by its SIRET (and a name, used when no vendor has that SIRET yet)."""

    siret: str
    name: str = ""


def _check_new_holders(new_holders: Sequence[NewHolder], key: str = "holders") -> None:
    for holder in new_holders:
        if message := siret_error(holder.siret):
            raise ValidationError(
                {key: f"SIRET {holder.siret!r} du titulaire {holder.name or ''} : {message}".replace("  ", " ")}
            )


def _vendor_for(holder: NewHolder, *, actor: Any, via: str) -> Vendor:
    vendor = Vendor.objects.filter(siret=holder.siret).order_by("pk").first()
    if vendor is not None:
        return vendor
    name = holder.name or f"Titulaire SIRET {holder.siret}"
    slug = slugify(name)[:50] or "titulaire"
    if Vendor.objects.filter(slug=slug).exists():
        slug = f"{slug[:45]}-{holder.siret[-5:]}"
    return model_create(actor=actor, model=Vendor, data={"slug": slug, "name": name, "siret": holder.siret}, via=via)


def vendor_set_siret(*, actor: Any, vendor: Vendor, siret: str, via: str = "web") -> Vendor:
    """Give a holder its SIRET (required to publish its contracts as DECP)."""
    _require_procurement_writer(actor)
    if siret and (message := siret_error(siret)):
        raise ValidationError({"siret": message})
    model_update(actor=actor, instance=vendor, data={"siret": siret}, fields=("siret",), via=via)
    return vendor


# -- contracts ----------------------------------------------------------------------------------
def _refresh_end(contract: Contract) -> None:
    renewals = contract.renewal_decisions.filter(decision=RenewalChoice.RENEW).count()
    ends_on = contract.compute_end(renewals)
    if ends_on != contract.ends_on:
        contract.ends_on = ends_on
        contract.save(update_fields=["ends_on", "updated_at"])


def _check_lots_total(contract: Contract, extra: Decimal = Decimal(0), exclude: int | None = None) -> None:
    lots = Lot.objects.filter(contract=contract)
    if exclude is not None:
        lots = lots.exclude(pk=exclude)
    total = (lots.aggregate(total=Sum("amount_ht"))["total"] or Decimal(0)) + extra
    if total > contract.max_amount_ht:
        raise ValidationError(
            {
                "amount_ht": f"les lots totaliseraient {_euros(total)}, au-delà du montant du marché "
                f"({_euros(contract.max_amount_ht)})"
            }
        )


def contract_create(
    *,
    actor: Any,
    data: dict[str, Any],
    holders: Sequence[Vendor] = (),
    new_holders: Sequence[NewHolder] = (),
    applications: Sequence[Application] = (),
    via: str = "web",
) -> Contract:
    """Register a contract with its holders (existing vendors, or new ones given by SIRET) and
    the applications it covers."""
    _require_procurement_writer(actor)
    _check_new_holders(new_holders)
    contract = Contract(**data)
    contract.full_clean()
    with transaction.atomic():
        contract.ends_on = contract.compute_end(0)
        contract.save(force_insert=True)
        vendors = [*holders, *(_vendor_for(h, actor=actor, via=via) for h in new_holders)]
        contract.holders.set(vendors)
        contract.applications.set(applications)
        changes = diff({}, snapshot(contract))
        changes["holders"] = [None, sorted(v.name for v in vendors)]
        changes["applications"] = [None, sorted(a.name for a in applications)]
        audit_record(actor=actor, action=AuditAction.CREATE, obj=contract, changes=changes, via=via)
    return contract


def contract_update(
    *,
    actor: Any,
    contract: Contract,
    data: dict[str, Any],
    holders: Sequence[Vendor] | None = None,
    new_holders: Sequence[NewHolder] = (),
    applications: Sequence[Application] | None = None,
    via: str = "web",
) -> dict[str, list[Any]]:
    """Change a contract; its end date follows, and the lots must still fit its amount."""
    _require_procurement_writer(actor)
    _check_new_holders(new_holders)
    used = contract.renewal_decisions.filter(decision=RenewalChoice.RENEW).count()
    if "renewals_allowed" in data and data["renewals_allowed"] is not None and data["renewals_allowed"] < used:
        raise ValidationError({"renewals_allowed": f"{used} reconduction(s) déjà décidée(s)"})
    if "max_amount_ht" in data and data["max_amount_ht"] is not None:
        lots_total = Lot.objects.filter(contract=contract).aggregate(total=Sum("amount_ht"))["total"] or Decimal(0)
        if lots_total > data["max_amount_ht"]:
            raise ValidationError(
                {"max_amount_ht": f"les lots totalisent déjà {_euros(lots_total)}, au-delà de ce montant"}
            )
    with transaction.atomic():
        _, changes = model_update(actor=actor, instance=contract, data=data, fields=CONTRACT_FIELDS, via=via)
        relations: dict[str, list[Any]] = {}
        if holders is not None or new_holders:
            before = sorted(v.name for v in contract.holders.all())
            vendors = [
                *(holders if holders is not None else contract.holders.all()),
                *(_vendor_for(h, actor=actor, via=via) for h in new_holders),
            ]
            contract.holders.set(vendors)
            after = sorted(v.name for v in vendors)
            if before != after:
                relations["holders"] = [before, after]
        if applications is not None:
            before = sorted(a.name for a in contract.applications.all())
            contract.applications.set(applications)
            after = sorted(a.name for a in applications)
            if before != after:
                relations["applications"] = [before, after]
        if relations:
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=contract, changes=relations, via=via)
        _refresh_end(contract)
    return {**changes, **relations}


def lot_add(
    *,
    actor: Any,
    contract: Contract,
    number: int,
    object: str,  # noqa: A002 - the domain word
    amount_ht: Decimal | None = None,
    holder: Vendor | None = None,
    application: Application | None = None,
    via: str = "web",
) -> Lot:
    """Add a lot; the lots may not add up to more than the contract's amount. Its holder and
    application join the contract's."""
    _require_procurement_writer(actor)
    if amount_ht is not None and amount_ht < 0:
        raise ValidationError({"amount_ht": "le montant ne peut pas être négatif"})
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        _check_lots_total(locked, amount_ht or Decimal(0))
        if Lot.objects.filter(contract=locked, number=number).exists():
            raise ValidationError({"number": f"le lot {number} existe déjà"})
        lot = model_create(
            actor=actor,
            model=Lot,
            data={
                "contract": locked,
                "number": number,
                "object": object,
                "amount_ht": amount_ht,
                "holder": holder,
                "application": application,
            },
            via=via,
        )
        if holder is not None:
            locked.holders.add(holder)
        if application is not None:
            locked.applications.add(application)
    return lot


def renewal_decide(
    *,
    actor: Any,
    contract: Contract,
    decided_on: dt.date,
    decision: str,
    body: Body | None = None,
    note: str = "",
    via: str = "web",
) -> RenewalDecision:
    """Record a renewal decision. A renewal beyond the allowed count, or after a refusal, is refused."""
    _require_procurement_writer(actor)
    if decision not in RenewalChoice.values:
        raise ValidationError({"decision": f"décision inconnue : {decision}"})
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        history = list(locked.renewal_decisions.all())
        used = sum(1 for d in history if d.decision == RenewalChoice.RENEW)
        if any(d.decision == RenewalChoice.NOT_RENEW for d in history):
            raise ValidationError({"decision": "la non-reconduction de ce marché a déjà été décidée"})
        if decision == RenewalChoice.RENEW:
            if used >= locked.renewals_allowed:
                raise ValidationError(
                    {
                        "decision": f"reconduction refusée : le marché ne peut être reconduit que "
                        f"{locked.renewals_allowed} fois et {used} reconduction(s) sont déjà décidées"
                    }
                )
            if not locked.duration_known or not locked.renewal_period_months:
                raise ValidationError(
                    {"decision": "durée du marché inconnue : impossible de calculer la nouvelle date de fin"}
                )
            used += 1
        if history and decided_on < history[-1].decided_on:
            raise ValidationError({"decided_on": "la décision précède la dernière décision enregistrée"})
        new_end = locked.compute_end(used)
        record = RenewalDecision(
            contract=locked,
            decided_on=decided_on,
            decision=decision,
            new_end_on=new_end,
            body=body,
            note=note,
            decided_by=actor if getattr(actor, "is_authenticated", False) else None,
            decided_by_label=actor_label(actor),
        )
        record.full_clean()
        record.save(force_insert=True)
        audit_record(actor=actor, action=AuditAction.CREATE, obj=record, changes=diff({}, snapshot(record)), via=via)
        if new_end != locked.ends_on:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                obj=locked,
                changes={
                    "ends_on": [
                        locked.ends_on.isoformat() if locked.ends_on else None,
                        new_end.isoformat() if new_end else None,
                    ]
                },
                via=via,
            )
            locked.ends_on = new_end
            locked.save(update_fields=["ends_on", "updated_at"])
    contract.ends_on = new_end
    return record


def threshold_create(*, actor: Any, data: dict[str, Any], via: str = "web") -> Threshold:
    _require_procurement_writer(actor)
    return model_create(actor=actor, model=Threshold, data=data, via=via)


# -- DECP import --------------------------------------------------------------------------------
@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def decp_import(*, actor: Any, content: str | bytes, source: str = "", via: str = "cli") -> ImportResult:
    """Import the `marche` entries of a DECP 2.0.3 file (concessions are counted, not imported).
    The whole file is checked against the schema first; any error names its path and nothing is
    written. A contract already registered under the same id is updated."""
    _require_procurement_writer(actor)
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = f" (ligne {error.lineno}, colonne {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        raise ValidationError(f"{source or 'fichier'} : JSON illisible{where}") from None
    errors = decp.schema_errors(document)
    if errors:
        raise ValidationError([f"{source or 'fichier'} non conforme au schéma DECP 2.0.3 — {e}" for e in errors])
    entries = document["marches"].get("marche", [])
    plans = []
    for index, entry in enumerate(entries):
        data = decp.entry_to_contract(entry)
        titulaires = entry["titulaires"]
        holders: list[NewHolder] = []
        if all(t["titulaire"]["typeIdentifiant"] == "SIRET" for t in titulaires):
            for t_index, item in enumerate(titulaires):
                siret = item["titulaire"]["id"]
                if message := siret_error(siret):
                    path = decp.json_path(["marches", "marche", index, "titulaires", t_index, "titulaire", "id"])
                    raise ValidationError(f"{source or 'fichier'} : {path} : SIRET {siret!r} invalide ({message})")
                holders.append(NewHolder(siret=siret))
        else:  # identifiers we do not model (TVA, TAHITI…) stay verbatim
            data["decp_details"]["titulaires"] = titulaires
        probe = Contract(**data)
        try:
            probe.clean_fields()
            probe.clean()
        except ValidationError as error:
            path = decp.json_path(["marches", "marche", index])
            raise ValidationError(f"{source or 'fichier'} : {path} : {'; '.join(error.messages)}") from None
        plans.append((data, holders))
    result = ImportResult(
        skipped=[f"contrat de concession {c.get('id', '?')}" for c in document["marches"].get("contrat-concession", [])]
    )
    with transaction.atomic():
        for data, holders in plans:
            existing = Contract.objects.filter(code=data["code"]).first()
            if existing is None:
                contract_create(actor=actor, data=data, new_holders=holders, via=via)
                result.created.append(data["code"])
            else:
                fields = {k: v for k, v in data.items() if k != "code"}
                vendors = [_vendor_for(h, actor=actor, via=via) for h in holders]
                contract_update(actor=actor, contract=existing, data=fields, holders=vendors, via=via)
                result.updated.append(data["code"])
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_repr=f"DECP {source}".strip(),
            changes={"created": [None, result.created], "updated": [None, result.updated]},
            via=via,
        )
    return result


# -- renewal and end alerts ---------------------------------------------------------------------
def alert_recipients() -> list[str]:
    configured = list(getattr(settings, "PROCUREMENT_NOTIFY_TO", []) or [])
    if configured:
        return configured
    return sorted(
        User.objects.filter(service__slug=RESOURCES_SERVICE, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _alert_line(event: UpcomingEvent) -> str:
    contract = event.contract
    return (
        f"- {contract.code} ({contract.object[:90]}) : {event.label} le {event.due_on:%d/%m/%Y}, "
        f"dans {event.days_left} jour(s)"
    )


def contract_alerts_send(*, actor: Any = None, today: dt.date | None = None, via: str = "cli") -> list[UpcomingEvent]:
    """Mail the resources team about contracts crossing the 90, 60 and 30-day marks before a
    renewal decision or an end. What was sent is recorded, so running again sends nothing new;
    an alert at a tighter mark still goes out when the date comes closer."""
    _require_procurement_writer(actor)
    day = today or timezone.localdate()
    recipients = alert_recipients()
    events = upcoming_events(actor=actor or _System(), today=day)
    if not events or not recipients:
        return []
    with transaction.atomic():
        sent = set(
            ProcurementNotice.objects.filter(contract__in=[e.contract for e in events]).values_list(
                "contract_id", "event", "due_on", "mark"
            )
        )
        due = [
            e for e in events if not any((e.contract.pk, e.event, e.due_on, m) in sent for m in MARKS if m <= e.mark)
        ]
        if not due:
            return []
        ProcurementNotice.objects.bulk_create(
            [
                ProcurementNotice(
                    contract=e.contract, event=e.event, due_on=e.due_on, mark=e.mark, recipients=", ".join(recipients)
                )
                for e in due
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_repr="alertes marchés (reconductions et échéances)",
            changes={"alerts": [None, [f"{e.contract.code} {e.event} {e.due_on.isoformat()} J-{e.mark}" for e in due]]},
            via=via,
        )
        subject = f"Marchés : {len(due)} échéance(s) à moins de {max(e.mark for e in due)} jours"
        body = "Échéances des marchés de l'opérateur :\n\n" + "\n".join(_alert_line(e) for e in due) + "\n"
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
        )
    return due


class _System:
    """The batch job reads the whole register."""

    is_authenticated = True
