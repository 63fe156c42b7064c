"""services.sql.bulk_insert (COPY on PostgreSQL, the driver's executemany on SQLite) stores
exactly what an ORM insert of the same values stores, on both engines: money, dates, an aware
timestamp (as its wall time in the session's zone, as a bound parameter is), an enum and
None; a broken constraint is SQLAlchemy's IntegrityError. services.sql.reserve_ids gives the
ids such rows are inserted with."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditEvent, InvoiceCheck, InvoiceKind, InvoiceStatus
from services.sql import bulk_insert, reserve_ids
from services.unit_of_work import WRITE
from tests.factories import make_contract

AT = datetime(2026, 12, 1, 22, 30, 15, 123456, tzinfo=UTC)


def _values(contract, **overrides):
    return {
        "kind": InvoiceKind.INVOICE,
        "contract_id": contract.id,
        "provider_id": contract.provider_id,
        "period_from": date(2026, 3, 1),
        "period_to": date(2026, 3, 31),
        "checked_on": date(2026, 4, 2),
        "invoiced": Decimal("70000.00"),
        "expected": Decimal("64504.79"),
        "deviation": Decimal("5495.21"),
        "deviation_pct": Decimal("8.5191"),
        "flagged": True,
        "under_expected": False,
        "status": InvoiceStatus.NEW,
        "assignee": None,
        "resolution_note": None,
        "credits_id": None,
        "created_at": AT,
        "updated_at": AT,
        "created_by": "Test",
        "updated_by": "Test",
        "version": 1,
        **overrides,
    }


@pytest.mark.parametrize("zone", [None, "Europe/Copenhagen"])
def test_bulk_rows_read_back_as_orm_rows(session: Session, zone: str | None):
    contract = make_contract(session)
    if zone and session.connection().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"SET LOCAL TIME ZONE '{zone}'")
    values = _values(
        contract,
        invoiced=Decimal("64504.80"),
        expected=Decimal("64504.79"),
        deviation=Decimal("0.01"),
        deviation_pct=Decimal("0.0001"),
        flagged=False,
        status=None,
    )
    session.add(InvoiceCheck(**values, invoice_no="ORM"))
    session.flush()
    bulk_insert(session.connection(), InvoiceCheck.__table__, [{**values, "invoice_no": "BULK"}])  # type: ignore[attr-defined]
    event = {"who": "Test", "action": "create", "entity": "x", "entity_id": "1", "changes": "{}"}
    session.add(AuditEvent(**event, at=AT))
    session.flush()
    bulk_insert(session.connection(), AuditEvent.__table__, [{**event, "at": AT}])  # type: ignore[attr-defined]
    session.commit()
    session.expire_all()
    orm, bulk = session.exec(select(InvoiceCheck).order_by(col(InvoiceCheck.invoice_no).desc()))
    for name in values:
        assert getattr(orm, name) == getattr(bulk, name), name
    first, second = session.exec(select(AuditEvent).where(AuditEvent.entity == "x"))
    assert first.at == second.at


def test_bulk_rows_are_stored_as_the_orm_stores_them(session: Session):
    # The stored form itself, as SQL sees it (SQLite keeps dates and timestamps as text, and
    # its queries compare that text): the same for every column, None included.
    contract = make_contract(session)
    values = _values(contract)
    session.add(InvoiceCheck(**values, invoice_no="ORM"))
    session.flush()
    bulk_insert(session.connection(), InvoiceCheck.__table__, [{**values, "invoice_no": "BULK"}])  # type: ignore[attr-defined]
    rows = session.connection().exec_driver_sql(
        "SELECT * FROM invoicecheck ORDER BY invoice_no DESC"
    )
    names = list(rows.keys())
    orm, bulk = (dict(zip(names, row, strict=True)) for row in rows)
    for name in names:
        if name not in ("id", "invoice_no"):
            assert orm[name] == bulk[name], name
    assert orm["status"] == "ny" and orm["assignee"] is None and orm["kind"] == "faktura"


def test_a_broken_constraint_is_sqlalchemys_integrity_error(session: Session):
    contract = make_contract(session)
    row = {**_values(contract), "invoice_no": "F-1"}
    bulk_insert(session.connection(), InvoiceCheck.__table__, [row])  # type: ignore[attr-defined]
    with pytest.raises(sa.exc.IntegrityError):
        bulk_insert(session.connection(), InvoiceCheck.__table__, [row])  # type: ignore[attr-defined]
    session.rollback()


def test_reserved_ids_are_new_and_the_rows_are_stored_with_them(session: Session):
    contract = make_contract(session)
    session.commit()
    connection = session.connection(execution_options={WRITE: True})
    table = InvoiceCheck.__table__  # type: ignore[attr-defined]
    bulk_insert(connection, table, [{**_values(contract), "invoice_no": "F-0"}])
    (largest,) = connection.execute(sa.select(sa.func.max(table.c.id))).one()
    ids = reserve_ids(connection, table, 3)
    assert len(set(ids)) == 3 and min(ids) > largest
    bulk_insert(
        connection,
        table,
        [{**_values(contract), "id": i, "invoice_no": f"F-{i}"} for i in ids],
    )
    assert reserve_ids(connection, table, 0) == []
    session.commit()
    stored = {c.invoice_no: c.id for c in session.exec(select(InvoiceCheck))}
    assert [stored[f"F-{i}"] for i in ids] == ids
    # After them the database goes on as if it had given the ids itself.
    session.add(InvoiceCheck(**_values(contract), invoice_no="ORM"))
    session.commit()
    assert session.exec(
        select(InvoiceCheck.id).where(InvoiceCheck.invoice_no == "ORM")
    ).one() > max(ids)


def test_ids_are_reserved_only_in_a_transaction_that_holds_the_write_lock(session: Session):
    if session.connection().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's sequence gives each id once, in any transaction")
    with pytest.raises(RuntimeError):
        reserve_ids(session.connection(), InvoiceCheck.__table__, 1)  # type: ignore[attr-defined]
