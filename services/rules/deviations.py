"""Invoice deviation (SPEC 4.3) and when a logged deviation is open: Python for one invoice
check, SQL twins for counts and lists."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from models.enums import OPEN_INVOICE_STATUSES, InvoiceStatus
from models.invoice import InvoiceCheck
from models.types import round_ore

HUNDRED = Decimal(100)
CLOSED_INVOICE_STATUSES = (InvoiceStatus.RESOLVED, InvoiceStatus.ACCEPTED)


@dataclass(frozen=True)
class Deviation:
    amount: Decimal
    pct: Decimal | None
    flagged: bool
    under_expected: bool


def invoice_deviation(
    *,
    invoiced: Decimal,
    expected: Decimal,
    tolerance_kr: Decimal = Decimal("1.00"),
    tolerance_pct: Decimal = Decimal("0.0"),
) -> Deviation:
    """Deviation of an invoice from the expected amount (SPEC 4.3); percent is of expected."""
    amount = round_ore(invoiced - expected)
    pct = (amount / expected * HUNDRED).quantize(Decimal("0.0001")) if expected else None
    threshold = max(tolerance_kr, expected * tolerance_pct / HUNDRED)
    return Deviation(
        amount=amount,
        pct=pct,
        flagged=amount > threshold,
        under_expected=-amount > threshold,
    )


def is_open_deviation(flagged: bool, status: InvoiceStatus | str | None) -> bool:
    """A flagged check not yet resolved or accepted: it stays in the log as open."""
    return bool(flagged) and status is not None and InvoiceStatus(status) in OPEN_INVOICE_STATUSES


def open_deviation_sql() -> sa.ColumnElement[bool]:
    """SQL twin of `is_open_deviation` (uses the (flagged, status) index)."""
    return sa.and_(
        col(InvoiceCheck.flagged).is_(True),
        col(InvoiceCheck.status).in_([s.value for s in OPEN_INVOICE_STATUSES]),
    )


def was_open_deviation(
    flagged: bool,
    status: InvoiceStatus | str | None,
    checked_on: date,
    resolved_on: date | None,
    on: date,
) -> bool:
    """Open as it stood on day `on`: logged by then and not resolved or accepted by then."""
    if not flagged or status is None or checked_on > on:
        return False
    if InvoiceStatus(status) in OPEN_INVOICE_STATUSES:
        return True
    return resolved_on is not None and resolved_on > on


def was_open_deviation_sql(on: date) -> sa.ColumnElement[bool]:
    """SQL twin of `was_open_deviation`."""
    return sa.and_(
        col(InvoiceCheck.flagged).is_(True),
        col(InvoiceCheck.checked_on) <= on,
        sa.or_(
            col(InvoiceCheck.status).in_([s.value for s in OPEN_INVOICE_STATUSES]),
            sa.and_(
                col(InvoiceCheck.status).in_([s.value for s in CLOSED_INVOICE_STATUSES]),
                col(InvoiceCheck.resolved_on) > on,
            ),
        ),
    )


def open_deviations_per_contract() -> Any:
    """Subquery: per contract with open deviations, how many (`n`) and the oldest logged day
    (`oldest`)."""
    return (
        select(
            col(InvoiceCheck.contract_id).label("contract_id"),
            sa.func.count().label("n"),
            sa.func.min(InvoiceCheck.checked_on).label("oldest"),
        )
        .where(open_deviation_sql())
        .group_by(col(InvoiceCheck.contract_id))
        .subquery("open_dev")
    )
