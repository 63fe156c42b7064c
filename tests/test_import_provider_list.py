"""A municipality's real-looking provider list (tests/provider_list.py, about 450 rows with the
traps real lists have) through the import on SQLite and PostgreSQL, as .xlsx and as a
Windows-1252 CSV: the preview gives exactly the expected error and warning tables row by row, a
list with errors writes nothing, the cleaned list imports exactly its providers as the form
would store them, and a re-import updates only the changed rows, and only when asked. And the
demo's example file (seed/examples) is what its script writes, with the errors it promises."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import AuditEvent, Provider
from seed.examples.make_examples import EXAMPLES_DIR, write_provider_example
from services.errors import InputError
from services.imports.providers import import_providers, preview_providers
from services.imports.reading import SourceTable, read_csv, read_excel
from tests.factories import USER
from tests.provider_list import (
    CPR_ROW,
    CSV,
    CVR,
    DEFAULT_DATES,
    EXISTS,
    MODULUS_WARNING,
    POINT_PERCENT,
    QUALITY_TOO_HIGH,
    ROW,
    SAME_CVR_OTHER_NAME,
    US_DATES,
    XLSX,
    ProviderList,
    Spec,
    build_provider_list,
)

LIST = build_provider_list()
CLEAN = LIST.clean()
KINDS = [XLSX, CSV]
FIELDS = (
    "cvr",
    "name",
    "kind",
    "postal_code",
    "city",
    "vat_refund",
    "framework",
    "framework_valid_to",
    "portal_url",
    "contact",
    "quality_rating",
)


def _read(kind: str, data: bytes) -> SourceTable:
    if kind == XLSX:
        return read_excel(data)
    table, separator, encoding = read_csv(data)
    assert (";", "Windows-1252") == (separator, encoding)
    return table


def _preview(session: Session, provider_list: ProviderList, kind: str, **options: Any):
    table = _read(kind, provider_list.file(kind))
    return preview_providers(session=session, headers=table.headers, rows=table.rows, **options)


def _import(session: Session, provider_list: ProviderList, kind: str, **options: Any):
    table = _read(kind, provider_list.file(kind))
    preview = import_providers(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name=f"leverandoerliste.{kind}",
        user=USER,
        **options,
    )
    session.expire_all()
    return preview


def _table(problems) -> list[tuple[int, str, str, str]]:
    """The table row by row (within a row, by column)."""
    return sorted((p.row, p.column, p.value, p.message) for p in problems)


def _by_cvr(provider: dict[str, Any]) -> str:
    return provider["cvr"] or ""


def _stored(session: Session) -> list[dict[str, Any]]:
    providers = session.exec(select(Provider)).all()
    return sorted(({f: getattr(p, f) for f in FIELDS} for p in providers), key=_by_cvr)


def test_the_list_holds_the_traps_it_promises():
    errors, warnings = LIST.problems(XLSX)
    messages = [e.message for e in errors]
    assert 451 == LIST.rows() and 5 == len(warnings)
    assert {MODULUS_WARNING} == {w.message for w in warnings}
    assert 2 == messages.count(CPR_ROW) and 2 == messages.count(POINT_PERCENT)
    assert 4 == sum(m.startswith("Flere rækker er uden CVR-nummer") for m in messages)
    assert 5 == sum(m.startswith(SAME_CVR_OTHER_NAME.split("{")[0]) for m in messages)
    assert 2 == sum(m.startswith("Leverandøren står også i række") for m in messages)
    assert [QUALITY_TOO_HIGH] == [e.message for e in errors if e.column == "Kvalitet"]
    assert (errors, warnings) == LIST.problems(CSV)
    # With the default date format every date written as text is an error too: in the
    # workbook the US text dates, in the CSV (where every date is text) every date.
    xlsx_dates = len(LIST.problems(XLSX, DEFAULT_DATES)[0]) - len(errors)
    csv_dates = len(LIST.problems(CSV, DEFAULT_DATES)[0]) - len(errors)
    assert 40 < xlsx_dates < csv_dates
    assert ([], 5) == (CLEAN.problems(XLSX)[0], len(CLEAN.problems(XLSX)[1]))


@pytest.mark.parametrize("date_format", [US_DATES, DEFAULT_DATES])
@pytest.mark.parametrize("kind", KINDS)
def test_the_preview_gives_exactly_the_expected_tables(session, kind, date_format):
    preview = _preview(session, LIST, kind, date_format=date_format)
    errors, warnings = LIST.problems(kind, date_format)
    assert _table(errors) == _table(preview.errors)
    assert _table(warnings) == _table(preview.warnings)
    assert (LIST.rows(), ("Bemærkning",), ()) == (
        preview.rows,
        preview.columns.unknown,
        preview.columns.missing,
    )
    bad = {e.row for e in errors}
    expected = {
        number: line.stored()
        for number, line in LIST.numbered()
        if line is not None and number not in bad
    }
    planned = {p.row: p.data for p in preview.new}
    assert sorted(expected) == sorted(planned)
    # Each planned row holds what the form would store (a field left empty is left out).
    for number, provider in expected.items():
        assert provider is not None
        assert provider == {f: planned[number].get(f) for f in FIELDS}, number
    assert not preview.ready and not preview.updates


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_with_errors_writes_nothing(session, kind):
    errors, _ = LIST.problems(kind)
    with pytest.raises(InputError, match=f"{len(errors)} fejl i filen: intet er gemt"):
        _import(session, LIST, kind, date_format=US_DATES)
    assert [] == session.exec(select(Provider)).all()
    assert [] == session.exec(select(AuditEvent)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_the_cleaned_list_imports_its_providers_and_a_re_import_updates_when_asked(session, kind):
    preview = _import(session, CLEAN, kind, date_format=US_DATES)
    assert _table(CLEAN.problems(kind)[1]) == _table(preview.warnings)
    expected = CLEAN.providers()
    assert 431 == len(expected) == len(preview.new)
    assert sorted(expected, key=_by_cvr) == _stored(session)
    by_name = {p.name: p for p in session.exec(select(Provider))}
    by_cvr = {p.cvr: p for p in session.exec(select(Provider))}
    # Surrounding spaces go, inner ones stay: the form stores a name the same way.
    assert {"Bostedet  Udsigten", "Botilbuddet Ådalen", "Hjemmet   Valmuen"} <= set(by_name)
    assert "Hansen, Jens (enkeltmandsvirksomhed)" in by_name
    assert {"0800"} == {p.postal_code for p in by_name.values() if p.city == "Høje-Taastrup"}
    refund: dict[str, set[bool]] = {}
    for _, line in CLEAN.numbered():
        if isinstance(line, Spec):
            written = str(getattr(line.vat, "shown", line.vat))
            refund.setdefault(written, set()).add(by_cvr[line.cvr].vat_refund)
    assert {
        "95,4%": {True},
        "95,4 %": {True},
        "100%": {False},
        "100": {False},
        "None": {True, False},  # by the type
    } == refund
    assert {False} == {p.vat_refund for p in by_name.values() if p.kind == "egen"}
    assert date(2027, 3, 4) in {p.framework_valid_to for p in by_name.values()}

    # Again without "Opdatér eksisterende": every row is named, nothing is written.
    again = _preview(session, CLEAN, kind, date_format=US_DATES)
    assert [
        (n, CVR, line.stored()["cvr"], EXISTS.format(name=line.stored()["name"]))
        for n, line in CLEAN.numbered()
        if line is not None
    ] == _table(again.errors)
    with pytest.raises(InputError):
        _import(session, CLEAN, kind, date_format=US_DATES)

    # A month later six rows have changed: with "Opdatér eksisterende" only they are updated.
    changed = CLEAN.changed()
    preview = _preview(session, changed, kind, date_format=US_DATES, update_existing=True)
    assert not preview.errors and not preview.new
    assert changed.changes == {p.row: p.changes for p in preview.updates}
    assert CLEAN.rows() - 6 == preview.unchanged
    _import(session, changed, kind, date_format=US_DATES, update_existing=True)
    assert sorted(changed.providers(), key=_by_cvr) == _stored(session)
    cvrs = {line.cvr for n, line in changed.numbered() if n in changed.changes}
    versions = {p.cvr: p.version for p in session.exec(select(Provider))}
    assert {2} == {v for cvr, v in versions.items() if cvr in cvrs}
    assert {1} == {v for cvr, v in versions.items() if cvr not in cvrs}


# --- The demo's example file -----------------------------------------------------------------

EXAMPLE = EXAMPLES_DIR / "leverandoerliste.xlsx"
# (row, column, value, message) with the default date format DD-MM-ÅÅÅÅ.
EXAMPLE_ERRORS = [
    (9, "Momsfaktor", "95.4%", POINT_PERCENT),
    (14, "CVR", "46109392", SAME_CVR_OTHER_NAME.format(others=31)),
    (18, "Kvalitet", "7", QUALITY_TOO_HIGH),
    (23, ROW, "", CPR_ROW),
    (27, "Aftalen gælder til", "12/31/2027", "»12/31/2027« er ikke en dato i formatet DD-MM-ÅÅÅÅ"),
    (31, "CVR", "46109392", SAME_CVR_OTHER_NAME.format(others=14)),
]


def _cells(path: Path) -> list[list[tuple[Any, str]]]:
    workbook = load_workbook(path)
    try:
        return [
            [(c.value, c.number_format) for c in row]
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
        ]
    finally:
        workbook.close()


def test_the_example_file_is_what_its_script_writes(tmp_path):
    written = tmp_path / "leverandoerliste.xlsx"
    write_provider_example(written)
    assert _cells(written) == _cells(EXAMPLE), "run: uv run python -m seed.examples.make_examples"


def test_the_example_file_shows_the_errors_it_promises(session):
    table = read_excel(EXAMPLE.read_bytes())
    preview = preview_providers(session=session, headers=table.headers, rows=table.rows)
    assert EXAMPLE_ERRORS == _table(preview.errors)
    assert [(12, "CVR", "21302114", MODULUS_WARNING)] == _table(preview.warnings)
    assert (40, 34) == (preview.rows, len(preview.new))
    by_row = {p.row: p.data for p in preview.new}
    assert ("0800", "0800") == (by_row[6]["postal_code"], by_row[7]["postal_code"])
    assert ("48601278", "Bostedet  Skovbrynet") == (by_row[6]["cvr"], by_row[6]["name"])
    assert (date(2027, 12, 31), False) == (by_row[2]["framework_valid_to"], by_row[8]["vat_refund"])
    # Choosing MM/DD/ÅÅÅÅ accepts row 27: every other date in the file is an Excel date.
    table = read_excel(EXAMPLE.read_bytes())
    us = preview_providers(
        session=session, headers=table.headers, rows=table.rows, date_format=US_DATES
    )
    assert [e for e in EXAMPLE_ERRORS if e[0] != 27] == _table(us.errors)
