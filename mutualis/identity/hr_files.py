"""Reading an HR export (CSV or XLSX) into rows keyed by Mutualis' column names.

The documented columns (docs/identity.md) are French and lower-case; a mapping file renames
another HR tool's headers to them. Reading never writes: a file in the wrong encoding or without a
required column raises HRFileError with a message naming the problem.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("matricule", "nom", "prenom")
OPTIONAL = (
    "civilite",
    "mail",
    "identifiant",
    "fonction",
    "service",
    "matricule_responsable",
    "date_entree",
    "date_sortie",
)
COLUMNS = REQUIRED + OPTIONAL
UNIT_COLUMNS = ("code", "libelle", "parent")


class HRFileError(Exception):
    """The file cannot be read as an HR export; nothing was written."""


@dataclass(frozen=True)
class Row:
    line: int  # as a spreadsheet shows it: the header is line 1
    values: dict[str, str]
    # cells in the row and in the header: a row with fewer is cut short (a truncated export, a
    # stray line break), its values are not to be trusted, and it is rejected, never padded
    fields: int | None = None
    expected: int | None = None

    @property
    def short(self) -> bool:
        return self.fields is not None and self.expected is not None and self.fields < self.expected


def _key(header: str) -> str:
    """'Prénom ' → 'prenom': headers compare without accents, case or surrounding spaces."""
    text = unicodedata.normalize("NFKD", header.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace(" ", "_").replace("-", "_")


def read_mapping(path: Path) -> dict[str, str]:
    """A JSON object {"mutualis column": "header in the HR file"}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HRFileError(f"{path} : fichier de correspondance illisible ({error})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise HRFileError(f'{path} : le fichier de correspondance doit être un objet JSON {{"colonne": "en-tête"}}')
    unknown = sorted(set(data) - set(COLUMNS))
    if unknown:
        raise HRFileError(
            f"{path} : colonnes Mutualis inconnues : {', '.join(unknown)} (attendues : {', '.join(COLUMNS)})"
        )
    return data


def _table(path: Path, encoding: str) -> Iterator[list[str]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds on a damaged file
            raise HRFileError(f"{path.name} : classeur XLSX illisible ({error})") from None
        sheet = workbook.active
        assert sheet is not None
        for cells in sheet.iter_rows(values_only=True):
            yield ["" if c is None else (c.isoformat()[:10] if hasattr(c, "isoformat") else str(c)) for c in cells]
        workbook.close()
        return
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise HRFileError(f"{path} : lecture impossible ({error.strerror})") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise HRFileError(
            f"{path.name} : le fichier n'est pas encodé en {encoding} (octet invalide ligne {line}). "
            "Réenregistrez-le en UTF-8, ou indiquez son encodage avec --encoding (par exemple cp1252)."
        ) from None
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_rows(
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    required: tuple[str, ...] = REQUIRED,
    columns: tuple[str, ...] = COLUMNS,
) -> list[Row]:
    """Every data row of the file; blank lines are skipped. Raises HRFileError on a bad file."""
    if path.suffix.lower() not in {".csv", ".txt", ".xlsx"}:
        raise HRFileError(f"{path.name} : format non pris en charge (CSV ou XLSX attendu)")
    table = _table(path, encoding)
    try:
        header = next(table)
    except StopIteration:
        raise HRFileError(f"{path.name} : fichier vide") from None
    wanted = {_key(mapping.get(name, name)) if mapping else name: name for name in columns}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = wanted.get(_key(cell))
        if name is not None and name not in positions:
            positions[name] = index
    missing = [mapping.get(n, n) if mapping else n for n in required if n not in positions]
    if missing:
        raise HRFileError(f"{path.name} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}")
    width = len(header)
    while width and not header[width - 1].strip():  # "a;b;c;" has three columns
        width -= 1
    rows = []
    for line, cells in enumerate(table, start=2):
        if not any(c.strip() for c in cells):
            continue
        # Only the cells present: csv.DictReader would give the missing ones None and a padded
        # row would read as "no end date, no manager" and overwrite the directory with blanks.
        values = {name: cells[i].strip() for name, i in positions.items() if i < len(cells)}
        # (a spreadsheet has no record length: its empty trailing cells are just empty)
        counted = path.suffix.lower() != ".xlsx"
        rows.append(Row(line=line, values=values, fields=len(cells) if counted else None, expected=width))
    return rows
