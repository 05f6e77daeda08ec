"""DECP 2.0.3 (données essentielles de la commande publique): schema validation and the mapping
between a contract and its `marche` entries.

A contract's own fields give id, acheteur, objet, codeCPV, procedure, dureeMois, dates, montant
and titulaires; every other DECP property lives verbatim in `Contract.decp_details`, so an
imported file exports back unchanged. Lots are published as one entry each (id `<code>-L<n>`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from mutualis.procurement.enums import AwardMode, ContractKind, Procedure
from mutualis.procurement.models import Contract

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "schema_decp_v2.0.3.json"

# Properties taken from the contract's own fields (import and export).
MAPPED = {
    "id",
    "acheteur",
    "objet",
    "codeCPV",
    "procedure",
    "dureeMois",
    "dateNotification",
    "datePublicationDonnees",
    "montant",
    "titulaires",
}

TO_DECP_PROCEDURE = {
    Procedure.ADAPTED: "Procédure adaptée",
    Procedure.OPEN_TENDER: "Appel d'offres ouvert",
    Procedure.RESTRICTED_TENDER: "Appel d'offres restreint",
    Procedure.NEGOTIATED: "Procédure avec négociation",
    Procedure.WITHOUT_PUBLICITY: "Marché passé sans publicité ni mise en concurrence préalable",
    Procedure.COMPETITIVE_DIALOGUE: "Dialogue compétitif",
}
FROM_DECP_PROCEDURE = {label: value for value, label in TO_DECP_PROCEDURE.items()}
AWARD_MODE_OF = {
    Procedure.OPEN_TENDER: AwardMode.OPEN_TENDER,
    Procedure.RESTRICTED_TENDER: AwardMode.RESTRICTED_TENDER,
    Procedure.WITHOUT_PUBLICITY: AwardMode.WITHOUT_PUBLICITY,
}

# Statements of absence the DECP requires explicitly; used only when the contract says nothing.
DEFAULTS: dict[str, Any] = {
    "nature": "Marché",
    "marcheInnovant": False,
    "attributionAvance": False,
    "sousTraitanceDeclaree": False,
    "typeGroupementOperateurs": "Pas de groupement",
    "considerationsSociales": {"considerationSociale": ["Pas de considération sociale"]},
    "considerationsEnvironnementales": {"considerationEnvironnementale": ["Pas de considération environnementale"]},
}
# Facts with no safe default: a contract lacking one is not published (and the export says why).
REQUIRED_DETAILS = {
    "ccag": "CCAG de référence (ccag)",
    "offresRecues": "nombre d'offres reçues (offresRecues)",
    "lieuExecution": "lieu d'exécution (lieuExecution)",
    "formePrix": "forme du prix (formePrix)",
    "typesPrix": "type de prix (typesPrix)",
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def json_path(parts: Any) -> str:
    """`$.marches.marche[0].codeCPV` from jsonschema's absolute_path."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_errors(document: Any) -> list[str]:
    """Every way `document` fails the DECP schema, each naming its path in the document."""
    validator = Draft7Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{json_path(error.absolute_path)} : {error.message}" for error in errors]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _techniques(contract: Contract) -> dict[str, Any]:
    framework = contract.kind in (ContractKind.FRAMEWORK_SINGLE, ContractKind.FRAMEWORK_SUBSEQUENT)
    return {"technique": ["Accord-cadre" if framework else "Sans objet"]}


def _modalites(contract: Contract) -> dict[str, Any]:
    mode = {
        ContractKind.FRAMEWORK_SINGLE: "Bons de commande",
        ContractKind.FRAMEWORK_SUBSEQUENT: "Marchés subséquents",
    }.get(ContractKind(contract.kind), "Sans objet")
    return {"modaliteExecution": [mode]}


def decp_procedure(contract: Contract) -> str | None:
    if contract.procedure == Procedure.FORMALISED:
        # The source often says only "procédure formalisée"; the award mode tells which one.
        return {
            AwardMode.OPEN_TENDER: TO_DECP_PROCEDURE[Procedure.OPEN_TENDER],
            AwardMode.RESTRICTED_TENDER: TO_DECP_PROCEDURE[Procedure.RESTRICTED_TENDER],
        }.get(AwardMode(contract.award_mode))
    return TO_DECP_PROCEDURE.get(Procedure(contract.procedure))


def _titulaire(siret: str) -> dict[str, Any]:
    return {"titulaire": {"typeIdentifiant": "SIRET", "id": siret}}


def contract_entries(
    contract: Contract, *, buyer_siret: str, published_on: dt.date
) -> tuple[list[dict[str, Any]], list[str]]:
    """The `marche` entries of a contract (one per lot when it has lots), or the reasons it
    cannot be published. `contract` must come with its holders and lots prefetched."""
    details = dict(contract.decp_details or {})
    missing: list[str] = []
    if contract.kind == ContractKind.CONCESSION:
        missing.append("les concessions ne sont pas encore exportées")
    if not contract.cpv_code:
        missing.append("code CPV")
    if not contract.max_total_months:
        missing.append("durée")
    if not contract.notified_on:
        missing.append("date de notification")
    siret = contract.buyer_siret or buyer_siret
    if not siret:
        missing.append("SIRET de l'acheteur")
    procedure = decp_procedure(contract)
    if procedure is None:
        missing.append("procédure DECP (appel d'offres ouvert ou restreint ?)")
    missing += [label for key, label in REQUIRED_DETAILS.items() if key not in details]
    lots = list(contract.lots.all())
    if lots:
        parts = [
            (
                f"{contract.code}-L{lot.number}",
                f"{contract.object} — lot {lot.number} : {lot.object}",
                lot.amount_ht,
                [lot.holder] if lot.holder else [],
            )
            for lot in lots
        ]
    else:
        parts = [(contract.code, contract.object, contract.max_amount_ht, list(contract.holders.all()))]
    if "titulaires" not in details:
        for _id, _object, amount, holders in parts:
            if not holders or any(not v.siret for v in holders):
                missing.append(f"SIRET du titulaire ({_id})")
            if not amount:
                missing.append(f"montant ({_id})")
    if missing:
        return [], missing
    entries = []
    for identifier, objet, amount, holders in parts:
        entry: dict[str, Any] = {
            **DEFAULTS,
            "techniques": _techniques(contract),
            "modalitesExecution": _modalites(contract),
        }
        entry.update({k: v for k, v in details.items() if k not in MAPPED or k == "titulaires"})
        entry.update(
            {
                "id": identifier[:16],
                "acheteur": {"id": siret},
                "objet": objet[:1000],
                "codeCPV": contract.cpv_code,
                "procedure": procedure,
                "dureeMois": contract.max_total_months,
                "dateNotification": contract.notified_on.isoformat(),  # type: ignore[union-attr]
                "datePublicationDonnees": (contract.decp_published_on or published_on).isoformat(),
                "montant": _number(amount),  # type: ignore[arg-type]
            }
        )
        if "titulaires" not in details:
            entry["titulaires"] = [_titulaire(v.siret) for v in sorted(holders, key=lambda v: v.siret)]
        entries.append(entry)
    return entries, missing


def entry_to_contract(entry: dict[str, Any]) -> dict[str, Any]:
    """The contract fields of one schema-valid `marche` entry (holders are resolved by the caller)."""
    techniques = entry["techniques"]["technique"]
    modalites = entry["modalitesExecution"]["modaliteExecution"]
    if "Accord-cadre" in techniques:
        kind = (
            ContractKind.FRAMEWORK_SUBSEQUENT if "Marchés subséquents" in modalites else ContractKind.FRAMEWORK_SINGLE
        )
    else:
        kind = ContractKind.CONTRACT
    procedure = FROM_DECP_PROCEDURE[entry["procedure"]]
    notified = dt.date.fromisoformat(entry["dateNotification"])
    return {
        "code": entry["id"],
        "object": entry["objet"],
        "kind": kind,
        "procedure": procedure,
        "award_mode": AWARD_MODE_OF.get(procedure, AwardMode.UNKNOWN),
        "max_amount_ht": Decimal(str(entry["montant"])),
        "cpv_code": entry["codeCPV"],
        "notified_on": notified,
        "starts_on": notified,
        "duration_months": entry["dureeMois"],
        "renewals_allowed": 0,
        "renewal_period_months": None,
        "buyer_siret": entry["acheteur"]["id"],
        "decp_published_on": dt.date.fromisoformat(entry["datePublicationDonnees"]),
        "decp_details": {k: v for k, v in entry.items() if k not in MAPPED},
    }


def normalised(entries: list[dict[str, Any]]) -> list[str]:
    """Entries as canonical JSON strings (sorted keys, numbers as floats), sorted by id: what
    "export back equal" compares."""

    def canon(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, dict):
            return {k: canon(v) for k, v in value.items()}
        if isinstance(value, list):
            return [canon(v) for v in value]
        return value

    return sorted(json.dumps(canon(e), sort_keys=True, ensure_ascii=False) for e in entries)
