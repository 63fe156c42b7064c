"""Kontrakter through AppTest: register, create with validation, detail, renegotiation, conflict."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import Contract, PriceChange
from services.contracts import update_contract
from services.db import get_engine, upgrade_schema
from services.queries.home import table_counts
from tests import pagetest
from tests.factories import make_contract, make_provider
from tests.pagetest import metric, run_page, unescaped

PAGE = "pages/kontrakter.py"


@pytest.fixture
def small_db(tmp_path: Path) -> str:
    """A configured (not demo) database with one provider and one contract."""
    url = f"sqlite:///{tmp_path / 'kontrakter.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as s:
        provider = make_provider(s)
        make_contract(
            s,
            provider,
            case_ref="SAG-2024-0001",
            start_date=date(2024, 3, 1),
            price=Decimal("2000.00"),
            price_base_date=date(2024, 3, 1),
        )
    engine.dispose()
    return url


def _table(at: AppTest, column: str):
    """The first table on screen with the given column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _open_first(at: AppTest) -> AppTest:
    at.button(key="contracts_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_register_on_demo_data_shows_counts_and_a_page_of_rows(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    # The register opens on the live contracts (aktiv and opsagt); with every status, all.
    at.multiselect(key="contracts_filter_status").set_value([]).run()
    with Session(get_engine(demo_db)) as s:
        total = table_counts(session=s).contracts
    assert str(total) == metric(at, "Kontrakter").replace(".", "")
    table = _table(at, "Sagsnummer")
    assert 0 < len(table) <= 25
    assert "Sagsnummer" in table.columns and "Pris i dag" in table.columns
    downloads = at.get("download_button")  # at once: one click downloads
    assert {"Excel", "CSV"} <= {d.proto.label for d in downloads}


def test_alert_filter_narrows_the_register_in_sql(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    expected = int(metric(at, "Tjekliste").replace(".", ""))
    at.selectbox(key="contracts_filter_alert").set_value("tjekliste").run()
    assert not at.exception
    table = _table(at, "Sagsnummer")
    assert min(expected, 25) == len(table)
    assert all("Tjekliste" in alerts for alerts in table["Advarsler"])
    assert all(status == "Aktiv" for status in table["Status"])


def test_open_a_contract_on_demo_data_shows_its_page(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    at.multiselect(key="contracts_filter_paragraph").select("SEL108").run()
    case_ref = _table(at, "Sagsnummer")["Sagsnummer"].iloc[0]
    _open_first(at)
    assert any(case_ref in unescaped(s.value) for s in at.subheader)
    labels = [m.label for m in at.metric]
    for name in ("Pr. døgn", "Årligt beløb", "Priskategori i dag", "Visiteret priskategori"):
        assert name in labels
    assert "Opsigelsesfrist" in labels
    price_label = next(name for name in labels if name.startswith("Pris i dag"))
    assert metric(at, price_label).endswith("kr.")
    # The eight checklist points are shown, read-only.
    assert 8 == sum(1 for c in at.checkbox if c.key and c.key.startswith("contracts_view_chk_"))
    at.button(key="contracts_back").click().run()
    assert not at.exception
    # Back in the register, the filter is as the user left it.
    assert ["SEL108"] == at.multiselect(key="contracts_filter_paragraph").value
    table = _table(at, "Sagsnummer")
    assert table["Sagsnummer"].iloc[0] == case_ref
    assert {"§108"} == set(table["Paragraf"])


def test_open_a_contract_by_query_param(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        contract = s.exec(select(Contract).order_by(Contract.id)).first()
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", demo_db)
    at = AppTest.from_file(pagetest.APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.query_params["id"] = str(contract.id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(contract.case_ref in unescaped(s.value) for s in at.subheader)


def _fill_new_contract(at: AppTest, provider_id: int, *, case_ref: str, price: str) -> None:
    at.radio(key="contracts_view").set_value("Ny kontrakt").run()
    at.text_input(key="contracts_new_case_ref").input(case_ref)
    at.selectbox(key="contracts_new_provider_id").set_value(provider_id)
    at.selectbox(key="contracts_new_paragraph").set_value("SEL107")
    at.date_input(key="contracts_new_start_date").set_value(date(2026, 2, 1))
    at.text_input(key="contracts_new_price").input(price)
    at.text_input(key="contracts_new_notice_days").input("60")


def test_create_a_contract_via_the_form_and_see_it_in_the_register(small_db, monkeypatch):
    at = run_page(small_db, PAGE, monkeypatch)
    with Session(get_engine(small_db)) as s:
        provider_id = s.exec(select(Contract.provider_id)).first()
    _fill_new_contract(at, provider_id, case_ref="SAG-2026-0500", price="2.080,80")
    at.checkbox(key="contracts_new_chk_notice").check()
    at.button(key="contracts_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("er oprettet" in s.value for s in at.success)
    with Session(get_engine(small_db)) as s:
        created = s.exec(select(Contract).where(Contract.case_ref == "SAG-2026-0500")).one()
    assert Decimal("2080.80") == created.price
    assert "SEL107" == created.paragraph
    assert 60 == created.notice_days
    assert created.chk_notice is True
    assert date(2026, 2, 1) == created.price_base_date
    # The new contract's page opens; back in the register it is listed.
    assert any("SAG-2026-0500" in unescaped(s.value) for s in at.subheader)
    at.button(key="contracts_back").click().run()
    assert "SAG-2026-0500" in list(_table(at, "Sagsnummer")["Sagsnummer"])
    assert "2" == metric(at, "Kontrakter")


def test_invalid_save_shows_danish_messages_at_the_fields_and_keeps_input(small_db, monkeypatch):
    at = run_page(small_db, PAGE, monkeypatch)
    with Session(get_engine(small_db)) as s:
        provider_id = s.exec(select(Contract.provider_id)).first()
    _fill_new_contract(at, provider_id, case_ref="010190-1234", price="abc")
    at.date_input(key="contracts_new_end_date").set_value(date(2026, 1, 1))
    at.button(key="contracts_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = _errors(at)
    assert any("CPR-nummer" in e for e in errors)
    assert any("Skal være et tal" in e for e in errors)
    assert any("ikke gemt" in e for e in errors)
    # What the user typed is still there.
    assert "010190-1234" == at.text_input(key="contracts_new_case_ref").value
    assert "abc" == at.text_input(key="contracts_new_price").value
    assert date(2026, 1, 1) == at.date_input(key="contracts_new_end_date").value
    assert provider_id == at.selectbox(key="contracts_new_provider_id").value

    # With case ref and price fixed, the end date before the start is refused.
    at.text_input(key="contracts_new_case_ref").input("SAG-2026-0501")
    at.text_input(key="contracts_new_price").input("2000")
    at.button(key="contracts_create").click().run()
    errors = _errors(at)
    assert any("Slutdatoen skal ligge efter startdatoen" in e for e in errors)
    assert not any("CPR-nummer" in e for e in errors)
    assert "SAG-2026-0501" == at.text_input(key="contracts_new_case_ref").value

    at.date_input(key="contracts_new_end_date").set_value(date(2027, 1, 31))
    at.button(key="contracts_create").click().run()
    assert not _errors(at)
    with Session(get_engine(small_db)) as s:
        assert 2 == len(s.exec(select(Contract)).all())
        assert not s.exec(select(Contract).where(Contract.case_ref == "010190-1234")).all()


def test_renegotiation_shows_old_price_and_annual_saving_then_an_addon(small_db, monkeypatch):
    at = run_page(small_db, PAGE, monkeypatch)
    _open_first(at)
    at.date_input(key="contracts_reneg_effective_date").set_value(date(2026, 4, 1))
    at.text_input(key="contracts_reneg_new_price").input("2.050,00")
    at.text_area(key="contracts_reneg_note").input("Aftalt ved forhandlingsmøde")
    at.button(key="contracts_reneg_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with Session(get_engine(small_db)) as s:
        change = s.exec(select(PriceChange)).one()
    # SPEC 4.1: 2.000,00 from 1.3.2024 with 2 % on 1 January is 2.080,80 on 1.4.2026.
    assert Decimal("2080.80") == change.old_price
    assert Decimal("2050.00") == change.new_price
    # (2.050,00 − 2.080,80) × 365 = −11.242,00 kr. a year.
    assert "11.242,00 kr." == metric(at, "Årlig besparelse").replace("\xa0", " ")
    assert "2.080,80 kr." == metric(at, "Gammel pris (pr. dag)").replace("\xa0", " ")
    history = _table(at, "Årlig effekt")
    assert 2 == len(history)

    # An add-on on the same contract, regulated like the base price.
    at.text_input(key="contracts_addon_name").input("Ekstra 1:1-støtte")
    at.text_input(key="contracts_addon_price").input("4.500")
    at.date_input(key="contracts_addon_valid_from").set_value(date(2026, 1, 1))
    at.button(key="contracts_addon_save").click().run()
    assert not at.exception
    assert any("Tillægsydelsen er tilføjet" in s.value for s in at.success)
    assert "Ekstra 1:1-støtte" in list(_table(at, "Tillægsydelse")["Tillægsydelse"])


def test_renegotiation_before_contract_start_is_refused_at_the_field(small_db, monkeypatch):
    at = run_page(small_db, PAGE, monkeypatch)
    _open_first(at)
    at.date_input(key="contracts_reneg_effective_date").set_value(date(2023, 1, 1))
    at.text_input(key="contracts_reneg_new_price").input("-5")
    at.button(key="contracts_reneg_save").click().run()
    assert any("større end 0" in e for e in _errors(at))
    assert "-5" == at.text_input(key="contracts_reneg_new_price").value


def test_conflicting_edit_says_what_to_do_and_reload_shows_the_new_version(small_db, monkeypatch):
    at = run_page(small_db, PAGE, monkeypatch)
    _open_first(at)
    at.text_area(key="contracts_edit_notes").input("Min ændring")
    # Someone else saves the contract meanwhile.
    with Session(get_engine(small_db), expire_on_commit=False) as s:
        contract = s.exec(select(Contract)).one()
        data = contract.model_dump(exclude={"id", "created_at", "updated_at"})
        update_contract(
            session=s,
            contract_id=contract.id,
            data={**data, "notes": "Kollegas ændring"},
            user="kollega",
        )
    at.button(key="contracts_edit_save").click().run()
    assert not at.exception
    assert any("En anden har gemt kontrakten" in e for e in _errors(at))
    assert "Min ændring" == at.text_area(key="contracts_edit_notes").value
    at.button(key="contracts_edit__reload").click().run()
    assert "Kollegas ændring" == at.text_area(key="contracts_edit_notes").value
    at.text_area(key="contracts_edit_notes").input("Min ændring igen")
    at.button(key="contracts_edit_save").click().run()
    assert not _errors(at)
    with Session(get_engine(small_db)) as s:
        assert "Min ændring igen" == s.exec(select(Contract)).one().notes


def test_empty_database_explains_what_to_do(tmp_path, monkeypatch):
    at = run_page(f"sqlite:///{tmp_path / 'empty.db'}", PAGE, monkeypatch)
    assert any("ingen kontrakter" in i.value for i in at.info)
    at.radio(key="contracts_view").set_value("Ny kontrakt").run()
    assert not at.exception
    assert any("leverandør" in i.value for i in at.info)
