"""Sammenlign tilbud in AppTest on the demo data: 2 and 3 offers, from Prisopslag's
"Sammenlign", the §107 message, the weighing, the Excel file against the screen, and saving
and reopening under a case reference."""

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select
from streamlit.delta_generator import DeltaGenerator

from models import Offer, OfferComparison
from services.db import get_engine
from tests.pagetest import run_page

PAGE = "pages/sammenlign.py"


def _offers(url: str, paragraph: str, n: int) -> list[int]:
    with Session(get_engine(url)) as s:
        rows = s.exec(
            select(Offer.id)
            .where(Offer.paragraph == paragraph, col(Offer.active).is_(True))
            .where(col(Offer.list_rate).is_not(None))
            .order_by(Offer.id)
            .limit(n)
        ).all()
    return [int(i) for i in rows if i is not None]


def _table(at) -> dict[str, list[str]]:
    frame = at.table[0].value
    return {
        str(name): [str(v) for v in row]
        for name, row in zip(frame.index, frame.values, strict=True)
    }


@pytest.fixture
def page(demo_db, monkeypatch):
    return run_page(demo_db, PAGE, monkeypatch)


def test_without_offers_it_says_what_to_do(page):
    assert "Sammenlign tilbud" == page.title[0].value
    assert any("Vælg 2–3 tilbud" in i.value for i in page.info)
    assert not page.table


@pytest.mark.parametrize("n", [2, 3])
def test_two_and_three_offers_side_by_side(page, demo_db, n):
    offers = _offers(demo_db, "SEL108", n)
    page.multiselect(key="cmp_offers").set_value(offers).run()
    assert not page.exception
    table = _table(page)
    assert n == len(table["Årsbeløb"])
    assert all(v.endswith("kr.") for v in table["Årsbeløb"])
    assert "Markér det tilbud" in page.info[0].value


def test_the_ten_percent_rule_against_the_visited_offer(page, demo_db):
    offers = _offers(demo_db, "SEL108", 3)
    page.multiselect(key="cmp_offers").set_value(offers).run()
    page.selectbox(key="cmp_visited").set_value(offers[0]).run()
    rule = _table(page)["10 %-reglen"]
    assert "Visiteret tilbud" == rule[0]
    assert all("%-grænsen" in v for v in rule[1:])


def test_107_has_no_free_choice(page, demo_db):
    offers = _offers(demo_db, "SEL107", 2)
    page.multiselect(key="cmp_offers").set_value(offers).run()
    page.selectbox(key="cmp_visited").set_value(offers[0]).run()
    assert any("ikke frit valg" in i.value for i in page.info)
    assert ["Visiteret tilbud", "–"] == _table(page)["10 %-reglen"]


def test_from_prisopslag(demo_db, monkeypatch):
    at = run_page(demo_db, "pages/prisopslag.py", monkeypatch)
    at.button(key="prisopslag_compare").click().run()
    assert not at.exception
    assert "Sammenlign tilbud" == at.title[0].value
    assert 1 == len(at.multiselect(key="cmp_offers").value)


def test_weights_scores_and_the_total(page, demo_db):
    offers = _offers(demo_db, "SEL108", 2)
    page.multiselect(key="cmp_offers").set_value(offers).run()
    page.number_input(key="cmp_weight_geography").set_value(20).run()
    assert any("Vægtene giver 110" in e.value for e in page.error)
    assert not page.table  # the comparison waits for weights that sum to 100
    page.number_input(key="cmp_weight_price").set_value(15).run()
    page.number_input(key=f"cmp_score_{offers[0]}_knowledge").set_value(10).run()
    page.text_input(key=f"cmp_reason_{offers[0]}_knowledge").input("Brugt i mange år").run()
    table = _table(page)
    assert "2,00" == table["Kendskab til leverandøren (vægt 20)"][0]
    assert "0,00" == table["Kendskab til leverandøren (vægt 20)"][1]
    page.text_input(key=f"cmp_reason_{offers[0]}_methods").input("Borger 010190-1234").run()
    assert any("CPR" in e.value for e in page.error)


def test_the_excel_file_shows_the_screens_figures(demo_db, monkeypatch):
    files: dict[str, Any] = {}
    original = DeltaGenerator.download_button

    def record(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        files[str(kwargs.get("key"))] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    at = run_page(demo_db, PAGE, monkeypatch)
    offers = _offers(demo_db, "SEL108", 3)
    at.multiselect(key="cmp_offers").set_value(offers).run()
    at.selectbox(key="cmp_visited").set_value(offers[1]).run()
    screen = _table(at)
    sheet = load_workbook(io.BytesIO(files["cmp_xlsx"]))["Sammenligning"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[1] and str(row[1]).startswith("1. "))
    in_excel = {
        str(row[0]): [str(v).lstrip("'") for v in row[1:]] for row in rows[header + 1 :] if row[0]
    }
    for name in (
        "Årsbeløb",
        "Netto pr. år efter momsrefusion",
        "10 %-reglen",
        "Point i alt (0–10)",
    ):
        assert screen[name] == in_excel[name], name
    assert "Årsbeløb = dagstakst × 365" in "".join(str(r[0]) for r in rows[:header])
    printable = files["cmp_print"]
    assert screen["Årsbeløb"][0] in printable


def test_saved_under_a_case_reference_and_reopened(page, demo_db):
    offers = _offers(demo_db, "SEL108", 2)
    page.multiselect(key="cmp_offers").set_value(offers).run()
    page.button(key="cmp_save").click().run()
    assert any("Angiv et sagsnummer" in e.value for e in page.error)
    page.text_input(key="cmp_case_ref").input("SAG-2026-4242").run()
    page.button(key="cmp_save").click().run()
    assert not page.exception
    assert any("Sammenligningen er gemt" in s.value for s in page.success)
    page.multiselect(key="cmp_offers").set_value([]).run()
    with Session(get_engine(demo_db)) as s:
        saved = s.exec(
            select(OfferComparison).where(OfferComparison.case_ref == "SAG-2026-4242")
        ).one()
    page.selectbox(key="cmp_pick").set_value(saved.id)
    page.button(key="cmp_open").click().run()
    assert not page.exception
    assert offers == page.multiselect(key="cmp_offers").value
    assert "SAG-2026-4242" == page.text_input(key="cmp_case_ref").value


def test_from_a_providers_page_with_the_offer_already_put_aside(demo_db, monkeypatch):
    at = run_page(demo_db, "pages/prisopslag.py", monkeypatch)
    at.button(key="prisopslag_compare").click().run()
    first = at.multiselect(key="cmp_offers").value
    with Session(get_engine(demo_db)) as s:
        other = s.exec(select(Offer).where(col(Offer.id).not_in(first), Offer.active)).first()
    at.switch_page("pages/leverandoerer.py")
    at.session_state["providers_selected_id"] = other.provider_id
    at.run()
    at.selectbox(key="providers_compare_pick").set_value(other.id)
    at.button(key="providers_compare").click().run()
    assert not at.exception
    assert "Sammenlign tilbud" == at.title[0].value
    assert [*first, other.id] == at.multiselect(key="cmp_offers").value
