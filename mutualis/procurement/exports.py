"""The register as rows for CSV and XLSX: typed values (Decimal amounts, dates), formatted and
made formula-safe by lib/tabular for whoever reads the file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mutualis.procurement.models import Contract


def register_header() -> list[str]:
    # Column keys, not labels: they stay the same whatever the interface language, so that the
    # spreadsheets people build on the export keep working (the cells hold translated labels).
    return [
        "numéro",
        "objet",
        "nature",
        "procédure",
        "mode d'attribution",
        "montant HT",
        "nature du montant",
        "budget",
        "code CPV",
        "titulaires",
        "SIRET des titulaires",
        "notifié le",
        "début",
        "durée (mois)",
        "reconductions possibles",
        "reconductions décidées",
        "fin",
        "attribué par",
        "attribué le",
        "lots",
        "applications",
        "alertes",
    ]


def register_rows(contracts: Iterable[Contract]) -> list[list[Any]]:
    rows = []
    for c in contracts:
        lots = list(c.lots.all())
        holders = {v.pk: v for v in c.holders.all()} | {lot.holder.pk: lot.holder for lot in lots if lot.holder}
        rows.append(
            [
                c.code,
                c.object,
                c.get_kind_display(),
                c.get_procedure_display(),
                c.get_award_mode_display(),
                c.max_amount_ht,
                c.get_amount_kind_display(),
                c.budget_scope,
                c.cpv_code,
                "; ".join(sorted(v.name for v in holders.values())),
                "; ".join(sorted(v.siret for v in holders.values() if v.siret)),
                c.notified_on,
                c.starts_on,
                c.duration_months,
                c.renewals_allowed,
                getattr(c, "renewals_used", None),
                c.ends_on,
                c.award_body.name if c.award_body else "",
                c.awarded_on,
                "; ".join(f"L{lot.number} {lot.object} ({lot.amount_ht})" for lot in lots),
                "; ".join(a.name for a in c.applications.all()),
                " | ".join(getattr(c, "warnings", [])),
            ]
        )
    return rows
