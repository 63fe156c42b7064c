"""Kontrakter's register through AppTest: what it opens on, paging with previous/next, the
one-click export, the columns at 1366 px; and the pager every list page shares."""

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from models import CHECKLIST_ITEMS
from services.db import get_engine, upgrade_schema
from tests.factories import make_contract, make_provider
from tests.pagetest import metric, run_page

PAGE = "pages/kontrakter.py"
TODAY = date.today()
LIVE_COUNT = 30  # 28 aktiv + 2 opsagt: two pages of 25
URGENT = "SAG-9999-URGENT"  # sorts last by case ref, first by urgency
FULL = {key: True for key in CHECKLIST_ITEMS}


@pytest.fixture
def register_db(tmp_path: Path) -> str:
    """30 live contracts (one with a renegotiation due), 3 drafts starting next year and 2
    ended ones. Started a month ago with a full checklist: no alert unless asked for."""
    url = f"sqlite:///{tmp_path / 'register.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    start = TODAY - timedelta(days=30)
    common = {"start_date": start, "price_base_date": start, **FULL}
    with Session(engine, expire_on_commit=False) as s:
        provider = make_provider(s, name="Bostedet Registerlund")
        for number in range(1, LIVE_COUNT):
            status = "opsagt" if number <= 2 else "aktiv"
            make_contract(s, provider, case_ref=f"SAG-2025-{number:04d}", status=status, **common)
        make_contract(
            s, provider, case_ref=URGENT, renegotiation_date=TODAY + timedelta(days=10), **common
        )
        next_year = date(TODAY.year + 1, 1, 1)
        for number in range(3):
            make_contract(
                s,
                provider,
                case_ref=f"SAG-KLADDE-{number}",
                status="kladde",
                start_date=next_year,
                price_base_date=next_year,
            )
        for number in range(2):
            make_contract(s, provider, case_ref=f"SAG-SLUT-{number}", status="afsluttet", **common)
    engine.dispose()
    return url


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each download button would serve, by widget key (deferred data not yet built)."""
    served: dict[str, Any] = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        served[kwargs.get("key")] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return served


def _register(at: AppTest):
    return next(d for d in at.dataframe if "Sagsnummer" in d.value.columns)


def _page_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Side "))


def test_the_register_opens_on_live_contracts_most_urgent_first(register_db, monkeypatch):
    at = run_page(register_db, PAGE, monkeypatch)
    assert ["aktiv", "opsagt"] == at.multiselect(key="contracts_filter_status").value
    assert "advarsel" == at.selectbox(key="contracts_sort").value
    assert str(LIVE_COUNT) == metric(at, "Kontrakter")
    refs = list(_register(at).value["Sagsnummer"])
    assert URGENT == refs[0]
    assert not [ref for ref in refs if ref.startswith(("SAG-KLADDE", "SAG-SLUT"))]
    # Emptied, the status filter shows every contract.
    at.multiselect(key="contracts_filter_status").set_value([]).run()
    assert str(LIVE_COUNT + 5) == metric(at, "Kontrakter")


def test_previous_and_next_buttons_page_through_the_register(register_db, monkeypatch):
    at = run_page(register_db, PAGE, monkeypatch)
    assert "Side 1 af 2" == _page_text(at)
    assert at.button(key="contracts_page_previous").disabled
    first = list(_register(at).value["Sagsnummer"])
    assert 25 == len(first)

    at.button(key="contracts_page_next").click().run()
    assert not at.exception
    assert "Side 2 af 2" == _page_text(at)
    assert at.button(key="contracts_page_next").disabled
    second = list(_register(at).value["Sagsnummer"])
    assert LIVE_COUNT - 25 == len(second)
    assert not set(first) & set(second)
    assert any("Viser 26–30 af 30" in c.value for c in at.caption)

    at.button(key="contracts_page_previous").click().run()
    assert "Side 1 af 2" == _page_text(at)
    assert first == list(_register(at).value["Sagsnummer"])

    # A changed filter starts on page 1 again.
    at.button(key="contracts_page_next").click().run()
    at.multiselect(key="contracts_filter_status").set_value(["aktiv", "opsagt", "kladde"]).run()
    assert "Side 1 af 2" == _page_text(at)
    # No number box to type a page into.
    assert not [n for n in at.number_input if n.key == "contracts_page"]


def test_the_page_is_kept_while_a_contract_is_open(register_db, monkeypatch):
    at = run_page(register_db, PAGE, monkeypatch)
    at.button(key="contracts_page_next").click().run()
    at.button(key="contracts_open").click().run()
    assert not at.exception
    at.button(key="contracts_back").click().run()
    assert "Side 2 af 2" == _page_text(at)


def test_one_click_downloads_the_whole_filtered_register(register_db, monkeypatch, downloads):
    at = run_page(register_db, PAGE, monkeypatch)
    # The buttons are there from the start: no "prepare" click, no file built by the page run.
    assert {"Excel", "CSV"} <= {d.proto.label for d in at.get("download_button")}
    assert not [b for b in at.button if b.key == "contracts_prepare_export"]
    assert callable(downloads["contracts_export_xlsx"])
    assert callable(downloads["contracts_export_csv"])

    sheet = load_workbook(io.BytesIO(downloads["contracts_export_xlsx"]())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "Sagsnummer" == rows[0][0] and "Advarsler" == rows[0][-1]
    assert LIVE_COUNT == len(rows) - 1  # every live contract, not the page of 25
    assert URGENT == rows[1][0]  # in the register's order
    assert "Genforhandling" in rows[1][-1]

    text = downloads["contracts_export_csv"]().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert LIVE_COUNT + 1 == len(lines)
    assert URGENT == lines[1][0]

    # Filtered to drafts, the export follows the filter.
    at.multiselect(key="contracts_filter_status").set_value(["kladde"]).run()
    sheet = load_workbook(io.BytesIO(downloads["contracts_export_xlsx"]())).active
    refs = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ["SAG-KLADDE-0", "SAG-KLADDE-1", "SAG-KLADDE-2"] == sorted(refs)


def test_register_columns_are_wide_enough_at_1366_px(register_db, monkeypatch):
    at = run_page(register_db, PAGE, monkeypatch)
    table = _register(at)
    config = json.loads(table.proto.columns)
    widths = {name: column.get("width") for name, column in config.items()}
    # "1.234.567,89", "Ekstraordinær" and three alert labels are not cut off.
    assert widths["Pris i dag"] >= 110
    assert widths["Priskategori"] >= 110
    assert widths["Advarsler"] >= 250
    assert config["Sagsnummer"]["pinned"] is True  # stays in view when scrolling sideways
    # The unit stands right after the amount it belongs to.
    columns = list(table.value.columns)
    assert columns.index("Enhed") == columns.index("Pris i dag") + 1


# --- The pager every list page uses -----------------------------------------------------


def _pager_script() -> None:
    import streamlit as st

    from pages._ui import pager

    total = st.session_state.get("total", 120)
    limit, offset = pager(total, "list_page", 50)
    st.write(f"limit={limit} offset={offset}")


def _shown(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("limit="))


def test_pager_has_previous_and_next_and_says_where_the_user_is():
    at = AppTest.from_function(_pager_script, default_timeout=30).run()
    assert not at.exception
    assert "limit=50 offset=0" == _shown(at)
    assert "Side 1 af 3" == _page_text(at)
    assert ("Forrige", "Næste") == (
        at.button(key="list_page_previous").label,
        at.button(key="list_page_next").label,
    )
    assert at.button(key="list_page_previous").disabled
    at.button(key="list_page_next").click().run()
    at.button(key="list_page_next").click().run()
    assert "limit=50 offset=100" == _shown(at)
    assert "Side 3 af 3" == _page_text(at)
    assert at.button(key="list_page_next").disabled
    at.button(key="list_page_previous").click().run()
    assert "limit=50 offset=50" == _shown(at)


def test_pager_page_is_state_a_page_can_reset_and_a_shrunk_list_clamps():
    at = AppTest.from_function(_pager_script, default_timeout=30)
    at.session_state["list_page"] = 3
    at.run()
    assert "limit=50 offset=100" == _shown(at)
    at.session_state["total"] = 60  # the list shrank to two pages
    at.run()
    assert "limit=50 offset=50" == _shown(at)
    assert "Side 2 af 2" == _page_text(at)
    at.session_state["list_page"] = 1  # a page going back to the start
    at.run()
    assert "limit=50 offset=0" == _shown(at)
    at.session_state["total"] = 50  # one page: no buttons at all
    at.run()
    assert "limit=50 offset=0" == _shown(at)
    assert not at.button
