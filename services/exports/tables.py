"""Excel and CSV exports that Excel never runs as formulas, with Danish number formats."""

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from services.formatting import format_date

# A cell beginning with one of these is run by Excel as a formula (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Excel number formats are stored locale-neutral; Danish Excel shows them as 1.234,56.
MONEY_FORMAT = "#,##0.00"
PCT_FORMAT = "0.00"
INT_FORMAT = "#,##0"
DATE_FORMAT = "dd.mm.yyyy"


def neutralise(value: object) -> object:
    """Prefix text that Excel would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Sheet:
    """One table to export; column lists name columns by their (Danish) header."""

    name: str
    frame: pd.DataFrame
    money: Sequence[str] = ()
    dates: Sequence[str] = ()
    pct: Sequence[str] = ()
    ints: Sequence[str] = ()
    title: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)


# openpyxl's own ILLEGAL_CHARACTERS_RE (openpyxl.cell.cell), without importing openpyxl with
# every page: a test holds the two equal.
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _cell_value(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, Decimal | int | float | date | datetime | bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    # Control characters stored before input was cleaned would stop openpyxl: leave them out.
    return neutralise(ILLEGAL_CHARACTERS.sub("", str(value)))


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one sheet per table: bold frozen header, numbers kept as numbers."""
    # Imported when a file is built (a click on a download button), not with every page.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        ws = workbook.create_sheet(title=_sheet_name(sheet.name))
        first_row = 1
        if sheet.title:
            ws.cell(row=1, column=1, value=neutralise(sheet.title)).font = Font(bold=True, size=13)
            for offset, note in enumerate(sheet.notes, start=2):
                ws.cell(row=offset, column=1, value=neutralise(note))
            first_row = len(sheet.notes) + 3
        header_fill = PatternFill("solid", fgColor="DCE6F0")
        columns = list(sheet.frame.columns)
        for col_index, name in enumerate(columns, start=1):
            cell = ws.cell(row=first_row, column=col_index, value=neutralise(str(name)))
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        formats = {
            **{c: MONEY_FORMAT for c in sheet.money},
            **{c: DATE_FORMAT for c in sheet.dates},
            **{c: PCT_FORMAT for c in sheet.pct},
            **{c: INT_FORMAT for c in sheet.ints},
        }
        for row_index, row in enumerate(sheet.frame.itertuples(index=False), start=first_row + 1):
            for col_index, value in enumerate(row, start=1):
                cell = ws.cell(row=row_index, column=col_index, value=_cell_value(value))
                number_format = formats.get(columns[col_index - 1])
                if number_format:
                    cell.number_format = number_format
        for col_index, name in enumerate(columns, start=1):
            values = [str(name)] + [str(v) for v in sheet.frame.iloc[:200, col_index - 1]]
            width = min(max(len(v) for v in values) + 2, 60)
            ws.column_dimensions[get_column_letter(col_index)].width = max(width, 10)
        ws.freeze_panes = ws.cell(row=first_row + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")
    return cleaned[:31] or "Ark"


def _csv_cell(value: object, is_money: bool) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.date()
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal | float) and is_money:
        return f"{Decimal(str(value)):.2f}".replace(".", ",")
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return neutralise(str(value))


def to_csv(frame: pd.DataFrame, money: Sequence[str] = ()) -> bytes:
    """CSV for Danish Excel: semicolon-separated, decimal comma, UTF-8 with BOM."""
    money_set = set(money)
    out = pd.DataFrame(
        {
            neutralise(str(column)): [_csv_cell(v, column in money_set) for v in frame[column]]
            for column in frame.columns
        }
    )
    return out.to_csv(sep=";", index=False).encode("utf-8-sig")
