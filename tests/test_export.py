"""Exports never let Excel run a cell as a formula, and keep numbers as numbers; no table offers
a download of its own that goes around them."""

import csv
import io
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit import config as streamlit_config

from pages._nav import PAGES
from pages._ui import TABLE_TOOLBAR_STYLE
from services.exports.tables import Sheet, neutralise, to_csv, to_xlsx
from tests.pagetest import run_page


@pytest.mark.parametrize("text", ["=1+1", "+45 1234", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised(text):
    assert "'" + text == neutralise(text)


@pytest.mark.parametrize("value", ["Bostedet", "2.080,80", 5, Decimal("-2.5"), None])
def test_other_values_are_untouched(value):
    assert value == neutralise(value)


FRAME = pd.DataFrame(
    {
        "Leverandør": ['=HYPERLINK("x")', "Egelunden"],
        "Takst": [Decimal("2080.80"), Decimal("-15.00")],
        "Dato": [date(2026, 11, 22), None],
    }
)


def test_xlsx_keeps_numbers_dates_and_neutralises_text():
    data = to_xlsx([Sheet("Leverandører", FRAME, money=["Takst"], dates=["Dato"])])
    ws = load_workbook(io.BytesIO(data))["Leverandører"]
    assert ["Leverandør", "Takst", "Dato"] == [c.value for c in ws[1]]
    assert '\'=HYPERLINK("x")' == ws["A2"].value
    assert 2080.80 == pytest.approx(ws["B2"].value)
    assert -15 == ws["B3"].value
    assert "#,##0.00" == ws["B2"].number_format
    assert date(2026, 11, 22) == ws["C2"].value.date()
    assert "A2" == ws.freeze_panes


def test_csv_is_danish_and_neutralised():
    text = to_csv(FRAME, money=["Takst"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [
        ["Leverandør", "Takst", "Dato"],
        ['\'=HYPERLINK("x")', "2080,80", "22.11.2026"],
        ["Egelunden", "-15,00", ""],
    ] == rows


CONTROL = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r")


@pytest.mark.parametrize(
    "text",
    [
        f"Bostedet{CONTROL}Egelund",  # rows stored before input was cleaned
        '\x0b=HYPERLINK("http://x")',  # Word's manual line break before a formula
        "=1+1\x1b",
        "@SUM(A1)\x01",
        "+45 12 34 56 78",
    ],
)
def test_every_export_builds_with_control_characters_and_formula_payloads(text):
    frame = pd.DataFrame({"Navn": [text], "Beløb": [Decimal("1.00")]})
    book = load_workbook(io.BytesIO(to_xlsx([Sheet("Ark", frame, money=["Beløb"])])))
    value = [row for row in book["Ark"].iter_rows(values_only=True)][-1][0]
    assert not any(ch in value for ch in CONTROL)
    assert not value.startswith(("=", "+", "-", "@"))
    assert to_csv(frame)


# --- The tables' own toolbar ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_tables_offer_no_csv_download_of_their_own():
    """The table toolbar's "Download as CSV" writes raw cell text, past neutralise(): it is
    switched off where Streamlit supports it, for every table of every page."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True
    # The option exists in the installed Streamlit (a renamed option would be ignored).
    assert "client.disableDataExport" in streamlit_config.get_config_options()


@pytest.mark.parametrize("spec", PAGES, ids=[p.title for p in PAGES])
def test_every_page_hides_the_tables_english_toolbar(spec, empty_db, monkeypatch):
    """Search, Fullscreen and Show/hide columns cannot be translated: the style that hides
    the toolbar of every table is on every page (the browser test checks what it renders)."""
    at = run_page(empty_db, spec.path, monkeypatch)
    styles = [h.proto.body for h in at.get("html")]
    assert [TABLE_TOOLBAR_STYLE] == [s for s in styles if "stElementToolbar" in s]
    assert '[data-testid="stDataFrame"] [data-testid="stElementToolbar"]' in TABLE_TOOLBAR_STYLE
    assert "display: none" in TABLE_TOOLBAR_STYLE


def test_the_control_characters_left_out_are_openpyxls_own() -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from services.exports.tables import ILLEGAL_CHARACTERS

    assert ILLEGAL_CHARACTERS_RE.pattern == ILLEGAL_CHARACTERS.pattern
    every_char = "".join(chr(code) for code in range(0x80))
    assert ILLEGAL_CHARACTERS_RE.sub("", every_char) == ILLEGAL_CHARACTERS.sub("", every_char)
