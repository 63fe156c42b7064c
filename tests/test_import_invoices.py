"""Importing a month of invoice lines (SPEC 4.2–4.3, 9; issue 12) on SQLite and PostgreSQL:
each line is stored exactly as the same invoice typed into Fakturaafvigelser would be, flagged
ones enter the deviation log, negative lines are credit notes of their invoice, and one bad
line writes nothing and is named by its row."""

import gc
import json
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditEvent, DeviationEvent, InvoiceCheck
from services.errors import InputError
from services.imports import invoices as invoice_import
from services.imports.invoices import import_invoices, preview_invoices
from services.imports.reading import read_csv
from services.invoices import check_invoice, preview_invoice_check
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 5, 10)
HEADER = "CVR;Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb"


@pytest.fixture
def contracts(session: Session) -> dict[str, int]:
    provider = make_provider(session)
    other = make_provider(session, name="Bo Nord", cvr="12345674")
    first = make_contract(session, provider)
    second = make_contract(
        session, other, case_ref="SAG-2025-0002", price=Decimal("61000.00"), price_unit="maaned"
    )
    return {"first": first.id or 0, "second": second.id or 0}


def _table(lines: list[str], header: str = HEADER):
    table, _, _ = read_csv(("\n".join([header, *lines]) + "\n").encode("utf-8"))
    return table


def _preview(session: Session, lines: list[str], **options):
    table = _table(lines)
    return preview_invoices(
        session=session, headers=table.headers, rows=table.rows, today=TODAY, **options
    )


def _import(session: Session, lines: list[str], **options):
    table = _table(lines)
    return import_invoices(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name="marts.csv",
        user=USER,
        today=TODAY,
        **options,
    )


def _checks(session: Session) -> list[InvoiceCheck]:
    return list(session.exec(select(InvoiceCheck).order_by(col(InvoiceCheck.id))))


MONTH = [
    "10000009;SAG-2024-0001;F-100;01-03-2026;31-03-2026;64.504,80",  # as expected
    "12345674;SAG-2025-0002;F-200;01-03-2026;31-03-2026;70.000,00",  # above: flagged
    ";SAG-2024-0001;F-101;01-04-2026;30-04-2026;50.000,00",  # under expected
]


def test_each_line_is_stored_as_the_same_invoice_typed_by_hand(session, contracts):
    typed = [
        preview_invoice_check(
            session=session,
            data={
                "contract_id": contracts[key],
                "invoice_no": "X",
                "period_from": start,
                "period_to": end,
                "invoiced": amount,
            },
        )
        for key, start, end, amount in (
            ("first", date(2026, 3, 1), date(2026, 3, 31), Decimal("64504.80")),
            ("second", date(2026, 3, 1), date(2026, 3, 31), Decimal("70000.00")),
            ("first", date(2026, 4, 1), date(2026, 4, 30), Decimal("50000.00")),
        )
    ]
    preview = _preview(session, MONTH)
    assert preview.ready and 3 == preview.creates and [] == preview.errors
    figures = dict(preview.figures)
    assert ("3", "1", "1") == (
        figures["Kontrolleret"],
        figures["Afvigelser"],
        figures["Under forventet"],
    )
    assert [] == _checks(session)  # a preview writes nothing
    _import(session, MONTH)
    stored = _checks(session)
    assert ["F-100", "F-200", "F-101"] == [c.invoice_no for c in stored]
    for check, hand in zip(stored, typed, strict=True):
        assert hand.expected.total == check.expected
        assert hand.deviation.amount == check.deviation
        assert hand.deviation.pct == check.deviation_pct
        assert (hand.deviation.flagged, hand.deviation.under_expected) == (
            check.flagged,
            check.under_expected,
        )
        assert TODAY == check.checked_on and USER == check.created_by
    flagged = [c for c in stored if c.flagged]
    assert ["F-200"] == [c.invoice_no for c in flagged] and "ny" == flagged[0].status
    assert preview.summary is not None and preview.summary.startswith(
        "Afvigelser i alt: "
        + f"{flagged[0].deviation:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        + " kr. over det forventede på 1 faktura."
    )
    history = session.exec(select(DeviationEvent)).all()
    assert [(flagged[0].id, "ny")] == [(e.invoice_check_id, e.new_status) for e in history]
    events = session.exec(select(AuditEvent)).all()
    assert 1 == len([e for e in events if e.entity == "import"])
    assert {str(c.id) for c in stored} == {
        e.entity_id for e in events if e.entity == "invoicecheck" and e.action == "create"
    }


def test_an_imported_invoice_is_refused_when_typed_again_and_vice_versa(session, contracts):
    _import(session, MONTH[:1])
    with pytest.raises(InputError):
        check_invoice(
            session=session,
            data={
                "contract_id": contracts["first"],
                "invoice_no": "F-100",
                "period_from": date(2026, 3, 1),
                "period_to": date(2026, 3, 31),
                "invoiced": "64.504,80",
            },
            user=USER,
        )
    preview = _preview(session, MONTH)
    assert [(2, "Fakturanummer")] == [(e.row, e.column) for e in preview.errors]
    assert "allerede kontrolleret" in preview.errors[0].message


def test_one_bad_line_writes_nothing_and_is_named(session, contracts):
    bad = [*MONTH, "10000009;SAG-2024-0001;F-102;01-05-2026;31-05-2026;64504.80"]
    preview = _preview(session, bad)
    assert not preview.ready
    [error] = preview.errors
    assert (5, "Beløb", "64504.80") == (error.row, error.column, error.value)
    assert "Mente du" in error.message
    with pytest.raises(InputError):
        _import(session, bad)
    assert [] == _checks(session)
    assert [] == session.exec(select(AuditEvent).where(AuditEvent.entity == "import")).all()


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("10000009;SAG-1999-0001;F-1;01-03-2026;31-03-2026;100,00", "Sagsnummer", "Ingen kontrakt"),
        ("12345674;SAG-2024-0001;F-1;01-03-2026;31-03-2026;100,00", "CVR", "hører til"),
        ("10000009;SAG-2024-0001;F-1;31-03-2026;01-03-2026;100,00", "Periode til", "slutte efter"),
        ("10000009;SAG-2024-0001;F-1;01-01-2020;31-01-2020;100,00", "Periode fra", "løbetid"),
        ("10000009;SAG-2024-0001;F-1;2026-03-01;31-03-2026;100,00", "Periode fra", "DD-MM-ÅÅÅÅ"),
        ("10000009;SAG-2024-0001;;01-03-2026;31-03-2026;100,00", "Fakturanummer", ""),
        ("10000009;SAG-2024-0001;F-1;01-03-2026;31-03-2026;", "Beløb", ""),
        ("10000009;SAG-2024-0001;F-1;01-03-2026;31-03-2026;999.999,00", "Beløb", "gange"),
        ("10000009;SAG-2024-0001;F-1;01-03-2026;31-03-2026;-100,00", "Beløb", "ingen faktura"),
        ("10000009;SAG-2024-0001;010190-1234;01-03-2026;31-03-2026;1,00", "(rækken)", "CPR"),
    ],
)
def test_a_line_that_cannot_be_checked_says_why(session, contracts, line, column, words):
    preview = _preview(session, [line])
    [error] = preview.errors
    assert (2, column) == (error.row, error.column)
    assert words in error.message and not preview.ready


def test_the_same_invoice_twice_in_the_file_is_an_error_on_both_rows(session, contracts):
    preview = _preview(session, [MONTH[0], MONTH[1], MONTH[0]])
    assert [(2, "Fakturanummer"), (4, "Fakturanummer")] == [
        (e.row, e.column) for e in preview.errors
    ]
    assert "række 4" in preview.errors[0].message and "række 2" in preview.errors[1].message


def test_a_negative_line_credits_its_invoice_in_the_file_or_saved_before(session, contracts):
    _import(session, [MONTH[1]])  # F-200 flagged, saved
    lines = [
        "12345674;SAG-2025-0002;K-200;01-03-2026;31-03-2026;-9.000,00",
        MONTH[2],
        ";SAG-2024-0001;K-101;01-04-2026;30-04-2026;-1.000,00",
    ]
    preview = _preview(session, lines)
    assert preview.ready and "2" == dict(preview.figures)["Kreditnotaer"]
    assert preview.summary is None  # no line above the expected amount
    _import(session, lines)
    by_no = {c.invoice_no: c for c in _checks(session)}
    assert by_no["F-200"].id == by_no["K-200"].credits_id
    assert by_no["F-101"].id == by_no["K-101"].credits_id
    assert (Decimal("-9000.00"), Decimal("-1000.00")) == (
        by_no["K-200"].invoiced,
        by_no["K-101"].invoiced,
    )
    assert ("kreditnota", by_no["F-200"].period_from) == (
        by_no["K-200"].kind,
        by_no["K-200"].period_from,
    )
    notes = session.exec(
        select(DeviationEvent).where(DeviationEvent.invoice_check_id == by_no["F-200"].id)
    ).all()
    assert 2 == len(notes) and "K-200" in (notes[-1].note or "")


def test_a_credit_note_larger_than_what_is_left_is_refused(session, contracts):
    lines = [
        MONTH[2],
        ";SAG-2024-0001;K-1;01-04-2026;30-04-2026;-30.000,00",
        ";SAG-2024-0001;K-2;01-04-2026;30-04-2026;-30.000,00",
    ]
    preview = _preview(session, lines)
    assert [(4, "Beløb")] == [(e.row, e.column) for e in preview.errors]
    assert "20.000,00 kr." in preview.errors[0].message


def test_the_columns_are_found_by_name_and_a_missing_one_is_named(session, contracts):
    table = _table(["SAG-2024-0001;F-1;01-03-2026;100,00"], "sagsnr;FAKTURA;fra;Beløb i kr.")
    preview = preview_invoices(session=session, headers=table.headers, rows=table.rows)
    assert ("Periode til",) == preview.columns.missing and not preview.ready


def test_errors_beyond_the_listed_ones_are_counted(session, contracts, monkeypatch):
    monkeypatch.setattr(invoice_import, "MAX_LISTED", 3)
    preview = _preview(
        session, [f"10000009;SAG-9;F-{n};01-03-2026;31-03-2026;1,00" for n in range(7)]
    )
    assert 3 == len(preview.errors) and 7 == preview.error_count


def test_progress_is_reported_per_chunk(session, contracts, monkeypatch):
    monkeypatch.setattr(invoice_import, "CHUNK", 2)
    done: list[int] = []
    table = _table(MONTH)
    preview_invoices(session=session, headers=table.headers, rows=table.rows, progress=done.append)
    assert [2, 3] == done


def test_the_demos_example_month_imports_with_its_deviations_and_credit_note(tmp_path):
    """The example file the Import page offers while demo data is in: it fits the demo's
    contracts of the day, every line is accepted, some are flagged and one credits another."""
    from seed import seed_database
    from services.db import get_engine, upgrade_schema
    from services.imports.examples import invoice_example

    engine = get_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=TODAY)
    with Session(engine) as s:
        data = invoice_example(session=s, today=TODAY)
        table, separator, encoding = read_csv(data)
        assert (";", "UTF-8 med BOM") == (separator, encoding)
        preview = preview_invoices(session=s, headers=table.headers, rows=table.rows, today=TODAY)
        assert [] == preview.errors and preview.ready
        figures = dict(preview.figures)
        assert int(figures["Afvigelser"]) >= 1 and "1" == figures["Kreditnotaer"]
        assert int(figures["Under forventet"]) >= 1
    engine.dispose()


def test_a_credit_note_names_its_invoice_when_the_period_has_two(session, contracts):
    header = HEADER + ";Krediterer faktura"
    lines = [
        "10000009;SAG-2024-0001;F-1;01-03-2026;31-03-2026;60.000,00;",
        "10000009;SAG-2024-0001;F-2;01-03-2026;31-03-2026;4.000,00;",
        "10000009;SAG-2024-0001;K-1;01-03-2026;31-03-2026;-3.000,00;F-2",
        "10000009;SAG-2024-0001;K-2;01-03-2026;31-03-2026;-1.000,00;",
        "10000009;SAG-2024-0001;K-3;01-03-2026;31-03-2026;-1.000,00;F-9",
    ]
    table = _table(lines, header)
    preview = preview_invoices(session=session, headers=table.headers, rows=table.rows, today=TODAY)
    assert [(5, "Beløb"), (6, "Krediterer faktura")] == [(e.row, e.column) for e in preview.errors]
    assert "Krediterer faktura" in preview.errors[0].message
    assert "»F-9«" in preview.errors[1].message
    table = _table(lines[:3], header)
    import_invoices(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name="marts.csv",
        user=USER,
        today=TODAY,
    )
    by_no = {c.invoice_no: c for c in _checks(session)}
    assert by_no["F-2"].id == by_no["K-1"].credits_id


def test_a_contract_that_cannot_be_priced_for_the_period_is_a_row_error(session, contracts):
    """An index-regulated contract without the year's rate: the line says which year is
    missing (the page stands, the other lines are still checked)."""
    make_contract(
        session,
        make_provider(session, name="Bo Indeks", cvr="29403473"),
        case_ref="SAG-2024-0009",
        regulation_kind="indeks",
    )
    preview = _preview(
        session,
        [
            "10000009;SAG-2024-0001;F-1;01-03-2026;31-03-2026;64.504,80",
            "29403473;SAG-2024-0009;F-2;01-03-2026;31-03-2026;64.504,80",
        ],
    )
    assert [(3, "Periode fra")] == [(e.row, e.column) for e in preview.errors]
    assert preview.errors[0].message.startswith("Der mangler en reguleringssats (indeks) for ")
    assert "1" == dict(preview.figures)["Kontrolleret"]


def test_a_credit_note_in_a_later_chunk_finds_its_invoice_once(session, contracts, monkeypatch):
    # A big file is checked and written in chunks: the invoice is written with the first chunk
    # before the credit note's chunk loads the contract's saved invoices. It must not count
    # twice (saved, and from the file), which made "2 fakturaer har samme kontrakt og periode".
    monkeypatch.setattr(invoice_import, "CHUNK", 1)
    lines = [MONTH[2], ";SAG-2024-0001;K-101;01-04-2026;30-04-2026;-1.000,00"]
    preview = _preview(session, lines)
    assert preview.ready, preview.errors
    result = _import(session, lines)
    assert not result.errors
    by_no = {c.invoice_no: c for c in _checks(session)}
    assert by_no["F-101"].id == by_no["K-101"].credits_id


# --- A large file, checked in two processes -------------------------------------------------
#
# From PARALLEL_FROM chunks on, a second process checks chunks on their own while this one
# settles them in file order and writes: the result must be the one process's, line for line.


def _month_lines() -> list[str]:
    """Two contracts' invoices for 2025, some flagged and some under; credit notes of an
    invoice in an earlier chunk, in the same chunk and of one saved before the import."""
    lines = []
    for month in range(1, 13):
        start, end = date(2025, month, 1), date(2025, month, 28)
        period = f"{start:%d-%m-%Y};{end:%d-%m-%Y}"
        amount = ("58.000,00", "60.000,00", "64.000,00")[month % 3]
        lines.append(f"10000009;SAG-2024-0001;F-1-{month};{period};{amount}")
        amount = ("61.000,00", "70.000,00", "50.000,00")[month % 3]
        lines.append(f"12345674;SAG-2025-0002;F-2-{month};{period};{amount}")
    lines.insert(20, "12345674;SAG-2025-0002;K-2-2;01-02-2025;28-02-2025;-2.000,00")
    lines.insert(7, "10000009;SAG-2024-0001;K-1-4;01-04-2025;28-04-2025;-500,00")
    lines.append(";SAG-2024-0001;K-1-1;01-01-2025;28-01-2025;-1.000,00")
    lines.append("12345674;SAG-2025-0002;K-0;01-12-2024;28-12-2024;-100,00")
    return lines


def _stored(session: Session) -> dict[str, list]:
    """What the imports stored, the ids given as the invoice numbers they belong to."""
    session.expire_all()
    checks = _checks(session)
    number = {c.id: c.invoice_no for c in checks}
    fields = [
        "kind", "contract_id", "provider_id", "period_from", "period_to", "checked_on",
        "invoiced", "expected", "deviation", "deviation_pct", "flagged", "under_expected",
        "status", "created_by", "version",
    ]  # fmt: skip
    events = []
    for event in session.exec(select(AuditEvent).where(AuditEvent.entity == "invoicecheck")):
        changes = json.loads(event.changes)
        if "credits_id" in changes:
            changes["credits_id"][1] = number[changes["credits_id"][1]]
        events.append((number[int(event.entity_id)], event.who, event.action, changes))
    history = [
        (number[e.invoice_check_id], e.by, e.old_status, e.new_status, e.note)
        for e in session.exec(select(DeviationEvent))
    ]
    return {
        "checks": [
            (c.invoice_no, number.get(c.credits_id), *(getattr(c, f) for f in fields))
            for c in checks
        ],
        "audit": sorted(events, key=repr),
        "history": sorted(history, key=repr),
    }


def _written(session: Session) -> tuple[set[int], set[int]]:
    return {c.id or 0 for c in _checks(session)}, {
        e.id or 0 for e in session.exec(select(DeviationEvent))
    }


def _forget_the_import(session: Session, before: tuple[set[int], set[int]]) -> None:
    """Take back what an import wrote (not done by the app: only to run it again)."""
    checks, events = (set(ids) for ids in _written(session))
    checks -= before[0]
    events -= before[1]
    connection = session.connection()
    check = sa.table("invoicecheck", sa.column("id"))
    history = sa.table("deviationevent", sa.column("id"))
    audit = sa.table("auditevent", sa.column("entity"), sa.column("entity_id"))
    connection.execute(sa.delete(history).where(history.c.id.in_(events)))
    connection.execute(sa.delete(check).where(check.c.id.in_(checks)))
    connection.execute(
        sa.delete(audit).where(
            audit.c.entity == "invoicecheck", audit.c.entity_id.in_([str(i) for i in checks])
        )
    )
    session.commit()


PRECHECK = invoice_import._precheck


def _alone(monkeypatch) -> None:
    """One process from now on, checking at its own speed."""
    monkeypatch.setattr(invoice_import, "PARALLEL_FROM", 10**6)
    monkeypatch.setattr(invoice_import, "_precheck", PRECHECK)


@pytest.fixture
def in_chunks(monkeypatch) -> list[str]:
    """Small chunks, and two processes from two chunks on. The list notes each run shared
    between two processes, and each chunk this process checked; it checks slowly, so that the
    second process (a second or so to start) checks some too."""
    monkeypatch.setattr(invoice_import, "CHUNK", 4)
    monkeypatch.setattr(invoice_import, "PARALLEL_FROM", 2)
    noted: list[str] = []
    shared, precheck = invoice_import._prechecked_shared, PRECHECK

    def sharing(*args):
        noted.append("shared")
        return shared(*args)

    def slowly(run, chunk):
        noted.append("here")
        time.sleep(0.4)
        return precheck(run, chunk)

    monkeypatch.setattr(invoice_import, "_prechecked_shared", sharing)
    monkeypatch.setattr(invoice_import, "_precheck", slowly)
    return noted


def test_two_processes_store_what_one_stores(session, contracts, in_chunks, monkeypatch):
    _import(session, ["12345674;SAG-2025-0002;F-0;01-12-2024;28-12-2024;70.000,00"])
    before = _written(session)
    lines = _month_lines()
    in_chunks.clear()
    shared = _import(session, lines)
    assert "shared" == in_chunks[0] and in_chunks.count("here") < 8  # of 8 chunks
    in_two = _stored(session)
    _forget_the_import(session, before)
    _alone(monkeypatch)
    alone = _import(session, lines)
    assert (shared.rows, shared.figures, shared.summary) == (
        alone.rows,
        alone.figures,
        alone.summary,
    )
    assert 29 == len(in_two["checks"]) and "4" == dict(alone.figures)["Kreditnotaer"]
    assert in_two == _stored(session)


def test_two_processes_find_the_errors_one_finds(session, contracts, in_chunks, monkeypatch):
    _import(session, ["12345674;SAG-2025-0002;F-0;01-12-2024;28-12-2024;70.000,00"])
    lines = _month_lines()
    lines[3] = lines[13]  # the same invoice twice, in different chunks
    lines[9] = "10000009;SAG-9999;F-9;01-01-2025;28-01-2025;1.000,00"  # no such contract
    lines[16] = lines[16].replace("F-2-", "X-").rsplit(";", 1)[0] + ";9.000.000,00"  # implausible
    lines.append("12345674;SAG-2025-0002;F-0;01-12-2024;28-12-2024;70.000,00")  # checked before
    previews = []
    real = invoice_import.require_ready
    monkeypatch.setattr(invoice_import, "require_ready", lambda p: previews.append(p) or real(p))
    in_chunks.clear()
    with pytest.raises(InputError):
        _import(session, lines)
    assert "shared" == in_chunks[0] and in_chunks.count("here") < 8
    _alone(monkeypatch)
    with pytest.raises(InputError):
        _import(session, lines)
    shared, alone = previews
    # Both copies, the contract, the amount, a credit note whose invoice was row 11, the
    # invoice saved before.
    assert [5, 11, 15, 18, 23, 30] == [e.row for e in shared.errors]
    assert (shared.errors, shared.figures) == (alone.errors, alone.figures)
    checked_alone = _preview(session, lines)
    assert (shared.errors, shared.figures) == (checked_alone.errors, checked_alone.figures)
    assert 1 == len(_checks(session))  # nothing of the file is written


def test_a_failing_second_process_costs_time_not_the_import(
    session, contracts, in_chunks, monkeypatch, tmp_path, caplog
):
    # The second process reads a database without tables: each of its chunks fails, and this
    # process checks them itself.
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setattr(invoice_import, "_reader_url", lambda _session: empty)
    lines = _month_lines()[:-1]
    result = _import(session, lines)
    assert "shared" == in_chunks[0] and not result.errors
    assert len(lines) == len(_checks(session))
    assert "one process" in caplog.text


def test_the_cycle_collector_runs_less_often_only_while_importing(session, contracts, monkeypatch):
    thresholds = []
    real = invoice_import._settle

    def noting(run, checked):
        thresholds.append(gc.get_threshold())
        return real(run, checked)

    monkeypatch.setattr(invoice_import, "_settle", noting)
    before = gc.get_threshold()
    _import(session, MONTH)
    assert [(before[0] * 100, *before[1:])] == thresholds
    assert before == gc.get_threshold()
