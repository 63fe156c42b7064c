"""Counts for the start page: how many rows the main tables hold."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from models import (
    Contract,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    Offer,
    Provider,
)
from services.rules.cadence import overdue_sql
from services.rules.deviations import open_deviation_sql


@dataclass(frozen=True)
class TableCounts:
    providers: int
    offers: int
    contracts: int
    active_contracts: int
    invoice_checks: int
    open_deviations: int
    overdue_followups: int


def _count(session: Session, query: sa.Select) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]


def table_counts(*, session: Session, today: date | None = None) -> TableCounts:
    """How many rows the main registers hold, counted in SQL."""
    today = today or date.today()
    count = sa.func.count()
    return TableCounts(
        providers=_count(session, select(count).select_from(Provider)),
        offers=_count(session, select(count).select_from(Offer)),
        contracts=_count(session, select(count).select_from(Contract)),
        active_contracts=_count(
            session,
            select(count).select_from(Contract).where(Contract.status == ContractStatus.ACTIVE),
        ),
        invoice_checks=_count(session, select(count).select_from(InvoiceCheck)),
        open_deviations=_count(
            session,
            select(count).select_from(InvoiceCheck).where(open_deviation_sql()),
        ),
        overdue_followups=_count(
            session,
            select(count).select_from(FollowUp).where(overdue_sql(today)),
        ),
    )
