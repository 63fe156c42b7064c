"""Kvartalsrapport through AppTest: renders, picks a quarter, and the downloads match the screen."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from services.db import get_engine
from services.exports.report import (
    KEY_FIGURE_SHEET,
    figure_text,
    report_html,
    report_workbook,
)
from services.formatting import format_kr, format_number, format_short_kr
from services.queries.report import (
    Quarter,
    default_quarter,
    quarter_report,
)
from tests.factories import make_contract, make_provider
from tests.pagetest import metric, metric_help, run_page

PAGE = "pages/kvartalsrapport.py"
SHEETS = [
    "Nøgletal",
    "Afvigelser logget",
    "Afvigelser løst",
    "Genforhandlinger",
    "Opsigelsesfrister",
    "Advarsler",
    "Overskredne opfølgninger",
    "Dyreste sager",
    "Leverandørkoncentration",
    "Besparelser",
]


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict:
    """What each download button would serve, by widget key (deferred data is called)."""
    served: dict = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        served[kwargs.get("key")] = data() if callable(data) else data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return served


def _table(sheet) -> tuple[int, list[str], list[list]]:  # type: ignore[no-untyped-def]
    """Header row number, column names and data rows of a report sheet.

    A sheet starts with its title and notes, then a blank row, then the header.
    """
    blank = 2
    while sheet.cell(blank, 1).value is not None:
        blank += 1
    header = blank + 1
    names = [c.value for c in sheet[header]]
    rows = [list(r) for r in sheet.iter_rows(min_row=header + 1, values_only=True)]
    return header, names, rows


def _column(sheet, name: str) -> list:  # type: ignore[no-untyped-def]
    _, names, rows = _table(sheet)
    index = names.index(name)
    return [row[index] for row in rows]


def _tab(at: AppTest, name: str) -> AppTest:
    at.session_state["quarterly_tab"] = name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _current_quarter(at: AppTest) -> AppTest:
    at.selectbox(key="quarterly_quarter").select(Quarter.of(date.today()).key).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_default_is_the_last_completed_quarter(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    assert default_quarter().key == at.selectbox(key="quarterly_quarter").value
    assert any(m.label == "Kontrakter i kraft" for m in at.metric)
    assert any(m.label == "Logget i kvartalet" for m in at.metric)  # the first tab
    assert not at.get("vega_lite_chart")
    assert 1 == len(_tab(at, "Dyreste sager").get("vega_lite_chart"))
    assert 1 == len(_tab(at, "Leverandører").get("vega_lite_chart"))
    assert not at.error


def test_empty_database_says_so(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert any("ingen data" in i.value for i in at.info)
    assert not at.metric


def test_workbook_has_every_section_and_equals_the_screen(demo_db, monkeypatch, downloads):
    at = _current_quarter(run_page(demo_db, PAGE, monkeypatch))
    workbook = load_workbook(io.BytesIO(downloads["quarterly_workbook"]))
    assert SHEETS == workbook.sheetnames

    key_sheet = workbook[KEY_FIGURE_SHEET]
    header, names, rows = _table(key_sheet)
    assert ["Nøgletal", "Enhed", "Kvartalets udgang", "Forrige kvartals udgang", "Ændring"] == names
    assert f"A{header + 1}" == key_sheet.freeze_panes
    for name, unit, value, _previous, _change in rows:
        number = None if value is None else Decimal(str(value))
        assert figure_text(number, unit, short=True) == metric(at, name), name
    formats = {
        row[1].value: row[2].number_format for row in key_sheet.iter_rows(min_row=header + 1)
    }
    assert {"kr.": "#,##0.00", "antal": "#,##0", "%": "0.00"} == formats

    logged = workbook["Afvigelser logget"]
    amounts = [Decimal(str(v)) for v in _column(logged, "Afvigelse")]
    assert amounts, "the demo data has deviations logged in the current quarter"
    assert format_number(len(amounts)) == metric(at, "Logget i kvartalet")
    assert format_short_kr(sum(amounts)) == metric(at, "Logget, afvigelse i alt")
    assert format_kr(sum(amounts)) == metric_help(at, "Logget, afvigelse i alt")  # in full
    assert "#,##0.00" == logged.cell(_table(logged)[0] + 1, 8).number_format

    expensive = workbook["Dyreste sager"]
    _tab(at, "Dyreste sager")
    shown = next(
        d.value for d in at.dataframe if "Årsudgift" in d.value.columns and "Sag" in d.value.columns
    )
    assert 10 == len(_column(expensive, "Årsudgift"))
    assert sum(Decimal(str(v)) for v in _column(expensive, "Årsudgift")) == sum(
        Decimal(str(v)) for v in shown["Årsudgift"]
    )
    concentration = workbook["Leverandørkoncentration"]
    _tab(at, "Leverandører")
    invoiced = sum(Decimal(str(v)) for v in _column(concentration, "Faktureret"))
    assert format_short_kr(invoiced) == metric(at, "Faktureret i alt")
    assert format_kr(invoiced) == metric_help(at, "Faktureret i alt")


def test_printable_page_has_charts_and_no_scripts(demo_db, monkeypatch, downloads):
    _current_quarter(run_page(demo_db, PAGE, monkeypatch))
    page = downloads["quarterly_html"].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"Kvartalsrapport {Quarter.of(date.today()).label}" in page
    assert page.count("<svg") == 2
    assert "<script" not in page.lower()
    assert "Nøgletal" in page


def test_choosing_a_quarter_changes_the_report(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    previous = metric(at, "Kontrakter i kraft")
    earlier = default_quarter().previous().previous()
    at.selectbox(key="quarterly_quarter").select(earlier.key).run()
    assert not at.exception
    with Session(get_engine(demo_db)) as s:
        report = quarter_report(session=s, quarter=earlier)
    shown = report.figure("Kontrakter i kraft")
    assert figure_text(shown.value, shown.unit) == metric(at, "Kontrakter i kraft")
    _tab(at, "Opfølgninger")
    assert any(format_number(len(report.overdue_followups)) in c.value for c in at.caption)
    assert previous  # the first quarter rendered too


def test_report_text_is_escaped_and_cells_are_not_formulas(session):
    provider = make_provider(session, name='<script>alert("x")</script> & Co', cvr="10000009")
    make_contract(
        session,
        provider,
        case_ref='=HYPERLINK("http://x")',
        start_date=date(2026, 1, 1),
        price_base_date=date(2026, 1, 1),
    )
    report = quarter_report(session=session, quarter=Quarter(2026, 2), today=date(2026, 6, 30))
    page = report_html(report, printed=date(2026, 6, 30))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    workbook = load_workbook(io.BytesIO(report_workbook(report)))
    cases = _column(workbook["Dyreste sager"], "Sag")
    assert ['\'=HYPERLINK("http://x")'] == cases
