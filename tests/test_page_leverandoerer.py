"""Leverandører through AppTest: create, validate at the field, notes, conflicts, tabs that stay,
forms that forget, voided notes, duplicate CVR numbers and links (?id=)."""

from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Offer, Provider, ProviderNote
from services.db import get_engine, upgrade_schema
from services.providers import add_provider_note, update_provider
from tests import pagetest
from tests.factories import make_provider
from tests.pagetest import run_page, unescaped

PAGE = "pages/leverandoerer.py"
TAB = "providers_tab"
CONFIRM = "Ja, det er rigtigt: gem alligevel"


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _errors(at):
    return [e.value for e in at.error]


def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


@pytest.fixture
def one_provider_db(tmp_path: Path) -> str:
    """A configured (not demo) database with one provider, "Egelunden", CVR 10000009."""
    url = f"sqlite:///{tmp_path / 'leverandoerer.db'}"
    engine = get_engine(url)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as s:
        make_provider(s, name="Egelunden", cvr="10000009", city="Silkeborg")
    engine.dispose()
    return url


def _provider(url: str, name: str = "Egelunden") -> Provider:
    with Session(get_engine(url)) as s:
        return s.exec(select(Provider).where(Provider.name == name)).one()


def _open(url, monkeypatch, provider_id: int, tab: str | None = None) -> AppTest:
    at = run_page(url, PAGE, monkeypatch)
    at.session_state["providers_selected_id"] = provider_id
    if tab is not None:
        at.session_state[TAB] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- Creating a provider ----------------------------------------------------------------------


def test_create_provider_opens_it_and_the_form_forgets(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    at.text_input(key="providers_new_name").input("Bostedet Solsiden")
    at.text_input(key="providers_new_cvr").input("12345678")
    at.text_input(key="providers_new_postal_code").input("8600")
    at.text_input(key="providers_new_city").input("Silkeborg")
    _button(at, "Opret leverandør").click().run()
    assert not at.exception
    with Session(get_engine(empty_db)) as s:
        provider = s.exec(select(Provider)).one()
    assert ("Bostedet Solsiden", "12345678", "Silkeborg") == (
        provider.name,
        provider.cvr,
        provider.city,
    )
    assert provider.id == at.session_state["providers_selected_id"]
    assert str(provider.id) == at.query_params["id"]  # the address names it: a shareable link
    assert any("er oprettet" in m.value for m in at.success)
    assert any("modulus 11" in w.value for w in at.warning)  # saved, with the CVR warning
    at.button(key="providers_back").click().run()
    assert not at.exception
    assert "id" not in at.query_params
    # Back in the register, the form that created it is empty.
    assert "" == at.text_input(key="providers_new_name").value
    assert "" == at.text_input(key="providers_new_cvr").value


def test_invalid_provider_opens_the_section_shows_danish_messages_and_keeps_input(
    empty_db, monkeypatch
):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert at.session_state["providers_section_new_provider"] is False  # collapsed at first
    at.text_input(key="providers_new_name").input("Bostedet Solsiden")
    at.text_input(key="providers_new_cvr").input("0123")
    at.text_input(key="providers_new_postal_code").input("86")
    at.text_input(key="providers_new_contact").input("Leder, tlf. 12 34 56 78")
    _button(at, "Opret leverandør").click().run()
    assert not at.exception
    assert at.session_state["providers_section_new_provider"] is True  # the error is not hidden
    assert "CVR-nummer skal være 8 cifre og må ikke starte med 0" in _errors(at)
    assert "Postnummer skal være 4 cifre" in _errors(at)
    assert "Bostedet Solsiden" == at.text_input(key="providers_new_name").value
    assert "0123" == at.text_input(key="providers_new_cvr").value
    with Session(get_engine(empty_db)) as s:
        assert [] == s.exec(select(Provider)).all()


def test_duplicate_cvr_warns_naming_the_provider_then_saves_when_confirmed(
    one_provider_db, monkeypatch
):
    at = run_page(one_provider_db, PAGE, monkeypatch)
    at.text_input(key="providers_new_name").input("Egelunden Syd")
    at.text_input(key="providers_new_cvr").input("1000 0009")
    _button(at, "Opret leverandør").click().run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "CVR-nummeret" in w.value)
    assert "»Egelunden«" in unescaped(warning)
    assert at.session_state["providers_section_new_provider"] is True
    with Session(get_engine(one_provider_db)) as s:
        assert 1 == len(s.exec(select(Provider)).all())
    assert "Egelunden Syd" == at.text_input(key="providers_new_name").value
    at.checkbox(key="providers_new__confirm_cvr").check()
    _button(at, "Opret leverandør").click().run()
    assert not at.exception
    with Session(get_engine(one_provider_db)) as s:
        names = {p.name for p in s.exec(select(Provider).where(Provider.cvr == "10000009"))}
    assert {"Egelunden", "Egelunden Syd"} == names


def test_editing_to_another_providers_cvr_asks_first_and_stays_on_the_tab(
    one_provider_db, monkeypatch
):
    with Session(get_engine(one_provider_db)) as s:
        other = make_provider(s, name="Bøgehuset", cvr="20000007", confirmed=[])
    at = _open(one_provider_db, monkeypatch, other.id, tab="Ret stamdata")
    form = f"providers_edit_{other.id}"
    at.text_input(key=f"{form}_cvr").input("10000009")
    _button(at, "Gem ændringer").click().run()
    assert not at.exception
    assert "Ret stamdata" == at.session_state[TAB]
    assert any("»Egelunden«" in unescaped(w.value) for w in _tab(at, "Ret stamdata").warning)
    assert "20000007" == _provider(one_provider_db, "Bøgehuset").cvr
    at.checkbox(key=f"{form}__confirm_cvr").check()
    _button(at, "Gem ændringer").click().run()
    assert not at.exception
    assert "10000009" == _provider(one_provider_db, "Bøgehuset").cvr
    assert "Ret stamdata" == at.session_state[TAB]
    assert any("Leverandøren er gemt" in m.value for m in _tab(at, "Ret stamdata").success)


# --- One provider's page ----------------------------------------------------------------------


def _open_demo_provider(demo_db, monkeypatch, tab=None):
    with Session(get_engine(demo_db)) as s:
        provider = s.exec(select(Provider).order_by(Provider.id)).first()
    return _open(demo_db, monkeypatch, provider.id, tab), provider


def test_provider_page_shows_figures_and_tabs(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch)
    assert provider.name == unescaped(at.subheader[0].value)
    assert {"Aktive kontrakter", "Tilbud", "Faktureret sidste 12 mdr.", "Åbne afvigelser"} <= {
        m.label for m in at.metric
    }
    assert ["Tilbud", "Kontrakter", "Forbrug", "Afvigelser", "Vidensbank", "Ret stamdata"] == [
        t.label for t in at.tabs
    ]
    assert str(provider.id) == at.query_params["id"]


def test_every_tab_renders(demo_db, monkeypatch):
    at, _ = _open_demo_provider(demo_db, monkeypatch)
    for label in ["Kontrakter", "Forbrug", "Afvigelser", "Vidensbank", "Ret stamdata", "Tilbud"]:
        at.session_state[TAB] = label
        at.run()
        assert not at.exception, (label, [e.value for e in at.exception])
        assert label == at.session_state[TAB]


def test_note_with_cpr_is_refused_on_the_tab_then_saved_and_the_form_forgets(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch, tab="Vidensbank")
    key = f"providers_note_{provider.id}_text"
    with Session(get_engine(demo_db)) as s:
        before = len(s.exec(select(ProviderNote)).all())
    at.text_area(key=key).input("Borger 010190-1234 er flyttet ind")
    _button(at, "Gem note").click().run()
    assert "Vidensbank" == at.session_state[TAB]  # the error is where the user looks
    assert any("CPR" in e.value for e in _tab(at, "Vidensbank").error)
    assert "Borger 010190-1234 er flyttet ind" == at.text_area(key=key).value
    text = "Hurtig og grundig opfølgning på handleplanen (CPR-testen)."
    at.text_area(key=key).input(text)
    _button(at, "Gem note").click().run()
    assert not at.exception
    assert "Vidensbank" == at.session_state[TAB]
    assert any("Noten er gemt" in m.value for m in _tab(at, "Vidensbank").success)
    assert "" == at.text_area(key=key).value  # nothing left to save twice
    assert at.text_area(key=key).proto.set_value  # and the browser is told to show it empty
    assert text in [t.value for t in _tab(at, "Vidensbank").text]
    with Session(get_engine(demo_db)) as s:
        assert before + 1 == len(s.exec(select(ProviderNote)).all())


def test_a_too_long_note_shows_its_error_on_the_vidensbank_tab(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch, tab="Vidensbank")
    key = f"providers_note_{provider.id}_text"
    at.text_area(key=key).input("x" * 4001)
    _button(at, "Gem note").click().run()
    assert "Vidensbank" == at.session_state[TAB]
    assert any("4.000 tegn" in e.value for e in _tab(at, "Vidensbank").error)
    assert "x" * 4001 == at.text_area(key=key).value


def test_the_same_note_twice_in_a_row_is_refused(one_provider_db, monkeypatch):
    provider = _provider(one_provider_db)
    at = _open(one_provider_db, monkeypatch, provider.id, tab="Vidensbank")
    key = f"providers_note_{provider.id}_text"
    text = "Leverandøren svarer hurtigt og holder aftaler."
    at.text_area(key=key).input(text)
    _button(at, "Gem note").click().run()
    assert "" == at.text_area(key=key).value
    at.text_area(key=key).input(text)  # typed again, or an old form sent once more
    _button(at, "Gem note").click().run()
    assert not at.exception
    assert "Vidensbank" == at.session_state[TAB]
    assert any("samme tekst" in e.value for e in _tab(at, "Vidensbank").error)
    assert text == at.text_area(key=key).value
    with Session(get_engine(one_provider_db)) as s:
        assert [text] == [n.text for n in s.exec(select(ProviderNote))]


def test_void_a_note_with_a_reason_keeps_it_marked_and_out_of_the_counts(
    one_provider_db, monkeypatch
):
    provider = _provider(one_provider_db)
    with Session(get_engine(one_provider_db), expire_on_commit=False) as s:
        kept = add_provider_note(
            session=s, user="Anne", data={"provider_id": provider.id, "text": "God dialog."}
        )
        wrong = add_provider_note(
            session=s,
            user="Anne",
            data={"provider_id": provider.id, "text": "Skrevet om den forkerte leverandør."},
        )
        kept_id, wrong_id = kept.id, wrong.id
    at = _open(one_provider_db, monkeypatch, provider.id, tab="Vidensbank")
    assert any("2 noter i vidensbanken" in c.value for c in _tab(at, "Vidensbank").caption)
    at.button(key=f"providers_void_open_{wrong_id}").click().run()
    form = f"providers_void_note_{wrong_id}"
    _button(at, "Annullér noten").click().run()  # no reason: refused at the field
    assert "Skal være mindst 3 tegn" in [e.value for e in _tab(at, "Vidensbank").error]
    at.text_area(key=f"{form}_reason").input("Hørte til Bøgehuset")
    _button(at, "Annullér noten").click().run()
    assert not at.exception
    assert "Vidensbank" == at.session_state[TAB]
    assert any("Noten er annulleret" in m.value for m in _tab(at, "Vidensbank").success)
    marks = [unescaped(c.value) for c in _tab(at, "Vidensbank").caption]
    assert any("Annulleret" in m and "Hørte til Bøgehuset" in m for m in marks), marks
    assert any("1 note i vidensbanken" in m for m in marks)
    assert "Skrevet om den forkerte leverandør." in [t.value for t in at.text]  # still shown
    assert f"providers_void_open_{kept_id}" in [b.key for b in at.button]
    assert f"providers_void_open_{wrong_id}" not in [b.key for b in at.button]
    with Session(get_engine(one_provider_db)) as s:
        stored = s.get(ProviderNote, wrong_id)
        assert ("Hørte til Bøgehuset", False) == (stored.void_reason, stored.voided_at is None)
        assert 1 == len(
            s.exec(
                select(AuditEvent).where(
                    AuditEvent.entity == "providernote", AuditEvent.action == "void"
                )
            ).all()
        )
    # The register counts the notes that count.
    at.button(key="providers_back").click().run()
    table = next(d.value for d in at.dataframe if "Noter" in d.value.columns)
    assert [1] == list(table["Noter"])


def test_offer_form_keeps_input_on_error_and_forgets_it_after_the_save(
    one_provider_db, monkeypatch
):
    provider = _provider(one_provider_db)
    at = _open(one_provider_db, monkeypatch, provider.id)
    form = f"providers_offer_new_{provider.id}"
    assert at.session_state["providers_section_new_offer"] is False
    at.text_input(key=f"{form}_name").input("Huset ved Søen")
    at.text_input(key=f"{form}_negotiated_rate").input("1.950,00")  # without a date: refused
    _button(at, "Opret tilbud").click().run()
    assert not at.exception
    assert at.session_state["providers_section_new_offer"] is True  # opened to show the error
    assert "Tilbud" == at.session_state[TAB]
    assert any("gælder fra" in e.value for e in _tab(at, "Tilbud").error)
    assert "Huset ved Søen" == at.text_input(key=f"{form}_name").value
    at.text_input(key=f"{form}_negotiated_rate").input("")
    _button(at, "Opret tilbud").click().run()
    assert not at.exception
    assert any("er oprettet" in m.value for m in _tab(at, "Tilbud").success)
    assert "" == at.text_input(key=f"{form}_name").value
    assert at.text_input(key=f"{form}_name").proto.set_value  # emptied in the browser too
    with Session(get_engine(one_provider_db)) as s:
        offer = s.exec(select(Offer)).one()
    assert "Huset ved Søen" == offer.name
    # Edit it: after the save the editor closes and the table shows the new name.
    at.selectbox(key="providers_offer_edit_id").set_value(offer.id).run()
    at.text_input(key=f"providers_offer_edit_{offer.id}_name").input("Huset ved Åen")
    _button(at, "Gem tilbud").click().run()
    assert not at.exception
    assert "Tilbud" == at.session_state[TAB]
    assert at.selectbox(key="providers_offer_edit_id").value is None
    table = next(d.value for d in at.dataframe if "Tilbud" in d.value.columns)
    assert ["Huset ved Åen"] == list(table["Tilbud"])


def test_concurrent_edit_gets_conflict_message_and_keeps_typing(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch, tab="Ret stamdata")
    form = f"providers_edit_{provider.id}"
    at.text_input(key=f"{form}_city").input("Skanderborg")
    with Session(get_engine(demo_db)) as s:  # a colleague saves first
        data = provider.model_dump(exclude={"id", "is_demo"})
        update_provider(
            session=s,
            provider_id=provider.id,
            user="kollega",
            data={**data, "contact": "Ny kontakt"},
        )
    _button(at, "Gem ændringer").click().run()
    assert "Ret stamdata" == at.session_state[TAB]
    assert any("En anden har gemt leverandøren" in e for e in _errors(at))
    assert "Skanderborg" == at.text_input(key=f"{form}_city").value
    with Session(get_engine(demo_db)) as s:
        assert provider.city == s.get(Provider, provider.id).city


# --- Links ------------------------------------------------------------------------------------


def _linked(url, monkeypatch, value: str) -> AppTest:
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", url)
    at = AppTest.from_file(pagetest.APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.query_params["id"] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_shared_link_opens_the_provider_and_closing_it_clears_the_address(
    one_provider_db, monkeypatch
):
    provider = _provider(one_provider_db)
    at = _linked(one_provider_db, monkeypatch, str(provider.id))
    assert "Egelunden" == unescaped(at.subheader[0].value)
    assert str(provider.id) == at.query_params["id"]
    at.button(key="providers_back").click().run()
    assert not at.exception
    assert "id" not in at.query_params
    assert not at.subheader  # the register, not the provider
    assert any("leverandører" in c.value for c in at.caption)


def test_choosing_a_provider_in_the_register_puts_it_in_the_address(one_provider_db, monkeypatch):
    provider = _provider(one_provider_db)
    at = run_page(one_provider_db, PAGE, monkeypatch)
    assert "id" not in at.query_params
    at.session_state["providers_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Egelunden" == unescaped(at.subheader[0].value)
    assert str(provider.id) == at.query_params["id"]
    at.button(key="providers_back").click().run()
    assert "id" not in at.query_params
    assert not at.subheader  # the selection does not reopen it


def test_a_link_to_another_provider_replaces_the_open_one(one_provider_db, monkeypatch):
    with Session(get_engine(one_provider_db)) as s:
        other = make_provider(s, name="Bøgehuset", cvr="20000007")
    first = _provider(one_provider_db)
    at = _linked(one_provider_db, monkeypatch, str(first.id))
    at.query_params["id"] = str(other.id)  # e.g. a link from Overblik in the same session
    at.run()
    assert "Bøgehuset" == unescaped(at.subheader[0].value)
    assert str(other.id) == at.query_params["id"]


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_a_link_to_no_provider_says_so_and_shows_the_register(one_provider_db, monkeypatch, value):
    at = _linked(one_provider_db, monkeypatch, value)
    assert any("Linket peger ikke på en kendt leverandør" in w.value for w in at.warning)
    assert "id" not in at.query_params
    assert "providers_selected_id" not in at.session_state
