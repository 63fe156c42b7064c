"""Overblik through AppTest: key figures match the database, filters, alert links, workbook."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, select
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from models import Contract, ContractStatus
from services.db import get_engine
from services.formatting import format_kr, format_number, format_short_kr
from services.queries.home import table_counts
from services.queries.overview import alert_overview, overview
from tests.pagetest import metric as _metric
from tests.pagetest import metric_help, run_page

PAGE = "pages/overblik.py"


def _charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict:
    """What each download button would serve, by widget key (deferred data is called)."""
    served: dict = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        served[kwargs.get("key")] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return served


def test_demo_key_figures_match_the_database(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    with Session(get_engine(demo_db)) as s:
        counts = table_counts(session=s)
        data = overview(session=s, year=date.today().year)
    assert counts.providers >= 20
    assert str(counts.providers) == _metric(at, "Leverandører")
    assert format_number(counts.active_contracts) == _metric(at, "Aktive kontrakter")
    assert format_number(counts.open_deviations) == _metric(at, "Åbne fakturaafvigelser")
    assert format_number(counts.overdue_followups) == _metric(at, "Overskredne opfølgninger")
    assert format_short_kr(data.snapshot.portfolio.annual_spend) == _metric(
        at, "Forventet årsudgift"
    )
    deviations = data.snapshot.open_deviation_amount
    assert format_short_kr(deviations) == _metric(at, "Åbne afvigelser, beløb")
    assert format_kr(deviations) in metric_help(at, "Åbne afvigelser, beløb")  # in full
    assert not _charts(at)  # the default tab is the alert list; charts load with their tab
    assert any(d.value.shape[0] == 10 for d in at.dataframe)  # the ten most urgent alerts
    assert any("Status pr." in c.value for c in at.caption)
    assert not at.info


@pytest.mark.parametrize(
    ("tab", "charts"),
    [("Økonomi", 4), ("Fordeling", 3), ("Kontrol og opfølgning", 2)],
)
def test_each_tab_draws_its_charts(demo_db, monkeypatch, tab, charts):
    at = run_page(demo_db, PAGE, monkeypatch)
    at.session_state["overview_tab"] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert charts == len(_charts(at))


def test_empty_database_says_so_and_shows_zeros(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "0" == _metric(at, "Leverandører")
    assert "0" == _metric(at, "Aktive kontrakter")
    assert any("ingen data" in i.value for i in at.info)
    assert not at.warning
    assert not at.error


def test_paragraph_and_provider_kind_filters_narrow_the_figures(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    at.multiselect(key="overview_paragraphs").select("SEL108").run()
    assert not at.exception
    with Session(get_engine(demo_db)) as s:
        active_108 = s.exec(
            select(sa.func.count())
            .select_from(Contract)
            .where(Contract.status == ContractStatus.ACTIVE, Contract.paragraph == "SEL108")
        ).one()
    assert format_number(active_108) == _metric(at, "Aktive kontrakter")
    at.multiselect(key="overview_kinds").select("egen").run()
    assert not at.exception
    # only own offers are left: they are the whole spend
    assert "100,0 %" == _metric(at, "Egen drift")


def test_budget_only_where_the_filter_covers_what_the_budget_does(demo_db, monkeypatch):
    year = date.today().year
    at = run_page(demo_db, PAGE, monkeypatch)
    at.multiselect(key="overview_paragraphs").select("SEL108").run()
    assert _metric(at, "Forbrug af budget").endswith("%")  # §108 against the §108 budget
    assert "mod budget" in str(next(m for m in at.metric if "årsresultat" in m.label).delta)
    assert not at.info
    # Private providers' spend is not set against the whole §108 budget.
    at.multiselect(key="overview_kinds").select("privat").run()
    assert not at.exception
    assert "–" == _metric(at, "Forbrug af budget")
    assert "–" == _metric(at, f"Budget {year}")
    assert "leverandørtype" in metric_help(at, f"Budget {year}")
    assert not next(m for m in at.metric if "årsresultat" in m.label).delta
    assert any("Budgettet gælder alle leverandørtyper" in i.value for i in at.info)
    at.session_state["overview_tab"] = "Økonomi"
    at.run()
    assert any("Budgettet vises ikke" in c.value for c in at.caption)
    spend_chart = json.loads(_charts(at)[0].proto.spec)
    assert 1 == len(spend_chart["layer"]) or all(
        layer["mark"]["type"] != "tick" for layer in spend_chart["layer"]
    )  # the bars (and the forecast), no budget line


def test_past_year_shows_the_year_end(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    last_year = date.today().year - 1
    at.selectbox(key="overview_year").select(last_year).run()
    assert not at.exception
    assert any(f"status pr. 31.12.{last_year}" in c.value for c in at.caption)
    assert any(m.label == f"Faktureret {last_year}" for m in at.metric)


def test_alert_opens_the_contract(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    with Session(get_engine(demo_db)) as s:
        alerts = alert_overview(session=s)
    first = int(alerts.rows["contract_id"].iloc[0])
    assert first == at.selectbox(key="overview_alert_pick").value
    at.button(key="overview_open_contract").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert first == at.session_state["contracts_selected_id"]
    assert "Kontrakter" == at.title[0].value


def test_alert_opens_the_provider(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    with Session(get_engine(demo_db)) as s:
        rows = alert_overview(session=s).rows
    second = int(rows["contract_id"].iloc[1])
    at.selectbox(key="overview_alert_pick").select(second).run()
    at.button(key="overview_open_provider").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert int(rows["provider_id"].iloc[1]) == at.session_state["providers_selected_id"]
    assert "Leverandører" == at.title[0].value


def test_workbook_opens_and_its_figures_equal_the_screen(demo_db, monkeypatch, downloads):
    at = run_page(demo_db, PAGE, monkeypatch)
    data = downloads["overview_workbook"]
    workbook = load_workbook(io.BytesIO(data() if callable(data) else data))
    assert [
        "Nøgletal",
        "Leverandører 12 mdr.",
        "Fordeling paragraf",
        "Fordeling leverandørtype",
        "Fordeling priskategori",
        "Dyreste sager",
        "Varsler",
    ] == workbook.sheetnames
    sheet = workbook["Nøgletal"]
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "Nøgletal")
    assert f"A{header + 1}" == sheet.freeze_panes
    figures = {
        sheet.cell(r, 1).value: next(
            (sheet.cell(r, c).value for c in (2, 3, 4) if sheet.cell(r, c).value is not None),
            None,
        )
        for r in range(header + 1, sheet.max_row + 1)
    }
    assert _metric(at, "Aktive kontrakter") == format_number(figures["Aktive kontrakter"])
    assert _metric(at, "Forventet årsudgift") == format_short_kr(
        Decimal(str(figures["Forventet årsudgift"]))
    )
    assert format_kr(Decimal(str(figures["Åbne afvigelser, beløb"]))) in metric_help(
        at, "Åbne afvigelser, beløb"
    )
    assert _metric(at, "Leverandører") == format_number(figures["Leverandører"])
    money_cell = sheet.cell(header + 2, 2)  # Forventet årsudgift
    assert "#,##0.00" == money_cell.number_format
    alerts = workbook["Varsler"]
    # every alert is in the workbook, not only the ones shown on screen
    with Session(get_engine(demo_db)) as s:
        total = alert_overview(session=s).total
    header_row = next(r for r in range(1, 10) if alerts.cell(r, 1).value == "Sag")
    assert total == alerts.max_row - header_row
