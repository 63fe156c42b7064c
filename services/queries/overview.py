"""Key figures for Overblik and the quarterly report (SPEC 4.7), aggregated in SQL.

Counts and sums are computed by the database, prices too: every contract's regulated price over
time is stored as price periods (services.price_timeline), so the spend of the contracts in force
on a day is a join and a sum, not the pricing rules run per contract on every read.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from models import (
    AlertKind,
    Budget,
    Contract,
    ContractPricePeriod,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    NoCategory,
    Paragraph,
    PriceChange,
    PriceChangeReason,
    PriceUnit,
    Provider,
    ProviderKind,
    label,
)
from models.types import round_ore
from services.formatting import format_date, format_number
from services.price_timeline import ensure_price_timeline, period_on
from services.rules.alerts import (
    ALERTS,
    LIVE,
    AlertHorizons,
    FactColumns,
    alert_conditions_sql,
    alert_short_labels,
    contract_alerts,
    facts_from_row,
    join_facts,
    urgency,
    urgency_sql,
)
from services.rules.cadence import done_on_time_sql, was_overdue_sql_parts
from services.rules.categories import CATEGORY_ORDER
from services.rules.checklist import CHECKLIST_SIZE, checked_count_sql
from services.rules.deviations import (
    CLOSED_INVOICE_STATUSES,
    credited_per_invoice,
    credits_of,
    invoice_count_sql,
    invoice_days_sql,
    net_deviation_sql,
    was_open_deviation_sql,
)
from services.rules.pricing import ANNUAL_FACTOR, DAYS_PER_YEAR, add_months, annual_amount
from services.rules.voiding import not_voided_sql
from services.settings import get_settings
from services.sql import day_number

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


# --- Filters and small helpers --------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What Overblik is narrowed to; empty means all."""

    paragraphs: tuple[str, ...] = ()
    provider_kinds: tuple[str, ...] = ()


def money(value: Any) -> Decimal:
    """A database sum as an amount in øre (SQLite may hand back floats; None is 0)."""
    if value is None:
        return ZERO
    return round_ore(Decimal(str(value)))


def threshold_text(value: Decimal) -> str:
    """The large-case threshold in words: `1 mio. kr.`, or `750.000 kr.` when not whole millions."""
    if value and value % 1_000_000 == 0:
        return f"{format_number(value / 1_000_000)} mio. kr."
    return f"{format_number(value)} kr."


def share_pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part` in percent of `whole`, two decimals; None when the whole is 0."""
    if not whole:
        return None
    return round_ore(Decimal(part) * HUNDRED / Decimal(whole))


def days_in_period(first: Any, last: Any) -> ColumnElement[Any]:
    """Days from `first` to `last`, both included, as an SQL expression."""
    return day_number(last) - day_number(first) + 1


def plain_rows(session: Session, query: Any) -> Any:
    """Run a query of plain columns through Core: no ORM row handling, which costs time."""
    return session.connection().execute(query)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def year_of(column: Any, session: Session) -> ColumnElement[Any]:
    """The year of a date column (on SQLite read straight from the ISO text: much cheaper)."""
    if _dialect(session) == "sqlite":
        return sa.cast(sa.func.substr(column, 1, 4), sa.Integer)
    return sa.cast(sa.extract("year", column), sa.Integer)


def year_month_of(column: Any, session: Session) -> ColumnElement[Any]:
    """Year and month of a date column as one number, 2026-11-22 → 202611 (one cheap group key)."""
    if _dialect(session) == "sqlite":
        year_text = sa.type_coerce(sa.func.substr(column, 1, 4), sa.String)
        return sa.cast(year_text + sa.func.substr(column, 6, 2), sa.Integer)
    # The factor is inlined: a bound parameter would make PostgreSQL see the SELECT and the
    # GROUP BY expressions as different.
    hundred = sa.literal_column("100", sa.Integer)
    return sa.cast(sa.extract("year", column) * hundred + sa.extract("month", column), sa.Integer)


def _provider_kind_ids(filters: Filters) -> Any:
    return select(Provider.id).where(col(Provider.kind).in_(filters.provider_kinds))


def _contract_filter(filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions on Contract for the filters (provider kind through a subquery)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.paragraphs:
        conditions.append(col(Contract.paragraph).in_(filters.paragraphs))
    if filters.provider_kinds:
        conditions.append(col(Contract.provider_id).in_(_provider_kind_ids(filters)))
    return conditions


def _contract_ids(filters: Filters) -> Any:
    return select(Contract.id).where(*_contract_filter(filters))


def _invoice_filter(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.paragraphs:
        conditions.append(col(InvoiceCheck.contract_id).in_(_contract_ids(filters)))
    elif filters.provider_kinds:
        conditions.append(col(InvoiceCheck.provider_id).in_(_provider_kind_ids(filters)))
    return conditions


def in_force(on: date, *, historical: bool) -> ColumnElement[bool]:
    """Contracts counted as active on `on`.

    Today (historical=False) that is the register's status `aktiv`. At an earlier date it is the
    contracts that had started and not yet ended then (an ended contract without an end date is
    left out: when it ended is unknown).
    """
    if not historical:
        return col(Contract.status) == ContractStatus.ACTIVE
    return sa.and_(
        # IN rather than != DRAFT: SQLite can then seek the in-force index by status.
        col(Contract.status).in_([s for s in ContractStatus if s != ContractStatus.DRAFT]),
        col(Contract.start_date) <= on,
        sa.or_(
            col(Contract.end_date) >= on,
            sa.and_(col(Contract.end_date).is_(None), col(Contract.status).in_(sorted(LIVE))),
        ),
    )


# --- The contracts in force and their prices (stored periods: services.price_timeline) ------

PERIOD = ContractPricePeriod
EPOCH = date(1970, 1, 1)


def _ore_to_kr(value: Any) -> Decimal:
    """A sum of whole øre from the database as kroner (None is 0)."""
    return Decimal(int(value or 0)) / HUNDRED


def _priced(
    *columns: Any, session: Session, as_of: date, filters: Filters, historical: bool
) -> Any:
    """SELECT `columns` over the contracts in force on `as_of`, each with its price period of
    that day. Makes sure the stored periods hold that day first."""
    ensure_price_timeline(session=session, day=as_of, historical=historical)
    return (
        sa.select(*columns)
        .select_from(Contract)
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .join(PERIOD, period_on(as_of))
        .where(in_force(as_of, historical=historical), *_contract_filter(filters))
    )


def _rest_of_year_ore_days(as_of: date) -> ColumnElement[Any]:
    """Annual amount (øre) × days left of the year after `as_of` within the contract, per row;
    divided by 365 this is the expected cost for the rest of the year."""
    tomorrow = (as_of - EPOCH).days + 1
    year_end = (date(as_of.year, 12, 31) - EPOCH).days
    start = day_number(Contract.start_date)
    end = day_number(Contract.end_date)
    first = sa.case((start > tomorrow, start), else_=tomorrow)
    ends_first = sa.and_(col(Contract.end_date).is_not(None), end < year_end)
    last = sa.case((ends_first, end), else_=year_end)
    days = last - first + 1
    return sa.case((days > 0, col(PERIOD.annual_ore) * days), else_=0)


@dataclass(frozen=True)
class ContractQuality:
    contracts: int
    standard_share: Decimal | None  # percent of contracts in force that use the standard contract
    checklist_completeness: Decimal | None  # percent of the eight points checked, on average


@dataclass(frozen=True)
class Portfolio:
    active_contracts: int
    annual_spend: Decimal
    average_per_case: Decimal | None
    large_cases: int
    providers_used: int
    own_contracts: int
    own_annual: Decimal
    own_share: Decimal | None  # percent of the annual spend bought from own offers (egen)
    by_paragraph: pd.DataFrame  # code, Paragraf, Kontrakter, Årsudgift
    by_kind: pd.DataFrame
    by_category: pd.DataFrame
    expected_rest: Decimal  # from the day after to 31 December at the day's prices
    quality: ContractQuality  # standard contracts and checklist of the contracts in force
    missing_rate: int  # contracts whose price needs an index rate that is not registered


def _distribution(
    groups: Sequence[tuple[str, int, int]],
    order: Sequence[str],
    name: str,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Contracts and annual spend per code from (code, contracts, annual øre) groups."""
    counts: dict[str, int] = {}
    sums: dict[str, int] = {}
    for code, count, annual in groups:
        if count:
            counts[code] = counts.get(code, 0) + count
            sums[code] = sums.get(code, 0) + annual
    codes = [c for c in order if c in counts] + sorted(c for c in counts if c not in order)
    labels = labels or {}
    return pd.DataFrame(
        {
            "code": codes,
            name: [labels.get(c, label(c)) for c in codes],
            "Kontrakter": [counts[c] for c in codes],
            "Årsudgift": [_ore_to_kr(sums[c]) for c in codes],
        },
        columns=["code", name, "Kontrakter", "Årsudgift"],
    )


def portfolio(
    *,
    session: Session,
    as_of: date,
    large_case_threshold: Decimal,
    filters: Filters = Filters(),
    historical: bool = False,
) -> Portfolio:
    """Counts, spend, distributions and the expected rest of the year of the contracts in force
    on `as_of` at their regulated prices incl. active add-ons (SPEC 4.1, 4.4 and 4.7)."""
    annual = col(PERIOD.annual_ore)
    large = sa.case((annual > int(large_case_threshold * HUNDRED), 1), else_=0)
    # The codes as plain text: converting thousands of grouped rows to enums costs time.
    keys = (
        sa.type_coerce(Contract.paragraph, sa.String),
        sa.type_coerce(Provider.kind, sa.String),
        sa.type_coerce(PERIOD.category, sa.String),
        Contract.provider_id,
    )
    # Grouped by provider too, so one pass also tells which providers are in use.
    groups = plain_rows(
        session,
        _priced(
            *keys,
            sa.func.count(),
            sa.func.count(annual),
            sa.func.sum(annual),
            sa.func.sum(large),
            sa.func.sum(_rest_of_year_ore_days(as_of)),
            sa.func.sum(sa.case((col(Contract.standard_contract).is_(True), 1), else_=0)),
            sa.func.sum(checked_count_sql()),
            session=session,
            as_of=as_of,
            filters=filters,
            historical=historical,
        ).group_by(*keys),
    ).all()
    # (paragraph, kind, category, in force, priced, annual øre, large, rest øre-days)
    rows = [
        (
            str(p),
            str(k),
            str(c) if c else NoCategory.NO_SET.value,
            n,
            priced,
            int(a or 0),
            int(big or 0),
            rest,
        )
        for p, k, c, _, n, priced, a, big, rest, _, _ in groups
    ]
    in_force_count = sum(r[3] for r in rows)
    quality = ContractQuality(
        contracts=in_force_count,
        standard_share=share_pct(sum(int(g[9] or 0) for g in groups), in_force_count),
        checklist_completeness=share_pct(
            sum(int(g[10] or 0) for g in groups), in_force_count * CHECKLIST_SIZE
        ),
    )
    providers_used = len({g[3] for g in groups if g[5]})
    priced = sum(r[4] for r in rows)
    spend = _ore_to_kr(sum(r[5] for r in rows))
    own = [r for r in rows if r[1] == ProviderKind.OWN]
    own_annual = _ore_to_kr(sum(r[5] for r in own))
    rest = Decimal(sum(int(r[7] or 0) for r in rows)) / HUNDRED / DAYS_PER_YEAR
    return Portfolio(
        active_contracts=in_force_count,
        annual_spend=spend,
        average_per_case=round_ore(spend / priced) if priced else None,
        large_cases=sum(r[6] for r in rows),
        providers_used=providers_used,
        own_contracts=sum(r[4] for r in own),
        own_annual=own_annual,
        own_share=share_pct(own_annual, spend),
        by_paragraph=_distribution(
            [(r[0], r[4], r[5]) for r in rows], [p.value for p in Paragraph], "Paragraf"
        ),
        by_kind=_distribution(
            [(r[1], r[4], r[5]) for r in rows], [k.value for k in ProviderKind], "Leverandørtype"
        ),
        by_category=_distribution(
            [(r[2], r[4], r[5]) for r in rows],
            [c.value for c in CATEGORY_ORDER] + [NoCategory.NO_SET.value],
            "Priskategori",
            {NoCategory.NO_SET.value: label(NoCategory.NO_SET, "category")},
        ),
        expected_rest=round_ore(rest),
        quality=quality,
        missing_rate=sum(r[3] - r[4] for r in rows),
    )


def expensive_cases(
    *,
    session: Session,
    as_of: date,
    filters: Filters = Filters(),
    historical: bool = False,
    limit: int = 10,
) -> pd.DataFrame:
    """The most expensive cases in force by annual cost (case reference only, no personal
    data)."""
    annual = col(PERIOD.annual_ore)
    query = (
        _priced(
            Contract.id,
            Contract.case_ref,
            Provider.name,
            Contract.paragraph,
            PERIOD.category,
            annual,
            session=session,
            as_of=as_of,
            filters=filters,
            historical=historical,
        )
        .where(annual.is_not(None))
        .order_by(annual.desc(), Contract.case_ref)
        .limit(limit)
    )
    return expensive_cases_frame(plain_rows(session, query))


def expensive_cases_frame(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """The table of expensive cases from (id, case, provider, paragraph, category, annual øre)."""
    records = []
    for contract_id, case_ref, provider, paragraph, category, annual_ore in rows:
        amount = _ore_to_kr(annual_ore)
        records.append(
            {
                "contract_id": contract_id,
                "Sag": case_ref,
                "Leverandør": provider,
                "Paragraf": label(paragraph),
                "Priskategori": label(category or NoCategory.NO_SET, "category"),
                "Dagstakst": round_ore(amount / DAYS_PER_YEAR),
                "Årsudgift": amount,
            }
        )
    return pd.DataFrame(
        records,
        columns=[
            "contract_id",
            "Sag",
            "Leverandør",
            "Paragraf",
            "Priskategori",
            "Dagstakst",
            "Årsudgift",
        ],
    )


# --- Invoices: spend, budget, daily rates, providers ----------------------------------------


def invoiced_between(
    *, session: Session, first: date, last: date, filters: Filters = Filters()
) -> Decimal:
    """Sum invoiced for invoice periods starting from `first` to `last` (both included): credit
    notes count negative, voided checks not at all."""
    total = session.exec(
        select(sa.func.sum(InvoiceCheck.invoiced)).where(
            InvoiceCheck.period_from >= first,
            InvoiceCheck.period_from <= last,
            not_voided_sql(InvoiceCheck),
            *_invoice_filter(filters),
        )
    ).one()
    return money(total)


def spend_by_year(
    *, session: Session, up_to: date, years: int = 5, filters: Filters = Filters()
) -> pd.DataFrame:
    """Invoiced, invoiced days and the average daily rate per year and paragraph.

    The year is the year the invoice period starts; the `years` years up to `up_to`'s year count,
    and only periods starting by `up_to`. The years are picked by an expression, not a range on
    the period index: a range covering most rows is slower through the index than a plain scan.
    Periods later in `up_to`'s year (rare: invoices checked in advance) are taken out after.
    Credit notes take their amount off, not their days; voided checks count nowhere.
    """
    year = year_of(InvoiceCheck.period_from, session)
    days = invoice_days_sql(days_in_period(InvoiceCheck.period_from, InvoiceCheck.period_to))
    sums = (sa.func.sum(InvoiceCheck.invoiced), sa.func.sum(days), invoice_count_sql())
    joined = (
        sa.select(col(Contract.paragraph), *sums)
        .join(Contract, col(Contract.id) == InvoiceCheck.contract_id)
        .where(not_voided_sql(InvoiceCheck))
    )
    totals: dict[tuple[int, str], list[Any]] = {}
    query = (
        joined.add_columns(year)
        .where(year >= up_to.year - years + 1, year <= up_to.year, *_contract_filter(filters))
        .group_by(year, Contract.paragraph)
    )
    for paragraph, invoiced, n_days, count, year_value in plain_rows(session, query):
        totals[(int(year_value), str(paragraph))] = [money(invoiced), float(n_days or 0), count]
    later = joined.where(
        col(InvoiceCheck.period_from) > up_to,
        col(InvoiceCheck.period_from) <= date(up_to.year, 12, 31),
        *_contract_filter(filters),
    ).group_by(Contract.paragraph)
    for paragraph, invoiced, n_days, count in plain_rows(session, later):
        entry = totals[(up_to.year, str(paragraph))]
        entry[0] -= money(invoiced)
        entry[1] -= float(n_days or 0)
        entry[2] -= count
    rows = []
    for (year_value, paragraph), (invoiced, n_days, count) in sorted(totals.items()):
        n_days = int(round(n_days))
        if not count:
            continue
        rows.append(
            {
                "year": year_value,
                "paragraph": paragraph,
                "Paragraf": label(paragraph),
                "Faktureret": invoiced,
                "Dage": n_days,
                "Fakturaer": int(count),
                "Gns. dagstakst": round_ore(invoiced / n_days) if n_days else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "year",
            "paragraph",
            "Paragraf",
            "Faktureret",
            "Dage",
            "Fakturaer",
            "Gns. dagstakst",
        ],
    )


# A budget is set per paragraph and year and covers every kind of provider. Figures are set
# against a budget only where they cover the same: no filter on provider kind, and a budget for
# each paragraph shown (every paragraph when none is picked).

BUDGET_COLUMNS = ["year", "paragraph", "Paragraf", "Budget"]


def paragraphs_shown(filters: Filters) -> tuple[str, ...]:
    """The paragraphs the figures cover: those picked, else all."""
    return filters.paragraphs or tuple(p.value for p in Paragraph)


def budgets(
    *, session: Session, filters: Filters = Filters(), year: int | None = None
) -> pd.DataFrame:
    """Budget per year and paragraph for the paragraphs shown (only `year`'s when given). None
    with a filter on provider kind: no budget covers only some kinds of provider."""
    if filters.provider_kinds:
        return pd.DataFrame([], columns=BUDGET_COLUMNS)
    query = sa.select(col(Budget.year), col(Budget.paragraph), col(Budget.amount)).where(
        col(Budget.paragraph).in_(paragraphs_shown(filters))
    )
    if year is not None:
        query = query.where(col(Budget.year) == year)
    rows = [
        {"year": int(y), "paragraph": str(p), "Paragraf": label(p), "Budget": money(a)}
        for y, p, a in plain_rows(session, query.order_by(col(Budget.year), col(Budget.paragraph)))
    ]
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def budget_totals(frame: pd.DataFrame, filters: Filters = Filters()) -> pd.DataFrame:
    """The whole budget of each year in `frame` (from `budgets`) that has one for every
    paragraph shown: the years whose spend can be set against a budget."""
    shown = set(paragraphs_shown(filters))
    rows = [
        {"year": int(year), "Budget": sum(part["Budget"], ZERO)}
        for year, part in frame.groupby("year", sort=True)
        if shown <= set(part["paragraph"])
    ]
    return pd.DataFrame(rows, columns=["year", "Budget"])


def _and_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} og {items[-1]}"


@dataclass(frozen=True)
class BudgetScope:
    """The budget the year's figures are set against, as far as they cover the same."""

    amount: Decimal | None  # the budget of the paragraphs shown; None when none applies
    note: str | None  # why a registered budget is not used (Danish); None when it is, or none is


def budget_scope(*, session: Session, year: int, filters: Filters = Filters()) -> BudgetScope:
    """The year's budget for the figures as filtered: the sum over the paragraphs shown, or
    None with a note when the filter covers something else than the budget does."""
    if filters.provider_kinds:
        return BudgetScope(
            None,
            "Budgettet gælder alle leverandørtyper, så det sættes ikke op mod forbruget hos de "
            "valgte leverandørtyper. Fjern filteret på leverandørtype for at se forbrug af "
            "budget.",
        )
    frame = budgets(session=session, filters=filters, year=year)
    if frame.empty:
        return BudgetScope(None, None)
    budgeted = set(frame["paragraph"])
    missing = [label(p) for p in paragraphs_shown(filters) if p not in budgeted]
    if missing:
        return BudgetScope(
            None,
            f"Der er intet budget for {_and_list(missing)} i {year}, så forbruget sættes ikke "
            "op mod budgettet. Budgetter registreres under Indstillinger; vælg paragraffer "
            "med budget for at se forbrug af budget.",
        )
    return BudgetScope(sum(frame["Budget"], ZERO), None)


def provider_spend(
    *, session: Session, first: date, last: date, filters: Filters = Filters()
) -> pd.DataFrame:
    """Invoiced per provider for periods starting from `first` to `last`, largest first."""
    # Sum per provider first, then join the few providers: joining every invoice costs more.
    per_provider = (
        sa.select(col(InvoiceCheck.provider_id), sa.func.sum(InvoiceCheck.invoiced).label("total"))
        .where(
            col(InvoiceCheck.period_from) >= first,
            col(InvoiceCheck.period_from) <= last,
            not_voided_sql(InvoiceCheck),
            *_invoice_filter(filters),
        )
        .group_by(col(InvoiceCheck.provider_id))
        .subquery()
    )
    query = sa.select(
        col(Provider.id), col(Provider.name), col(Provider.kind), per_provider.c.total
    ).join(per_provider, per_provider.c.provider_id == Provider.id)
    rows = [
        {
            "provider_id": pid,
            "Leverandør": name,
            "Leverandørtype": label(kind),
            "Faktureret": money(amount),
        }
        for pid, name, kind, amount in plain_rows(session, query)
    ]
    frame = pd.DataFrame(
        rows, columns=["provider_id", "Leverandør", "Leverandørtype", "Faktureret"]
    )
    if frame.empty:
        frame["Andel"] = []
        return frame
    frame = frame.sort_values(
        ["Faktureret", "Leverandør"], ascending=[False, True], ignore_index=True
    )
    whole = sum(frame["Faktureret"], ZERO)
    frame["Andel"] = [share_pct(v, whole) for v in frame["Faktureret"]]
    return frame


def top_share(spend: pd.DataFrame, n: int = 5) -> Decimal | None:
    """Share (percent) of the `n` largest providers in a provider_spend frame."""
    if spend.empty:
        return None
    whole = sum(spend["Faktureret"], ZERO)
    return share_pct(sum(spend["Faktureret"].iloc[:n], ZERO), whole)


def top_and_rest(spend: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The `n` largest providers and one row "Øvrige (k leverandører)" for the rest."""
    head = spend.iloc[:n][["Leverandør", "Faktureret", "Andel"]].copy()
    rest = spend.iloc[n:]
    if not rest.empty:
        whole = sum(spend["Faktureret"], ZERO)
        amount = sum(rest["Faktureret"], ZERO)
        providers = "leverandør" if len(rest) == 1 else "leverandører"
        head.loc[len(head)] = [
            f"Øvrige ({len(rest)} {providers})",
            amount,
            share_pct(amount, whole),
        ]
    return head.reset_index(drop=True)


# --- Deviations and follow-ups --------------------------------------------------------------


def open_deviations(
    *, session: Session, on: date, filters: Filters = Filters()
) -> tuple[int, Decimal]:
    """Number and sum of the deviations open on `on`, net of the credit notes registered by then
    (services.rules.deviations)."""
    credited = credited_per_invoice(on)
    count, amount = plain_rows(
        session,
        select(sa.func.count(), sa.func.sum(net_deviation_sql(credited)))
        .select_from(InvoiceCheck)
        .outerjoin(credited, credits_of(credited))
        .where(was_open_deviation_sql(on), *_invoice_filter(filters)),
    ).one()
    return int(count), money(amount)


def _month_end(year: int, month: int) -> date:
    return add_months(date(year, month, 1), 1) - timedelta(days=1)


def open_deviations_by_month(
    *, session: Session, on: date, months: int = 24, filters: Filters = Filters()
) -> pd.DataFrame:
    """Deviations open at each month end over the last `months` months (logged − resolved)."""
    flagged = [
        col(InvoiceCheck.flagged).is_(True),
        not_voided_sql(InvoiceCheck),
        *_invoice_filter(filters),
    ]
    logged_on = InvoiceCheck.checked_on
    resolved_on = sa.func.coalesce(InvoiceCheck.resolved_on, InvoiceCheck.checked_on)
    logged = plain_rows(
        session,
        select(year_month_of(logged_on, session), sa.func.count())
        .where(*flagged, logged_on <= on)
        .group_by(year_month_of(logged_on, session)),
    ).all()
    resolved = plain_rows(
        session,
        select(year_month_of(resolved_on, session), sa.func.count())
        .where(*flagged, col(InvoiceCheck.status).in_(CLOSED_INVOICE_STATUSES), resolved_on <= on)
        .group_by(year_month_of(resolved_on, session)),
    ).all()
    deltas: dict[tuple[int, int], int] = {}
    for key, n in logged:
        month_key = divmod(int(key), 100)
        deltas[month_key] = deltas.get(month_key, 0) + int(n)
    for key, n in resolved:
        month_key = divmod(int(key), 100)
        deltas[month_key] = deltas.get(month_key, 0) - int(n)
    first = add_months(date(on.year, on.month, 1), -(months - 1))
    running = sum(n for (y, m), n in deltas.items() if date(y, m, 1) < first)
    rows = []
    month = first
    while month <= on:
        running += deltas.get((month.year, month.month), 0)
        rows.append({"Måned": min(_month_end(month.year, month.month), on), "Åbne": running})
        month = add_months(month, 1)
    return pd.DataFrame(rows, columns=["Måned", "Åbne"])


def followups_on_time(
    *, session: Session, first: date, before: date, filters: Filters = Filters()
) -> tuple[int, int]:
    """Follow-ups due from `first` up to (not incl.) `before`: how many, and how many done on
    time (done on or before the due date)."""
    on_time = sa.case((done_on_time_sql(), 1), else_=0)
    query = select(sa.func.count(), sa.func.sum(on_time)).where(
        FollowUp.due_date >= first, FollowUp.due_date < before
    )
    if filters.paragraphs or filters.provider_kinds:
        query = query.where(col(FollowUp.contract_id).in_(_contract_ids(filters)))
    due, done = plain_rows(session, query).one()
    return int(due or 0), int(done or 0)


def followups_on_time_by_quarter(
    *, session: Session, on: date, quarters: int = 8, filters: Filters = Filters()
) -> pd.DataFrame:
    """Share of follow-ups done on time per quarter of their due date (last `quarters`)."""
    start_month = (on.month - 1) // 3 * 3 + 1
    first = add_months(date(on.year, start_month, 1), -3 * (quarters - 1))
    due = FollowUp.due_date
    on_time = sa.case((done_on_time_sql(), 1), else_=0)
    query = (
        select(year_month_of(due, session), sa.func.count(), sa.func.sum(on_time))
        .where(due >= first, due < on)
        .group_by(year_month_of(due, session))
    )
    if filters.paragraphs or filters.provider_kinds:
        query = query.where(col(FollowUp.contract_id).in_(_contract_ids(filters)))
    totals: dict[tuple[int, int], list[int]] = {}
    for year_month, n, done in plain_rows(session, query):
        y, m = divmod(int(year_month), 100)
        key = (y, (m - 1) // 3 + 1)
        entry = totals.setdefault(key, [0, 0])
        entry[0] += int(n)
        entry[1] += int(done or 0)
    rows = []
    for (y, q), (n, done) in sorted(totals.items()):
        rows.append(
            {
                "Kvartal": f"K{q} {y}",
                "Forfaldne": n,
                "Til tiden": done,
                "Andel til tiden": share_pct(done, n),
            }
        )
    return pd.DataFrame(rows, columns=["Kvartal", "Forfaldne", "Til tiden", "Andel til tiden"])


def overdue_followups(*, session: Session, on: date, filters: Filters = Filters()) -> int:
    """Follow-ups due before `on` and not done by then (not done, or done later)."""
    count = 0
    for overdue in was_overdue_sql_parts(on):
        query = select(sa.func.count()).select_from(FollowUp).where(overdue)
        if filters.paragraphs or filters.provider_kinds:
            query = query.where(col(FollowUp.contract_id).in_(_contract_ids(filters)))
        count += int(session.exec(query).one())
    return count


# --- Renegotiations ----------------------------------------------------------------------


def _renegotiations(filters: Filters) -> list[ColumnElement[bool]]:
    return [
        col(PriceChange.reason) == PriceChangeReason.RENEGOTIATION,
        not_voided_sql(PriceChange),
        *_contract_filter(filters),
    ]


def savings_by_year(*, session: Session, up_to: date, filters: Filters = Filters()) -> pd.DataFrame:
    """Realised savings from renegotiations per year of the effective date.

    Each renegotiation counts with its annualised effect, old − new price (the semantics of
    services.contracts.annual_effect with the sign turned: positive is a saving).
    """
    year = year_of(PriceChange.effective_date, session)
    saved = sa.func.sum(
        sa.func.coalesce(PriceChange.old_price, PriceChange.new_price) - PriceChange.new_price
    )
    query = (
        sa.select(year, col(Contract.price_unit), sa.func.count(), saved)
        .join(Contract, col(Contract.id) == PriceChange.contract_id)
        .where(*_renegotiations(filters), col(PriceChange.effective_date) <= up_to)
        .group_by(year, Contract.price_unit)
    )
    totals: dict[int, list[Any]] = {}
    for year_value, unit, count, amount in plain_rows(session, query):
        entry = totals.setdefault(int(year_value), [0, ZERO])
        entry[0] += int(count)
        entry[1] += money(amount) * ANNUAL_FACTOR[PriceUnit(unit)]
    rows = [
        {"År": y, "Genforhandlinger": n, "Besparelse pr. år": amount}
        for y, (n, amount) in sorted(totals.items())
    ]
    return pd.DataFrame(rows, columns=["År", "Genforhandlinger", "Besparelse pr. år"])


def savings_between(
    *, session: Session, first: date, last: date, filters: Filters = Filters()
) -> pd.DataFrame:
    """Each renegotiation effective from `first` to `last`, with its annualised saving."""
    query = (
        sa.select(
            col(Contract.case_ref),
            col(Provider.name),
            col(PriceChange.effective_date),
            col(PriceChange.old_price),
            col(PriceChange.new_price),
            col(Contract.price_unit),
        )
        .join(Contract, col(Contract.id) == PriceChange.contract_id)
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(
            *_renegotiations(filters),
            col(PriceChange.effective_date) >= first,
            col(PriceChange.effective_date) <= last,
        )
        .order_by(col(PriceChange.effective_date), col(Contract.case_ref))
    )
    rows = []
    for case_ref, provider, effective, old, new, unit in plain_rows(session, query):
        old = old if old is not None else new
        rows.append(
            {
                "Sag": case_ref,
                "Leverandør": provider,
                "Ikrafttræden": effective,
                "Pris før": old,
                "Ny pris": new,
                "Enhed": label(unit),
                "Besparelse pr. år": annual_amount(old, unit) - annual_amount(new, unit),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Sag",
            "Leverandør",
            "Ikrafttræden",
            "Pris før",
            "Ny pris",
            "Enhed",
            "Besparelse pr. år",
        ],
    )


# --- Alerts (SPEC 4.6: the table in services.rules.alerts) ---------------------------------

ALERT_COLUMNS = [
    "contract_id",
    "provider_id",
    "rank",
    "Sag",
    "Leverandør",
    "Paragraf",
    "Varsler",
    "Varsler (kort)",  # the short labels, as Kontrakter shows them: fits a laptop screen
    "Frist",
]


@dataclass(frozen=True)
class AlertOverview:
    """How many contracts have an alert, how many have each kind, and the most urgent ones
    (`rows`: all of them from contract_alert_list, the first `limit` from alert_overview)."""

    rows: pd.DataFrame
    counts: dict[AlertKind, int] = field(default_factory=dict)
    total: int = 0


@dataclass(frozen=True)
class _AlertQuery:
    joins: Any
    facts: FactColumns
    flags: dict[AlertKind, ColumnElement[bool]]
    where: list[ColumnElement[bool]]
    order: list[Any]


def _alert_query(today: date, horizons: AlertHorizons, filters: Filters) -> _AlertQuery:
    """The contracts with at least one alert (by the alert table's SQL conditions), most
    urgent first."""
    joins, facts = join_facts(
        sa.join(Contract, Provider, col(Provider.id) == col(Contract.provider_id)), today
    )
    flags = alert_conditions_sql(facts, today, horizons)
    rank, due = urgency_sql(facts, flags)
    # "Has an alert" as the rank of its most urgent one: one expression, so SQLite scans the
    # contracts once instead of searching the status index once per alert (an OR of six).
    where = [rank <= len(flags), *_contract_filter(filters)]
    return _AlertQuery(joins, facts, flags, where, [rank, due, Contract.case_ref, Contract.id])


def _alert_facts_columns(parts: _AlertQuery) -> list[Any]:
    return [
        col(Contract.id).label("contract_id"),
        col(Contract.provider_id).label("provider_id"),
        col(Contract.case_ref).label("case_ref"),
        col(Provider.name).label("provider"),
        col(Contract.paragraph).label("paragraph"),
        *parts.facts.labelled(),
    ]


def _alert_rows(
    rows: Iterable[Any], today: date, horizons: AlertHorizons
) -> list[tuple[dict[str, Any], list[AlertKind]]]:
    """Each contract's alerts by the rules' Python form: a row of the alert list and the alert
    kinds, most urgent first (contracts without an alert are left out)."""
    result = []
    for row in rows:
        alerts = contract_alerts(facts_from_row(row), today, horizons)
        if not alerts:
            continue
        rank, due = urgency(alerts)
        texts = [f"{a.text} ({format_date(a.due)})" if a.due else a.text for a in alerts]
        record = {
            "contract_id": row.contract_id,
            "provider_id": row.provider_id,
            "rank": rank,
            "Sag": row.case_ref,
            "Leverandør": row.provider,
            "Paragraf": label(row.paragraph),
            "Varsler": " · ".join(texts),
            "Varsler (kort)": alert_short_labels(alert.kind for alert in alerts),
            "Frist": None if due == date.max else due,
        }
        result.append((record, [alert.kind for alert in alerts]))
    return result


def contract_alert_list(
    *,
    session: Session,
    today: date,
    filters: Filters = Filters(),
    horizons: AlertHorizons | None = None,
) -> AlertOverview:
    """Every contract with an alert of SPEC 4.6, most urgent first, with the rules' texts; the
    price category against the visitation category comes from today's stored price periods."""
    horizons = horizons or get_settings(session=session).horizons
    ensure_price_timeline(session=session, day=today)
    parts = _alert_query(today, horizons, filters)
    query = (
        sa.select(*_alert_facts_columns(parts))
        .select_from(parts.joins)
        .where(*parts.where)
        .order_by(*parts.order)
    )
    rows = _alert_rows(plain_rows(session, query), today, horizons)
    counts = dict.fromkeys(ALERTS, 0)
    for _, kinds in rows:
        for kind in kinds:
            counts[kind] += 1
    frame = pd.DataFrame([row for row, _ in rows], columns=ALERT_COLUMNS)
    return AlertOverview(frame, counts, len(frame))


def alert_counts(
    *, session: Session, today: date, filters: Filters = Filters()
) -> tuple[int, dict[AlertKind, int]]:
    """Contracts with any alert, and per alert kind, counted in SQL by the alert table."""
    horizons = get_settings(session=session).horizons
    ensure_price_timeline(session=session, day=today)
    parts = _alert_query(today, horizons, filters)
    flagged = [sa.func.sum(sa.case((flag, 1), else_=0)) for flag in parts.flags.values()]
    total, *per_kind = plain_rows(
        session, sa.select(sa.func.count(), *flagged).select_from(parts.joins).where(*parts.where)
    ).one()
    return int(total), {kind: int(n or 0) for kind, n in zip(parts.flags, per_kind, strict=True)}


def alert_overview(
    *, session: Session, today: date | None = None, filters: Filters = Filters(), limit: int = 10
) -> AlertOverview:
    """Today's alerts for Overblik: counted per kind in SQL, and the `limit` most urgent with
    the rules' texts (contract_alert_list gives them all, for the download)."""
    today = today or date.today()
    horizons = get_settings(session=session).horizons
    total, by_kind = alert_counts(session=session, today=today, filters=filters)
    parts = _alert_query(today, horizons, filters)
    top = (
        sa.select(*_alert_facts_columns(parts))
        .select_from(parts.joins)
        .where(*parts.where)
        .order_by(*parts.order)
        .limit(limit)
    )
    rows = [row for row, _ in _alert_rows(plain_rows(session, top), today, horizons)]
    return AlertOverview(pd.DataFrame(rows, columns=ALERT_COLUMNS), by_kind, total)


# --- Overblik: everything at once -----------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The key figures of SPEC 4.7 on one day."""

    as_of: date
    portfolio: Portfolio
    providers_total: int
    invoiced_ytd: Decimal
    budget: Decimal | None  # only where the figures cover what the budget does (budget_scope)
    budget_note: str | None  # why a registered budget is not set against the figures
    expected_rest: Decimal
    expected_year_end: Decimal
    spend_from: date  # provider spend covers invoice periods starting from here to as_of
    provider_spend: pd.DataFrame  # largest first
    top5_share: Decimal | None
    open_deviations: int
    open_deviation_amount: Decimal
    followups_due: int  # due in the last 12 months
    followups_on_time: int
    on_time_share: Decimal | None
    overdue_followups: int
    quality: ContractQuality
    savings_ytd: Decimal  # annualised savings of renegotiations effective this year so far
    large_case_threshold: Decimal
    expensive_cases: pd.DataFrame

    @property
    def budget_used(self) -> Decimal | None:
        return share_pct(self.invoiced_ytd, self.budget) if self.budget else None


def snapshot(
    *,
    session: Session,
    as_of: date,
    filters: Filters = Filters(),
    historical: bool = False,
    invoiced_ytd: Decimal | None = None,
    spend_from: date | None = None,
    spend: pd.DataFrame | None = None,
    cases: bool = True,
) -> Snapshot:
    """Every key figure on `as_of`; `historical` counts contracts in force then (see in_force).

    Provider spend and concentration cover invoice periods starting from `spend_from` (default:
    the last 12 months) to `as_of`. A caller that has already computed `invoiced_ytd` or that
    provider `spend` passes them in, to save the work; one that does not show the most
    expensive cases passes `cases=False`.
    """
    settings = get_settings(session=session)
    figures = portfolio(
        session=session,
        as_of=as_of,
        large_case_threshold=settings.large_case_threshold,
        filters=filters,
        historical=historical,
    )
    year_start = date(as_of.year, 1, 1)
    invoiced = (
        invoiced_ytd
        if invoiced_ytd is not None
        else invoiced_between(session=session, first=year_start, last=as_of, filters=filters)
    )
    last_year = add_months(as_of, -12)
    spend_from = spend_from or last_year + timedelta(days=1)
    if spend is None:
        spend = provider_spend(session=session, first=spend_from, last=as_of, filters=filters)
    n_open, open_amount = open_deviations(session=session, on=as_of, filters=filters)
    due, on_time = followups_on_time(
        session=session, first=last_year, before=as_of, filters=filters
    )
    provider_count = select(sa.func.count()).select_from(Provider)
    if filters.provider_kinds:
        provider_count = provider_count.where(col(Provider.kind).in_(filters.provider_kinds))
    savings = savings_between(session=session, first=year_start, last=as_of, filters=filters)
    budget = budget_scope(session=session, year=as_of.year, filters=filters)
    return Snapshot(
        as_of=as_of,
        portfolio=figures,
        providers_total=int(session.exec(provider_count).one()),
        invoiced_ytd=invoiced,
        budget=budget.amount,
        budget_note=budget.note,
        expected_rest=figures.expected_rest,
        expected_year_end=invoiced + figures.expected_rest,
        spend_from=spend_from,
        provider_spend=spend,
        top5_share=top_share(spend),
        open_deviations=n_open,
        open_deviation_amount=open_amount,
        followups_due=due,
        followups_on_time=on_time,
        on_time_share=share_pct(on_time, due),
        overdue_followups=overdue_followups(session=session, on=as_of, filters=filters),
        quality=figures.quality,
        savings_ytd=sum(savings["Besparelse pr. år"], ZERO),
        large_case_threshold=settings.large_case_threshold,
        expensive_cases=expensive_cases(
            session=session, as_of=as_of, filters=filters, historical=historical
        )
        if cases
        else expensive_cases_frame([]),
    )


@dataclass(frozen=True)
class Overview:
    """The key figures Overblik shows for a year (the charts' series are fetched per tab)."""

    year: int
    as_of: date
    today: date
    snapshot: Snapshot

    @property
    def is_empty(self) -> bool:
        return self.snapshot.providers_total == 0 and self.snapshot.portfolio.active_contracts == 0

    @property
    def current(self) -> bool:
        return self.as_of == self.today


def overview_day(year: int, today: date) -> date:
    """The day Overblik's figures for `year` are taken: today, or 31 December of a past year."""
    return today if year >= today.year else date(year, 12, 31)


def overview(
    *, session: Session, year: int, filters: Filters = Filters(), today: date | None = None
) -> Overview:
    """Overblik's key figures for a year: today's for this year, 31 December for a past one."""
    today = today or date.today()
    as_of = overview_day(year, today)
    shot = snapshot(session=session, as_of=as_of, filters=filters, historical=as_of != today)
    return Overview(year=year, as_of=as_of, today=today, snapshot=shot)


@dataclass(frozen=True)
class Spending:
    """Spend per year and paragraph with budgets, and savings from renegotiations per year."""

    by_year: pd.DataFrame
    budgets: pd.DataFrame  # per year and paragraph shown; none with a provider kind filter
    budget_by_year: pd.DataFrame  # the years with a budget for every paragraph shown
    savings: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Invoiced, budget and average daily rate per year and paragraph, for export."""
        spend = self.by_year.drop(columns="Paragraf")
        budget = self.budgets.drop(columns="Paragraf")
        merged = spend.merge(budget, on=["year", "paragraph"], how="left")
        merged.insert(1, "Paragraf", merged["paragraph"].map(label))
        return merged.drop(columns="paragraph").rename(columns={"year": "År"})[
            ["År", "Paragraf", "Faktureret", "Budget", "Dage", "Fakturaer", "Gns. dagstakst"]
        ]


def spending(*, session: Session, as_of: date, filters: Filters = Filters()) -> Spending:
    """The series behind Overblik's spending charts, up to `as_of`."""
    budget = budgets(session=session, filters=filters)
    return Spending(
        by_year=spend_by_year(session=session, up_to=as_of, filters=filters),
        budgets=budget,
        budget_by_year=budget_totals(budget, filters),
        savings=savings_by_year(session=session, up_to=as_of, filters=filters),
    )


@dataclass(frozen=True)
class Control:
    """Open deviations at each month end and follow-ups done on time per quarter."""

    open_by_month: pd.DataFrame
    on_time_by_quarter: pd.DataFrame


def control(*, session: Session, as_of: date, filters: Filters = Filters()) -> Control:
    """The series behind Overblik's control charts, up to `as_of`."""
    return Control(
        open_by_month=open_deviations_by_month(session=session, on=as_of, filters=filters),
        on_time_by_quarter=followups_on_time_by_quarter(session=session, on=as_of, filters=filters),
    )


def data_years(*, session: Session, today: date | None = None) -> list[int]:
    """Years Overblik can show, newest first: from the first invoice or budget to this year."""
    today = today or date.today()
    first_invoice = session.exec(select(sa.func.min(InvoiceCheck.period_from))).one()
    first_budget = session.exec(select(sa.func.min(Budget.year))).one()
    first_contract = session.exec(select(sa.func.min(Contract.start_date))).one()
    candidates = [today.year]
    if first_invoice:
        candidates.append(first_invoice.year)
    if first_budget:
        candidates.append(int(first_budget))
    if first_contract:
        candidates.append(first_contract.year)
    first = max(min(candidates), today.year - 15)
    return list(range(today.year, first - 1, -1))
