"""Writing rows as CSV or XLSX: the one place every export goes through.

Two things are decided here, once, so that no exporter can forget them:

- A cell a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return) is neutralised: in CSV it gets a leading single quote (OWASP's advice); in
  XLSX it is written as a text cell with Excel's own "quote prefix" flag, which is what Excel stores
  when a person types ``'=…``. Only text is neutralised: a number stays a number, so a negative
  amount is still a number cell.
- Each CSV says whom it is for. ``PEOPLE`` opens right in French Excel and LibreOffice (``;``, a
  UTF-8 byte order mark, decimal comma, dates as dd/mm/yyyy); ``OPEN_DATA`` keeps the conventions
  of the published standards (SCDL, DECP: ``,``, no BOM, decimal point, ISO 8601 dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# Exports are read by people of a French operator: an aware time is shown as Paris time.
LOCAL_TIMEZONE = ZoneInfo("Europe/Paris")

# What makes Excel, LibreOffice or Google Sheets evaluate a cell (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Control characters the XLSX format cannot hold (openpyxl refuses them with an exception).
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Dialect:
    """How a CSV is written for its readers: separator, byte order mark, numbers and dates."""

    name: str
    delimiter: str
    bom: bool
    decimal_separator: str
    date_format: str
    datetime_format: str
    true: str
    false: str


PEOPLE = Dialect(
    name="people",
    delimiter=";",
    bom=True,  # without it, Excel reads UTF-8 as Windows-1252 (« Ã© » for « é »)
    decimal_separator=",",
    date_format="%d/%m/%Y",
    datetime_format="%d/%m/%Y %H:%M",
    true="oui",
    false="non",
)
OPEN_DATA = Dialect(
    name="open_data",
    delimiter=",",
    bom=False,
    decimal_separator=".",
    date_format="%Y-%m-%d",
    datetime_format="%Y-%m-%dT%H:%M:%S%z",
    true="true",
    false="false",
)


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate gets a leading quote; any other text is returned as is."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(LOCAL_TIMEZONE) if value.tzinfo is not None else value


def csv_cell(value: Any, dialect: Dialect) -> str:
    """One value as the text a CSV of this dialect holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return dialect.true if value else dialect.false
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        # Plain notation, never grouped: "-1234,5" is a number for French Excel; "1 234,5" is not.
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        return text.replace(".", dialect.decimal_separator)
    if isinstance(value, dt.datetime):
        return _local(value).strftime(dialect.datetime_format)
    if isinstance(value, dt.date):
        return value.strftime(dialect.date_format)
    return neutralise(str(value))


def csv_rows(rows: Iterable[Sequence[Any]], *, dialect: Dialect) -> list[list[str]]:
    """The cells exactly as `to_csv` writes them (what a schema check should look at)."""
    return [[csv_cell(value, dialect) for value in row] for row in rows]


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, dialect: Dialect) -> str:
    buffer = io.StringIO()
    if dialect.bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\n")
    writer.writerow([csv_cell(name, dialect) for name in header])
    writer.writerows(csv_rows(rows, dialect=dialect))
    return buffer.getvalue()


def _xlsx_put(cell: Any, value: Any) -> None:
    if isinstance(value, dt.datetime):
        # Excel has no time zones: the Paris wall-clock time, shown the French way.
        cell.value = _local(value).replace(tzinfo=None)
        cell.number_format = "DD/MM/YYYY HH:MM"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "DD/MM/YYYY"
    elif value is None or isinstance(value, bool | int | float | Decimal):
        cell.value = value
    else:
        text = _XLSX_ILLEGAL.sub("", str(value))
        cell.value = text
        # openpyxl turns text starting with "=" into a formula; a text cell flagged with a quote
        # prefix is shown as typed and stays text even when someone edits it in Excel.
        cell.data_type = "s"
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Export") -> bytes:
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _XLSX_ILLEGAL.sub("", title)[:31]
    for row_number, row in enumerate([header, *rows], start=1):
        for column_number, value in enumerate(row, start=1):
            _xlsx_put(sheet.cell(row=row_number, column=column_number), value)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2" if len(header) > 2 else "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, min(48, len(str(name)) + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
