"""Reading an uploaded file's rows (SPEC 9): Excel and CSV, streamed, with the row numbers the
user sees, percentages as Excel shows them, empty rows left out, and whole-file errors in
Danish."""

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from services.imports.parsing import parse_amount, parse_cell_date, parse_percent
from services.imports.reading import (
    MAX_FILE_BYTES,
    FileError,
    read_csv,
    read_excel,
    sheet_names,
)


def _xlsx(build) -> bytes:  # type: ignore[no-untyped-def]
    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _providers(workbook) -> None:  # type: ignore[no-untyped-def]
    ws = workbook.active
    ws.title = "Leverandører"
    ws.append([])  # an empty first row: the header is the first row with something in it
    ws.append(["CVR", "Navn ", "Momsfaktor", "Rammeaftale gælder til", "Beløb"])
    ws.append(["12345674", "  Bo Nord  ", 0.954, datetime(2027, 6, 30), 1234.56])
    ws["C3"].number_format = "0.0%"
    ws.append([None, None, None, None, None])  # empty: left out
    ws.append(["87654321", "Bo Syd", "95,4%", 46106, "1.234,56"])
    ws.append(["11111111", "Bo Øst"])  # a short row: the missing cells are empty
    other = workbook.create_sheet("Noter")
    other.append(["Tekst"])


def test_an_excel_sheet_with_the_row_numbers_excel_shows():
    table = read_excel(_xlsx(_providers))
    assert ("CVR", "Navn", "Momsfaktor", "Rammeaftale gælder til", "Beløb") == table.headers
    assert 2 == table.header_row
    rows = list(table.rows)
    assert [3, 5, 6] == [r.number for r in rows]
    first, second, third = (r.values for r in rows)
    assert "Bo Nord" == first[1]  # trimmed
    assert "95,4%" == first[2]  # as Excel shows the percentage
    assert parse_percent(first[2]) == parse_percent(second[2])
    assert parse_amount(first[4]) == parse_amount(second[4])
    assert date(2027, 6, 30) == parse_cell_date(first[3])
    assert date(2026, 3, 25) == parse_cell_date(second[3])  # an Excel serial typed as a number
    assert (None, None, None) == third[2:]


def test_sheets_by_name():
    data = _xlsx(_providers)
    assert ["Leverandører", "Noter"] == sheet_names(data)
    assert ("Tekst",) == read_excel(data, "Noter").headers
    with pytest.raises(FileError, match="Arket »Findes ikke« findes ikke"):
        read_excel(data, "Findes ikke")


def test_an_empty_sheet_says_so():
    with pytest.raises(FileError, match="ingen overskriftsrække"):
        read_excel(_xlsx(lambda wb: None))


def _with_saved_value(data: bytes, value: str) -> bytes:
    """The workbook as Excel saves it: a formula with the value it computed (openpyxl writes
    the formula alone)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes an empty "<v />" ("<v></v>" when lxml is installed)
                content = re.sub(rb"<v ?/>|<v></v>", f"<v>{value}</v>".encode(), content)
            target.writestr(item, content)
    return buffer.getvalue()


def test_formulas_are_read_as_their_saved_values():
    def build(workbook):  # type: ignore[no-untyped-def]
        workbook.active.append(["Beløb"])
        workbook.active.append(["=1000+234.56"])

    data = _with_saved_value(_xlsx(build), "1234.56")
    assert [(1234.56,)] == [r.values for r in read_excel(data).rows]
    assert Decimal("1234.56") == parse_amount(1234.56)


@pytest.mark.parametrize(
    "data",
    [b"not a workbook", b"PK\x03\x04broken zip", b""],
)
def test_a_file_that_is_not_a_workbook_is_refused(data):
    with pytest.raises(FileError, match="kan ikke læses"):
        read_excel(data)


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(FileError, match="større end 20 MB"):
        read_csv(b"x" * (MAX_FILE_BYTES + 1))


def test_csv_with_bom_semicolons_and_a_quoted_line_break():
    data = '\ufeffCVR;Navn;Beløb\n12345674;"Bo\nNord";1.234,56\n\n87654321;Bo Syd ;2,5\n'
    table, separator, encoding = read_csv(data.encode("utf-8"))
    assert (";", "UTF-8 med BOM") == (separator, encoding)
    assert ("CVR", "Navn", "Beløb") == table.headers
    rows = list(table.rows)
    assert [2, 5] == [r.number for r in rows]  # the quoted cell spans lines 2 and 3
    assert ("12345674", "Bo\nNord", "1.234,56") == rows[0].values
    assert "Bo Syd" == rows[1].values[1]


def test_csv_in_windows_1252_with_commas():
    data = "CVR,Navn\n12345674,Ærø Bo\n".encode("cp1252")
    table, separator, encoding = read_csv(data)
    assert (",", "Windows-1252") == (separator, encoding)
    assert [("12345674", "Ærø Bo")] == [r.values for r in table.rows]


def test_csv_with_a_nul_is_refused():
    with pytest.raises(FileError):
        read_csv(b"CVR;Navn\n1\x00;x\n")


def test_a_title_above_the_headers_is_passed_over_when_the_kind_knows_its_headers():
    from services.imports.kinds import KINDS, header_test

    providers = next(k for k in KINDS if k.key == "leverandoerer")
    text = (
        "Leverandørliste 2026;;\n"
        "Udtræk fra økonomisystemet;;\n"
        ";;\n"
        "CVR;Navn;By\n"
        "12345674;Bo Nord;Aalborg\n"
    )
    table, _, _ = read_csv(text.encode("utf-8"), None, header_test(providers))
    assert (("CVR", "Navn", "By"), 4) == (table.headers, table.header_row)
    assert [(5, ("12345674", "Bo Nord", "Aalborg"))] == [(r.number, r.values) for r in table.rows]
    plain, _, _ = read_csv(text.encode("utf-8"))  # without the kind: the first row heads
    assert "Leverandørliste 2026" == plain.headers[0]
    # No row the kind recognises among the first ones: the first non-empty row heads, as before.
    other, _, _ = read_csv(b"a;b\n1;2\n", None, header_test(providers))
    assert (("a", "b"), [(2, ("1", "2"))]) == (
        other.headers,
        [(r.number, r.values) for r in other.rows],
    )
