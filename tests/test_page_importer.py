"""Import in AppTest: the flow for the provider list on an empty database (the upload is put
where the uploader keeps it), the error table, confirming, and who may use the page."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import AuditEvent, InvoiceCheck, Provider
from services.db import get_engine
from tests.pagetest import metric, run_page

PAGE = "pages/importer.py"
GOOD = (
    "CVR;Navn;Type;Postnr.;By;Momsfaktor\n"
    "12345674;Bo Nord;Privat;9000;Aalborg;95,4%\n"
    "87654321;Bo Syd;Kommunal;800;Høje-Taastrup;100%\n"
)


@pytest.fixture
def page(empty_db, monkeypatch):
    return run_page(empty_db, PAGE, monkeypatch)


def _upload(at, name: str, text: str):  # type: ignore[no-untyped-def]
    at.session_state["import_file"] = (name, text.encode("utf-8"))
    return at.run()


def test_without_a_file_it_says_what_to_do(page):
    assert "Import" == page.title[0].value
    assert any("Vælg en fil" in i.value for i in page.info)


def test_the_template_has_the_headers_an_example_and_explanations(page):
    assert ["Hent skabelon (Excel)"] == [b.proto.label for b in page.get("download_button")]
    from services.imports.providers import COLUMNS, KIND_NAME
    from services.imports.templates import template_workbook

    workbook = load_workbook(io.BytesIO(template_workbook(COLUMNS, KIND_NAME)))
    assert [KIND_NAME, "Forklaring"] == workbook.sheetnames
    headers = [c.value for c in workbook[KIND_NAME][1]]
    assert ["CVR", "Navn", "Type", "Postnr."] == headers[:4]


def test_preview_then_confirm_writes_every_row(page, empty_db):
    at = _upload(page, "liste.csv", GOOD)
    assert not at.exception
    assert ["2", "2", "0", "0"] == [m.value for m in at.metric]
    at.button(key="import_confirm").click().run()
    assert not at.exception
    assert any("Importen er gemt: 2 nye" in s.value for s in at.success)
    with Session(get_engine(empty_db)) as s:
        assert {"Bo Nord", "Bo Syd"} == {p.name for p in s.exec(select(Provider))}
        assert 1 == len(s.exec(select(AuditEvent).where(AuditEvent.entity == "import")).all())
    assert any("Vælg en fil" in i.value for i in at.info)  # the file is forgotten


def test_a_bad_row_shows_in_the_error_table_and_nothing_can_be_confirmed(page, empty_db):
    at = _upload(page, "liste.csv", GOOD + "11111111;Bo Vest;Privat;9000;Aalborg;95.4%\n")
    frame = at.dataframe[0].value
    assert [4] == list(frame["Række"])
    assert "Mente du 95,4?" in frame["Besked"][0]
    assert not [b for b in at.button if b.key == "import_confirm"]
    with Session(get_engine(empty_db)) as s:
        assert [] == s.exec(select(Provider)).all()


def test_a_re_import_asks_before_it_updates(page, empty_db):
    at = _upload(page, "liste.csv", GOOD)
    at.button(key="import_confirm").click().run()
    at = _upload(at, "liste.csv", GOOD.replace("Aalborg", "Aalborg SØ"))
    assert "Findes allerede" in at.dataframe[0].value["Besked"][0]
    at.checkbox(key="import_update").check().run()
    assert ["2", "0", "1", "0"] == [m.value for m in at.metric]
    at.button(key="import_confirm").click().run()
    with Session(get_engine(empty_db)) as s:
        cities = {p.name: p.city for p in s.exec(select(Provider))}
    assert "Aalborg SØ" == cities["Bo Nord"]


def test_a_file_that_cannot_be_read_says_so(page):
    at = page
    at.session_state["import_file"] = ("liste.xlsx", b"not a workbook")
    at.run()
    assert not at.exception
    assert any("kan ikke læses" in e.value for e in at.error)


def test_a_month_of_invoices_is_checked_and_flagged_ones_enter_the_log(page, empty_db):
    from tests.factories import make_contract

    with Session(get_engine(empty_db)) as s:
        make_contract(s)
    at = page
    at.selectbox(key="import_kind").set_value("fakturalinjer").run()
    at = _upload(
        at,
        "marts.csv",
        "Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb\n"
        "SAG-2024-0001;F-1;01-03-2026;31-03-2026;90.000,00\n"
        "SAG-2024-0001;F-2;01-04-2026;30-04-2026;1.000,00\n",
    )
    assert not at.exception
    assert "2" == metric(at, "Kontrolleret") and "1" == metric(at, "Afvigelser")
    assert "1" == metric(at, "Under forventet")
    assert not [m for m in at.metric if m.label == "Opdateres"]
    assert not [c for c in at.checkbox if c.key == "import_update"]
    at.button(key="import_confirm").click().run()
    assert not at.exception
    assert any("2 nye fakturakontroller" in s.value for s in at.success)
    with Session(get_engine(empty_db)) as s:
        checks = {c.invoice_no: c for c in s.exec(select(InvoiceCheck))}
    assert ("ny", None) == (checks["F-1"].status, checks["F-2"].status)
    assert "fakturalinjer" == at.session_state["import_kind"]  # still on the kind
