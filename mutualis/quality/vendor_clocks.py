"""Vendor compliance per vendor × maintenance contract × month, for the operator's contract
reviews: set-based SQL over the vendor episodes of `ola` (docs/ola.md). Three queries whatever
the number of episodes: the grouped figures, then the vendors' and contracts' names."""

from __future__ import annotations

from typing import Any

from django.db import connection

from mutualis.catalog.models import Vendor
from mutualis.ola.models import VendorEpisode
from mutualis.procurement.models import Contract
from mutualis.quality.kpis import Month, _db, _month_case, months_between

HEADER = [
    "mois",
    "editeur",
    "marche",
    "attentes",
    "mesurees",
    "dans_les_delais",
    "en_retard",
    "conformite_pct",
    "mediane_heures",
    "p90_heures",
]


def vendor_compliance(*, first: Month, last: Month, by_month: bool = True) -> list[dict[str, Any]]:
    """One row per (month, vendor, contract) with episodes ended in that local month (with
    `by_month=False`, per (vendor, contract) over the whole period, month ""): how many,
    how many had a commitment (measured), in time (business time ≤ the commitment's budget) and
    late, the compliance % of the measured, and the median and 90th percentile of the vendor's
    business time (seconds) over all of them. A row without contract is « aucun contrat de
    maintenance »; its episodes are counted, not measured."""
    months = months_between(first, last)
    params: list[Any] = []
    month_sql = _month_case("ended_at", months, params) if by_month else "0"
    params += [_db(months[0].start()), _db(months[-1].next().start())]
    if connection.vendor == "postgresql":
        p50, p90 = (f"percentile_cont({f}) WITHIN GROUP (ORDER BY secs)" for f in (0.5, 0.9))
    else:  # the aggregate mutualis.quality.sqlite_functions registers on each connection
        p50, p90 = (f"percentile_cont(secs, {f})" for f in (0.5, 0.9))
    table = VendorEpisode._meta.db_table
    sql = f"""
        SELECT k_month, vendor_id, contract_id,
               COUNT(*) AS episodes,
               SUM(CASE WHEN budget_s IS NOT NULL THEN 1 ELSE 0 END) AS measured,
               SUM(CASE WHEN budget_s IS NOT NULL AND secs <= budget_s THEN 1 ELSE 0 END) AS in_time,
               SUM(CASE WHEN budget_s IS NOT NULL AND secs > budget_s THEN 1 ELSE 0 END) AS late,
               {p50} AS p50, {p90} AS p90
        FROM (SELECT {month_sql} AS k_month, vendor_id, contract_id,
                     end_offset - start_offset AS secs, budget_s
              FROM {table}
              WHERE ended_at >= %s AND ended_at < %s AND end_offset IS NOT NULL) r
        GROUP BY k_month, vendor_id, contract_id"""  # noqa: S608 (identifiers from the model, values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0].lower() for c in cursor.description]
        found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    vendors = dict(
        Vendor.objects.filter(pk__in={r["vendor_id"] for r in found if r["vendor_id"]}).values_list("pk", "name")
    )
    contracts = dict(
        Contract.objects.filter(pk__in={r["contract_id"] for r in found if r["contract_id"]}).values_list("pk", "code")
    )
    month_names = {position: str(month) for position, month in enumerate(months, start=1)} | {0: ""}
    rows = []
    for r in found:
        measured = int(r["measured"] or 0)
        in_time = int(r["in_time"] or 0)
        rows.append(
            {
                "month": month_names.get(r["k_month"], str(r["k_month"])),
                "vendor": vendors.get(r["vendor_id"], ""),
                "contract": contracts.get(r["contract_id"], ""),
                "episodes": int(r["episodes"]),
                "measured": measured,
                "in_time": in_time,
                "late": int(r["late"] or 0),
                "compliance_pct": round(100.0 * in_time / measured, 1) if measured else None,
                "median_s": round(float(r["p50"]), 1) if r["p50"] is not None else None,
                "p90_s": round(float(r["p90"]), 1) if r["p90"] is not None else None,
            }
        )
    rows.sort(key=lambda row: (row["month"], row["vendor"], row["contract"]))
    return rows


def export_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The rows as the CSV/XLSX export's cells (HEADER's order), durations in hours."""

    def hours(seconds: float | None) -> float | None:
        return round(seconds / 3600, 2) if seconds is not None else None

    return [
        [
            r["month"],
            r["vendor"],
            r["contract"] or "aucun contrat de maintenance",
            r["episodes"],
            r["measured"],
            r["in_time"],
            r["late"],
            r["compliance_pct"],
            hours(r["median_s"]),
            hours(r["p90_s"]),
        ]
        for r in rows
    ]
