"""Invoice deviation (SPEC 4.3), credit notes (SPEC 4.9) and when a logged deviation is open:
Python for one invoice check, SQL twins for counts, sums and lists.

Voided checks (services.rules.voiding) are kept and shown, but count nowhere: not as an open
deviation, not in a spend or deviation sum, not as a credit.

A credit note is an invoice check of kind `kreditnota` with a negative amount, for the period of
the invoice it corrects (`credits_id`). It has no expected amount of its own: it is netted
against its invoice. So an invoice's net deviation is its deviation plus the amounts of its
credit notes in force, and spend sums simply include the negative amounts.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from models.enums import OPEN_INVOICE_STATUSES, InvoiceKind, InvoiceStatus
from models.invoice import InvoiceCheck
from models.types import round_ore
from services.rules.voiding import not_voided_sql

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
CLOSED_INVOICE_STATUSES = (InvoiceStatus.RESOLVED, InvoiceStatus.ACCEPTED)


@dataclass(frozen=True)
class Deviation:
    amount: Decimal
    pct: Decimal | None
    flagged: bool
    under_expected: bool


def deviation_pct(amount: Decimal, expected: Decimal) -> Decimal | None:
    """A deviation in percent of the expected amount (None when nothing was expected)."""
    return (amount / expected * HUNDRED).quantize(Decimal("0.0001")) if expected else None


def invoice_deviation(
    *,
    invoiced: Decimal,
    expected: Decimal,
    tolerance_kr: Decimal = Decimal("1.00"),
    tolerance_pct: Decimal = Decimal("0.0"),
) -> Deviation:
    """Deviation of an invoice from the expected amount (SPEC 4.3); percent is of expected."""
    amount = round_ore(invoiced - expected)
    threshold = max(tolerance_kr, expected * tolerance_pct / HUNDRED)
    return Deviation(
        amount=amount,
        pct=deviation_pct(amount, expected),
        flagged=amount > threshold,
        under_expected=-amount > threshold,
    )


def implausible_invoice(*, invoiced: Decimal, expected: Decimal, factor: Decimal) -> bool:
    """An invoice above `factor` × the expected amount is more likely a typing mistake than a
    deviation: saving it needs the user's confirmation (settings: plausible_invoice_factor)."""
    return invoiced > expected * factor


# --- Open deviations --------------------------------------------------------------------------


def is_open_deviation(
    flagged: bool, status: InvoiceStatus | str | None, voided_at: datetime | None = None
) -> bool:
    """A flagged check not yet resolved or accepted (and not voided): open in the log."""
    return (
        bool(flagged)
        and voided_at is None
        and status is not None
        and InvoiceStatus(status) in OPEN_INVOICE_STATUSES
    )


def open_deviation_sql() -> sa.ColumnElement[bool]:
    """SQL twin of `is_open_deviation` (the (flagged, status, …, voided_at) index covers it)."""
    return sa.and_(
        col(InvoiceCheck.flagged).is_(True),
        col(InvoiceCheck.status).in_([s.value for s in OPEN_INVOICE_STATUSES]),
        not_voided_sql(InvoiceCheck),
    )


def was_open_deviation(
    flagged: bool,
    status: InvoiceStatus | str | None,
    checked_on: date,
    resolved_on: date | None,
    on: date,
    voided_at: datetime | None = None,
) -> bool:
    """Open as it stood on day `on`: logged by then and not resolved or accepted by then. A
    voided check never was (it counts nowhere, in the past either)."""
    if not flagged or status is None or checked_on > on or voided_at is not None:
        return False
    if InvoiceStatus(status) in OPEN_INVOICE_STATUSES:
        return True
    return resolved_on is not None and resolved_on > on


def was_open_deviation_sql(on: date) -> sa.ColumnElement[bool]:
    """SQL twin of `was_open_deviation`."""
    return sa.and_(
        col(InvoiceCheck.flagged).is_(True),
        col(InvoiceCheck.checked_on) <= on,
        not_voided_sql(InvoiceCheck),
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


# --- Credit notes -----------------------------------------------------------------------------


def credit_note_amount(amount: Decimal) -> Decimal:
    """A credit note's amount as stored: negative, however the user typed it (»1.495,20« and
    »-1.495,20« on a credit note both credit 1.495,20 kr.)."""
    return -abs(amount)


def is_credit_note(kind: InvoiceKind | str) -> bool:
    """Whether an invoice check is a credit note (its amount counts negative)."""
    return InvoiceKind(kind) == InvoiceKind.CREDIT_NOTE


def is_credit_note_sql() -> sa.ColumnElement[bool]:
    """SQL twin of `is_credit_note`. It reads the sign, not the kind: every credit note is stored
    negative and every invoice at 0 or more (services.invoices), so the two agree, and the sums
    over the period index (which holds the amount, not the kind) need no table reads."""
    return col(InvoiceCheck.invoiced) < 0


def invoice_days_sql(days: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The invoiced days an invoice check adds to an average daily rate: a credit note adds none
    (its days are its invoice's, counted once there), only its negative amount."""
    return sa.case((is_credit_note_sql(), 0), else_=days)


def invoice_count_sql() -> sa.ColumnElement[Any]:
    """How many invoices (not credit notes) a sum over invoice checks covers."""
    return sa.func.sum(sa.case((is_credit_note_sql(), 0), else_=1))


@dataclass(frozen=True)
class CreditNote:
    """What netting needs of one credit note."""

    amount: Decimal  # negative
    checked_on: date
    voided_at: datetime | None = None


def credited_amount(credit_notes: Iterable[CreditNote], on: date | None = None) -> Decimal:
    """The sum (≤ 0) of an invoice's credit notes in force, registered by `on` if given."""
    return round_ore(
        sum(
            (
                c.amount
                for c in credit_notes
                if c.voided_at is None and (on is None or c.checked_on <= on)
            ),
            ZERO,
        )
    )


def net_deviation(deviation: Decimal, credited: Decimal) -> Decimal:
    """An invoice's deviation after its credit notes: deviation + credited (≤ 0).

    Example (SPEC 4.3): 66.000,00 kr. invoiced, 64.504,80 expected: 1.495,20 kr.; a credit note
    of −1.495,20 nets it to 0,00; one of −500,00 to 995,20."""
    return round_ore(deviation + credited)


def credited_per_invoice(on: date | None = None) -> Any:
    """SQL twin of `credited_amount`, for every invoice at once: a subquery of the invoices with
    credit notes in force (`invoice_id`) and their sum (`credited`, negative). Outer-join it
    with `credits_of`; only the few credit notes are read (the credits_id index)."""
    conditions = [col(InvoiceCheck.credits_id).is_not(None), not_voided_sql(InvoiceCheck)]
    if on is not None:
        conditions.append(col(InvoiceCheck.checked_on) <= on)
    return (
        select(
            col(InvoiceCheck.credits_id).label("invoice_id"),
            sa.func.sum(InvoiceCheck.invoiced).label("credited"),
        )
        .where(*conditions)
        .group_by(col(InvoiceCheck.credits_id))
        .subquery("credited")
    )


def credits_of(credited: Any) -> sa.ColumnElement[bool]:
    """The join condition of `credited_per_invoice` to InvoiceCheck (the credited invoice)."""
    return credited.c.invoice_id == InvoiceCheck.id


def credited_sql(credited: Any) -> sa.ColumnElement[Any]:
    """An invoice's credited sum from an outer-joined `credited_per_invoice` (0 without)."""
    return sa.func.coalesce(credited.c.credited, 0)


def net_deviation_sql(credited: Any) -> sa.ColumnElement[Any]:
    """SQL twin of `net_deviation` for InvoiceCheck outer-joined with `credited_per_invoice`."""
    return col(InvoiceCheck.deviation) + credited_sql(credited)
