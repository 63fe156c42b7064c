"""Queries behind the Fakturaafvigelser screen: the deviation log, its totals and one deviation.

Everything is filtered, counted, summed and paginated in SQL: the invoice check table holds
hundreds of thousands of rows, of which only the flagged ones (a few thousand) enter the log,
and only one page of those is fetched at a time.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    OPEN_INVOICE_STATUSES,
    Contract,
    ContractStatus,
    InvoiceCheck,
    InvoiceStatus,
    Provider,
)
from models.types import round_ore
from services.invoices import deviation_history
from services.quarters import Quarter

LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
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
    """Which deviations to show. No statuses means every status."""

    statuses: tuple[str, ...] = DEFAULT_STATUSES
    provider_id: int | None = None
    quarter: Quarter | None = None


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
    deviation: Decimal
    deviation_pct: Decimal | None
    status: str
    assignee: str | None
    resolved_on: date | None
    age_days: int


@dataclass(frozen=True)
class StatusTotal:
    status: str
    count: int
    deviation_sum: Decimal


@dataclass(frozen=True)
class DeviationTotals:
    count: int
    deviation_sum: Decimal
    by_status: list[StatusTotal]


def _money(value: object) -> Decimal:
    return round_ore(Decimal(str(value))) if value is not None else Decimal("0.00")


def _filtered(query: sa.Select, filters: DeviationFilter) -> sa.Select:
    query = query.where(col(InvoiceCheck.flagged).is_(True))
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
    """Count and sum of the deviations in the filter, overall and per status (in SQL)."""
    query = _filtered(
        select(
            InvoiceCheck.status,
            sa.func.count().label("n"),
            sa.func.sum(InvoiceCheck.deviation).label("total"),
        ),
        filters,
    ).group_by(InvoiceCheck.status)
    result = session.exec(query)  # type: ignore[call-overload]
    found = {str(status): (int(n), _money(total)) for status, n, total in result}
    by_status = [StatusTotal(status, *found[status]) for status in STATUS_ORDER if status in found]
    return DeviationTotals(
        count=sum(s.count for s in by_status),
        deviation_sum=sum((s.deviation_sum for s in by_status), Decimal("0.00")),
        by_status=by_status,
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
    """One page of flagged invoice checks in the filter, newest invoice period first."""
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
        )
        .join(Provider, col(Provider.id) == InvoiceCheck.provider_id)
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id),
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
class DeviationDetail:
    row: DeviationRow
    resolution_note: str | None
    version: int
    history: list[HistoryEntry]


def _local(moment: datetime) -> datetime:
    """Stored timestamps are UTC (naive on SQLite); show them in Danish time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_TIME)


def deviation_detail(*, session: Session, check_id: int, today: date) -> DeviationDetail | None:
    """A flagged check with its version (for the edit form) and its full status history."""
    check = session.get(InvoiceCheck, check_id)
    if check is None or not check.flagged:
        return None
    contract = session.get(Contract, check.contract_id)
    provider = session.get(Provider, check.provider_id)
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
    )
    history = [
        HistoryEntry(_local(e.at), e.by, e.old_status, e.new_status, e.assignee, e.note)
        for e in deviation_history(session=session, check_id=check_id)
    ]
    return DeviationDetail(row, check.resolution_note, check.version, history)


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
