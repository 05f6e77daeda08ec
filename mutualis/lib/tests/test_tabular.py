"""The one place exports are written: formulas neutralised, numbers kept, two CSV dialects."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mutualis.lib.tabular import OPEN_DATA, PEOPLE, csv_cell, neutralise, to_csv, to_xlsx

HOSTILE = '=HYPERLINK("http://x")'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HOSTILE, "'" + HOSTILE),
        ("+33 4 78 00 00 00", "'+33 4 78 00 00 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Mairie de Givors", "Mairie de Givors"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_it_neutralises_text_a_spreadsheet_would_evaluate(text, expected):
    assert neutralise(text) == expected
    assert csv_cell(text, PEOPLE) == csv_cell(text, OPEN_DATA) == expected


@pytest.mark.parametrize("dialect", [PEOPLE, OPEN_DATA], ids=["people", "open_data"])
def test_it_keeps_numbers_as_numbers(dialect):
    comma = dialect.decimal_separator
    assert csv_cell(Decimal("-1234.50"), dialect) == f"-1234{comma}50"
    assert csv_cell(-3, dialect) == "-3"
    assert csv_cell(-0.25, dialect) == f"-0{comma}25"
    assert csv_cell(None, dialect) == ""


def test_it_writes_csv_for_people_the_way_french_excel_reads_it():
    text = to_csv(
        ["nom", "montant", "le"],
        [["Givors", Decimal("-1234.56"), dt.date(2026, 3, 9)], ["Corbas; Grigny", 12, None]],
        dialect=PEOPLE,
    )

    assert text.startswith("\ufeff")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert text.removeprefix("\ufeff").splitlines() == [
        "nom;montant;le",
        "Givors;-1234,56;09/03/2026",
        '"Corbas; Grigny";12;',
    ]


def test_it_writes_open_data_csv_by_the_standards_conventions():
    text = to_csv(
        ["BGT_ANNEE", "BGT_MTREAL", "date"],
        [[2022, Decimal("-1780115.35"), dt.date(2026, 3, 9)], [2022, Decimal("0.50"), None]],
        dialect=OPEN_DATA,
    )

    assert not text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text))) == [
        ["BGT_ANNEE", "BGT_MTREAL", "date"],
        ["2022", "-1780115.35", "2026-03-09"],
        ["2022", "0.50", ""],
    ]


def test_it_shows_aware_times_in_paris_time():
    moment = dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)

    assert csv_cell(moment, PEOPLE) == "01/07/2026 10:30"
    assert csv_cell(moment, OPEN_DATA) == "2026-07-01T10:30:00+0200"


def test_it_writes_hostile_text_to_xlsx_as_text_never_as_a_formula():
    content = to_xlsx(
        ["nom", "montant", "le", "à"],
        [
            [HOSTILE, Decimal("-12.50"), dt.date(2026, 3, 9), dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)],
            ["ok\x01", -3, None, None],
        ],
    )

    sheet = load_workbook(io.BytesIO(content)).active
    hostile, amount, day, moment = sheet[2]
    assert (hostile.value, hostile.data_type, hostile.quotePrefix) == (HOSTILE, "s", True)
    assert (amount.value, amount.data_type) == (-12.5, "n")
    assert day.value == dt.datetime(2026, 3, 9) and day.number_format == "DD/MM/YYYY"
    assert moment.value == dt.datetime(2026, 7, 1, 10, 30)  # Paris wall-clock time
    assert sheet["A3"].value == "ok"  # a control character XLSX cannot hold is dropped, not a 500
    assert sheet["B3"].value == -3
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_it_needs_every_csv_to_say_whom_it_is_for():
    with pytest.raises(TypeError):
        to_csv(["a"], [["b"]])  # type: ignore[call-arg]
