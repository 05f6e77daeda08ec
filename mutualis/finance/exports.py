"""Files out of the finance data: SCDL budget 0.8.3 CSV, a member's statement as CSV and PDF,
and the charts (matplotlib, SVG) the pages embed next to their data tables."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils.translation import gettext

from mutualis.core.mail import absolute_url
from mutualis.finance import tables
from mutualis.finance.computations import MemberContribution
from mutualis.finance.enums import ChapterKind, Side
from mutualis.finance.models import BudgetYear, ContributionCall, ExecutionLine
from mutualis.lib.tabular import OPEN_DATA, PEOPLE, csv_rows, to_csv
from mutualis.members.models import Organisation


def _cents(value: Decimal) -> Decimal:
    """Accounts are kept to the cent: an export always shows two decimals."""
    return Decimal(value).quantize(Decimal("0.01"))


# -- SCDL ---------------------------------------------------------------------------------------
def scdl_rows(budget_year: BudgetYear) -> tuple[list[str], list[list[Any]]]:
    """One row per section, side and chapter of a compte administratif; the carried-forward
    chapters (001, 002) give their amount as BGT_MTRARPREC, the others as BGT_MTREAL. Values stay
    typed (Decimal amounts): the open-data dialect writes them the standard's way."""
    organisation = budget_year.budget.organisation
    if not organisation.siret:
        raise ValidationError(
            gettext("renseignez le SIRET de %(o)s : le format SCDL l'exige (BGT_SIRET)") % {"o": organisation}
        )
    header = tables.scdl_field_names()
    aggregated = (
        ExecutionLine.objects.filter(budget_year=budget_year)
        .values("chapter__section", "chapter__code", "chapter__label", "chapter__kind", "side")
        .annotate(total=Sum("amount"))
        .order_by("chapter__section", "side", "chapter__code")
    )
    rows = []
    for line in aggregated:
        carried = line["chapter__kind"] == ChapterKind.CARRIED
        values = {
            "BGT_NATDEC": "compte administratif",
            "BGT_ANNEE": budget_year.year,
            "BGT_SIRET": organisation.siret,
            "BGT_NOM": f"{organisation.name} — {budget_year.budget.name}",
            "BGT_CONTNAT": line["chapter__code"],
            "BGT_CONTNAT_LABEL": line["chapter__label"],
            "BGT_NATURE": line["chapter__code"],
            "BGT_NATURE_LABEL": line["chapter__label"],
            "BGT_SECTION": line["chapter__section"],
            "BGT_OPBUDG": "ordre" if line["chapter__kind"] == ChapterKind.ORDER else "réel",
            "BGT_CODRD": "recette" if line["side"] == Side.REVENUE else "dépense",
            "BGT_MTRARPREC" if carried else "BGT_MTREAL": _cents(line["total"]),
        }
        rows.append([values.get(name, "") for name in header])
    if not rows:
        raise ValidationError(
            gettext("l'exercice %(y)d n'a pas d'exécution par chapitre à publier") % {"y": budget_year.year}
        )
    return header, rows


def scdl_csv(budget_year: BudgetYear) -> str:
    header, rows = scdl_rows(budget_year)
    # Check the very text that is written (dialect applied), not the values before it.
    cells = csv_rows(rows, dialect=OPEN_DATA)
    errors = tables.table_schema_errors(header, cells, exact_header=True)
    if errors:  # a bug of ours: never publish a file the schema refuses
        raise ValidationError(["export SCDL non conforme au schéma :", *errors])
    return to_csv(header, rows, dialect=OPEN_DATA)


# -- statements ---------------------------------------------------------------------------------
def statement_rows(contribution: MemberContribution) -> list[list[str | Decimal]]:
    rows: list[list[str | Decimal]] = [[gettext("part mutualisée"), "", _cents(contribution.mutualised)]]
    rows += [[gettext("part personnalisée"), line.label, _cents(line.amount)] for line in contribution.personalised]
    rows.append([gettext("total"), "", _cents(contribution.total)])
    return rows


def statement_csv(contribution: MemberContribution) -> str:
    """The member's statement for its finance team's spreadsheet (French Excel conventions)."""
    header = [gettext("nature"), gettext("application"), gettext("montant")]
    return to_csv(header, statement_rows(contribution), dialect=PEOPLE)


def statement_pdf(
    *, call: ContributionCall, organisation: Organisation, contribution: MemberContribution, operator: Any
) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "finance/statement_pdf.html",
        {"call": call, "organisation": organisation, "contribution": contribution, "operator": operator},
    )
    # Any relative link or resource resolves on the public address, never on a guess.
    return HTML(string=html, base_url=absolute_url("/")).write_pdf()


# -- charts -------------------------------------------------------------------------------------
def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def bar_chart_svg(
    *, title: str, categories: Sequence[str], series: dict[str, Sequence[Decimal | None]], ylabel: str = "€"
) -> str:
    """Grouped bars as inline SVG (Agg-free SVG backend; no state shared between requests).
    The SVG is decorative for screen readers: the page puts the same figures in a table."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2))
    axes = figure.subplots()
    width = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        positions = [i + index * width for i in range(len(categories))]
        axes.bar(positions, [float(v or 0) for v in values], width=width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(categories))], list(categories))
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.ticklabel_format(axis="y", style="plain", useOffset=False)
    axes.yaxis.set_major_formatter(lambda value, _pos: f"{value:,.0f}".replace(",", " "))
    if len(series) > 1:
        axes.legend()
    svg = _svg(figure)
    return svg.replace("<svg", '<svg role="img" aria-hidden="true" focusable="false"', 1)
