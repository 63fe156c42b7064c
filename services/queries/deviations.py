"""Queries behind the Fakturaafvigelser screen: the deviation log, its totals and one deviation.

Everything is filtered, counted, summed and paginated in SQL: the invoice check table holds
hundreds of thousands of rows, of which only the flagged ones (a few thousand) enter the log,
and only one page of those is fetched at a time.

Deviation amounts are net of credit notes (services.rules.deviations); voided checks are shown
only when asked for, marked, and never counted in the totals.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    OPEN_INVOICE_STATUSES,
    Contract,
    ContractStatus,
    InvoiceCheck,
    InvoiceKind,
    InvoiceStatus,
    Provider,
)
from models.types import round_ore
from services.formatting import local_time
from services.invoices import deviation_history
from services.quarters import Quarter
from services.rules.deviations import (
    CreditNote,
    credited_amount,
    credited_per_invoice,
    credited_sql,
    credits_of,
    deviation_pct,
    net_deviation,
    net_deviation_sql,
)
from services.rules.voiding import not_voided_sql

STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in InvoiceStatus)
DEFAULT_STATUSES: tuple[str, ...] = tuple(s.value for s in OPEN_INVOICE_STATUSES)


# --- Quarters -------------------------------------------------------------------------------


def quarter_options(*, session: Session, today: date) -> list[Quarter]:
    """Quarters that invoice periods fall in (newest first), always including today's."""
    first, last = session.exec(
        select(sa.func.min(InvoiceCheck.period_from), sa.func.max(InvoiceCheck.period_from))
    ).one()
    newest = Quarter.of(max(last, today) if last else today)
    oldest = Quarter.of(first) if first else newest
    quarters = [newest]
    while quarters[-1] > oldest:
        quarters.append(quarters[-1].previous())
    return quarters


# --- The log --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviationFilter:
    """Which deviations to show. No statuses means every status. `assignee`: only those one
    person is responsible for ("Mine sager"); `include_voided`: voided checks too (marked)."""

    statuses: tuple[str, ...] = DEFAULT_STATUSES
    provider_id: int | None = None
    quarter: Quarter | None = None
    assignee: str | None = None
    include_voided: bool = False


@dataclass(frozen=True)
class DeviationRow:
    id: int
    provider_id: int
    provider: str
    contract_id: int
    case_ref: str
    invoice_no: str
    period_from: date
    period_to: date
    checked_on: date
    invoiced: Decimal
    expected: Decimal
    deviation: Decimal  # as checked, before credit notes
    deviation_pct: Decimal | None
    status: str
    assignee: str | None
    resolved_on: date | None
    age_days: int
    credited: Decimal = Decimal("0.00")  # the credit notes in force (≤ 0)
    voided_at: datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None

    @property
    def net_deviation(self) -> Decimal:
        """The deviation after the invoice's credit notes."""
        return net_deviation(self.deviation, self.credited)

    @property
    def net_pct(self) -> Decimal | None:
        if not self.credited:
            return self.deviation_pct
        return deviation_pct(self.net_deviation, self.expected)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


@dataclass(frozen=True)
class StatusTotal:
    status: str
    count: int
    deviation_sum: Decimal


@dataclass(frozen=True)
class DeviationTotals:
    """The deviations in force in the filter (sums net of credit notes), and how many voided
    ones the filter shows besides (none unless it includes them)."""

    count: int
    deviation_sum: Decimal
    by_status: list[StatusTotal]
    voided: int = 0

    @property
    def shown(self) -> int:
        """How many rows the log lists for the filter."""
        return self.count + self.voided


def _money(value: object) -> Decimal:
    return round_ore(Decimal(str(value))) if value is not None else Decimal("0.00")


def _filtered(query: sa.Select, filters: DeviationFilter) -> sa.Select:
    query = query.where(col(InvoiceCheck.flagged).is_(True))
    if not filters.include_voided:
        query = query.where(not_voided_sql(InvoiceCheck))
    if filters.assignee is not None:
        query = query.where(col(InvoiceCheck.assignee) == filters.assignee)
    if filters.statuses:
        query = query.where(col(InvoiceCheck.status).in_(filters.statuses))
    if filters.provider_id is not None:
        query = query.where(col(InvoiceCheck.provider_id) == filters.provider_id)
    if filters.quarter is not None:
        query = query.where(
            col(InvoiceCheck.period_from) >= filters.quarter.start,
            col(InvoiceCheck.period_from) <= filters.quarter.end,
        )
    return query


def deviation_totals(*, session: Session, filters: DeviationFilter) -> DeviationTotals:
    """Count and net sum of the deviations in the filter, overall and per status (in SQL);
    voided ones are counted apart and summed nowhere."""
    credited = credited_per_invoice()
    in_force = not_voided_sql(InvoiceCheck).label("in_force")
    query = _filtered(
        select(
            InvoiceCheck.status,
            in_force,
            sa.func.count().label("n"),
            sa.func.sum(net_deviation_sql(credited)).label("total"),
        )
        .select_from(InvoiceCheck)
        .outerjoin(credited, credits_of(credited)),
        filters,
    ).group_by(InvoiceCheck.status, in_force)
    result = session.exec(query)  # type: ignore[call-overload]
    found: dict[str, tuple[int, Decimal]] = {}
    voided = 0
    for status, counted, n, total in result:
        if not counted:
            voided += int(n)
            continue
        found[str(status)] = (int(n), _money(total))
    by_status = [StatusTotal(status, *found[status]) for status in STATUS_ORDER if status in found]
    return DeviationTotals(
        count=sum(s.count for s in by_status),
        deviation_sum=sum((s.deviation_sum for s in by_status), Decimal("0.00")),
        by_status=by_status,
        voided=voided,
    )


def _age_days(checked_on: date, resolved_on: date | None, today: date) -> int:
    """Days a deviation has been open: until it was closed, else until today."""
    return max(0, ((resolved_on or today) - checked_on).days)


def deviation_log(
    *,
    session: Session,
    filters: DeviationFilter,
    today: date,
    limit: int | None = 50,
    offset: int = 0,
) -> list[DeviationRow]:
    """One page of flagged invoice checks in the filter, newest invoice period first, with what
    their credit notes took off."""
    credited = credited_per_invoice()
    query = _filtered(
        sa.select(
            col(InvoiceCheck.id),
            col(InvoiceCheck.provider_id),
            col(Provider.name),
            col(InvoiceCheck.contract_id),
            col(Contract.case_ref),
            col(InvoiceCheck.invoice_no),
            col(InvoiceCheck.period_from),
            col(InvoiceCheck.period_to),
            col(InvoiceCheck.checked_on),
            col(InvoiceCheck.invoiced),
            col(InvoiceCheck.expected),
            col(InvoiceCheck.deviation),
            col(InvoiceCheck.deviation_pct),
            col(InvoiceCheck.status),
            col(InvoiceCheck.assignee),
            col(InvoiceCheck.resolved_on),
            credited_sql(credited).label("credited"),
            col(InvoiceCheck.voided_at),
            col(InvoiceCheck.voided_by),
            col(InvoiceCheck.void_reason),
        )
        .join(Provider, col(Provider.id) == InvoiceCheck.provider_id)
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
        .outerjoin(credited, credits_of(credited)),
        filters,
    ).order_by(col(InvoiceCheck.period_from).desc(), col(InvoiceCheck.id).desc())
    if limit is not None:
        query = query.limit(limit)
    query = query.offset(offset)
    return [
        DeviationRow(
            id=row.id,
            provider_id=row.provider_id,
            provider=row.name,
            contract_id=row.contract_id,
            case_ref=row.case_ref,
            invoice_no=row.invoice_no,
            period_from=row.period_from,
            period_to=row.period_to,
            checked_on=row.checked_on,
            invoiced=_money(row.invoiced),
            expected=_money(row.expected),
            deviation=_money(row.deviation),
            deviation_pct=row.deviation_pct,
            status=str(row.status),
            assignee=row.assignee,
            resolved_on=row.resolved_on,
            age_days=_age_days(row.checked_on, row.resolved_on, today),
            credited=_money(row.credited),
            voided_at=row.voided_at,
            voided_by=row.voided_by,
            void_reason=row.void_reason,
        )
        for row in session.exec(query)  # type: ignore[call-overload]
    ]


def deviation_providers(*, session: Session) -> list[tuple[int, str]]:
    """(id, name) of the providers that have at least one deviation in the log."""
    # The distinct providers of the flagged checks first (an index-only scan of the few flagged
    # rows): as `IN (subquery)` PostgreSQL may instead walk every provider's checks.
    with_deviations = (
        select(InvoiceCheck.provider_id)
        .where(col(InvoiceCheck.flagged).is_(True))
        .distinct()
        .subquery("with_deviations")
    )
    query = (
        select(Provider.id, Provider.name)
        .join(with_deviations, with_deviations.c.provider_id == Provider.id)
        .order_by(col(Provider.name), col(Provider.id))
    )
    return [(int(pid or 0), str(name)) for pid, name in session.exec(query)]


# --- One deviation --------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime  # local time (Europe/Copenhagen)
    by: str
    old_status: str | None
    new_status: str
    assignee: str | None
    note: str | None


@dataclass(frozen=True)
class CheckEntry:
    """One invoice check or credit note of a contract, as the lists and pickers show it."""

    id: int
    kind: str
    invoice_no: str
    period_from: date
    period_to: date
    checked_on: date
    invoiced: Decimal
    expected: Decimal
    deviation: Decimal
    flagged: bool
    status: str | None
    credits_id: int | None
    version: int
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


def _entry(check: InvoiceCheck) -> CheckEntry:
    return CheckEntry(
        id=check.id or 0,
        kind=str(check.kind),
        invoice_no=check.invoice_no,
        period_from=check.period_from,
        period_to=check.period_to,
        checked_on=check.checked_on,
        invoiced=check.invoiced,
        expected=check.expected,
        deviation=check.deviation,
        flagged=check.flagged,
        status=str(check.status) if check.status else None,
        credits_id=check.credits_id,
        version=check.version,
        voided_at=check.voided_at,
        voided_by=check.voided_by,
        void_reason=check.void_reason,
    )


@dataclass(frozen=True)
class DeviationDetail:
    row: DeviationRow
    resolution_note: str | None
    version: int
    history: list[HistoryEntry]
    credit_notes: list[CheckEntry] = field(default_factory=list)


def _credit_notes_of(session: Session, invoice_id: int) -> list[CheckEntry]:
    notes = session.exec(
        select(InvoiceCheck)
        .where(InvoiceCheck.credits_id == invoice_id)
        .order_by(col(InvoiceCheck.checked_on), col(InvoiceCheck.id))
    )
    return [_entry(note) for note in notes]


def deviation_detail(*, session: Session, check_id: int, today: date) -> DeviationDetail | None:
    """A flagged check with its version (for the edit form), its full status history and its
    credit notes (voided ones too, marked)."""
    check = session.get(InvoiceCheck, check_id)
    if check is None or not check.flagged:
        return None
    contract = session.get(Contract, check.contract_id)
    provider = session.get(Provider, check.provider_id)
    credit_notes = _credit_notes_of(session, check_id)
    row = DeviationRow(
        id=check_id,
        provider_id=check.provider_id,
        provider=provider.name if provider else "",
        contract_id=check.contract_id,
        case_ref=contract.case_ref if contract else "",
        invoice_no=check.invoice_no,
        period_from=check.period_from,
        period_to=check.period_to,
        checked_on=check.checked_on,
        invoiced=check.invoiced,
        expected=check.expected,
        deviation=check.deviation,
        deviation_pct=check.deviation_pct,
        status=str(check.status or InvoiceStatus.NEW),
        assignee=check.assignee,
        resolved_on=check.resolved_on,
        age_days=_age_days(check.checked_on, check.resolved_on, today),
        credited=credited_amount(
            CreditNote(c.invoiced, c.checked_on, c.voided_at) for c in credit_notes
        ),
        voided_at=check.voided_at,
        voided_by=check.voided_by,
        void_reason=check.void_reason,
    )
    history = [
        HistoryEntry(local_time(e.at), e.by, e.old_status, e.new_status, e.assignee, e.note)
        for e in deviation_history(session=session, check_id=check_id)
    ]
    return DeviationDetail(row, check.resolution_note, check.version, history, credit_notes)


# --- A contract's checks: what a credit note can correct, what can be voided ----------------


@dataclass(frozen=True)
class CreditableInvoice:
    """An invoice in force that a credit note may correct, with what is credited already."""

    id: int
    invoice_no: str
    period_from: date
    period_to: date
    invoiced: Decimal
    deviation: Decimal
    credited: Decimal

    @property
    def net_deviation(self) -> Decimal:
        return net_deviation(self.deviation, self.credited)


def invoices_to_credit(
    *, session: Session, contract_id: int, limit: int = 100
) -> list[CreditableInvoice]:
    """The contract's invoices in force, newest period first (at most `limit`)."""
    credited = credited_per_invoice()
    query = (
        sa.select(
            col(InvoiceCheck.id),
            col(InvoiceCheck.invoice_no),
            col(InvoiceCheck.period_from),
            col(InvoiceCheck.period_to),
            col(InvoiceCheck.invoiced),
            col(InvoiceCheck.deviation),
            credited_sql(credited).label("credited"),
        )
        .outerjoin(credited, credits_of(credited))
        .where(
            col(InvoiceCheck.contract_id) == contract_id,
            col(InvoiceCheck.kind) == InvoiceKind.INVOICE,
            not_voided_sql(InvoiceCheck),
        )
        .order_by(col(InvoiceCheck.period_from).desc(), col(InvoiceCheck.id).desc())
        .limit(limit)
    )
    return [
        CreditableInvoice(
            int(row.id),
            str(row.invoice_no),
            row.period_from,
            row.period_to,
            _money(row.invoiced),
            _money(row.deviation),
            _money(row.credited),
        )
        for row in session.execute(query)
    ]


def contract_checks(
    *, session: Session, contract_id: int, limit: int = 25, offset: int = 0
) -> list[CheckEntry]:
    """One page of a contract's invoice checks and credit notes (voided ones too), newest
    period first."""
    query = (
        select(InvoiceCheck)
        .where(InvoiceCheck.contract_id == contract_id)
        .order_by(
            col(InvoiceCheck.period_from).desc(),
            col(InvoiceCheck.checked_on).desc(),
            col(InvoiceCheck.id).desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [_entry(check) for check in session.exec(query)]


def contract_check_count(*, session: Session, contract_id: int) -> int:
    """How many invoice checks and credit notes a contract has (voided ones too)."""
    query = (
        select(sa.func.count())
        .select_from(InvoiceCheck)
        .where(InvoiceCheck.contract_id == contract_id)
    )
    return int(session.exec(query).one())


# --- Picking the contract for an invoice check -----------------------------------------------


@dataclass(frozen=True)
class ContractChoice:
    id: int
    case_ref: str
    provider: str
    status: str
    price: Decimal
    price_unit: str


@dataclass(frozen=True)
class ContractMatches:
    choices: list[ContractChoice]
    total: int


def _case_variants(text: str) -> set[str]:
    # SQLite's lower() only folds ASCII, so "Østerby" must also be matched as typed/capitalised.
    return {text, text.lower(), text.upper(), text[:1].upper() + text[1:].lower()}


def _contains(text: str) -> str:
    """A LIKE pattern for text anywhere, with the user's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains_any(column: Any, text: str) -> sa.ColumnElement[bool]:
    lowered = sa.func.lower(column).like(_contains(text.lower()), escape="\\")
    variants = (column.like(_contains(v), escape="\\") for v in _case_variants(text))
    return sa.or_(lowered, *variants)


def _contract_match(text: str) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.func.lower(Contract.case_ref).like(_contains(text.lower()), escape="\\"),
        _contains_any(col(Provider.name), text),
    )


def find_contracts_to_check(
    *, session: Session, search: str = "", limit: int = 50
) -> ContractMatches:
    """Contracts whose case ref or provider name contains the text: at most `limit` (active
    contracts first), plus how many match in all."""
    text = search.strip()
    count = (
        select(sa.func.count())
        .select_from(Contract)
        .join(Provider, col(Provider.id) == Contract.provider_id)
    )
    query = sa.select(
        col(Contract.id),
        col(Contract.case_ref),
        col(Provider.name),
        col(Contract.status),
        col(Contract.price),
        col(Contract.price_unit),
    ).join(Provider, col(Provider.id) == Contract.provider_id)
    if text:
        count = count.where(_contract_match(text))
        query = query.where(_contract_match(text))
    active_first = sa.case((col(Contract.status) == ContractStatus.ACTIVE, 0), else_=1)
    query = query.order_by(active_first, col(Contract.case_ref), col(Contract.id)).limit(limit)
    choices = [
        ContractChoice(int(cid), str(ref), str(name), str(status), Decimal(price), str(unit))
        for cid, ref, name, status, price, unit in session.exec(query)  # type: ignore[call-overload]
    ]
    return ContractMatches(choices, int(session.exec(count).one()))
