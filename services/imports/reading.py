"""Reading the rows of an uploaded .xlsx or .csv file (SPEC 9), streamed: openpyxl in
read-only mode and the csv reader, so a large file is never held as a table in memory.

Each row keeps the number Excel (or a text editor) shows for it, for the error table. The first
non-empty row is the header row. Empty rows are skipped, text is trimmed, formulas are read as
the values Excel saved with them, and a number formatted as a percentage in Excel (0.954 shown
as 95,4 %) becomes the text "95,4%", so that it meets the same strict parsing as a typed one.
"""

import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

from services.formatting import format_number
from services.imports.parsing import sniff_separator, text_encoding

MAX_FILE_MB = 20
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 60
TOO_LARGE = f"Filen er større end {MAX_FILE_MB} MB. Del den op i flere filer."
TOO_MANY_ROWS = f"Filen har flere end {format_number(MAX_ROWS)} rækker. Del den op i flere filer."
NOT_READABLE = "Filen kan ikke læses som Excel (.xlsx) eller CSV. Gem den som .xlsx eller .csv."
NO_HEADER = "Arket er tomt: der er ingen overskriftsrække."
# What openpyxl raises for bytes that are no workbook, or a workbook with a broken part (the XML
# parser's ParseError is a SyntaxError); read-only mode meets a broken sheet only as it reads it.
# openpyxl itself is imported only when a workbook is read (see _broken): the second process
# an invoice import starts never reads one.
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    IndexError,
    OSError,
    EOFError,
    ValueError,
    SyntaxError,
)


def _broken() -> tuple[type[Exception], ...]:
    """_BROKEN and openpyxl's InvalidFileException (openpyxl imported by now)."""
    from openpyxl.utils.exceptions import InvalidFileException

    return (InvalidFileException, *_BROKEN)


class FileError(ValueError):
    """The file as a whole cannot be read (Danish message)."""


@dataclass(frozen=True)
class SourceRow:
    number: int  # the row's number as the user sees it in Excel or a text editor
    values: tuple[Any, ...]  # one per header column; None for an empty cell


@dataclass(frozen=True)
class SourceTable:
    headers: tuple[str, ...]
    header_row: int
    rows: Iterator[SourceRow]
    size_hint: int | None = None  # about how many data rows follow (for a progress bar)


def check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise FileError(TOO_LARGE)


def is_excel(file_name: str) -> bool:
    return file_name.lower().endswith((".xlsx", ".xlsm"))


def sheet_names(data: bytes) -> list[str]:
    """The sheets of a workbook, in order."""
    check_size(data)
    workbook = _workbook(data)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _workbook(data: bytes) -> Any:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _broken():
        raise FileError(NOT_READABLE) from None
    if not workbook.sheetnames:  # a workbook whose sheets are missing
        workbook.close()
        raise FileError(NOT_READABLE)
    return workbook


def _cell(value: Any, number_format: str | None) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool) or value is None or isinstance(value, datetime | date):
        return value
    if isinstance(value, int | float) and number_format and "%" in number_format:
        percent = Decimal(str(value)) * 100
        return f"{format_number(percent, _places(percent))}%"
    return value


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _empty(values: tuple[Any, ...]) -> bool:
    return all(v is None for v in values)


HeaderTest = Callable[[Sequence[str]], bool]
TITLE_ROWS = 10  # how far down a header row is looked for under title rows


def _header_first(
    lines: Iterator[tuple[int, tuple[Any, ...]]], is_header: HeaderTest | None
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The lines from the header row on: the first non-empty one, or (given `is_header`) the
    first of the first TITLE_ROWS non-empty ones it recognises, so a title above the headers
    ("Leverandørliste 2026") is passed over. No row recognised: from the first non-empty."""
    if is_header is None:
        return lines
    seen: list[tuple[int, tuple[Any, ...]]] = []
    for line in lines:
        if _empty(line[1]):
            continue
        seen.append(line)
        if is_header(tuple("" if v is None else str(v) for v in line[1])):
            return chain([line], lines)
        if len(seen) >= TITLE_ROWS:
            break
    return chain(seen, lines)


def _table(
    lines: Iterator[tuple[int, tuple[Any, ...]]],
    last: int | None = None,
    is_header: HeaderTest | None = None,
) -> SourceTable:
    """The header row and the rows after it, empty ones left out (see _header_first)."""
    lines = _header_first(lines, is_header)
    for number, values in lines:
        if _empty(values):
            continue
        width = max(i for i, v in enumerate(values) if v is not None) + 1
        if width > MAX_COLUMNS:
            raise FileError(f"Arket har flere end {MAX_COLUMNS} kolonner.")
        headers = tuple("" if v is None else str(v) for v in values[:width])

        def rows(first: int = number, width: int = width) -> Iterator[SourceRow]:
            for count, (row_number, row) in enumerate(lines, start=1):
                if count > MAX_ROWS:
                    raise FileError(TOO_MANY_ROWS)
                cells = tuple(row[:width]) + (None,) * (width - len(row))
                if not _empty(cells):
                    yield SourceRow(row_number, cells)

        hint = max(last - number, 0) if last else None
        return SourceTable(headers, number, rows(), hint)
    raise FileError(NO_HEADER)


def read_excel(
    data: bytes, sheet: str | None = None, is_header: HeaderTest | None = None
) -> SourceTable:
    """A sheet's rows (the first sheet when none is named)."""
    check_size(data)
    workbook = _workbook(data)
    if sheet is not None and sheet not in workbook.sheetnames:
        raise FileError(f"Arket »{sheet}« findes ikke i filen.")
    try:
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        last = getattr(worksheet, "max_row", None)
    except _broken():
        workbook.close()
        raise FileError(NOT_READABLE) from None

    def lines() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            for number, row in enumerate(worksheet.iter_rows(), start=1):
                yield (
                    number,
                    tuple(
                        _cell(getattr(c, "value", None), getattr(c, "number_format", None))
                        for c in row
                    ),
                )
        except _broken():
            raise FileError(NOT_READABLE) from None
        finally:
            workbook.close()

    return _table(lines(), last if isinstance(last, int) else None, is_header)


def read_csv(
    data: bytes, separator: str | None = None, is_header: HeaderTest | None = None
) -> tuple[SourceTable, str, str]:
    """The rows of a CSV file, with the separator used and the encoding found."""
    check_size(data)
    codec, skip, encoding = text_encoding(data)
    if b"\x00" in data:
        raise FileError(NOT_READABLE)
    separator = separator or sniff_separator(
        data[skip : skip + 65536].decode(codec, errors="replace")
    )
    # Decoded as it is read: a 20 MB file is never held as text as well as bytes.
    stream = io.BytesIO(data)
    stream.seek(skip)
    text = io.TextIOWrapper(stream, encoding=codec, errors="replace", newline="")
    reader = csv.reader(text, delimiter=separator)

    def lines() -> Iterator[tuple[int, tuple[Any, ...]]]:
        while True:
            start = reader.line_num + 1  # a quoted cell may span lines: the row's first line
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                raise FileError(f"Linje {start} kan ikke læses som CSV.") from None
            yield start, tuple([v.strip() or None for v in row])  # as _cell reads text

    return _table(lines(), data.count(b"\n") + 1, is_header), separator, encoding
