"""Bad files never give a traceback and never write part of an import (issue 12), on both
engines, for every kind in services.imports.kinds.KINDS.

Each case starts from a good file made of the kind's template (Column.header, Column.example,
with keys made unique per case and a small world of the records the rows need) and mutates it:
wrong types, English decimals, huge, negative and NaN numbers, dates as odd text and as Excel
serials, control characters, 10.000 characters, CPR numbers, formulas, missing, unknown,
repeated and empty headers, ragged rows, BOM, Windows-1252, UTF-16, the wrong separator, empty
files and sheets, several sheets, merged cells, non-xlsx bytes named .xlsx, truncated zips and
broken parts of a workbook. Then it does what pages/importer.py does: read (read_csv, or
sheet_names + read_excel), preview, and confirm. For every case:

1. the only exceptions are FileError and services.errors.UserError (the page shows those);
2. every message (the exception's and the preview's error table) is Danish text: not empty,
   no traceback, no English exception class or message;
3. a preview with errors (or a missing column) makes the write raise InputError, and the row
   count of every table is unchanged (a preview never writes either);
4. a ready preview's write succeeds and creates exactly preview.creates rows of the kind's
   table, and its audit summary names creates and updates.

Derandomized (each case's seed is its kind and number): a failure names its case, which can be
rebuilt with `_case(kind, number)`. Run with -s to see the cases per kind, engine and outcome.
"""

import io
import json
import random
import re
import string
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from models import AuditEvent, Contract, InvoiceCheck, Offer, Provider
from services.contracts import add_addon
from services.cpr import contains_cpr
from services.errors import InputError, UserError
from services.imports.columns import Column
from services.imports.kinds import KINDS, ImportKind
from services.imports.parsing import DATE_FORMATS, DEFAULT_DATE_FORMAT, SEPARATORS
from services.imports.preview import ImportPreview
from services.imports.reading import FileError, is_excel, read_csv, read_excel, sheet_names
from services.providers import create_offer
from services.target_groups import create_target_group
from tests.factories import USER, make_contract, make_provider

CASES = {"sqlite": 350, "postgresql": 40}  # per kind: 4 kinds → 1.400 and 160 cases
FILE_NAME = "fuzz.csv"

# The table each kind creates its records in (a kind not named here is checked through its
# audit summary only).
TABLE_OF: dict[str, type[SQLModel]] = {
    "leverandoerer": Provider,
    "tilbud": Offer,
    "kontrakter": Contract,
    "fakturalinjer": InvoiceCheck,
}

# --- The world each kind's rows need, and the keys that make a case's rows new ---------------


def _example(kind: ImportKind, key: str) -> Any:
    return next(c.example for c in kind.columns if c.key == key)


def _valid_cvr(start: int) -> str:
    """The first CVR number from `start` that passes modulus 11 (no warning)."""
    number = start
    while True:
        digits = str(number)
        if sum(w * int(d) for w, d in zip((2, 7, 6, 5, 4, 3, 2, 1), digits, strict=True)) % 11:
            number += 1
            continue
        return digits


def _world_providers(session: Session, kind: ImportKind) -> None:
    # The template's own provider exists: a row with its CVR updates it or is "findes allerede".
    make_provider(session, name=_example(kind, "name"), cvr=_example(kind, "cvr"))


def _world_offers(session: Session, kind: ImportKind) -> None:
    provider = make_provider(
        session, name=_example(kind, "provider_name"), cvr=_example(kind, "cvr")
    )
    for name in str(_example(kind, "target_groups")).replace(",", ";").split(";"):
        create_target_group(session=session, data={"name": name.strip()}, user=USER)
    create_offer(
        session=session,
        data={"provider_id": provider.id, "name": _example(kind, "name"), "paragraph": "SEL108"},
        user=USER,
    )


def _world_contracts(session: Session, kind: ImportKind) -> None:
    provider = make_provider(
        session, name=_example(kind, "provider_name"), cvr=_example(kind, "cvr")
    )
    create_offer(
        session=session,
        data={"provider_id": provider.id, "name": _example(kind, "offer"), "paragraph": "SEL108"},
        user=USER,
    )
    contract = make_contract(
        session, provider, case_ref=_example(kind, "case_ref"), start_date=date(2026, 3, 1)
    )
    add_addon(
        session=session,
        data={
            "contract_id": contract.id,
            "name": _example(kind, "addon_name"),
            "price": Decimal("4000.00"),
            "unit": "maaned",
            "valid_from": date(2026, 3, 1),
        },
        user=USER,
    )


def _world_invoices(session: Session, kind: ImportKind) -> None:
    provider = make_provider(session, name="Bostedet Lyngly", cvr=_example(kind, "cvr"))
    make_contract(
        session,
        provider,
        case_ref=_example(kind, "case_ref"),
        price=Decimal("1500.00"),
        start_date=date(2025, 1, 1),
        price_base_date=date(2025, 1, 1),
    )


WORLDS: dict[str, Callable[[Session, ImportKind], None]] = {
    "leverandoerer": _world_providers,
    "tilbud": _world_offers,
    "kontrakter": _world_contracts,
    "fakturalinjer": _world_invoices,
}

# A case's row r gets these values, so that a good row is new (not "findes allerede").
UNIQUE: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "leverandoerer": lambda case, r: {
        "cvr": _valid_cvr(20_000_000 + (case * 10 + r) * 20),
        "name": f"Bostedet Lyngly {case}-{r}",
    },
    "tilbud": lambda case, r: {"name": f"Huset ved Åen {case}-{r}"},
    "kontrakter": lambda case, r: {"case_ref": f"SAG-{case}-{r}"},
    "fakturalinjer": lambda case, r: {"invoice_no": f"F-{case}-{r}"},
}

# --- Bad values by the kind of column they go into -------------------------------------------

DATE_TEXT = re.compile(r"^\d\d-\d\d-\d{4}$")
TEXT_IN_NUMBERS = ["abc", "ti kroner", "ca. 1.000", "1.000 - 2.000", "N/A", "-", "?", "x", "kr."]
ENGLISH = ["1234.56", "95.4", "1,234.56", "1.5", "0.954", "2,080.80", "1e3", "1E-2", "12.5%"]
HUGE: list[Any] = [
    "9" * 30,
    "1" + "0" * 400,
    "9.999.999.999.999.999,99",
    10**20,
    1e300,
    2**63,
    "1e308",
    99999999999999.99,
    "1" * 10_000,
]
NEGATIVE: list[Any] = ["-1", "-1.234,56", -5, "\u2212100,00", "(100,00)", "100-", -0.01, "-0"]
NAN: list[Any] = ["NaN", "nan", "inf", "-inf", "Infinity", float("nan"), float("inf"), "∞"]
DATES_TEXT = [
    "2026-03-01",
    "03/31/2026",
    "31.02.2026",
    "1. marts 2026",
    "32-01-2026",
    "00-00-0000",
    "01-13-2026",
    "29-02-2025",
    "31-12-9999",
    "01-01-0001",
    "01-01-1899",
    "1/3",
    "marts",
    "01-03-26",
    "01-03-2026 12:00",
    "2026",
]
SERIALS: list[Any] = [0, 60, 61, 1, 2958466, -1, -45000, 1.5, 45000.75, 109574, 109575, 10**12]
BOOLS: list[Any] = [True, False, "TRUE", "FALSE", "ja", "nej", "SAND"]
NUMBERS: list[Any] = [0, 1, -1, 12345, 3.14, 1e10, 99999999, 1.0, 1234567890123]
CONTROL = [
    "\x00",
    "a\x01b",
    "\x1f",
    "\x0b\x0c",
    "\u202eevil",
    "tab\tinde",
    "linje\nskift",
    "\r",
    "\u200b",
    "\ufeffBOM",
    "\ud800",
    "\x7f",
    "\x85",
]
LONG = ["x" * 10_000, "æ" * 10_000, "Bostedet " * 1_200, "1.234,56" * 1_300]
CPR: list[Any] = [
    "010190-1234",
    "0101901234",
    101901234,
    1010901234,
    "Borger 010190-1234",
    "01.01.90-1234",
    "010190 1234",
    "cpr0101901234",
]
FORMULAS = ["=1+1", "=SUM(A1:A3)", '=HYPERLINK("http://x";"y")', "+1+1", "@SUM(1)", "=A2", "=1/0"]
ODD: list[Any] = [
    "",
    " ",
    "\u00a0",
    "１２３",
    "٣٤",
    "1 234,56",
    "1.234,56 kr.",
    "DKK 100",
    "100 %",
    "%",
    "§108",
    "<b>x</b>",
    "**x**",
    "'; DROP TABLE provider;--",
    "null",
    "None",
    "undefined",
    "0,0000001",
    "1.23.4",
    "1,2,3",
    ",5",
    "5,",
    ".",
]
EXCEL_ONLY: list[Any] = [
    datetime(2026, 3, 1),
    date(1900, 1, 1),
    datetime(9999, 12, 31, 23, 59),
    time(12, 0),
    timedelta(days=3),
    Decimal("1.5"),
    datetime(1900, 2, 28),
]
ANYWHERE = [*CONTROL, *LONG, *CPR, *FORMULAS, *ODD, *BOOLS]
BY_CATEGORY: dict[str, list[Any]] = {
    "amount": [*TEXT_IN_NUMBERS, *ENGLISH, *HUGE, *NEGATIVE, *NAN, *SERIALS, *BOOLS, *DATES_TEXT],
    "int": [*TEXT_IN_NUMBERS, *ENGLISH, *HUGE, *NEGATIVE, *NAN, *BOOLS, 4.5, "4,5"],
    "date": [*DATES_TEXT, *SERIALS, *TEXT_IN_NUMBERS, *ENGLISH, *NEGATIVE, *NAN, *BOOLS],
    "text": [*NUMBERS, *BOOLS, *HUGE, *NEGATIVE, *NAN, *SERIALS],
}


def _category(column: Column) -> str:
    example, key = column.example, column.key
    if "date" in key or key.startswith("period") or key.endswith(("_from", "_to")):
        return "date"
    if isinstance(example, str) and DATE_TEXT.match(example):
        return "date"
    if isinstance(example, int):
        return "int"
    if isinstance(example, str) and ("," in example or "%" in example) and example[0].isdigit():
        return "amount"
    return "text"


# --- A file as it is built, mutated, and written ---------------------------------------------


@dataclass
class Draft:
    kind: ImportKind
    headers: list[Any]
    rows: list[list[Any]]
    fmt: str  # "csv" or "xlsx"
    blank_before: int = 0
    encoding: str = "utf-8"
    separator: str = ";"
    read_separator: str | None = None
    line_end: str = "\r\n"
    other_sheets: list[tuple[str, list[list[Any]]]] = field(default_factory=list)
    data_sheet_first: bool = True
    sheet: str | None = None  # the sheet the user picks (None: the first)
    data_sheet_name: str = "Ark1"
    merges: list[str] = field(default_factory=list)
    percent_columns: set[int] = field(default_factory=set)
    post: list[Callable[[bytes], bytes]] = field(default_factory=list)
    replace: bytes | None = None
    file_name: str | None = None
    date_format: str = DEFAULT_DATE_FORMAT
    update_existing: bool = False
    done: list[str] = field(default_factory=list)  # the mutations, for the failure report


@dataclass
class Case:
    kind: ImportKind
    number: int
    what: str
    name: str
    data: bytes
    separator: str | None
    sheet: str | None
    date_format: str
    update_existing: bool


def _base(kind: ImportKind, number: int, rng: random.Random, fmt: str) -> Draft:
    """A good file of 1–3 rows: the template's example row, its keys new for this case."""
    headers: list[Any] = [c.header for c in kind.columns]
    rows = []
    for r in range(rng.randint(1, 3)):
        values = {c.key: c.example for c in kind.columns}
        values |= UNIQUE.get(kind.key, lambda case, r: {})(number, r)
        row = [values[c.key] for c in kind.columns]
        if fmt == "csv":
            row = ["" if v is None else str(v) for v in row]
        rows.append(row)
    return Draft(kind, headers, rows, fmt)


def _csv_cell(value: Any, separator: str) -> str:
    if value is None:
        return ""
    text = ("TRUE" if value else "FALSE") if isinstance(value, bool) else str(value)
    if any(ch in text for ch in (separator, '"', "\n", "\r")):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _csv_bytes(draft: Draft) -> bytes:
    lines = [""] * draft.blank_before
    for row in [draft.headers, *draft.rows]:
        lines.append(draft.separator.join(_csv_cell(v, draft.separator) for v in row))
    text = draft.line_end.join(lines) + draft.line_end
    errors = "surrogatepass" if draft.encoding.startswith("utf-8") else "replace"
    return text.encode(draft.encoding, errors=errors)


def _sheet(ws: Any, rows: list[list[Any]], blank_before: int = 0) -> None:
    for i, row in enumerate(rows, start=blank_before + 1):
        for j, value in enumerate(row, start=1):
            if value is None:
                continue
            try:
                ws.cell(i, j, value)
            except Exception:  # openpyxl refuses control characters: write them without
                ws.cell(i, j, ILLEGAL_CHARACTERS_RE.sub("", str(value)) or None)


def _xlsx_bytes(draft: Draft) -> bytes:
    workbook = Workbook()
    data = workbook.active
    data.title = draft.data_sheet_name
    _sheet(data, [draft.headers, *draft.rows], draft.blank_before)
    first = draft.blank_before + 2
    for index in draft.percent_columns:
        for r in range(first, first + len(draft.rows)):
            data.cell(r, index + 1).number_format = "0.0%"
    for cells in draft.merges:
        data.merge_cells(cells)
    for position, (name, rows) in enumerate(draft.other_sheets):
        ws = workbook.create_sheet(name, 0 if not draft.data_sheet_first and not position else None)
        _sheet(ws, rows)
    buffer = io.BytesIO()
    try:
        workbook.save(buffer)
    except Exception:  # a value the xlsx writer cannot hold (a lone surrogate): left out
        for ws in workbook.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.value = cell.value.encode("utf-8", "ignore").decode("utf-8")
        buffer = io.BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()


def _finish(draft: Draft, number: int) -> Case:
    if draft.replace is not None:
        data = draft.replace
    else:
        data = _csv_bytes(draft) if draft.fmt == "csv" else _xlsx_bytes(draft)
    for change in draft.post:
        data = change(data)
    name = draft.file_name or f"fuzz.{draft.fmt}"
    return Case(
        draft.kind,
        number,
        f"{draft.kind.key} #{number} {draft.fmt}: " + "; ".join(draft.done or ["unmutated"]),
        name,
        data,
        draft.read_separator,
        draft.sheet,
        draft.date_format,
        draft.update_existing,
    )


# --- Mutations ------------------------------------------------------------------------------

Mutation = Callable[[Draft, random.Random], None]


def _cell_of(draft: Draft, rng: random.Random, category: str | None = None) -> tuple[int, int]:
    """A random data cell, in a column of this category when there is one."""
    columns = [
        i
        for i, h in enumerate(draft.headers)
        if category is None
        or any(c.header == h and _category(c) == category for c in draft.kind.columns)
    ] or list(range(len(draft.headers)))
    row = rng.randrange(len(draft.rows))
    column = rng.choice(columns)
    while len(draft.rows[row]) <= column:
        draft.rows[row].append(None)
    return row, column


def _set(draft: Draft, rng: random.Random, category: str | None, values: list[Any], what: str):
    if not draft.rows or not draft.headers:
        return
    value = rng.choice(values)
    if draft.fmt == "csv" and not isinstance(value, str):
        value = str(value) if not isinstance(value, bool) else rng.choice(["TRUE", "SAND", "1"])
    row, column = _cell_of(draft, rng, category)
    draft.rows[row][column] = value
    draft.done.append(f"{what} {value!r:.40} in {draft.headers[column]!r:.30}")


def m_wrong_type(draft: Draft, rng: random.Random) -> None:
    category = rng.choice(list(BY_CATEGORY))
    _set(draft, rng, category, BY_CATEGORY[category], f"bad {category}")


def m_english(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, rng.choice(["amount", "int", "date"]), ENGLISH, "English decimal")


def m_huge_negative_nan(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, rng.choice(["amount", "int", "date"]), HUGE + NEGATIVE + NAN, "number")


def m_serial(draft: Draft, rng: random.Random) -> None:
    values = SERIALS if draft.fmt == "xlsx" else [str(v) for v in SERIALS]
    _set(draft, rng, "date", values, "serial")


def m_date_text(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, "date", DATES_TEXT, "date text")


def m_anywhere(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, None, ANYWHERE, "odd")


def m_control(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, rng.choice([None, "text"]), CONTROL, "control")


def m_long(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, None, LONG, "long")


def m_cpr(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, None, CPR, "CPR")


def m_formula(draft: Draft, rng: random.Random) -> None:
    _set(draft, rng, None, FORMULAS, "formula")


def m_excel_value(draft: Draft, rng: random.Random) -> None:
    if draft.fmt == "xlsx":
        _set(draft, rng, None, EXCEL_ONLY, "Excel value")
    else:
        _set(draft, rng, None, ODD, "odd")


def m_excel_dates(draft: Draft, rng: random.Random) -> None:
    """Dates as Excel's own date cells (good in itself)."""
    if draft.fmt != "xlsx":
        return
    for row in draft.rows:
        for i, value in enumerate(row):
            if isinstance(value, str) and DATE_TEXT.match(value):
                row[i] = datetime.strptime(value, "%d-%m-%Y")
    draft.done.append("Excel dates")


def m_percent_format(draft: Draft, rng: random.Random) -> None:
    if draft.fmt != "xlsx" or not draft.headers:
        return
    index = rng.randrange(len(draft.headers))
    draft.percent_columns.add(index)
    for row in draft.rows:
        if index < len(row):
            row[index] = rng.choice([0.954, 1, 0.02, 95.4, -0.5, 1e-9])
    draft.done.append(f"percent format in {draft.headers[index]!r:.30}")


def m_drop_column(draft: Draft, rng: random.Random) -> None:
    if not draft.headers:
        return
    required = [i for i, h in enumerate(draft.headers) if _is_required(draft, h)]
    index = rng.choice(required or list(range(len(draft.headers))))
    draft.done.append(f"without column {draft.headers[index]!r}")
    del draft.headers[index]
    for row in draft.rows:
        if index < len(row):
            del row[index]


def _is_required(draft: Draft, header: Any) -> bool:
    return any(c.header == header and c.required for c in draft.kind.columns)


def m_unknown_columns(draft: Draft, rng: random.Random) -> None:
    extra = rng.randint(1, 4)
    for n in range(extra):
        at = rng.randint(0, len(draft.headers))
        draft.headers.insert(at, rng.choice(["Bemærkning", "Noter", "Kolonne1", "ID", f"X{n}"]))
        for row in draft.rows:
            row.insert(min(at, len(row)), rng.choice(["noget", "", "1.234,56", None, "ja"]))
    draft.done.append(f"{extra} unknown columns")


def m_too_many_columns(draft: Draft, rng: random.Random) -> None:
    count = rng.choice([55, 61, 200])
    draft.headers += [f"Ekstra {n}" for n in range(count)]
    draft.done.append(f"{count} more columns")


def m_duplicate_header(draft: Draft, rng: random.Random) -> None:
    if not draft.headers:
        return
    index = rng.randrange(len(draft.headers))
    header = draft.headers[index]
    copy = rng.choice([header, str(header).upper(), f" {header} ", str(header).replace(" ", "")])
    draft.headers.append(copy)
    for row in draft.rows:
        row.append(rng.choice(["anden værdi", "", "1.234,56", None, "01-01-2026"]))
    draft.done.append(f"header {header!r} twice")


def m_alias_header(draft: Draft, rng: random.Random) -> None:
    columns = [c for c in draft.kind.columns if c.aliases and c.header in draft.headers]
    if not columns:
        return
    column = rng.choice(columns)
    index = draft.headers.index(column.header)
    draft.headers[index] = rng.choice(column.aliases)
    if rng.random() < 0.5:
        draft.headers.append(column.header)  # both the header and its alias
        for row in draft.rows:
            row.append("")
    draft.done.append(f"alias for {column.header!r}")


def m_empty_header(draft: Draft, rng: random.Random) -> None:
    if not draft.headers:
        return
    if rng.random() < 0.5:
        index = rng.randrange(len(draft.headers))
        draft.done.append(f"header {draft.headers[index]!r} empty")
        draft.headers[index] = rng.choice(["", " ", None])
    else:
        at = rng.randint(0, len(draft.headers))
        draft.headers.insert(at, "")
        for row in draft.rows:
            row.insert(min(at, len(row)), "data uden overskrift")
        draft.done.append("a column without header")


def m_odd_header(draft: Draft, rng: random.Random) -> None:
    if not draft.headers:
        return
    index = rng.randrange(len(draft.headers))
    value = rng.choice([*CONTROL, *FORMULAS, *CPR, 12345, 1.5, True, "x" * 10_000])
    if draft.fmt == "csv":
        value = str(value)
    draft.done.append(f"header {draft.headers[index]!r} → {value!r:.30}")
    draft.headers[index] = value


def m_ragged(draft: Draft, rng: random.Random) -> None:
    if not draft.rows:
        return
    row = rng.choice(draft.rows)
    if rng.random() < 0.5 and row:
        del row[rng.randrange(len(row)) :]
        draft.done.append("short row")
    else:
        row += ["ekstra"] * rng.randint(1, 5)
        draft.done.append("long row")


def m_only_headers(draft: Draft, rng: random.Random) -> None:
    draft.rows = []
    draft.done.append("only headers")


def m_empty_rows(draft: Draft, rng: random.Random) -> None:
    draft.blank_before = rng.randint(1, 3)
    for _ in range(rng.randint(1, 3)):
        draft.rows.insert(rng.randint(0, len(draft.rows)), [None] * len(draft.headers))
    draft.done.append("empty rows")


def m_repeat_row(draft: Draft, rng: random.Random) -> None:
    if not draft.rows:
        return
    row = rng.choice(draft.rows)
    for _ in range(rng.choice([1, 2, 30])):
        draft.rows.append(list(row))
    draft.done.append("repeated row")


def m_existing(draft: Draft, rng: random.Random) -> None:
    """A row with the key of the world's record: an update when asked, else an error."""
    if not draft.rows:
        return
    keys = set(UNIQUE.get(draft.kind.key, lambda case, r: {})(0, 0)) - {"name"}
    keys = keys or {"name"}
    row = rng.choice(draft.rows)
    for column in draft.kind.columns:
        if column.key in keys and column.header in draft.headers:
            value = column.example
            row[draft.headers.index(column.header)] = (
                str(value) if draft.fmt == "csv" and value is not None else value
            )
    draft.update_existing = rng.random() < 0.7
    draft.done.append(f"existing record, update={draft.update_existing}")


def m_update_flag(draft: Draft, rng: random.Random) -> None:
    draft.update_existing = not draft.update_existing
    draft.done.append(f"update={draft.update_existing}")


def m_date_format(draft: Draft, rng: random.Random) -> None:
    draft.date_format = rng.choice(list(DATE_FORMATS))
    draft.done.append(f"date format {draft.date_format}")


# CSV only


def m_encoding(draft: Draft, rng: random.Random) -> None:
    draft.encoding = rng.choice(["utf-8-sig", "cp1252", "utf-16", "latin-1", "utf-8", "cp850"])
    draft.done.append(f"encoding {draft.encoding}")


def m_bom_then_cp1252(draft: Draft, rng: random.Random) -> None:
    draft.encoding = "cp1252"
    draft.post.append(lambda data: b"\xef\xbb\xbf" + data)
    draft.done.append("BOM before Windows-1252")


def m_separator(draft: Draft, rng: random.Random) -> None:
    if rng.random() < 0.5:
        draft.separator = rng.choice([",", "\t", "|", " "])
        draft.done.append(f"written with {draft.separator!r}")
    else:
        draft.read_separator = rng.choice(list(SEPARATORS))
        draft.done.append(f"read with {draft.read_separator!r}")


def m_line_end(draft: Draft, rng: random.Random) -> None:
    draft.line_end = rng.choice(["\n", "\r", "\r\n", "\n\n"])
    draft.done.append(f"line end {draft.line_end!r}")


def m_csv_bytes(draft: Draft, rng: random.Random) -> None:
    choice = rng.randrange(6)
    if choice == 0:
        draft.post.append(lambda data: data[: max(1, len(data) // 2)] + b'"unclosed')
    elif choice == 1:
        draft.post.append(lambda data: data + b"\x00\x00")
    elif choice == 2:
        draft.post.append(lambda data: data + b"\x81\x8d\x8f\x90\x9d;\xff\xfe")
    elif choice == 3:
        draft.post.append(lambda data: data + b'"' + b"y" * 140_000 + b'"\r\n')
    elif choice == 4:
        draft.post.append(lambda data: "æ".encode()[:1] + data)
    else:
        draft.post.append(lambda data: data.replace(b";", b'";', 1))
    draft.done.append(f"CSV bytes {choice}")


# Excel only


def m_sheets(draft: Draft, rng: random.Random) -> None:
    others: list[tuple[str, list[list[Any]]]] = [
        ("Forklaring", [["Kolonne", "Forklaring"], ["CVR", "8 cifre"]]),
        ("Tomt", []),
        ("Kopi", [list(draft.headers), ["forkert"] * len(draft.headers)]),
        ("Ark med æøå §", [[None, None], [None, "x"]]),
    ]
    draft.other_sheets = rng.sample(others, rng.randint(1, 3))
    draft.data_sheet_first = rng.random() < 0.5
    draft.data_sheet_name = rng.choice(["Ark1", "Leverandører", "Sheet 1", "'quote'"])
    names = [draft.data_sheet_name] + [n for n, _ in draft.other_sheets]
    draft.sheet = rng.choice([None, *names])
    draft.done.append(f"sheets {names}, picked {draft.sheet}")


def m_empty_sheet(draft: Draft, rng: random.Random) -> None:
    draft.headers, draft.rows = [], []
    draft.done.append("empty sheet")


def m_merge(draft: Draft, rng: random.Random) -> None:
    if not draft.headers:
        return
    top = draft.blank_before + rng.randint(1, len(draft.rows) + 1)
    left = rng.randint(1, len(draft.headers))
    bottom = top + rng.randint(0, 2)
    right = left + rng.randint(0 if bottom > top else 1, 2)
    draft.merges.append(f"{_letter(left)}{top}:{_letter(right)}{bottom}")
    draft.done.append(f"merged {draft.merges[-1]}")


def _letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


def m_not_xlsx(draft: Draft, rng: random.Random) -> None:
    choice = rng.randrange(8)
    payloads = [
        _csv_bytes(Draft(draft.kind, draft.headers, draft.rows, "csv")),
        b"",
        bytes(rng.randrange(256) for _ in range(500)),
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"PK\x03\x04",
        _zip({"hej.txt": b"ikke et regneark"}),
        _zip({"[Content_Types].xml": b"<Types/>"}),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500,  # an old .xls
    ]
    draft.replace = payloads[choice]
    draft.done.append(f"not xlsx {choice}")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def m_truncate(draft: Draft, rng: random.Random) -> None:
    fraction = rng.random()
    draft.post.append(lambda data: data[: int(len(data) * fraction)])
    draft.done.append(f"truncated at {fraction:.2f}")


PARTS = (
    "xl/worksheets/sheet1.xml",
    "xl/workbook.xml",
    "xl/styles.xml",
    "xl/sharedStrings.xml",
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/_rels/workbook.xml.rels",
    "docProps/core.xml",
)


def m_broken_part(draft: Draft, rng: random.Random) -> None:
    """One part of the workbook broken: cut short, garbage, or valid XML of the wrong shape."""
    part, how = rng.choice(PARTS), rng.randrange(6)
    draft.post.append(lambda data: _break_part(data, part, how))
    draft.done.append(f"broken {part} ({how})")


def _break_part(data: bytes, part: str, how: int) -> bytes:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return data  # no workbook left to break (another mutation replaced it)
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == part:
                broken = _broken(content, how)
                if broken is None:
                    continue
                content = broken
            target.writestr(item.filename, content)
    return buffer.getvalue()


def _broken(content: bytes, how: int) -> bytes | None:
    if how == 0:
        return content[: len(content) // 2]
    if how == 1:
        return b"ikke xml \x00\xff"
    if how == 2:
        return None  # the part is missing
    if how == 3:  # a cell of the wrong type: text where a number or a shared string index is
        return re.sub(rb"<v>[^<]*</v>", b"<v>abc</v>", content, count=2)
    if how == 4:  # a shared string index that does not exist; a date cell of nonsense
        return re.sub(rb"<v>\d+</v>", b"<v>99999</v>", content).replace(b't="n"', b't="d"')
    return content.replace(b"<sheets>", b"<sheets/><x>").replace(b"</sheets>", b"</x>")


def m_wrong_name(draft: Draft, rng: random.Random) -> None:
    draft.file_name = "fuzz.csv" if draft.fmt == "xlsx" else "fuzz.xlsx"
    draft.done.append(f"named {draft.file_name}")


def m_empty_file(draft: Draft, rng: random.Random) -> None:
    draft.replace = rng.choice([b"", b"\r\n\r\n", b"   \n\t\n", b"\xef\xbb\xbf", b";;;\n;;\n"])
    draft.done.append(f"empty file {draft.replace!r}")


COMMON: list[tuple[Mutation, int]] = [
    (m_wrong_type, 12),
    (m_english, 5),
    (m_huge_negative_nan, 6),
    (m_serial, 4),
    (m_date_text, 4),
    (m_anywhere, 6),
    (m_control, 4),
    (m_long, 2),
    (m_cpr, 3),
    (m_formula, 2),
    (m_excel_value, 3),
    (m_drop_column, 3),
    (m_unknown_columns, 3),
    (m_too_many_columns, 1),
    (m_duplicate_header, 3),
    (m_alias_header, 2),
    (m_empty_header, 3),
    (m_odd_header, 2),
    (m_ragged, 3),
    (m_only_headers, 1),
    (m_empty_rows, 2),
    (m_repeat_row, 2),
    (m_existing, 3),
    (m_update_flag, 1),
    (m_date_format, 2),
    (m_wrong_name, 1),
    (m_empty_file, 1),
]
CSV_ONLY: list[tuple[Mutation, int]] = [
    (m_encoding, 5),
    (m_bom_then_cp1252, 1),
    (m_separator, 4),
    (m_line_end, 2),
    (m_csv_bytes, 3),
]
XLSX_ONLY: list[tuple[Mutation, int]] = [
    (m_excel_dates, 4),
    (m_percent_format, 2),
    (m_sheets, 3),
    (m_empty_sheet, 1),
    (m_merge, 3),
    (m_formula, 3),
    (m_not_xlsx, 2),
    (m_truncate, 2),
    (m_broken_part, 4),
]


def _case(kind: ImportKind, number: int) -> Case:
    """The case `number` of a kind: the first two are the good file as CSV and as Excel."""
    rng = random.Random(f"{kind.key}-{number}")
    fmt = "csv" if number == 0 else "xlsx" if number == 1 else rng.choice(["csv", "xlsx"])
    draft = _base(kind, number, rng, fmt)
    if number > 1:
        pool = COMMON + (CSV_ONLY if fmt == "csv" else XLSX_ONLY)
        mutations, weights = zip(*pool, strict=True)
        for mutation in rng.choices(mutations, weights, k=rng.choice([1, 1, 1, 2, 2, 3])):
            mutation(draft, rng)
    return _finish(draft, number)


# --- What the page does, and what must hold -------------------------------------------------

ENGLISH_TEXT = re.compile(
    r"Traceback|Error\b|Exception|InvalidOperation|Input should|should be|must be|"
    r"not a valid|Value error|field required|could not|invalid|unsupported|object has no|"
    r"NoneType|Decimal\(|datetime\.|codec|line \d+, in ",
    re.IGNORECASE,
)


def _message_problem(message: Any) -> str | None:
    text = str(message) if message is not None else ""
    if not text.strip() or not any(ch.isalpha() for ch in text):
        return f"empty message {text!r}"
    if found := ENGLISH_TEXT.search(text):
        return f"not Danish ({found.group(0)!r}): {text[:200]!r}"
    return None


def _counts(engine: Engine) -> dict[str, int]:
    tables = SQLModel.metadata.sorted_tables
    query = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t.name}")' for t in tables)
    with engine.connect() as conn:
        row = conn.execute(sa.text(query)).one()
    return dict(zip((t.name for t in tables), row, strict=True))


def _read(case: Case) -> Any:
    """The file as pages/importer.py reads it (the sheet the user picked, else the first)."""
    if is_excel(case.name):
        sheets = sheet_names(case.data)
        return read_excel(case.data, case.sheet if case.sheet in sheets else sheets[0])
    return read_csv(case.data, case.separator)[0]


def _options(case: Case) -> dict[str, Any]:
    return {
        "date_format": case.date_format,
        "update_existing": case.kind.update_help is not None and case.update_existing,
    }


def _exception_problems(exc: BaseException) -> list[str]:
    if isinstance(exc, InputError):
        messages = [exc.message, *exc.fields.values()]
    elif isinstance(exc, UserError):
        messages = [exc.message]
    else:
        messages = [str(exc)]
    return [p for m in messages if (p := _message_problem(m))]


def _last_import(engine: Engine) -> AuditEvent | None:
    with Session(engine) as s:
        return s.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "import")
            .order_by(col(AuditEvent.id).desc())
            .limit(1)
        ).first()


def _run(engine: Engine, case: Case) -> tuple[str, list[str]]:
    """One case as the page runs it: its outcome and what went wrong."""
    before = _counts(engine)
    try:
        table = _read(case)
        with Session(engine, expire_on_commit=False) as s:
            preview = case.kind.preview(
                session=s, headers=table.headers, rows=table.rows, **_options(case)
            )
    except (FileError, UserError) as exc:
        problems = _exception_problems(exc)
        if _counts(engine) != before:
            problems.append("a refused file changed the database")
        return type(exc).__name__, problems
    problems = [
        f"row {p.row} {p.column!r}: {found}"
        for p in [*preview.errors, *preview.warnings]
        if (found := _message_problem(p.message))
    ]
    if _counts(engine) != before:
        problems.append("the preview changed the database")
    if preview.error_count or preview.columns.missing:
        return "errors", problems + _refused_write(engine, case, before)
    if not preview.ready:
        return "nothing to do", problems
    return "written", problems + _write(engine, case, preview, before)


def _write_now(engine: Engine, case: Case) -> ImportPreview:
    table = _read(case)
    with Session(engine, expire_on_commit=False) as s:
        result: ImportPreview = case.kind.write(
            session=s,
            headers=table.headers,
            rows=table.rows,
            file_name=FILE_NAME,
            user=USER,
            **_options(case),
        )
        return result


def _refused_write(engine: Engine, case: Case, before: dict[str, int]) -> list[str]:
    try:
        _write_now(engine, case)
    except InputError as exc:
        problems = _exception_problems(exc)
    else:
        problems = ["the write of a file with errors succeeded"]
    if (after := _counts(engine)) != before:
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        problems.append(f"a refused write changed the database: {changed}")
    return problems


def _write(engine: Engine, case: Case, preview: ImportPreview, before: dict[str, int]) -> list[str]:
    try:
        _write_now(engine, case)
    except UserError as exc:
        problems = [f"a ready preview's write was refused: {exc.message}"]
        if _counts(engine) != before:
            problems.append("a refused write changed the database")
        return problems + _exception_problems(exc)
    after = _counts(engine)
    problems = []
    table = TABLE_OF.get(case.kind.key)
    if table is not None:
        name = str(table.__tablename__)
        if after[name] - before[name] != preview.creates:
            problems.append(
                f"{after[name] - before[name]} new {name} rows, the preview said {preview.creates}"
            )
    summary = _last_import(engine)
    if after["auditevent"] <= before["auditevent"] or summary is None:
        return [*problems, "no audit summary of the import"]
    changes = json.loads(summary.changes)
    if [changes["created"][1], changes["updated"][1]] != [preview.creates, len(preview.updates)]:
        problems.append(
            f"audit summary {changes}, preview {preview.creates}/{len(preview.updates)}"
        )
    if stored := _new_events_with_cpr(engine, after["auditevent"] - before["auditevent"]):
        problems.append(f"a CPR-like number was stored: {stored}")
    return problems


def _new_events_with_cpr(engine: Engine, count: int) -> list[str]:
    """The newest events' changes (all a write stored) that hold a CPR-like number."""
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(count)).all()
    return [f"{e.entity} {e.entity_id}" for e in events if contains_cpr(e.changes)]


# --- The test -------------------------------------------------------------------------------

SUMMARY: dict[tuple[str, str], Counter[str]] = {}


@pytest.mark.parametrize("kind", KINDS, ids=[k.key for k in KINDS])
def test_bad_files_give_danish_errors_and_write_all_or_nothing(
    engine: Engine, kind: ImportKind
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        WORLDS.get(kind.key, lambda session, kind: None)(s, kind)
    backend = engine.dialect.name
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    for number in range(CASES[backend]):
        case = _case(kind, number)
        try:
            outcome, problems = _run(engine, case)
        except Exception:
            outcome, problems = "traceback", [traceback.format_exc(limit=-4)]
        outcomes[outcome] += 1
        if number < 2 and outcome != "written":
            problems.append(f"the good file was not written ({outcome})")
        if problems:
            failures.append(f"{case.what}\n    " + "\n    ".join(problems))
    SUMMARY[(kind.key, backend)] = outcomes
    print(f"\n{kind.key} on {backend}: {sum(outcomes.values())} cases, {dict(outcomes)}")
    assert not failures, f"{len(failures)} of {sum(outcomes.values())} cases:\n" + "\n".join(
        failures[:12]
    )
    # Sanity: the generator reaches every stage, not just the file readers.
    assert outcomes["errors"] and outcomes["written"], dict(outcomes)
    assert outcomes["FileError"], dict(outcomes)


def test_the_files_that_gave_tracebacks() -> None:
    """Found by the cases above: each read as a file, or refused as one (FileError)."""
    # A BOM before Windows-1252 text (the BOM is wrong, the text is Windows-1252).
    table, _, encoding = read_csv(b"\xef\xbb\xbf" + "Navn;By\nÆble;Øster\n".encode("cp1252"))
    assert ("Windows-1252", [("Æble", "Øster")]) == (encoding, [r.values for r in table.rows])
    good = _finish(_base(KINDS[0], 0, random.Random(0), "xlsx"), 0).data
    for part, how in [
        ("xl/worksheets/sheet1.xml", 0),  # cut short: the XML parser's ParseError
        ("xl/worksheets/sheet1.xml", 2),  # missing: a workbook without sheets
        ("xl/worksheets/sheet1.xml", 3),  # a number cell holding text: ValueError
        ("xl/styles.xml", 1),
        ("xl/workbook.xml", 1),
        ("[Content_Types].xml", 1),
        ("xl/_rels/workbook.xml.rels", 1),
    ]:
        data = _break_part(good, part, how)
        with pytest.raises(FileError):
            list(read_excel(data, sheet_names(data)[0]).rows)
