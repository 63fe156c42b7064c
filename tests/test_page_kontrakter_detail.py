"""The contract page through AppTest: tabs that stay, forms that forget, voiding with a reason,
add-ons edited and ended, plausible and impossible prices, a contract from an offer, deleting a
draft, and the address (?id=) both ways."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Contract, ContractAddon, FollowUp, PriceChange, Provider
from models.base import utcnow
from services.contracts import add_addon
from services.db import get_engine, upgrade_schema
from services.formatting import local_time
from services.providers import create_offer
from tests.factories import USER, make_contract, make_provider
from tests.pagetest import metric, run_page, unescaped

PAGE = "pages/kontrakter.py"
TAB = "contracts_tab"
CONFIRM = "Ja, det er rigtigt: gem alligevel"
TODAY = date.today()


@pytest.fixture
def detail_db(tmp_path: Path) -> str:
    """A configured database: provider "Egelunden" with an offer, and one contract at
    2.000,00 kr./dag from 01.03.2024 (2 % on 1 January)."""
    url = f"sqlite:///{tmp_path / 'kontrakt.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as s:
        provider = make_provider(s, name="Egelunden")
        make_contract(
            s,
            provider,
            case_ref="SAG-2024-0001",
            start_date=date(2024, 3, 1),
            price=Decimal("2000.00"),
            price_base_date=date(2024, 3, 1),
        )
        other = make_provider(s, name="Bostedet Birken", cvr="20000007")
        create_offer(
            session=s,
            data={
                "provider_id": other.id,
                "name": "Birkehuset",
                "paragraph": "SEL108",
                "list_rate": "2.400,00",
                "list_rate_year": 2026,
                "negotiated_rate": "2.150,00",
                "negotiated_from": date(2026, 1, 1),
            },
            user=USER,
        )
    engine.dispose()
    return url


def _contract(url: str, case_ref: str = "SAG-2024-0001") -> Contract:
    with Session(get_engine(url)) as s:
        return s.exec(select(Contract).where(Contract.case_ref == case_ref)).one()


def _open(url: str, monkeypatch, contract_id: int, tab: str | None = None) -> AppTest:
    """The contract's page by its link (?id=), on a tab."""
    at = run_page(url, PAGE, monkeypatch)
    at.query_params["id"] = str(contract_id)
    at.run()
    if tab is not None:
        at.session_state[TAB] = tab
        at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _void_caption(at: AppTest) -> str:
    """The one note under a table saying who voided a row, when and why."""
    (caption,) = [c.value for c in at.caption if c.value.startswith(":material/block:")]
    return caption.removeprefix(":material/block: ")


def _price_today(at: AppTest) -> str:
    return metric(at, "Pris i dag (pr. dag)")


# --- Tabs that stay, forms that forget -------------------------------------------------------


def test_an_addon_saved_stays_on_its_tab_and_the_form_forgets(detail_db, monkeypatch):
    contract = _contract(detail_db)
    at = _open(detail_db, monkeypatch, contract.id, "Tillægsydelser")
    # A CPR number in the name: the error shows on the tab, and what was typed is kept.
    at.text_input(key="contracts_addon_name").input("Ekstra støtte 010190-1234")
    at.text_input(key="contracts_addon_price").input("4.500")
    at.button(key="contracts_addon_save").click().run()
    _ok(at)
    assert "Tillægsydelser" == at.session_state[TAB]
    assert any("CPR" in e for e in _errors(at))
    assert "Ekstra støtte 010190-1234" == at.text_input(key="contracts_addon_name").value
    assert "4.500" == at.text_input(key="contracts_addon_price").value

    at.text_input(key="contracts_addon_name").input("Ekstra 1:1-støtte")
    at.date_input(key="contracts_addon_valid_from").set_value(date(2026, 1, 1))
    at.button(key="contracts_addon_save").click().run()
    _ok(at)
    assert "Tillægsydelser" == at.session_state[TAB]
    assert any("Tillægsydelsen er tilføjet" in s for s in _successes(at))
    assert not _errors(at)
    assert "" == at.text_input(key="contracts_addon_name").value
    assert "" == at.text_input(key="contracts_addon_price").value
    assert ["Ekstra 1:1-støtte"] == list(_table(at, "Tillægsydelse")["Tillægsydelse"])


def test_a_renegotiation_shows_its_saving_on_its_tab_then_is_voided_and_corrected(
    detail_db, monkeypatch
):
    contract = _contract(detail_db)
    tab = "Prishistorik og genforhandling"
    at = _open(detail_db, monkeypatch, contract.id, tab)
    before = _price_today(at)
    effective = TODAY - timedelta(days=10)
    at.date_input(key="contracts_reneg_effective_date").set_value(effective)
    at.text_input(key="contracts_reneg_new_price").input("3.050,00")
    at.text_area(key="contracts_reneg_note").input("Tastefejl: skulle være 2.050,00")
    at.button(key="contracts_reneg_save").click().run()
    _ok(at)
    assert tab == at.session_state[TAB]
    assert any("Prisændringen er registreret" in s for s in _successes(at))
    assert any(m.label == "Årlig merudgift" for m in at.metric)
    assert "3.050,00 kr." == metric(at, "Ny pris (pr. dag)").replace("\xa0", " ")
    assert "3.050,00 kr." == _price_today(at).replace("\xa0", " ")
    assert "" == at.text_input(key="contracts_reneg_new_price").value  # the form forgot
    assert "" == at.text_area(key="contracts_reneg_note").value

    # Void it with a reason: kept and marked, and the price is as before it. Nothing is
    # picked beforehand, so nothing is voided by accident.
    at.text_area(key="contracts_changevoid_reason").input("Forkert beløb tastet")
    at.button(key="contracts_changevoid_save").click().run()
    _ok(at)
    assert any("Vælg først" in e for e in _errors(at))
    with Session(get_engine(detail_db)) as s:
        wrong = s.exec(select(PriceChange)).one()
    assert wrong.voided_at is None
    assert "Forkert beløb tastet" == at.text_area(key="contracts_changevoid_reason").value
    at.selectbox(key="contracts_changevoid_id").set_value(wrong.id)
    at.button(key="contracts_changevoid_save").click().run()
    _ok(at)
    assert tab == at.session_state[TAB]
    assert any("Prisændringen er annulleret" in s for s in _successes(at))
    assert not any(m.label == "Årlig merudgift" for m in at.metric)  # its result is gone
    assert before == _price_today(at)
    history = _table(at, "Årsag")
    assert "Genforhandling (annulleret)" == history["Årsag"].iloc[1]
    when = effective.strftime("%d.%m.%Y")
    voided = local_time(utcnow()).strftime("%d.%m.%Y")  # the Danish day: after 23:00 UTC, tomorrow
    assert f"Prisændringen pr. {when}: Annulleret {voided} af " in unescaped(_void_caption(at))
    assert unescaped(_void_caption(at)).endswith(": Forkert beløb tastet")
    with Session(get_engine(detail_db)) as s:
        voided = s.exec(select(PriceChange)).one()
    assert voided.voided_at is not None and "Forkert beløb tastet" == voided.void_reason

    # The correction on the same day.
    at.date_input(key="contracts_reneg_effective_date").set_value(effective)
    at.text_input(key="contracts_reneg_new_price").input("2.050,00")
    at.button(key="contracts_reneg_save").click().run()
    _ok(at)
    assert not _errors(at)
    assert any(m.label == "Årlig besparelse" for m in at.metric)
    assert "2.050,00 kr." == _price_today(at).replace("\xa0", " ")
    with Session(get_engine(detail_db)) as s:
        assert 2 == len(s.exec(select(PriceChange)).all())


def test_an_edit_saved_stays_on_the_edit_tab(detail_db, monkeypatch):
    contract = _contract(detail_db)
    at = _open(detail_db, monkeypatch, contract.id, "Redigér")
    at.text_area(key="contracts_edit_notes").input("Aftalt med leverandøren")
    at.button(key="contracts_edit_save").click().run()
    _ok(at)
    assert "Redigér" == at.session_state[TAB]
    assert any("Kontrakten er gemt" in s for s in _successes(at))
    assert "Aftalt med leverandøren" == _contract(detail_db).notes


# --- Add-ons: edit, end, void ------------------------------------------------------------------


def test_an_addon_is_ended_then_another_is_voided_with_a_reason(detail_db, monkeypatch):
    contract = _contract(detail_db)
    with Session(get_engine(detail_db), expire_on_commit=False) as s:
        for name in ("Ledsagelse", "Nattevagt"):
            add_addon(
                session=s,
                data={
                    "contract_id": contract.id,
                    "name": name,
                    "price": "1.000",
                    "unit": "maaned",
                    "valid_from": date(2026, 1, 1),
                },
                user=USER,
            )
        ids = {a.name: a.id for a in s.exec(select(ContractAddon))}
    at = _open(detail_db, monkeypatch, contract.id, "Tillægsydelser")
    at.selectbox(key="contracts_addonpick").set_value(ids["Ledsagelse"]).run()
    assert "Ledsagelse" == at.text_input(key="contracts_addonedit_name").value
    at.date_input(key="contracts_addonedit_valid_to").set_value(date(2026, 6, 30))
    at.button(key="contracts_addonedit_save").click().run()
    _ok(at)
    assert "Tillægsydelser" == at.session_state[TAB]
    assert any("Tillægsydelsen er gemt" in s for s in _successes(at))
    with Session(get_engine(detail_db)) as s:
        assert date(2026, 6, 30) == s.get(ContractAddon, ids["Ledsagelse"]).valid_to

    at.selectbox(key="contracts_addonvoid_id").set_value(ids["Nattevagt"])
    at.text_area(key="contracts_addonvoid_reason").input("ok")  # too short
    at.button(key="contracts_addonvoid_save").click().run()
    _ok(at)
    assert any("mindst 3 tegn" in e for e in _errors(at))
    assert at.session_state["contracts_section_addonvoid"] is True  # the error is in sight
    at.text_area(key="contracts_addonvoid_reason").input("Hører til en anden sag")
    at.button(key="contracts_addonvoid_save").click().run()
    _ok(at)
    assert any("Tillægsydelsen er annulleret" in s for s in _successes(at))
    table = _table(at, "Tillægsydelse")
    assert ["Ledsagelse", "Nattevagt (annulleret)"] == sorted(table["Tillægsydelse"])
    assert unescaped(_void_caption(at)).startswith("Tillægsydelsen Nattevagt: Annulleret ")
    assert unescaped(_void_caption(at)).endswith(": Hører til en anden sag")
    with Session(get_engine(detail_db)) as s:
        addon = s.get(ContractAddon, ids["Nattevagt"])
        assert addon.voided_at is not None and addon.voided_by  # signed by the page's user


# --- Plausible and impossible prices -----------------------------------------------------------


def _new_contract(at: AppTest, provider_id: int, price: str) -> None:
    at.radio(key="contracts_view").set_value("Ny kontrakt").run()
    at.text_input(key="contracts_new_case_ref").input("SAG-2026-0900")
    at.selectbox(key="contracts_new_provider_id").set_value(provider_id)
    at.date_input(key="contracts_new_start_date").set_value(date(2026, 2, 1))
    at.text_input(key="contracts_new_price").input(price)


def test_an_unusually_high_price_is_saved_after_an_explicit_confirmation(detail_db, monkeypatch):
    provider_id = _contract(detail_db).provider_id
    at = run_page(detail_db, PAGE, monkeypatch)
    _new_contract(at, provider_id, "60.000,00")
    at.button(key="contracts_create").click().run()
    _ok(at)
    assert any("Usædvanligt høj pris" in w.value for w in at.warning)
    assert "60.000,00" == at.text_input(key="contracts_new_price").value
    with Session(get_engine(detail_db)) as s:
        assert 1 == len(s.exec(select(Contract)).all())
    next(c for c in at.checkbox if c.label == CONFIRM).check()
    at.button(key="contracts_create").click().run()
    _ok(at)
    assert Decimal("60000.00") == _contract(detail_db, "SAG-2026-0900").price


def test_the_issues_absurd_price_gets_a_danish_message_at_the_field(detail_db, monkeypatch):
    provider_id = _contract(detail_db).provider_id
    at = run_page(detail_db, PAGE, monkeypatch)
    _new_contract(at, provider_id, "99.999.999.999,99")
    at.button(key="contracts_create").click().run()
    _ok(at)
    assert any("højst være 100.000 kr. pr. dag" in e for e in _errors(at)), _errors(at)
    assert not any("Decimal" in e for e in _errors(at))
    assert "99.999.999.999,99" == at.text_input(key="contracts_new_price").value


# --- A new contract from an offer --------------------------------------------------------------


def test_choosing_the_offer_fills_provider_paragraph_and_price_still_editable(
    detail_db, monkeypatch
):
    at = run_page(detail_db, PAGE, monkeypatch)
    at.radio(key="contracts_view").set_value("Ny kontrakt").run()
    assert at.selectbox(key="contracts_new_provider_id").value is None
    offers = at.selectbox(key="contracts_new_offer_id")
    birkehuset = next(o for o in offers.options if o.startswith("Birkehuset"))
    offers.select(birkehuset).run()
    _ok(at)
    provider = at.selectbox(key="contracts_new_provider_id")
    assert "Bostedet Birken" == provider.format_func(provider.value)
    assert "SEL108" == at.selectbox(key="contracts_new_paragraph").value
    assert "2.150,00" == at.text_input(key="contracts_new_price").value  # negotiated, not list
    assert "dag" == at.selectbox(key="contracts_new_price_unit").value
    assert date(2026, 1, 1) == at.date_input(key="contracts_new_price_base_date").value
    assert any("forhandlede takst" in c.value for c in at.caption)

    # Still editable: the contract says 2.100,00.
    at.text_input(key="contracts_new_case_ref").input("SAG-2026-0901")
    at.date_input(key="contracts_new_start_date").set_value(date(2026, 2, 1))
    at.text_input(key="contracts_new_price").input("2.100,00")
    at.button(key="contracts_create").click().run()
    _ok(at)
    assert not _errors(at)
    created = _contract(detail_db, "SAG-2026-0901")
    assert ("SEL108", Decimal("2100.00"), "dag") == (
        created.paragraph,
        created.price,
        created.price_unit,
    )
    assert created.offer_id is not None
    assert str(created.id) == at.query_params["id"]  # the new contract's page, by its link


# --- The address (?id=) both ways ------------------------------------------------------------


def test_the_address_names_the_open_contract_both_ways(detail_db, monkeypatch):
    contract = _contract(detail_db)
    at = run_page(detail_db, PAGE, monkeypatch)
    at.button(key="contracts_open").click().run()
    _ok(at)
    assert str(contract.id) == at.query_params["id"]  # opening puts the id in the address
    at.button(key="contracts_back").click().run()
    _ok(at)
    assert "id" not in at.query_params  # closing takes it out

    # A shared link opens the contract …
    at.query_params["id"] = str(contract.id)
    at.run()
    _ok(at)
    assert any("SAG-2024-0001" in unescaped(h.value) for h in at.subheader)
    # … and an address without it (the menu, the browser's back button) shows the register.
    del at.query_params["id"]
    at.run()
    _ok(at)
    assert not any("SAG-2024-0001" in unescaped(h.value) for h in at.subheader)
    assert any(d for d in at.dataframe if "Sagsnummer" in d.value.columns)


# --- Deleting a draft --------------------------------------------------------------------------


def test_a_draft_is_deleted_after_an_explicit_confirmation(detail_db, monkeypatch):
    provider_id = _contract(detail_db).provider_id
    with Session(get_engine(detail_db), expire_on_commit=False) as s:
        draft = make_contract(s, s.get(Provider, provider_id), case_ref="KLADDE-1", status="kladde")
    at = _open(detail_db, monkeypatch, draft.id, "Redigér")
    at.button(key="contracts_delete_save").click().run()  # not confirmed yet
    _ok(at)
    assert any("Sæt flueben" in e for e in _errors(at))
    assert "Redigér" == at.session_state[TAB]
    assert at.session_state["contracts_section_delete"] is True
    at.checkbox(key="contracts_delete_sure").check()
    at.button(key="contracts_delete_save").click().run()
    _ok(at)
    assert any("er slettet" in s and "KLADDE" in unescaped(s) for s in _successes(at))
    assert "id" not in at.query_params
    with Session(get_engine(detail_db)) as s:
        assert s.get(Contract, draft.id) is None
        assert [] == s.exec(select(FollowUp).where(FollowUp.contract_id == draft.id)).all()
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "delete")).one()


def test_an_active_contract_offers_no_delete(detail_db, monkeypatch):
    at = _open(detail_db, monkeypatch, _contract(detail_db).id, "Redigér")
    assert not any(b.key == "contracts_delete_save" for b in at.button)


# --- Follow-ups ----------------------------------------------------------------------------


def test_the_followups_tab_shows_who_is_responsible(detail_db, monkeypatch):
    contract = _contract(detail_db)
    with Session(get_engine(detail_db)) as s:
        followup = s.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).one()
        followup.assignee = "Anne Andersen"
        s.add(followup)
        s.commit()
    at = _open(detail_db, monkeypatch, contract.id, "Opfølgning og mål")
    assert ["Anne Andersen"] == list(_table(at, "Ansvarlig")["Ansvarlig"])
