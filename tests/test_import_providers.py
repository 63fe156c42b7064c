"""Importing the provider list (SPEC 9, issue 12) on SQLite and PostgreSQL: a good file imports
exactly what it holds, a re-import updates only when asked, one bad row writes nothing and is
named, duplicates inside the file are errors, a CPR-like cell refuses its row."""

from datetime import date

import pytest
from sqlmodel import Session, select

from models import AuditEvent, Provider
from services.errors import InputError
from services.imports.providers import import_providers, preview_providers
from services.imports.reading import read_csv
from tests.factories import USER

HEADER = "CVR;Navn;Type;Postnr.;By;Momsfaktor;Samarbejdsaftale;Aftalen gælder til;Kvalitet"
GOOD = [
    "12345674;Bostedet Lyngly;Privat;8000;Aarhus C;95,4%;Rammeaftale;31-12-2027;4",
    "87654321;Bo Syd;Kommunal;800;Høje-Taastrup;100%;;;",
    "10000009;Huset ved Åen;Selvejende;6000;Kolding;;Samarbejdsaftale;01-07-2026;5",
]


def _table(lines: list[str], header: str = HEADER):
    table, _, _ = read_csv(("\n".join([header, *lines]) + "\n").encode("utf-8"))
    return table


def _preview(session: Session, lines: list[str], **options):
    table = _table(lines)
    return preview_providers(session=session, headers=table.headers, rows=table.rows, **options)


def _import(session: Session, lines: list[str], **options):
    table = _table(lines)
    return import_providers(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name="leverandoerer.csv",
        user=USER,
        **options,
    )


def _providers(session: Session) -> dict[str, Provider]:
    return {p.cvr or p.name: p for p in session.exec(select(Provider))}


def test_a_good_file_imports_exactly_what_it_holds(session):
    preview = _preview(session, GOOD)
    assert preview.ready and 3 == len(preview.new) and not preview.errors
    _import(session, GOOD)
    stored = _providers(session)
    assert {"12345674", "87654321", "10000009"} == set(stored)
    lyngly, syd, aaen = stored["12345674"], stored["87654321"], stored["10000009"]
    assert ("Bostedet Lyngly", "privat", "8000", True) == (
        lyngly.name,
        lyngly.kind,
        lyngly.postal_code,
        lyngly.vat_refund,
    )
    assert ("rammeaftale", date(2027, 12, 31), 4) == (
        lyngly.framework,
        lyngly.framework_valid_to,
        lyngly.quality_rating,
    )
    assert ("0800", False, "ingen") == (syd.postal_code, syd.vat_refund, syd.framework)
    assert aaen.vat_refund  # blank factor: by its type (selvejende gets the refund)
    events = session.exec(select(AuditEvent)).all()
    assert 3 == sum(e.entity == "provider" and e.action == "create" for e in events)
    (summary,) = [e for e in events if e.entity == "import"]
    assert ("leverandoerer.csv", USER) == (summary.entity_id, summary.who)
    assert '"created": [null, 3]' in summary.changes


def test_a_re_import_updates_only_when_asked(session):
    _import(session, GOOD)
    changed = [GOOD[0].replace("Aarhus C", "Aarhus N"), *GOOD[1:]]
    preview = _preview(session, changed)
    assert 3 == len(preview.errors)
    assert all("Findes allerede" in e.message for e in preview.errors)
    with pytest.raises(InputError, match="3 fejl"):
        _import(session, changed)
    preview = _preview(session, changed, update_existing=True)
    assert (0, 1, 2) == (len(preview.new), len(preview.updates), preview.unchanged)
    assert {"city": ("Aarhus C", "Aarhus N")} == preview.updates[0].changes
    _import(session, changed, update_existing=True)
    session.expire_all()
    assert "Aarhus N" == _providers(session)["12345674"].city


def test_one_bad_row_writes_nothing_and_is_named(session):
    lines = [*GOOD, "11111111;Bo Vest;Privat;9000;Aalborg;95.4%;;;"]
    preview = _preview(session, lines)
    assert [(5, "Momsfaktor", "95.4%")] == [(e.row, e.column, e.value) for e in preview.errors]
    assert "Mente du 95,4?" in preview.errors[0].message
    with pytest.raises(InputError):
        _import(session, lines)
    assert {} == _providers(session)
    assert [] == session.exec(select(AuditEvent)).all()


def test_duplicates_inside_the_file_are_errors_on_every_row(session):
    lines = [
        "12345674;Bostedet Lyngly;Privat;8000;Aarhus C;;;;",
        "12345674;Lyngly ApS;Privat;8000;Aarhus C;;;;",
        ";Anne Hansens Bosted;Privat;8000;Aarhus;;;;",
        ";Bo uden CVR;Privat;8000;Aarhus;;;;",
    ]
    errors = {
        (e.row, e.message.split(" (")[0].split(" med ")[0]) for e in _preview(session, lines).errors
    }
    assert {
        (2, "CVR-nummeret står også i række 3"),
        (3, "CVR-nummeret står også i række 2"),
        (4, "Flere rækker er uden CVR-nummer"),
        (5, "Flere rækker er uden CVR-nummer"),
    } == errors


def test_a_cpr_like_cell_refuses_its_row(session):
    preview = _preview(session, [*GOOD[:1], "87654321;Bo 010190-1234;Privat;8000;Aarhus;;;;"])
    assert [(3, "(rækken)")] == [(e.row, e.column) for e in preview.errors]
    assert "CPR" in preview.errors[0].message


def test_checks_per_cell(session):
    lines = [
        "12345678;Bo Mod;Privat;8000;Aarhus;;;;",  # fails modulus 11: a warning
        "22222222;Bo Type;Andelsselskab;8000;Aarhus;;;;",
        "33333333;Bo Dato;Privat;8000;Aarhus;;Rammeaftale;12/31/2027;",
        "44444444;Bo Kvalitet;Privat;8000;Aarhus;;;;9",
        "55555555;Bo Moms;Privat;8000;Aarhus;95%;;;",
    ]
    preview = _preview(session, lines)
    assert [2] == [w.row for w in preview.warnings]
    assert "modulus 11" in preview.warnings[0].message
    by_row = {e.row: (e.column, e.message) for e in preview.errors}
    assert "Ukendt type »Andelsselskab«" in by_row[3][1]
    assert ("Aftalen gælder til", "»12/31/2027« er ikke en dato i formatet DD-MM-ÅÅÅÅ") == by_row[4]
    assert "Kvalitet" == by_row[5][0]
    assert "Momsfaktoren skal være 95,4 %" in by_row[6][1]
    us = _preview(session, [lines[2]], date_format="MM/DD/ÅÅÅÅ")
    assert not us.errors and date(2027, 12, 31) == us.new[0].data["framework_valid_to"]


def test_columns_are_matched_by_name_and_a_missing_name_column_is_named(session):
    table = _table(["12345674;Bo;x"], header="cvr-nummer;Leverandørnavn;Farve")
    preview = preview_providers(session=session, headers=table.headers, rows=table.rows)
    assert ("Farve",) == preview.columns.unknown
    assert not preview.columns.missing and 1 == len(preview.new)
    table = _table(["12345674;Aarhus"], header="CVR;By")
    preview = preview_providers(session=session, headers=table.headers, rows=table.rows)
    assert ("Navn",) == preview.columns.missing and not preview.ready
