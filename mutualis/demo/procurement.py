"""The reference operator's 2022 contracts (`procurement_2022` of the demo data set), loaded
idempotently by `load_demo` after the catalogue and the governance bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from mutualis.catalog.models import Application, Vendor
from mutualis.demo.errors import DemoFileError
from mutualis.governance.models import Body
from mutualis.procurement.enums import AwardMode, ContractKind, Procedure, RenewalChoice
from mutualis.procurement.models import Contract, Lot

KINDS = {
    "Accord-cadre sans subséquent": ContractKind.FRAMEWORK_SINGLE,
    "Accord-cadre avec subséquents": ContractKind.FRAMEWORK_SUBSEQUENT,
    "Marché": ContractKind.CONTRACT,
    "Concession": ContractKind.CONCESSION,
}
PROCEDURES = {
    "Procédure adaptée": Procedure.ADAPTED,
    "Procédure formalisée": Procedure.FORMALISED,
    "Appel d'offres ouvert": Procedure.OPEN_TENDER,
    "Appel d'offres restreint": Procedure.RESTRICTED_TENDER,
    "Procédure négociée": Procedure.NEGOTIATED,
}
AWARD_MODES = {
    "Pub BOAMP et mise en concurrence": AwardMode.PUBLICITY,
    "Sans publicité ni mise en concurrence préalable": AwardMode.WITHOUT_PUBLICITY,
    "Appel d'offres ouvert (AOO)": AwardMode.OPEN_TENDER,
}
# What each contract covers in the catalogue (application names of the deployment table).
APPLICATIONS = {
    "2022M01": ["Courrier - Gestion de Courrier - Maarch"],
    "2022M02": ["GRC portail usager - Publik", "GRC portail association - Publik"],
    "2022M04": ["Gestion Patrimoine, Interventions, stocks - ATAL - E-atal"],
    "2022M05": ["Rédaction, suivi op. des marchés - Liaweb"],
    "2022M06": ["Gestion des finances - Civil-net-Finances ou Astre"],
    "2022M09": ["Enfance - Concerto"],
    "22TN002": ["Portail Agent - LemonLDAP NG"],
}
LOT_APPLICATIONS = {
    ("22TNOO3", 1): "Messagerie instantanée - Watcha",
    ("22TNOO3", 2): "Outil Collaboratif - Nextcloud",
    ("22TNOO3", 3): "Visio - Jitsi",
    ("22TNOO3", 4): "Plateforme d'apprentissage - Chamilo",
}
# Facts the report states in its narrative rather than in the table.
DURATIONS = {"2022M02": {"duration_months": 12, "renewals_allowed": 3, "renewal_period_months": 12}}
AWARD_BODIES = {"2022M09": "cao"}
# How the data set was read (the report's table date taken as notification and start) is a remark
# on the source file: it stays out of the contract's notes, which its users read.
SOURCE_NOTES = {"Date du tableau des marchés du rapport d'activité 2022 (retenue comme notification et début)."}


def _choice(mapping: dict[str, Any], value: Any, where: str, key: str) -> Any:
    if value not in mapping:
        raise DemoFileError(f"entry {where}: field '{key}' has an unknown value {value!r}")
    return mapping[value]


def _vendor(name: str) -> Vendor:
    vendor, _ = Vendor.objects.get_or_create(slug=slugify(name)[:60], defaults={"name": name})
    return vendor


def load_procurement(data: dict[str, Any]) -> int:
    """Create or update the contracts of the data set; returns how many there are."""
    rows = data.get("procurement_2022", [])
    applications = {a.name: a for a in Application.objects.all()}
    bodies = {b.slug: b for b in Body.objects.all()}
    # A database loaded before loses the source remark on reload; notes a user wrote stay.
    Contract.objects.filter(notes__in=SOURCE_NOTES).update(notes="")
    for index, row in enumerate(rows):
        where = f"/procurement_2022/{index}"
        code = row["code"]
        # A row's `note` is the curator's remark on the source (in English): it stays in the data set.
        contract, _ = Contract.objects.update_or_create(
            code=code,
            defaults={
                "object": row["label_fr"],
                "kind": _choice(KINDS, row["contract_type"], where, "contract_type"),
                "procedure": _choice(PROCEDURES, row["procedure"], where, "procedure"),
                "award_mode": _choice(AWARD_MODES, row["award_mode"], where, "award_mode"),
                "max_amount_ht": Decimal(str(row["amount_eur"])),
                "budget_scope": row.get("budget_scope", ""),
                "notified_on": row["start_date"],
                "starts_on": row["start_date"],
                "award_body": bodies.get(AWARD_BODIES.get(code, "")),
                **DURATIONS.get(code, {}),
            },
        )
        contract.refresh_from_db()
        holders = [_vendor(row["holder"])] if row.get("holder") else []
        for lot in row.get("lots", []):
            holder = _vendor(lot["holder"]) if lot.get("holder") else None
            application = applications.get(LOT_APPLICATIONS.get((code, lot["lot"]), ""))
            Lot.objects.update_or_create(
                contract=contract,
                number=lot["lot"],
                defaults={
                    "object": lot["label_fr"],
                    "amount_ht": Decimal(str(lot["amount_eur"])),
                    "holder": holder,
                    "application": application,
                },
            )
            if holder is not None and holder not in holders:
                holders.append(holder)
        contract.holders.set(holders)
        names = APPLICATIONS.get(code, []) + [name for (c, _n), name in LOT_APPLICATIONS.items() if c == code]
        missing = [n for n in names if n not in applications]
        if missing:
            raise DemoFileError(f"entry {where}: applications not in the catalogue: {', '.join(missing)}")
        contract.applications.set([applications[n] for n in names])
        renewals = contract.renewal_decisions.filter(decision=RenewalChoice.RENEW).count()
        ends_on = contract.compute_end(renewals)
        if contract.ends_on != ends_on:
            contract.ends_on = ends_on
            contract.save(update_fields=["ends_on", "updated_at"])
    return len(rows)
