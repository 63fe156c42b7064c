"""Fakturaafvigelser through AppTest: check an invoice, follow a deviation, bad input."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import DeviationEvent, InvoiceCheck
from services.db import get_engine, upgrade_schema
from services.invoices import (
    CLOSING_NEEDS_NOTE,
    SAME_NOTE_AGAIN,
    check_invoice,
    deviation_history,
    update_deviation,
)
from tests.factories import USER, make_contract, make_provider
from tests.pagetest import APP, unescaped

PAGE = "pages/fakturaafvigelser.py"
TAB = "fakturaafvigelser_tab"
CHECK = "fakturaafvigelser_check"
SELECTED = "fakturaafvigelser_selected_id"
MARCH = {"period_from": date(2026, 3, 1), "period_to": date(2026, 3, 31)}
USER_NAME = "Karin Kontrol"  # who works in the page (current_user, TAKSTKOMPAS_USER)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A migrated SQLite file with the SPEC 4.1 contract (2.000,00 kr./dag from 2024-03-01)."""
    url = f"sqlite:///{tmp_path / 'fakt.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        make_contract(session)
    engine.dispose()
    return url


def run_page(url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Like the shared harness's run_page, but opens the page directly (the start page with its
    charts is covered by tests/test_pages.py and would only slow these tests down)."""
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", url)
    monkeypatch.setenv("TAKSTKOMPAS_USER", USER_NAME)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Fakturaafvigelser" == at.title[0].value
    return at


def _session(url: str) -> Session:
    return Session(get_engine(url), expire_on_commit=False)


def _contract_id(url: str) -> int:
    from models import Contract

    with _session(url) as session:
        return session.exec(select(Contract.id)).first()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _open_check_tab(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    at = run_page(url, PAGE, monkeypatch)
    at.session_state[TAB] = "Kontrollér en faktura"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _fill_check(at: AppTest, contract_id: int, *, invoiced: str, **period: date) -> None:
    at.text_input(key=f"{CHECK}_search").input("SAG-2024").run()
    at.selectbox(key=f"{CHECK}_contract").select(contract_id)
    at.text_input(key=f"{CHECK}_invoice_no").input("F-1001")
    dates = {**MARCH, **period}
    at.date_input(key=f"{CHECK}_period_from").set_value(dates["period_from"])
    at.date_input(key=f"{CHECK}_period_to").set_value(dates["period_to"])
    at.text_input(key=f"{CHECK}_invoiced").input(invoiced)
    at.button(key=f"{CHECK}_calculate").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_spec_example_is_flagged_in_preview_and_appears_in_the_log(db, monkeypatch):
    contract_id = _contract_id(db)
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, contract_id, invoiced="66.000,00")

    assert "64.504,80 kr." == _metric(at, "Forventet beløb")
    assert "1.495,20 kr." == _metric(at, "Afvigelse")
    assert "2,32 %" == _metric(at, "Afvigelse i %")
    assert any("Afvigelse – over forventet" in e for e in _errors(at))
    lines = at.dataframe[0].value
    assert ["Grundtakst"] == list(lines["Linje"])
    assert [31] == list(lines["Dage"])
    with _session(db) as session:  # nothing is saved before "Gem kontrol"
        assert [] == list(session.exec(select(InvoiceCheck)))

    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("afvigelsesloggen" in s.value for s in at.success)
    assert "" == at.text_input(key=f"{CHECK}_invoiced").value  # ready for the next invoice
    with _session(db) as session:
        check = session.exec(select(InvoiceCheck)).one()
    assert (Decimal("64504.80"), Decimal("1495.20"), True, "ny") == (
        check.expected,
        check.deviation,
        check.flagged,
        check.status,
    )

    at.session_state[TAB] = "Afvigelseslog"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1" == _metric(at, "Afvigelser i udvalget")
    assert "1.495,20 kr." == _metric(at, "Sum af afvigelser")
    log = next(d.value for d in at.dataframe if "Fakturanr." in d.value.columns)
    assert ["F-1001"] == list(log["Fakturanr."])
    assert [64504.80] == list(log["Forventet"])
    assert ["Ny"] == list(log["Status"])
    assert "64.504,80 kr." == _metric(at, "Forventet")  # the new deviation is opened below


def test_invoice_on_the_expected_amount_stemmer_and_is_not_logged(db, monkeypatch):
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, _contract_id(db), invoiced="64504,80")
    assert any("Stemmer" in s.value for s in at.success)
    at.button(key=f"{CHECK}_save").click().run()
    with _session(db) as session:
        assert (False, None) == session.exec(
            select(InvoiceCheck.flagged, InvoiceCheck.status)
        ).one()


def test_invalid_check_shows_danish_message_at_the_field_and_keeps_input(db, monkeypatch):
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, _contract_id(db), invoiced="abc")
    assert any("Skal være et tal" in e for e in _errors(at))
    assert "abc" == at.text_input(key=f"{CHECK}_invoiced").value
    assert "F-1001" == at.text_input(key=f"{CHECK}_invoice_no").value
    assert not any(m.label == "Forventet beløb" for m in at.metric)

    at.text_input(key=f"{CHECK}_invoiced").input("66.000,00")
    at.date_input(key=f"{CHECK}_period_to").set_value(date(2026, 2, 15))
    at.button(key=f"{CHECK}_calculate").click().run()
    assert ["Perioden skal slutte efter den begynder"] == _errors(at)
    assert date(2026, 2, 15) == at.date_input(key=f"{CHECK}_period_to").value
    assert "66.000,00" == at.text_input(key=f"{CHECK}_invoiced").value
    with _session(db) as session:
        assert [] == list(session.exec(select(InvoiceCheck)))


def test_cpr_like_invoice_number_is_saved_once_confirmed(db, monkeypatch):
    confirm = f"{CHECK}_invoice_no_confirmed"
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, _contract_id(db), invoiced="66.000,00")
    assert not any(c.key == confirm for c in at.checkbox)  # an ordinary number: no checkbox

    at.text_input(key=f"{CHECK}_invoice_no").input("250314-0042")
    at.button(key=f"{CHECK}_calculate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("ligner et CPR-nummer" in e for e in _errors(at))
    assert not any(m.label == "Forventet beløb" for m in at.metric)
    assert (
        "Fakturanummeret er et fakturanummer, ikke et CPR-nummer" == at.checkbox(key=confirm).label
    )

    at.checkbox(key=confirm).check().run()
    at.button(key=f"{CHECK}_calculate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("CPR" in e for e in _errors(at))
    assert "64.504,80 kr." == _metric(at, "Forventet beløb")
    assert at.checkbox(key=confirm).value  # still shown, still ticked

    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("250314" in s.value for s in at.success)
    assert not any(c.key == confirm for c in at.checkbox)  # forgotten with the invoice
    with _session(db) as session:
        assert ["250314-0042"] == list(session.exec(select(InvoiceCheck.invoice_no)))


def test_duplicate_invoice_number_is_refused_at_the_field(db, monkeypatch):
    contract_id = _contract_id(db)
    with _session(db) as session:
        data = {"contract_id": contract_id, "invoice_no": "F-1001", "invoiced": "66000", **MARCH}
        check_invoice(session=session, user=USER, data=data)
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, contract_id, invoiced="66.000,00")
    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception
    assert any("allerede kontrolleret" in e for e in _errors(at))
    assert "F-1001" == at.text_input(key=f"{CHECK}_invoice_no").value


def test_missing_index_rate_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'index.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        contract = make_contract(session, regulation_kind="indeks")
    at = _open_check_tab(url, monkeypatch)
    _fill_check(at, contract.id, invoiced="66.000,00")
    assert any("mangler en reguleringssats" in e for e in _errors(at))
    assert "66.000,00" == at.text_input(key=f"{CHECK}_invoiced").value


def test_contract_search_narrows_the_choices(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        first = make_provider(session, name="Bostedet Åkanden", cvr="10000009")
        other = make_provider(session, name="Opholdsstedet Lærkely", cvr="20000016")
        for number in range(60):
            provider = first if number % 2 else other
            make_contract(session, provider, case_ref=f"SAG-2025-{number:04d}")
    at = _open_check_tab(url, monkeypatch)
    assert 50 == len(at.selectbox(key=f"{CHECK}_contract").options)
    assert any("Viser 50 af 60" in c.value for c in at.caption)
    at.text_input(key=f"{CHECK}_search").input("lærkely").run()
    options = at.selectbox(key=f"{CHECK}_contract").options
    assert 30 == len(options)
    assert all("Lærkely" in option for option in options)


def _flagged_check(url: str) -> int:
    with _session(url) as session:
        data = {"contract_id": _contract_id(url), "invoice_no": "F-7", "invoiced": "66000", **MARCH}
        return check_invoice(session=session, user=USER, data=data).id


def test_status_change_is_saved_and_the_history_grows(db, monkeypatch):
    check_id = _flagged_check(db)
    at = run_page(db, PAGE, monkeypatch)
    at.session_state[SELECTED] = check_id
    at.run()
    form = f"fakturaafvigelser_deviation_{check_id}"
    history = next(d.value for d in at.dataframe if "Tidspunkt" in d.value.columns)
    assert ["Ny"] == list(history["Status"])

    # Closing without a note is refused at the note field; what was typed stays.
    at.selectbox(key=f"{form}_status").select("loest")
    at.text_input(key=f"{form}_assignee").input("Karin")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception
    assert any("Skriv hvordan sagen er løst" in e for e in _errors(at))
    assert ("loest", "Karin") == (
        at.selectbox(key=f"{form}_status").value,
        at.text_input(key=f"{form}_assignee").value,
    )

    at.selectbox(key=f"{form}_status").select("undersoeges")
    at.text_area(key=f"{form}_note").input("Ringet til leverandøren")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("er opdateret" in s.value for s in at.success)
    history = next(d.value for d in at.dataframe if "Tidspunkt" in d.value.columns)
    assert ["Ny", "Ny → Undersøges"] == list(history["Status"])
    assert "Ringet til leverandøren" == history["Note"].iloc[-1]
    assert any("Status: Undersøges" in m.value for m in at.markdown)
    with _session(db) as session:
        check = session.get(InvoiceCheck, check_id)
        events = deviation_history(session=session, check_id=check_id)
    assert ("undersoeges", "Karin", 2) == (check.status, check.assignee, len(events))


def test_someone_elses_save_gives_a_conflict_with_reload(db, monkeypatch):
    check_id = _flagged_check(db)
    at = run_page(db, PAGE, monkeypatch)
    at.query_params["id"] = str(check_id)  # how other pages link to a deviation
    at.run()
    assert check_id == at.session_state[SELECTED]
    form = f"fakturaafvigelser_deviation_{check_id}"
    with _session(db) as session:  # a colleague saves first
        version = session.get(InvoiceCheck, check_id).version
        update_deviation(
            session=session,
            check_id=check_id,
            user="ole",
            data={"status": "undersoeges", "assignee": "Ole", "version": version},
        )
    at.selectbox(key=f"{form}_status").select("leverandoer_kontaktet")
    at.button(key=f"{form}_save").click().run()
    assert any("En anden har gemt afvigelsen" in e for e in _errors(at))
    at.button(key=f"{form}__reload").click().run()
    assert not at.exception
    assert "undersoeges" == at.selectbox(key=f"{form}_status").value
    assert "Ole" == at.text_input(key=f"{form}_assignee").value
    with _session(db) as session:
        events = session.exec(
            select(DeviationEvent).where(DeviationEvent.invoice_check_id == check_id)
        ).all()
    assert 2 == len(events)


def test_log_filters_and_totals_on_demo_data(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    with _session(demo_db) as session:
        flagged = session.exec(select(InvoiceCheck).where(InvoiceCheck.flagged)).all()
    open_ones = [c for c in flagged if c.status in ("ny", "undersoeges", "leverandoer_kontaktet")]
    assert str(len(open_ones)) == _metric(at, "Afvigelser i udvalget")
    at.multiselect(key="fakturaafvigelser_filter_status").set_value([]).run()
    assert not at.exception
    assert str(len(flagged)) == _metric(at, "Afvigelser i udvalget")
    statuses = set(next(d.value for d in at.dataframe if "Fakturanr." in d.value.columns)["Status"])
    assert statuses <= {"Ny", "Undersøges", "Leverandør kontaktet", "Løst", "Accepteret"}
    assert len(at.get("download_button")) == 2


def test_empty_database_explains_what_to_do(tmp_path, monkeypatch):
    at = run_page(f"sqlite:///{tmp_path / 'empty.db'}", PAGE, monkeypatch)
    assert any("ingen fakturaafvigelser endnu" in i.value for i in at.info)
    at.session_state[TAB] = "Kontrollér en faktura"
    at.run()
    assert not at.exception
    assert any("ingen kontrakter" in i.value for i in at.info)


# --- Forms that forget, tabs that stay ---------------------------------------------------------


def _open_detail(url: str, check_id: int, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    at = run_page(url, PAGE, monkeypatch)
    at.session_state[SELECTED] = check_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _history_notes(at: AppTest) -> list[str]:
    history = next(d.value for d in at.dataframe if "Tidspunkt" in d.value.columns)
    return list(history["Note"])


def test_a_saved_note_is_emptied_and_cannot_close_the_deviation_again(db, monkeypatch):
    check_id = _flagged_check(db)
    at = _open_detail(db, check_id, monkeypatch)
    form = f"fakturaafvigelser_deviation_{check_id}"
    at.selectbox(key=f"{form}_status").select("undersoeges")
    at.text_area(key=f"{form}_note").input("Ringet til leverandøren")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("er opdateret" in s.value for s in at.success)
    # Emptied, and set through session state, which is what makes the browser show it empty.
    assert "" == at.text_area(key=f"{form}_note").value == at.session_state[f"{form}_note"]
    assert "undersoeges" == at.selectbox(key=f"{form}_status").value

    # "Løst" next without typing: the earlier note does not count as the resolution.
    at.selectbox(key=f"{form}_status").select("loest")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception
    assert [CLOSING_NEEDS_NOTE] == _errors(at)
    # The same note again is refused at the field, and what was typed stays.
    at.selectbox(key=f"{form}_status").select("leverandoer_kontaktet")
    at.text_area(key=f"{form}_note").input("Ringet til leverandøren")
    at.button(key=f"{form}_save").click().run()
    assert [SAME_NOTE_AGAIN] == _errors(at)
    assert "Ringet til leverandøren" == at.text_area(key=f"{form}_note").value
    assert ["", "Ringet til leverandøren"] == _history_notes(at)

    at.selectbox(key=f"{form}_status").select("loest")
    at.text_area(key=f"{form}_note").input("Kreditnota modtaget")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception
    assert ["", "Ringet til leverandøren", "Kreditnota modtaget"] == _history_notes(at)
    assert "" == at.text_area(key=f"{form}_note").value


def test_after_gem_kontrol_the_invoice_is_emptied_and_the_tab_stays(db, monkeypatch):
    contract_id = _contract_id(db)
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, contract_id, invoiced="64.504,80")
    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("er gemt" in s.value for s in at.success)
    assert "Kontrollér en faktura" == at.session_state[TAB]
    assert ("", "") == (
        at.text_input(key=f"{CHECK}_invoice_no").value,
        at.text_input(key=f"{CHECK}_invoiced").value,
    )
    assert ("", "") == (
        at.session_state[f"{CHECK}_invoice_no"],
        at.session_state[f"{CHECK}_invoiced"],
    )
    assert contract_id == at.selectbox(key=f"{CHECK}_contract").value  # for the next invoice
    assert MARCH["period_from"] == at.date_input(key=f"{CHECK}_period_from").value
    assert not any(m.label == "Forventet beløb" for m in at.metric)  # the preview is gone


# --- Plausibility -------------------------------------------------------------------------------


def test_an_implausible_invoice_is_saved_only_once_confirmed(db, monkeypatch):
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, _contract_id(db), invoiced="300.000,00")  # 4,65 × 64.504,80
    assert any("over 3 gange det forventede beløb" in w.value for w in at.warning)
    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with _session(db) as session:
        assert [] == list(session.exec(select(InvoiceCheck)))
    confirm = at.checkbox(key=f"{CHECK}__confirm_invoiced")
    assert "Ja, det er rigtigt: gem alligevel" == confirm.label
    assert "300.000,00" == at.text_input(key=f"{CHECK}_invoiced").value
    confirm.check().run()
    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with _session(db) as session:
        assert [Decimal("300000.00")] == list(session.exec(select(InvoiceCheck.invoiced)))


# --- Credit notes ---------------------------------------------------------------------------------


def test_a_credit_note_nets_the_deviation_in_the_log(db, monkeypatch):
    check_id = _flagged_check(db)  # 66.000,00 against 64.504,80
    contract_id = _contract_id(db)
    at = _open_check_tab(db, monkeypatch)
    at.radio(key=f"{CHECK}_kind").set_value("kreditnota").run()
    at.text_input(key=f"{CHECK}_search").input("SAG-2024").run()
    at.selectbox(key=f"{CHECK}_contract").select(contract_id).run()
    credits = at.selectbox(key=f"{CHECK}_credits")
    assert "Krediterer faktura" == credits.label
    assert 1 == len(credits.options) and credits.options[0].startswith("F-7 · 01.03.2026")
    credits.select(check_id)
    at.text_input(key=f"{CHECK}_invoice_no").input("K-1")
    at.text_input(key=f"{CHECK}_invoiced").input("-1.495,20")
    at.button(key=f"{CHECK}_calculate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1.495,20 kr." == _metric(at, "Fakturaens afvigelse")
    assert "0,00 kr." == _metric(at, "Afvigelse efter kreditnota")
    assert "64.504,80 kr." == _metric(at, "Faktureret efter kreditnota")
    at.button(key=f"{CHECK}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Kreditnota K-1 er registreret" in unescaped(s.value) for s in at.success)
    assert ("", "", "kreditnota") == (
        at.text_input(key=f"{CHECK}_invoice_no").value,
        at.text_input(key=f"{CHECK}_invoiced").value,
        at.radio(key=f"{CHECK}_kind").value,
    )
    with _session(db) as session:
        note = session.exec(select(InvoiceCheck).where(InvoiceCheck.kind == "kreditnota")).one()
    assert (Decimal("-1495.20"), check_id) == (note.invoiced, note.credits_id)

    at.session_state[TAB] = "Afvigelseslog"
    at.run()
    assert not at.exception
    assert "0,00 kr." == _metric(at, "Sum af afvigelser")
    log = next(d.value for d in at.dataframe if "Fakturanr." in d.value.columns)
    assert ([-1495.2], [0.0]) == (list(log["Krediteret"]), list(log["Afvigelse (kr.)"]))


def test_a_negative_amount_on_an_invoice_points_to_the_credit_note(db, monkeypatch):
    at = _open_check_tab(db, monkeypatch)
    _fill_check(at, _contract_id(db), invoiced="-1.495,20")
    assert any("vælg »Kreditnota«" in e for e in _errors(at))
    assert not any("mindre end 0" in e for e in _errors(at))


def test_the_deviation_detail_starts_a_credit_note_for_its_invoice(db, monkeypatch):
    check_id = _flagged_check(db)
    at = _open_detail(db, check_id, monkeypatch)
    at.button(key=f"fakturaafvigelser_credit_{check_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Kontrollér en faktura" == at.session_state[TAB]
    assert "kreditnota" == at.radio(key=f"{CHECK}_kind").value
    assert _contract_id(db) == at.selectbox(key=f"{CHECK}_contract").value
    assert check_id == at.selectbox(key=f"{CHECK}_credits").value


# --- Void with a reason ---------------------------------------------------------------------------


def test_voiding_a_deviation_keeps_it_marked_and_out_of_the_totals(db, monkeypatch):
    check_id = _flagged_check(db)
    at = _open_detail(db, check_id, monkeypatch)
    form = f"fakturaafvigelser_void_{check_id}"
    at.text_area(key=f"{form}_reason").input("x")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception
    assert any("mindst 3 tegn" in e for e in _errors(at))
    assert at.session_state["fakturaafvigelser_voidsection"]  # the section opened on the error
    assert "x" == at.text_area(key=f"{form}_reason").value

    at.text_area(key=f"{form}_reason").input("Registreret på den forkerte kontrakt")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("er annulleret" in s.value for s in at.success)
    assert any("Annulleret" in w.value and "forkerte kontrakt" in w.value for w in at.warning)
    assert not any(m.label == "Afvigelser i udvalget" for m in at.metric)  # none in force
    assert not any(b.key == f"fakturaafvigelser_deviation_{check_id}_save" for b in at.button)

    at.toggle(key="fakturaafvigelser_filter_voided").set_value(True).run()
    assert not at.exception
    assert "0" == _metric(at, "Afvigelser i udvalget")
    assert "0,00 kr." == _metric(at, "Sum af afvigelser")
    log = next(d.value for d in at.dataframe if "Fakturanr." in d.value.columns)
    assert ["Annulleret (Ny)"] == list(log["Status"])
    with _session(db) as session:
        check = session.get(InvoiceCheck, check_id)
    assert ("Registreret på den forkerte kontrakt", USER_NAME) == (
        check.void_reason,
        check.voided_by,
    )


def test_a_check_without_deviation_is_voided_from_the_contracts_checks(db, monkeypatch):
    contract_id = _contract_id(db)
    with _session(db) as session:
        data = {"contract_id": contract_id, "invoice_no": "F-8", "invoiced": "64504.80", **MARCH}
        check_id = check_invoice(session=session, user="tester", data=data).id
    at = _open_check_tab(db, monkeypatch)
    at.text_input(key=f"{CHECK}_search").input("SAG-2024").run()
    at.selectbox(key=f"{CHECK}_contract").select(contract_id).run()
    checks = next(d.value for d in at.dataframe if "Bilag" in d.value.columns)
    assert (["Faktura"], ["OK"]) == (list(checks["Bilag"]), list(checks["Status"]))
    at.session_state["fakturaafvigelser_checks_selected_id"] = check_id
    at.run()
    form = f"fakturaafvigelser_voidcheck_{check_id}"
    at.text_area(key=f"{form}_reason").input("Dobbeltregistreret")
    at.button(key=f"{form}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Faktura F-8 er annulleret" in unescaped(s.value) for s in at.success)
    assert "Kontrollér en faktura" == at.session_state[TAB]
    checks = next(d.value for d in at.dataframe if "Bilag" in d.value.columns)
    assert ["Annulleret (OK)"] == list(checks["Status"])


# --- Mine sager -----------------------------------------------------------------------------------


def test_mine_sager_shows_only_the_users_deviations(db, monkeypatch):
    contract_id = _contract_id(db)
    with _session(db) as session:
        for number, assignee in (("F-1", USER_NAME), ("F-2", "Ole"), ("F-3", None)):
            data = {
                "contract_id": contract_id,
                "invoice_no": number,
                "invoiced": "66000",
                "assignee": assignee,
                **MARCH,
            }
            check_invoice(session=session, user="tester", data=data)
    at = run_page(db, PAGE, monkeypatch)
    assert "3" == _metric(at, "Afvigelser i udvalget")
    mine = at.toggle(key="fakturaafvigelser_filter_mine")
    assert USER_NAME in mine.help
    mine.set_value(True).run()
    assert not at.exception
    assert "1" == _metric(at, "Afvigelser i udvalget")
    log = next(d.value for d in at.dataframe if "Fakturanr." in d.value.columns)
    assert (["F-1"], [USER_NAME]) == (list(log["Fakturanr."]), list(log["Ansvarlig"]))
