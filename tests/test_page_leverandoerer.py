"""Leverandører through AppTest: create, validate at the field, notes, conflicts."""

from sqlmodel import Session, select

from models import Provider, ProviderNote
from services.db import get_engine
from services.providers import update_provider
from tests.pagetest import run_page, unescaped

PAGE = "pages/leverandoerer.py"


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _errors(at):
    return [e.value for e in at.error]


def test_create_provider_opens_it(empty_db, monkeypatch):
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
    assert any("er oprettet" in m.value for m in at.success)
    assert any("modulus 11" in w.value for w in at.warning)  # saved, with the CVR warning


def test_invalid_provider_shows_danish_messages_and_keeps_input(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    at.text_input(key="providers_new_name").input("Bostedet Solsiden")
    at.text_input(key="providers_new_cvr").input("0123")
    at.text_input(key="providers_new_postal_code").input("86")
    at.text_input(key="providers_new_contact").input("Leder, tlf. 12 34 56 78")
    _button(at, "Opret leverandør").click().run()
    assert not at.exception
    assert "CVR-nummer skal være 8 cifre og må ikke starte med 0" in _errors(at)
    assert "Postnummer skal være 4 cifre" in _errors(at)
    assert "Bostedet Solsiden" == at.text_input(key="providers_new_name").value
    assert "0123" == at.text_input(key="providers_new_cvr").value
    with Session(get_engine(empty_db)) as s:
        assert [] == s.exec(select(Provider)).all()


def _open_demo_provider(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        provider = s.exec(select(Provider).order_by(Provider.id)).first()
    at = run_page(demo_db, PAGE, monkeypatch)
    at.session_state["providers_selected_id"] = provider.id
    at.run()
    assert not at.exception
    return at, provider


def test_provider_page_shows_figures_and_tabs(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch)
    assert provider.name == unescaped(at.subheader[0].value)
    assert {"Aktive kontrakter", "Tilbud", "Faktureret sidste 12 mdr.", "Åbne afvigelser"} <= {
        m.label for m in at.metric
    }
    assert ["Tilbud", "Kontrakter", "Forbrug", "Afvigelser", "Vidensbank", "Ret stamdata"] == [
        t.label for t in at.tabs
    ]


def test_note_with_cpr_is_refused_and_text_kept_then_saved(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch)
    key = f"providers_note_{provider.id}_text"
    with Session(get_engine(demo_db)) as s:
        before = len(s.exec(select(ProviderNote)).all())
    at.text_area(key=key).input("Borger 010190-1234 er flyttet ind")
    _button(at, "Gem note").click().run()
    assert any("CPR" in e for e in _errors(at))
    assert "Borger 010190-1234 er flyttet ind" == at.text_area(key=key).value
    at.text_area(key=key).input("Hurtig og grundig opfølgning på handleplanen.")
    _button(at, "Gem note").click().run()
    assert not at.exception
    with Session(get_engine(demo_db)) as s:
        assert before + 1 == len(s.exec(select(ProviderNote)).all())


def test_concurrent_edit_gets_conflict_message_and_keeps_typing(demo_db, monkeypatch):
    at, provider = _open_demo_provider(demo_db, monkeypatch)
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
    assert any("En anden har gemt leverandøren" in e for e in _errors(at))
    assert "Skanderborg" == at.text_input(key=f"{form}_city").value
    with Session(get_engine(demo_db)) as s:
        assert provider.city == s.get(Provider, provider.id).city
