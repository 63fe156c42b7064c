"""Importing the provider list (SPEC 9, issue 12) on SQLite and PostgreSQL: a good file imports
exactly what it holds, a re-import updates only when asked, one bad row writes nothing and is
named, duplicates inside the file are errors, a CPR-like cell refuses its row (a CPR number
typed as an Excel number too), an empty cell on an update keeps the stored value, a provider
without a CVR is matched by name, and the changes are shown the Danish way."""

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models import AuditEvent, Provider
from services.errors import InputError
from services.imports.providers import import_providers, preview_providers
from services.imports.reading import read_csv, read_excel
from tests.factories import USER, make_provider

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
    assert {"By": ("Aarhus C", "Aarhus N")} == preview.updates[0].changes
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


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("remark", "refused"),
    [
        (101901234, True),  # 010190-1234 typed as a number: Excel drops the leading zero
        (1501901234, True),  # 150190-1234 typed as a number
        (1501901234.0, True),
        (12345678, False),  # 8 digits: a CVR number, never a CPR number
        (1234567890, False),  # 10 digits, but 12.34.56 is no date
        (1501901234.5, False),  # not a whole number
    ],
)
def test_a_cpr_number_typed_as_an_excel_number_refuses_its_row(session, remark, refused):
    data = _xlsx(
        [
            ["CVR", "Navn", "Postnr.", "Kvalitet", "Bemærkning"],
            [12345674, "Bostedet Lyngly", 800, 4, remark],
        ]
    )
    table = read_excel(data)
    preview = preview_providers(session=session, headers=table.headers, rows=table.rows)
    if refused:
        assert [(2, "(rækken)")] == [(e.row, e.column) for e in preview.errors]
        assert "CPR" in preview.errors[0].message and not preview.new
    else:
        assert not preview.errors
        assert ("12345674", "0800", 4) == tuple(
            preview.new[0].data[k] for k in ("cvr", "postal_code", "quality_rating")
        )


def test_empty_cells_on_an_update_keep_the_stored_values(session):
    _import(session, GOOD)
    # Bo Syd is Kommunal, without an agreement or refund; Lyngly has a framework agreement.
    lines = [
        "12345674;Bostedet Lyngly;;8000;Aarhus C;;;;",
        "87654321;Bo Syd;;0800;Høje-Taastrup;;;;",
    ]
    preview = _preview(session, lines, update_existing=True)
    assert not preview.errors and not preview.updates and 2 == preview.unchanged
    # A changed city is the only change: the type, agreement and VAT refund stay.
    moved = [lines[1].replace("0800;Høje-Taastrup", "2630;Taastrup")]
    preview = _preview(session, moved, update_existing=True)
    assert {"Postnr.": ("0800", "2630"), "By": ("Høje-Taastrup", "Taastrup")} == (
        preview.updates[0].changes
    )
    _import(session, moved, update_existing=True)
    session.expire_all()
    syd = _providers(session)["87654321"]
    assert ("kommunal", "ingen", False, "Taastrup", 2) == (
        syd.kind,
        syd.framework,
        syd.vat_refund,
        syd.city,
        syd.version,
    )
    lyngly = _providers(session)["12345674"]
    assert ("privat", "rammeaftale", date(2027, 12, 31), True) == (
        lyngly.kind,
        lyngly.framework,
        lyngly.framework_valid_to,
        lyngly.vat_refund,
    )


def test_a_changed_type_with_an_empty_vat_factor_takes_the_types_refund(session):
    _import(session, GOOD)
    lines = ["87654321;Bo Syd;Selvejende;;;;;;"]
    preview = _preview(session, lines, update_existing=True)
    assert {"Type": ("Kommunal", "Selvejende"), "Momsfaktor": ("100 %", "95,4 %")} == (
        preview.updates[0].changes
    )
    # A factor written in the row wins over the type.
    preview = _preview(session, [lines[0].replace(";;;;;;", ";;;100%;;;")], update_existing=True)
    assert {"Type": ("Kommunal", "Selvejende")} == preview.updates[0].changes


def test_the_changes_are_shown_with_danish_names_and_values(session):
    _import(session, GOOD)
    lines = ["12345674;Bostedet Lyngly;Kommunal;8000;Aarhus C;100%;Ingen aftale;01-06-2028;3"]
    preview = _preview(session, lines, update_existing=True)
    assert {
        "Type": ("Privat", "Kommunal"),
        "Momsfaktor": ("95,4 %", "100 %"),
        "Samarbejdsaftale": ("Rammeaftale", "Ingen aftale"),
        "Aftalen gælder til": ("31.12.2027", "01.06.2028"),
        "Kvalitet": ("4", "3"),
    } == preview.updates[0].changes


def test_a_provider_without_cvr_is_matched_by_name(session):
    make_provider(session, name="Bocenter Granly", cvr=None, kind="egen", vat_refund=False)
    make_provider(session, name="Bocenter Søholm", cvr=None, kind="egen", vat_refund=False)
    make_provider(session, name="Bocenter  Søholm", cvr=None, kind="egen", vat_refund=False)
    make_provider(session, name="Bocenter Lindely", cvr="12345674")  # has a CVR: not matched
    lines = [";bocenter  GRANLY;;8000;Aarhus C;;;;"]
    preview = _preview(session, lines)
    assert [(2, "Navn", "bocenter GRANLY")] == [(e.row, e.column, e.value) for e in preview.errors]
    assert preview.errors[0].message.startswith("Findes allerede (»Bocenter Granly«)")
    preview = _preview(session, lines, update_existing=True)
    assert not preview.errors and not preview.new
    assert {"By": ("Aarhus", "Aarhus C")} == preview.updates[0].changes
    _import(session, lines, update_existing=True)
    session.expire_all()
    granly = [p for p in _providers(session).values() if p.name == "Bocenter Granly"]
    assert [("Aarhus C", "egen", False, None)] == [
        (p.city, p.kind, p.vat_refund, p.cvr) for p in granly
    ]
    # Importing the same file again changes nothing and creates nothing.
    preview = _preview(session, lines, update_existing=True)
    assert (0, 0, 1) == (len(preview.new), len(preview.updates), preview.unchanged)
    # Two providers without a CVR have the name: the row must give the CVR.
    preview = _preview(session, [";Bocenter Søholm;;;;;;;"], update_existing=True)
    assert [(2, "Navn")] == [(e.row, e.column) for e in preview.errors]
    assert "2 leverandører uden CVR-nummer" in preview.errors[0].message
    assert "Udfyld CVR-nummeret" in preview.errors[0].message
    # A name only a provider with a CVR has, or no provider has, is a new provider.
    preview = _preview(session, [";Bocenter Lindely;;;;;;;"])
    assert not preview.errors and 1 == len(preview.new)
    assert ("privat", "ingen", True) == tuple(
        preview.new[0].data[k] for k in ("kind", "framework", "vat_refund")
    )
