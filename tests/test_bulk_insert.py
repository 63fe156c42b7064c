"""services.sql.bulk_insert (COPY on PostgreSQL, executemany on SQLite) stores exactly what an
ORM insert of the same values stores, on both engines: money, dates, an aware timestamp (as
its wall time in the session's zone, as a bound parameter is) and an enum."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from models import AuditEvent, InvoiceCheck, InvoiceKind
from services.sql import bulk_insert
from tests.factories import make_contract

AT = datetime(2026, 12, 1, 22, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize("zone", [None, "Europe/Copenhagen"])
def test_bulk_rows_read_back_as_orm_rows(session: Session, zone: str | None):
    contract = make_contract(session)
    if zone and session.connection().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"SET LOCAL TIME ZONE '{zone}'")
    values = {
        "kind": InvoiceKind.INVOICE,
        "contract_id": contract.id,
        "provider_id": contract.provider_id,
        "period_from": date(2026, 3, 1),
        "period_to": date(2026, 3, 31),
        "checked_on": date(2026, 4, 2),
        "invoiced": Decimal("64504.80"),
        "expected": Decimal("64504.79"),
        "deviation": Decimal("0.01"),
        "deviation_pct": Decimal("0.0001"),
        "flagged": False,
        "under_expected": False,
        "created_at": AT,
        "updated_at": AT,
        "created_by": "Test",
        "updated_by": "Test",
        "version": 1,
    }
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
