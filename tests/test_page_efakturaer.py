"""E-fakturaer in AppTest on a demo database (issue 13): the demo's zip of e-invoices is read
and matched, the one without a contract reference is fixed by hand, one can be left out, and
saving stores every chosen one as an invoice check in one go, the flagged one in the deviation
log and the credit note against its invoice."""

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import AuditEvent, DeviationEvent, InvoiceCheck
from services.db import get_engine, upgrade_schema
from services.einvoice.examples import einvoice_examples
from services.imports.examples import last_month
from services.invoices import ALREADY_CHECKED
from tests.pagetest import metric, run_page

PAGE = "pages/efakturaer.py"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seed import seed_database

    path = tmp_path_factory.mktemp("einvoice") / "demo.db"
    engine = get_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=date.today())
    engine.dispose()
    return path


@pytest.fixture
def db(demo_template: Path, tmp_path: Path) -> str:
    """A demo database of the test's own (saving writes to it)."""
    shutil.copy(demo_template, tmp_path / "demo.db")
    return f"sqlite:///{tmp_path / 'demo.db'}"


@pytest.fixture
def demo_zip(db: str) -> bytes:
    with Session(get_engine(db)) as s:
        return einvoice_examples(session=s, today=date.today())


def _upload(at, files):  # type: ignore[no-untyped-def]
    at.session_state["einvoice_files"] = files
    return at.run()


def _messages(at) -> dict[int, str]:  # type: ignore[no-untyped-def]
    frame = at.dataframe[0].value
    return dict(zip(frame["Nr."], frame["Besked"], strict=True))


def _checks(db: str) -> dict[str, InvoiceCheck]:
    with Session(get_engine(db)) as s:
        return {c.invoice_no: c for c in s.exec(select(InvoiceCheck))}


def test_without_files_it_says_what_to_do_and_offers_the_demo_files(db, monkeypatch):
    at = run_page(db, PAGE, monkeypatch)
    assert "E-fakturaer" == at.title[0].value
    assert any("Vælg en eller flere e-fakturaer" in i.value for i in at.info)
    assert ["Hent eksempelfiler (zip)"] == [b.proto.label for b in at.get("download_button")]


def test_the_demo_zip_is_matched_fixed_by_hand_and_saved(db, demo_zip, monkeypatch):
    at = _upload(run_page(db, PAGE, monkeypatch), [("demo.zip", demo_zip)])
    assert not at.exception
    assert ("6", "4", "1", "1", "2") == tuple(
        metric(at, name)
        for name in ("Filer", "Gemmes", "Afvigelser", "Kreditnotaer", "Gemmes ikke")
    )
    messages = _messages(at)
    assert "vælg den" in messages[5]
    assert messages[6].startswith("Ingen leverandør har CVR-nummeret 29403473")
    assert 5 == at.session_state["einvoice_chosen"]  # the first that cannot be saved

    batch = at.session_state["einvoice_batch"][1]
    candidate = batch[4].match.contract_candidates[0]  # the first contract in force
    at.selectbox(key="einvoice_fix_5_contract").set_value(candidate.id)
    at.button(key="FormSubmitter:einvoice_fix_form_5-Anvend").click().run()
    assert not at.exception
    assert "5" == metric(at, "Gemmes")
    assert "Gemmes" == _messages(at)[5]

    at.button(key="einvoice_save").click().run()
    assert not at.exception
    assert any("5 e-fakturaer er gemt" in s.value for s in at.success)
    assert any("Vælg en eller flere e-fakturaer" in i.value for i in at.info)  # forgotten
    checks = _checks(db)
    month = f"{last_month(date.today())[0]:%Y%m}"
    flagged = checks[f"E-{month}-003"]
    credit = checks[f"K-{month}-001"]
    assert flagged.flagged and "ny" == flagged.status
    assert flagged.id == credit.credits_id and credit.invoiced < 0
    assert f"E-{month}-005" in checks
    with Session(get_engine(db)) as s:
        assert s.exec(
            select(DeviationEvent).where(DeviationEvent.invoice_check_id == flagged.id)
        ).all()
        imports = s.exec(select(AuditEvent).where(AuditEvent.entity == "import")).all()
        assert 1 == len(imports) and "E-fakturaer" in imports[0].changes
        assert "demo.zip" == imports[0].entity_id

    again = _upload(at, [("demo.zip", demo_zip)])
    messages = _messages(again)
    assert all(ALREADY_CHECKED in messages[n] for n in (1, 2, 3))
    assert not [b for b in again.button if b.key == "einvoice_save"]


def test_a_file_left_out_is_not_saved(db, demo_zip, monkeypatch):
    at = _upload(run_page(db, PAGE, monkeypatch), [("demo.zip", demo_zip)])
    at.selectbox(key="einvoice_chosen").set_value(2).run()
    at.checkbox(key="einvoice_fix_2_include").uncheck()
    at.button(key="FormSubmitter:einvoice_fix_form_2-Anvend").click().run()
    assert "Ikke medtaget" == _messages(at)[2]
    assert "3" == metric(at, "Gemmes")
    at.button(key="einvoice_save").click().run()
    assert not at.exception
    month = f"{last_month(date.today())[0]:%Y%m}"
    saved = {n for n in _checks(db) if n.endswith(("-001", "-002", "-003"))}
    assert {f"E-{month}-001", f"E-{month}-003", f"K-{month}-001"} == saved


def test_half_a_period_is_refused_next_to_the_field(db, demo_zip, monkeypatch):
    at = _upload(run_page(db, PAGE, monkeypatch), [("demo.zip", demo_zip)])
    at.date_input(key="einvoice_fix_5_to").set_value(None)
    at.button(key="FormSubmitter:einvoice_fix_form_5-Anvend").click().run()
    assert not at.exception
    assert any("Angiv både første og sidste dag" in e.value for e in at.error)
    assert "einvoice_fixes" not in at.session_state or 5 not in at.session_state["einvoice_fixes"]


def test_files_that_cannot_be_read_say_why_and_the_rest_still_count(db, demo_zip, monkeypatch):
    names = zipfile.ZipFile(io.BytesIO(demo_zip)).namelist()
    first = zipfile.ZipFile(io.BytesIO(demo_zip)).read(names[0])
    at = _upload(
        run_page(db, PAGE, monkeypatch),
        [("noter.xml", b"ikke xml"), ("01_faktura.xml", first)],
    )
    assert not at.exception
    messages = _messages(at)
    assert "ikke gyldig XML" in messages[1]
    assert "Gemmes" == messages[2]
    assert ("2", "1") == (metric(at, "Filer"), metric(at, "Gemmes"))
