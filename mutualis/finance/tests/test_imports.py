"""Execution imports (CSV, XLSX, SCDL) and the SCDL export: a bad file is refused whole with a
message naming what is wrong, and nothing is written."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from mutualis.core.models import AuditEntry
from mutualis.finance import exports, services, tables
from mutualis.finance.models import Budget, BudgetYear, ExecutionLine
from mutualis.lib.tabular import OPEN_DATA, to_csv

HEADER = "annee;section;sens;chapitre;libelle;montant\n"
GOOD = HEADER + (
    "2023;fonctionnement;dépense;011;Charges générales;1 234,56\n"
    "2023;fonctionnement;recette;74;Participations;2500.10\n"
    "2023;investissement;dépense;21;Matériel;300\n"
)


def _import(budget, content: str | bytes, filename: str = "execution.csv", **kwargs):
    data = content.encode() if isinstance(content, str) else content
    return services.execution_import(actor=None, budget=budget, content=data, filename=filename, **kwargs)


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _nothing_written(budget) -> None:
    assert not ExecutionLine.objects.filter(budget_year__budget=budget, budget_year__year=2023).exists()
    assert not AuditEntry.objects.filter(action="import").exists()


def test_it_imports_execution_by_chapter_from_csv(budget):
    result = _import(budget, GOOD)

    assert (result.years, result.lines, result.format) == ([2023], 3, "csv")
    amounts = dict(ExecutionLine.objects.values_list("chapter__code", "amount"))
    assert amounts == {"011": Decimal("1234.56"), "74": Decimal("2500.10"), "21": Decimal("300.00")}
    assert AuditEntry.objects.filter(action="import").count() == 1


def test_it_imports_execution_from_xlsx(budget):
    content = _xlsx(
        [["annee", "section", "sens", "chapitre", "montant"], [2023, "fonctionnement", "recette", "74", 1500.5]]
    )

    result = _import(budget, content, "execution.xlsx")

    assert result.format == "xlsx"
    assert ExecutionLine.objects.get().amount == Decimal("1500.50")


def test_it_refuses_an_unknown_chapter_code(budget):
    with pytest.raises(ValidationError, match="ligne 2 : chapitre « 999 » inconnu"):
        _import(budget, HEADER + "2023;fonctionnement;dépense;999;?;10\n")
    _nothing_written(budget)


@pytest.mark.parametrize("amount", ["1 234,5x", "12.345", "1e5", ""])
def test_it_refuses_a_non_numeric_or_float_formatted_amount(budget, amount):
    with pytest.raises(ValidationError, match="ligne 3 : montant"):
        _import(
            budget, HEADER + "2023;fonctionnement;dépense;011;a;10\n" + f"2023;fonctionnement;dépense;012;b;{amount}\n"
        )
    _nothing_written(budget)


def test_it_refuses_a_spreadsheet_float_that_lost_its_cents(budget):
    content = _xlsx(
        [["annee", "section", "sens", "chapitre", "montant"], [2023, "fonctionnement", "recette", "74", 1234.567]]
    )

    with pytest.raises(ValidationError, match="plus de deux décimales"):
        _import(budget, content, "execution.xlsx")
    _nothing_written(budget)


def test_it_refuses_a_budget_year_already_loaded(budget):
    _import(budget, GOOD)
    before = AuditEntry.objects.count()

    with pytest.raises(ValidationError, match="l'exercice 2023 du budget « Budget principal » est déjà chargé"):
        _import(budget, HEADER + "2023;fonctionnement;dépense;011;x;1\n")

    assert ExecutionLine.objects.count() == 3
    assert AuditEntry.objects.count() == before


def test_it_replaces_a_loaded_year_when_asked(budget):
    _import(budget, GOOD)

    _import(budget, HEADER + "2023;fonctionnement;dépense;011;x;1\n", replace=True)

    assert list(ExecutionLine.objects.values_list("amount", flat=True)) == [Decimal("1.00")]


def test_it_refuses_the_same_chapter_twice_in_a_file(budget):
    with pytest.raises(ValidationError, match="ligne 3 : chapitre 011 .* déjà donné ligne 2"):
        _import(budget, HEADER + "2023;fonctionnement;dépense;011;x;1\n2023;fonctionnement;dépense;011;x;2\n")
    _nothing_written(budget)


def test_it_names_the_missing_columns(budget):
    with pytest.raises(ValidationError, match="colonnes manquantes : sens, montant"):
        _import(budget, "annee;section;chapitre\n2023;fonctionnement;011\n")
    _nothing_written(budget)


def test_it_exports_scdl_that_validates_against_the_schema(year_2022):
    text = exports.scdl_csv(year_2022)
    header, rows = tables.read_table(text.encode(), "export.csv")

    assert header == tables.scdl_field_names()
    assert tables.table_schema_errors(header, rows, exact_header=True) == []
    col = {name: header.index(name) for name in header}
    by_chapter = {(r[col["BGT_SECTION"]], r[col["BGT_CODRD"]], r[col["BGT_NATURE"]]): r for r in rows}
    assert by_chapter[("fonctionnement", "dépense", "012")][col["BGT_MTREAL"]] == "1780115.35"
    assert by_chapter[("fonctionnement", "dépense", "042")][col["BGT_OPBUDG"]] == "ordre"
    # The carried-forward result is a reprise (BGT_MTRARPREC), not a realisation.
    carried = by_chapter[("fonctionnement", "recette", "002")]
    assert (carried[col["BGT_MTREAL"]], carried[col["BGT_MTRARPREC"]]) == ("", "136955.44")


def test_it_reimports_its_own_scdl_export(year_2022, world):
    text = exports.scdl_csv(year_2022)
    other = Budget.objects.create(organisation=world.operator, slug="copie", name="Copie", kind="annexe")

    result = _import(other, text, "budget.csv")

    assert result.format == "scdl"
    copied = BudgetYear.objects.get(budget=other, year=2022)
    original = dict(year_2022.lines.values_list("chapter__code", "amount"))
    assert dict(copied.lines.values_list("chapter__code", "amount")) == original


def test_it_refuses_an_scdl_file_that_breaks_the_schema(budget, year_2022):
    header, rows = exports.scdl_rows(year_2022)
    rows[0][header.index("BGT_SECTION")] = "exploitation"
    rows[1][header.index("BGT_SIRET")] = "123"
    other = Budget.objects.create(organisation=budget.organisation, slug="copie", name="Copie", kind="annexe")

    with pytest.raises(ValidationError) as error:
        _import(other, to_csv(header, rows, dialect=OPEN_DATA))

    text = " ".join(error.value.messages)
    assert "ligne 2, colonne BGT_SECTION" in text
    assert "ligne 3, colonne BGT_SIRET" in text
    assert not BudgetYear.objects.filter(budget=other).exists()


def test_it_refuses_to_export_scdl_without_a_siret(year_2022):
    organisation = year_2022.budget.organisation
    organisation.siret = ""
    organisation.save()

    with pytest.raises(ValidationError, match="SIRET"):
        exports.scdl_csv(year_2022)


def test_it_validates_with_the_schema_file_shipped_in_the_app():
    schema = tables.scdl_schema()

    assert schema["name"] == "budget"
    assert schema["version"] == "0.8.3"
