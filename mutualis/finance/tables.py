"""Reading execution files: CSV or XLSX by chapter (our documented columns) and SCDL budget 0.8.3,
with strict amounts. Nothing here touches the database: it turns a file into checked rows or a
list of errors naming the line and the column."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from mutualis.finance.computations import FinanceInputError
from mutualis.finance.enums import Section, Side
from mutualis.lib.identifiers import siret_error

SCDL_SCHEMA = Path(__file__).resolve().parent / "schemas" / "budget-0.8.3.schema.json"
# Our own format: one row per year, section, side and chapter (docs/finance.md).
COLUMNS = ("annee", "section", "sens", "chapitre", "montant")
OPTIONAL_COLUMNS = ("libelle",)
_AMOUNT = re.compile(r"^([+-])?(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?$")
SIDES = {"recette": Side.REVENUE, "recettes": Side.REVENUE, "depense": Side.EXPENSE, "dépense": Side.EXPENSE}
SIDES |= {"depenses": Side.EXPENSE, "dépenses": Side.EXPENSE}


def parse_amount(value: Any) -> Decimal:
    """An amount in euros with at most two decimals: « 1 234,56 », « 1234.56 », or a spreadsheet
    number. Refused: letters, exponents, more than two decimals (a float that lost its cents)."""
    if isinstance(value, bool):
        raise FinanceInputError(gettext("montant illisible : %(v)r") % {"v": value})
    if isinstance(value, int):
        return Decimal(value).quantize(Decimal("0.01"))
    if isinstance(value, float):
        amount = Decimal(repr(value))
        if amount != amount.quantize(Decimal("0.01")):
            raise FinanceInputError(
                gettext("montant %(v)s : plus de deux décimales (nombre à virgule flottante ?)") % {"v": repr(value)}
            )
        return amount.quantize(Decimal("0.01"))
    text = str(value if value is not None else "").strip()
    match = _AMOUNT.match(text)
    if not match:
        raise FinanceInputError(
            gettext("montant « %(v)s » illisible : attendu un nombre comme 1 234,56 ou 1234.56") % {"v": text}
        )
    sign, whole, cents = match.groups()
    try:
        amount = Decimal(re.sub(r"\D", "", whole) + "." + (cents or "0"))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise FinanceInputError(gettext("montant « %(v)s » illisible") % {"v": text}) from None
    return (-amount if sign == "-" else amount).quantize(Decimal("0.01"))


def read_table(content: bytes, filename: str) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a CSV (UTF-8, separated by ; , or tab) or XLSX file."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as error:  # openpyxl raises many kinds on a file that is not XLSX
            raise FinanceInputError(gettext("fichier XLSX illisible (%(e)s)") % {"e": error}) from None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        rows = [r for r in rows if any(c not in (None, "") for c in r)]
        if not rows:
            raise FinanceInputError(gettext("le fichier est vide"))
        return [str(c or "").strip() for c in rows[0]], rows[1:]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FinanceInputError(gettext("le fichier CSV doit être encodé en UTF-8")) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FinanceInputError(gettext("le fichier est vide"))
    delimiter = max(";,\t", key=lines[0].count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header, *rows = [r for r in reader if any(c.strip() for c in r)]
    return [h.strip() for h in header], rows


@dataclass(frozen=True)
class Row:
    """One execution amount read from a file: `line` is the file's line number for messages."""

    line: int
    year: int
    section: str
    side: str
    chapter: str
    amount: Decimal
    label: str = ""


def _missing(header: Sequence[str], required: Iterable[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise FinanceInputError(
            gettext("colonnes manquantes : %(cols)s (colonnes lues : %(read)s)")
            % {"cols": ", ".join(missing), "read": ", ".join(h for h in header if h) or "—"}
        )


def _year(value: Any) -> int:
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"\d{4}", text):
        raise FinanceInputError(gettext("année « %(v)s » invalide") % {"v": text})
    return int(text)


def parse_execution(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[list[Row], list[str]]:
    """Rows of our by-chapter format; errors name the line (the header is line 1)."""
    names = [h.lower() for h in header]
    _missing(names, COLUMNS)
    index = {name: names.index(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in names}
    result, errors = [], []
    for number, raw in enumerate(rows, start=2):
        cells = {name: (raw[i] if i < len(raw) else None) for name, i in index.items()}
        try:
            section = str(cells["section"] or "").strip().lower()
            if section not in Section.values:
                raise FinanceInputError(
                    gettext("section « %(v)s » inconnue (fonctionnement ou investissement)") % {"v": section}
                )
            side = SIDES.get(str(cells["sens"] or "").strip().lower())
            if side is None:
                raise FinanceInputError(gettext("sens « %(v)s » inconnu (recette ou dépense)") % {"v": cells["sens"]})
            result.append(
                Row(
                    line=number,
                    year=_year(cells["annee"]),
                    section=section,
                    side=side,
                    chapter=str(cells["chapitre"] or "").strip(),
                    amount=parse_amount(cells["montant"]),
                    label=str(cells.get("libelle") or "").strip(),
                )
            )
        except FinanceInputError as error:
            errors.append(gettext("ligne %(n)d : %(e)s") % {"n": number, "e": error})
    return result, errors


# -- SCDL budget 0.8.3 --------------------------------------------------------------------------
@cache
def scdl_schema() -> dict[str, Any]:
    return json.loads(SCDL_SCHEMA.read_text(encoding="utf-8"))


def scdl_field_names() -> list[str]:
    return [f["name"] for f in scdl_schema()["fields"]]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def table_schema_errors(header: Sequence[str], rows: Sequence[Sequence[Any]], *, exact_header: bool) -> list[str]:
    """Check a table against the SCDL budget Table Schema: the header, then each cell's type,
    required, enum, pattern and length constraints, and the schema's custom SIRET check.
    (What frictionless would check for this schema, without bringing it in.)"""
    schema = scdl_schema()
    fields = {f["name"]: f for f in schema["fields"]}
    missing_values = set(schema.get("missingValues", [""]))
    errors: list[str] = []
    if exact_header and list(header) != list(fields):
        errors.append(gettext("en-tête différent du schéma SCDL : %(h)s") % {"h": ", ".join(header)})
    required = [n for n, f in fields.items() if f.get("constraints", {}).get("required")]
    missing = [n for n in required if n not in header]
    if missing:
        errors.append(gettext("colonnes manquantes : %(cols)s") % {"cols": ", ".join(missing)})
        return errors
    unknown = [h for h in header if h not in fields]
    if unknown:
        errors.append(gettext("colonnes inconnues du schéma SCDL : %(cols)s") % {"cols": ", ".join(unknown)})
    sirets = {c["params"]["column"] for c in schema.get("custom_checks", []) if c["name"] == "french-siret-value"}
    for number, row in enumerate(rows, start=2):
        for name, raw in zip(header, row, strict=False):
            spec = fields.get(name)
            if spec is None:
                continue
            value = "" if raw is None else str(raw)
            constraints = spec.get("constraints", {})
            where = gettext("ligne %(n)d, colonne %(c)s") % {"n": number, "c": name}
            if value in missing_values:
                if constraints.get("required"):
                    errors.append(f"{where} : " + gettext("valeur obligatoire"))
                continue
            kind = spec.get("type", "string")
            if kind == "number" and not _NUMBER.match(value):
                errors.append(f"{where} : " + gettext("nombre attendu, lu « %(v)s »") % {"v": value})
            if kind == "year" and not re.fullmatch(r"-?\d{4}", value):
                errors.append(f"{where} : " + gettext("année attendue, lu « %(v)s »") % {"v": value})
            if "enum" in constraints and value not in constraints["enum"]:
                errors.append(f"{where} : " + gettext("valeur « %(v)s » hors de la liste autorisée") % {"v": value})
            if "pattern" in constraints and not re.fullmatch(constraints["pattern"].strip("^$"), value):
                errors.append(f"{where} : " + gettext("valeur « %(v)s » hors du format attendu") % {"v": value})
            if len(value) < constraints.get("minLength", 0) or len(value) > constraints.get("maxLength", 10**9):
                errors.append(f"{where} : " + gettext("longueur invalide (« %(v)s »)") % {"v": value})
            if name in sirets and (message := siret_error(value)):
                errors.append(f"{where} : {message}")
    return errors


SCDL_SIDES = {"recette": Side.REVENUE, "dépense": Side.EXPENSE}
CARRIED_CHAPTERS = {"001", "002"}


def parse_scdl(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[list[Row], list[str]]:
    """SCDL budget rows of a compte administratif, summed per year, section, side and chapter
    (BGT_NATURE). The carried-forward chapters 001/002 read BGT_MTRARPREC, the others BGT_MTREAL."""
    errors = table_schema_errors(header, rows, exact_header=False)
    if errors:
        return [], errors
    index = {name: i for i, name in enumerate(header)}
    totals: dict[tuple[int, str, str, str], Decimal] = {}
    lines: dict[tuple[int, str, str, str], int] = {}
    for number, raw in enumerate(rows, start=2):

        def cell(name: str, raw: Sequence[Any] = raw) -> str:
            i = index.get(name)
            return "" if i is None or i >= len(raw) or raw[i] is None else str(raw[i]).strip()

        if cell("BGT_NATDEC") != "compte administratif":
            errors.append(
                gettext("ligne %(n)d : étape « %(v)s » : seul un compte administratif porte l'exécution")
                % {"n": number, "v": cell("BGT_NATDEC")}
            )
            continue
        chapter = cell("BGT_NATURE")
        column = "BGT_MTRARPREC" if chapter in CARRIED_CHAPTERS else "BGT_MTREAL"
        try:
            amount = parse_amount(cell(column) or "0")
        except FinanceInputError as error:
            errors.append(gettext("ligne %(n)d : %(e)s") % {"n": number, "e": error})
            continue
        key = (int(cell("BGT_ANNEE")), cell("BGT_SECTION"), SCDL_SIDES[cell("BGT_CODRD")], chapter)
        totals[key] = totals.get(key, Decimal(0)) + amount
        lines.setdefault(key, number)
    result = [
        Row(line=lines[key], year=key[0], section=key[1], side=key[2], chapter=key[3], amount=amount)
        for key, amount in totals.items()
    ]
    return result, errors


def is_scdl(header: Sequence[str]) -> bool:
    return "BGT_NATDEC" in header


def scdl_amount(value: Decimal) -> str:
    return f"{value:.2f}"
