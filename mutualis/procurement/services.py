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
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, Vendor
from mutualis.core.audit import actor_label, audit_record, diff, snapshot
from mutualis.core.mail import absolute_url, mail_message
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


def _require_procurement_writer(actor: User | None) -> None:
    # Services called by batch jobs pass actor=None (the system); people must be operator staff.
    if actor is None:
        return
    require_operator_staff(actor)
    require_writer(actor)


def _euros(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + " " + gettext("€ HT")


# -- holders ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewHolder:
    """A holder given by its SIRET (and a name, used when no vendor has that SIRET yet)."""

    siret: str
    name: str = ""


def _check_new_holders(new_holders: Sequence[NewHolder], key: str = "holders") -> None:
    for holder in new_holders:
        if message := siret_error(holder.siret):
            text = (
                gettext("SIRET %(siret)s du titulaire %(name)s : %(error)s")
                if holder.name
                else gettext("SIRET %(siret)s du titulaire : %(error)s")
            )
            raise ValidationError({key: text % {"siret": repr(holder.siret), "name": holder.name, "error": message}})


def _vendor_for(holder: NewHolder, *, actor: User | None, via: str) -> Vendor:
    vendor = Vendor.objects.filter(siret=holder.siret).order_by("pk").first()
    if vendor is not None:
        return vendor
    name = holder.name or f"Titulaire SIRET {holder.siret}"
    slug = slugify(name)[:50] or "titulaire"
    if Vendor.objects.filter(slug=slug).exists():
        slug = f"{slug[:45]}-{holder.siret[-5:]}"
    return model_create(actor=actor, model=Vendor, data={"slug": slug, "name": name, "siret": holder.siret}, via=via)


def vendor_set_siret(*, actor: User | None, vendor: Vendor, siret: str, via: str = "web") -> Vendor:
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
                "amount_ht": gettext("les lots totaliseraient %(total)s, au-delà du montant du marché (%(amount)s)")
                % {"total": _euros(total), "amount": _euros(contract.max_amount_ht)}
            }
        )


def contract_create(
    *,
    actor: User | None,
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
    actor: User | None,
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
        raise ValidationError(
            {
                "renewals_allowed": ngettext(
                    "%(n)d reconduction déjà décidée", "%(n)d reconductions déjà décidées", used
                )
                % {"n": used}
            }
        )
    if "max_amount_ht" in data and data["max_amount_ht"] is not None:
        lots_total = Lot.objects.filter(contract=contract).aggregate(total=Sum("amount_ht"))["total"] or Decimal(0)
        if lots_total > data["max_amount_ht"]:
            raise ValidationError(
                {
                    "max_amount_ht": gettext("les lots totalisent déjà %(total)s, au-delà de ce montant")
                    % {"total": _euros(lots_total)}
                }
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
    actor: User | None,
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
        raise ValidationError({"amount_ht": gettext("le montant ne peut pas être négatif")})
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        _check_lots_total(locked, amount_ht or Decimal(0))
        if Lot.objects.filter(contract=locked, number=number).exists():
            raise ValidationError({"number": gettext("le lot %(number)d existe déjà") % {"number": number}})
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
    actor: User | None,
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
        raise ValidationError({"decision": gettext("décision inconnue : %(decision)s") % {"decision": decision}})
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        history = list(locked.renewal_decisions.all())
        used = sum(1 for d in history if d.decision == RenewalChoice.RENEW)
        if any(d.decision == RenewalChoice.NOT_RENEW for d in history):
            raise ValidationError({"decision": gettext("la non-reconduction de ce marché a déjà été décidée")})
        if decision == RenewalChoice.RENEW:
            if used >= locked.renewals_allowed:
                raise ValidationError(
                    {
                        "decision": gettext(
                            "reconduction refusée : le marché ne peut être reconduit que %(allowed)d fois "
                            "et %(used)d reconduction(s) sont déjà décidées"
                        )
                        % {"allowed": locked.renewals_allowed, "used": used}
                    }
                )
            if not locked.duration_known or not locked.renewal_period_months:
                raise ValidationError(
                    {"decision": gettext("durée du marché inconnue : impossible de calculer la nouvelle date de fin")}
                )
            used += 1
        if history and decided_on < history[-1].decided_on:
            raise ValidationError({"decided_on": gettext("la décision précède la dernière décision enregistrée")})
        new_end = locked.compute_end(used)
        record = RenewalDecision(
            contract=locked,
            decided_on=decided_on,
            decision=decision,
            new_end_on=new_end,
            body=body,
            note=note,
            decided_by=actor,
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


def threshold_create(*, actor: User | None, data: dict[str, Any], via: str = "web") -> Threshold:
    """Record a new value of a threshold from a date (the decree revising it); the earlier values
    stay, since a contract is checked against the value in force on its notification date."""
    _require_procurement_writer(actor)
    amount, kind, valid_from = data.get("amount_ht"), data.get("kind"), data.get("valid_from")
    if amount is None or amount <= 0:
        raise ValidationError({"amount_ht": gettext("le montant d'un seuil doit être positif")})
    if not isinstance(valid_from, dt.date):
        raise ValidationError({"valid_from": gettext("indiquez la date d'entrée en vigueur")})
    # The unique constraint catches a race between this check and the insert (model_create).
    if Threshold.objects.filter(kind=kind, valid_from=valid_from).exists():
        raise ValidationError(
            {
                "valid_from": gettext("ce seuil a déjà une valeur en vigueur depuis le %(day)s")
                % {"day": f"{valid_from:%d/%m/%Y}"}
            }
        )
    return model_create(actor=actor, model=Threshold, data=data, via=via)


# -- DECP import --------------------------------------------------------------------------------
@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def decp_import(*, actor: User | None, content: str | bytes, source: str = "", via: str = "cli") -> ImportResult:
    """Import the `marche` entries of a DECP 2.0.3 file (concessions are counted, not imported).
    The whole file is checked against the schema first; any error names its path and nothing is
    written. A contract already registered under the same id is updated."""
    _require_procurement_writer(actor)
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        name = source or gettext("fichier")
        if isinstance(error, json.JSONDecodeError):
            text = gettext("%(source)s : JSON illisible (ligne %(line)d, colonne %(column)d)") % {
                "source": name,
                "line": error.lineno,
                "column": error.colno,
            }
        else:
            text = gettext("%(source)s : JSON illisible") % {"source": name}
        raise ValidationError(text) from None
    name = source or gettext("fichier")
    errors = decp.schema_errors(document)
    if errors:
        raise ValidationError(
            [
                gettext("%(source)s non conforme au schéma DECP 2.0.3 — %(error)s") % {"source": name, "error": e}
                for e in errors
            ]
        )
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
                    raise ValidationError(
                        gettext("%(source)s : %(path)s : SIRET %(siret)s invalide (%(error)s)")
                        % {"source": name, "path": path, "siret": repr(siret), "error": message}
                    )
                holders.append(NewHolder(siret=siret))
        else:  # identifiers we do not model (TVA, TAHITI…) stay verbatim
            data["decp_details"]["titulaires"] = titulaires
        probe = Contract(**data)
        try:
            probe.clean_fields()
            probe.clean()
        except ValidationError as error:
            path = decp.json_path(["marches", "marche", index])
            raise ValidationError(f"{name} : {path} : {'; '.join(error.messages)}") from None
        plans.append((data, holders))
    result = ImportResult(
        skipped=[
            gettext("contrat de concession %(id)s") % {"id": c.get("id", "?")}
            for c in document["marches"].get("contrat-concession", [])
        ]
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
    return ngettext(
        "- %(code)s (%(object)s) : %(event)s le %(day)s, dans %(n)d jour",
        "- %(code)s (%(object)s) : %(event)s le %(day)s, dans %(n)d jours",
        event.days_left,
    ) % {
        "code": contract.code,
        "object": contract.object[:90],
        "event": event.label,
        "day": f"{event.due_on:%d/%m/%Y}",
        "n": event.days_left,
    }


def contract_alerts_send(
    *, actor: User | None = None, today: dt.date | None = None, via: str = "cli", limit: int | None = None
) -> list[UpcomingEvent]:
    """Mail the resources team about contracts crossing the 90, 60 and 30-day marks before a
    renewal decision or an end. What was sent is recorded, so running again sends nothing new;
    an alert at a tighter mark still goes out when the date comes closer. With `limit`, at most
    that many alerts go out; the others, not recorded, go with the next run."""
    _require_procurement_writer(actor)
    day = today or timezone.localdate()
    recipients = alert_recipients()
    events = upcoming_events(actor=actor, today=day)
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
        ][:limit]
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
        subject = ngettext(
            "Marchés : %(n)d échéance à moins de %(days)d jours",
            "Marchés : %(n)d échéances à moins de %(days)d jours",
            len(due),
        ) % {"n": len(due), "days": max(e.mark for e in due)}
        # Built now, while the contracts are at hand; both parts through the one mail path
        # (what users typed, the contract's object, is escaped in the HTML part).
        alerts = [
            {"line": _alert_line(e), "url": absolute_url(reverse("procurement:detail", args=[e.contract.code]))}
            for e in due
        ]
        message = mail_message(
            subject=subject, template="procurement/mail/alerts.txt", context={"alerts": alerts}, to=recipients
        )
        transaction.on_commit(lambda: message.send(fail_silently=False))
    return due
