"""Invoice checks against the contract and the history of each deviation."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.base import (
    Audited,
    ClampedNumeric,
    Versioned,
    Voidable,
    enum_field,
    money_field,
    utcnow,
)
from models.enums import InvoiceKind, InvoiceStatus
from models.types import (
    INT_MAX,
    INVOICE_MAX,
    DateIn,
    InvoiceAmountIn,
    OptionalMultilineTextIn,
    OptionalTextIn,
    TextIn,
    format_limit,
)

NEGATIVE_INVOICE_MESSAGE = (
    "En faktura kan ikke have et negativt beløb. Er det en kreditnota, så vælg »Kreditnota«."
)
ZERO_CREDIT_MESSAGE = "En kreditnota kan ikke være på 0 kr."


# What the user enters to check one invoice.
class InvoiceCheckCreate(SQLModel):
    contract_id: int = Field(ge=1, le=INT_MAX)
    invoice_no: TextIn = Field(min_length=1, max_length=50)
    period_from: DateIn
    period_to: DateIn
    invoiced: InvoiceAmountIn
    assignee: OptionalTextIn = Field(default=None, max_length=100)
    resolution_note: OptionalMultilineTextIn = Field(default=None, max_length=2000)
    # The user's word that a CPR-like invoice number ("250314-0042") is an invoice number.
    invoice_no_confirmed: bool = False

    @field_validator("invoiced")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError(NEGATIVE_INVOICE_MESSAGE)
        return value


# What the user enters for a credit note: the invoice it corrects (of the same contract), its
# number and amount. Its period is the invoice's; the amount is stored negative however typed.
class CreditNoteCreate(SQLModel):
    contract_id: int = Field(ge=1, le=INT_MAX)
    credits_id: int | None = Field(default=None, ge=1, le=INT_MAX)
    invoice_no: TextIn = Field(min_length=1, max_length=50)
    invoiced: InvoiceAmountIn
    invoice_no_confirmed: bool = False

    @field_validator("invoiced")
    @classmethod
    def _within_an_invoice(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError(ZERO_CREDIT_MESSAGE)
        if abs(value) > INVOICE_MAX:
            raise ValueError(f"Må højst være {format_limit(INVOICE_MAX)}")
        return value


# A checked invoice; expected amount and deviation are stored as computed at check time.
class InvoiceCheck(Voidable, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # An invoice, or a credit note (negative amount) correcting the invoice in `credits_id`.
    kind: InvoiceKind = enum_field(
        InvoiceKind,
        default=InvoiceKind.INVOICE,
        length=20,
        sa_column_kwargs={"server_default": "faktura"},
    )
    credits_id: int | None = Field(
        default=None, foreign_key="invoicecheck.id", index=True, ondelete="SET NULL"
    )
    contract_id: int = Field(foreign_key="contract.id", index=True, ondelete="CASCADE")
    provider_id: int = Field(foreign_key="provider.id", index=True)
    invoice_no: str = Field(max_length=50)
    period_from: date
    period_to: date
    checked_on: date = Field(index=True)
    invoiced: Decimal = money_field()
    expected: Decimal = money_field()
    deviation: Decimal = money_field()
    # Clamped to what NUMERIC(9,4) holds: an invoice 1.000 × a tiny expected amount is beyond
    # ±99.999,9999 %, and the check must still be stored (the amounts themselves are exact).
    deviation_pct: Decimal | None = Field(
        default=None, max_digits=9, decimal_places=4, sa_type=ClampedNumeric(9, 4)
    )
    flagged: bool = Field(default=False)
    under_expected: bool = Field(default=False)
    status: InvoiceStatus | None = enum_field(InvoiceStatus, default=None, length=25)
    resolution_note: str | None = Field(default=None, max_length=2000)
    assignee: str | None = Field(default=None, max_length=100)
    resolved_on: date | None = None

    __table_args__ = (
        # An invoice number is unique per provider and period among the checks in force: a
        # voided check makes room for the corrected one.
        sa.Index(
            "uq_invoicecheck_provider_invoice_period",
            "provider_id",
            "invoice_no",
            "period_from",
            "period_to",
            unique=True,
            sqlite_where=sa.text("voided_at IS NULL"),
            postgresql_where=sa.text("voided_at IS NULL"),
        ),
        # Covers the deviation figures (open on a day, logged and resolved per month, per
        # contract) without table reads: only the few flagged rows are walked.
        sa.Index(
            "ix_invoicecheck_flagged_status",
            "flagged",
            "status",
            "checked_on",
            "resolved_on",
            "contract_id",
            "provider_id",
            "deviation",
            "voided_at",
        ),
        sa.Index("ix_invoicecheck_period_from", "period_from"),
        # Covers the spend sums over a period (Overblik, Kvartalsrapport) without table reads.
        sa.Index(
            "ix_invoicecheck_period_cover",
            "period_from",
            "period_to",
            "contract_id",
            "provider_id",
            "invoiced",
            "voided_at",
        ),
    )


# Input for a status change on a deviation.
class DeviationUpdate(SQLModel):
    status: InvoiceStatus
    assignee: OptionalTextIn = Field(default=None, max_length=100)
    note: OptionalMultilineTextIn = Field(default=None, max_length=2000)
    version: int = Field(ge=0, le=INT_MAX)


# Every status change, assignment and note on a deviation, kept for good.
class DeviationEvent(Audited, table=True):
    id: int | None = Field(default=None, primary_key=True)
    invoice_check_id: int = Field(foreign_key="invoicecheck.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    by: str = Field(default="", max_length=100)
    old_status: str | None = Field(default=None, max_length=25)
    new_status: str = Field(max_length=25)
    assignee: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=2000)
