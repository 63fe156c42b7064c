"""Every contract's price over time, stored as periods so key figures can be summed in SQL.

The pricing rules (services.rules.pricing and services.rules.categories) stay the one definition
of a price. A contract's price can only change on a regulation day, a price change's effective
date, the first or the day after the last day of an add-on, or 1 January (the price category sets
are per year). The builder evaluates the rules on each of those days and stores one
ContractPricePeriod per stretch of equal prices.

How the stored periods stay true to the data and to the rules:

- Every ORM flush that writes a contract, a price change or an add-on rebuilds that contract's
  periods in the same transaction; voiding a price change or an add-on is such a write, and a
  voided one counts in no period (services.rules.voiding). The flush hook is installed explicitly by
  `keep_prices_current`, which the app's start-up calls (services.startup.prepare_database), as
  do the tests (conftest) and the benchmark; any other process that writes those tables through
  the ORM must call it first. It is idempotent.
- A flush that writes an index rate or a price category set rebuilds, in the same transaction,
  the periods of the contracts it can change (those regulated by index; those of the set's
  paragraph), so no page waits for a full rebuild after a reference change. Core writes of
  them (the seed, removing the demo data) mark every period stale instead (`mark_stale`: the
  PriceTimeline row deleted), and the next read (`ensure_price_timeline`) rebuilds in full.
- The PriceTimeline row stores the pricing rules version the periods were built with
  (services.rules.version.PRICE_RULES_VERSION). Periods built by another version count as stale:
  the first read after a deploy that bumped it rebuilds them, and the rebuild stores the current
  version. Bumping it is the job of whoever changes a rule the periods use.
- The periods reach to 31 December of the year after the build (the horizon); a read of a later
  day rebuilds them, as does a read of current figures on a day before the build's year
  (`Reach.covers`).
- Code that writes contracts, price changes, add-ons, index rates or category sets through
  SQLAlchemy Core, which the flush hook does not see, calls `refresh_contract_prices` or
  `mark_stale` itself (or `rebuild_price_timeline`, as the seed does).

No contract can stop a build. The input schemas bound what is stored (models.types), but rows
written before those bounds, or past them, may still hold a price that overflows when regulated
for decades, a date in year 1, a regulation day that does not exist. Such a contract gets one
period without a price (`missing_rate`, as a contract whose index rate is missing: it is counted
as in force, not in the spend, and Overblik says how many), a warning is logged with its id,
and every other contract is built. A price is only stored while its annual amount is at most
PERIOD_ANNUAL_MAX, so the sums key figures take in SQL can never overflow a BIGINT.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from models import (
    Contract,
    ContractAddon,
    ContractPricePeriod,
    PriceCategory,
    PriceCategorySet,
    PriceChange,
    PriceTimeline,
    PriceUnit,
    RegulationKind,
    RegulationRate,
)
from models.types import DATE_MAX, DATE_MIN
from services.rules.categories import CategoryThresholds, above_visitation, price_category
from services.rules.pricing import (
    AddonTerms,
    MissingIndexRate,
    PriceTerms,
    Regulation,
    annual_amount,
    daily_equivalent,
    regulated_price,
    regulation_day_in,
)
from services.rules.version import PRICE_RULES_VERSION
from services.rules.voiding import not_voided_sql
from services.unit_of_work import in_action

PERIODS = ContractPricePeriod.__table__  # type: ignore[attr-defined]
TIMELINE = PriceTimeline.__table__  # type: ignore[attr-defined]
INSERT_BATCH = 5_000
TIMELINE_LOCK = 0x7461_6B73  # PostgreSQL advisory lock key for writing the periods ("taks")
# The largest annual amount (base and add-ons, kr.) stored as a price: no placement costs a
# milliard a year; above it the price is a typing or import error, reported and not summed.
# Summed over 100.000 contracts × 366 days in øre it stays far below a BIGINT.
PERIOD_ANNUAL_MAX = Decimal(1_000_000_000)
# What a build can meet in a stored row it cannot price (the row is marked, the build goes on).
UNPRICEABLE = (ArithmeticError, ValueError, TypeError, LookupError)

logger = logging.getLogger(__name__)


class PriceOutOfRange(ArithmeticError):
    """A contract's price cannot be stored: too large, not a number, or dated before 1900."""


def _ore(amount: Decimal) -> int:
    """An amount already rounded to øre as whole øre."""
    return int(amount * 100)


# --- The periods of one contract (pure) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PricePeriod:
    valid_from: date
    valid_to: date
    price_ore: int | None
    annual_ore: int | None
    category: PriceCategory | None
    above_visitation: bool
    missing_rate: bool

    def same_price(self, other: "PricePeriod") -> bool:
        return (
            self.price_ore,
            self.annual_ore,
            self.category,
            self.above_visitation,
            self.missing_rate,
        ) == (
            other.price_ore,
            other.annual_ore,
            other.category,
            other.above_visitation,
            other.missing_rate,
        )


def price_change_days(
    terms: PriceTerms, addons: Sequence[AddonTerms], first: date, last: date
) -> list[date]:
    """The days from `first` to `last` on which the price (or its category) may change, with
    `first` itself: regulation days, price changes, add-on starts and ends, and 1 January."""
    years = range(first.year, last.year + 1)
    days = {first, *(date(year, 1, 1) for year in years)}
    regulation = terms.regulation
    if regulation.kind != RegulationKind.NONE:
        days.update(regulation_day_in(year, regulation.month, regulation.day) for year in years)
    days.update(effective for effective, _ in terms.changes)
    for addon in addons:
        days.add(addon.valid_from)
        if addon.valid_to is not None:
            days.add(addon.valid_to + timedelta(days=1))
    return sorted(day for day in days if first <= day <= last)


def contract_price_periods(
    *,
    terms: PriceTerms,
    addons: Sequence[AddonTerms],
    paragraph: str,
    visitation_category: str | None,
    thresholds: Mapping[tuple[str, int], CategoryThresholds],
    first: date,
    last: date,
) -> list[PricePeriod]:
    """The contract's price from `first` to `last` as periods of equal price, by the rules of
    services.rules.pricing: base price and add-ons in force, annual amount and price category."""
    periods: list[PricePeriod] = []
    days = price_change_days(terms, addons, first, last)
    for day, next_day in zip(days, [*days[1:], last + timedelta(days=1)], strict=True):
        try:
            base = regulated_price(terms, day)
            annual = annual_amount(base, terms.unit)
            for addon in addons:
                if addon.valid_from <= day and (addon.valid_to is None or day <= addon.valid_to):
                    addon_terms = PriceTerms(
                        addon.price, addon.unit, addon.valid_from, terms.regulation
                    )
                    annual += annual_amount(regulated_price(addon_terms, day), addon.unit)
            _check_storable(base, annual, day)
        except MissingIndexRate:
            period = PricePeriod(day, next_day - timedelta(days=1), None, None, None, False, True)
        else:
            category = price_category(
                daily_equivalent(base, terms.unit), thresholds.get((paragraph, day.year))
            )
            period = PricePeriod(
                valid_from=day,
                valid_to=next_day - timedelta(days=1),
                price_ore=_ore(base),
                annual_ore=_ore(annual),
                category=category,
                above_visitation=above_visitation(category, visitation_category),
                missing_rate=False,
            )
        if periods and periods[-1].same_price(period):
            previous = periods[-1]
            periods[-1] = PricePeriod(
                previous.valid_from,
                period.valid_to,
                previous.price_ore,
                previous.annual_ore,
                previous.category,
                previous.above_visitation,
                previous.missing_rate,
            )
        else:
            periods.append(period)
    return periods


def _check_storable(base: Decimal, annual: Decimal, day: date) -> None:
    """PriceOutOfRange unless both amounts are numbers within PERIOD_ANNUAL_MAX."""
    if not (
        base.is_finite()
        and annual.is_finite()
        and abs(base) <= PERIOD_ANNUAL_MAX
        and abs(annual) <= PERIOD_ANNUAL_MAX
    ):
        raise PriceOutOfRange(f"the price on {day} is out of range: {base} ({annual} a year)")


def unpriced_periods(first: date, last: date) -> list[PricePeriod]:
    """One period without a price, for a contract that cannot be priced."""
    return [PricePeriod(first, last, None, None, None, False, True)]


# --- Building and keeping them in the database ----------------------------------------------


@dataclass(frozen=True)
class Reach:
    """The days the periods cover: each contract's from the earliest of its start, its price base
    date and 1 January of the year built, to 31 December of the year after."""

    built_on: date
    horizon: date

    @classmethod
    def of(cls, day: date) -> "Reach":
        return cls(built_on=day, horizon=date(day.year + 1, 12, 31))

    @property
    def floor(self) -> date:
        return date(self.built_on.year, 1, 1)

    def covers(self, day: date, *, historical: bool) -> bool:
        """Whether the periods hold the price on `day` of every contract counted on it (a
        historical day counts only contracts started by then, which are always covered)."""
        return day <= self.horizon and (historical or day >= self.floor)


def _reach(connection: sa.Connection) -> Reach | None:
    """What the stored periods cover; None while they are stale: never built, marked stale, or
    built by another version of the pricing rules (PRICE_RULES_VERSION)."""
    row = connection.execute(
        sa.select(TIMELINE.c.built_on, TIMELINE.c.horizon, TIMELINE.c.rules_version)
    ).first()
    if row is None or row.rules_version != PRICE_RULES_VERSION:
        return None
    return Reach(row.built_on, row.horizon)


def is_stale(connection: sa.Connection) -> bool:
    """Whether every contract's periods await a full rebuild (the next ensure_price_timeline)."""
    return _reach(connection) is None


def _reference_data(
    connection: sa.Connection,
) -> tuple[dict[int, Decimal], dict[tuple[str, int], CategoryThresholds]]:
    rates = {
        int(year): Decimal(percent)
        for year, percent in connection.execute(
            sa.select(col(RegulationRate.year), col(RegulationRate.percent))
        )
    }
    thresholds = {
        (str(paragraph), int(year)): CategoryThresholds(middel, hoej, ekstra)
        for paragraph, year, middel, hoej, ekstra in connection.execute(
            sa.select(
                _text(PriceCategorySet.paragraph),
                col(PriceCategorySet.year),
                col(PriceCategorySet.middel_from),
                col(PriceCategorySet.hoej_from),
                col(PriceCategorySet.ekstraordinaer_from),
            )
        )
    }
    return rates, thresholds


def _text(column: Any) -> Any:
    """An enum column read as plain text: a stored code the enum does not know cannot stop a
    build in the middle of reading (the contract that holds it is marked, not the build)."""
    return sa.type_coerce(col(column), sa.String)


def _check_dates(*days: date) -> None:
    """PriceOutOfRange for a day before 1900: year 1 would regulate for two thousand years."""
    if days and min(days) < DATE_MIN:
        raise PriceOutOfRange(f"dated {min(days)}, before {DATE_MIN}")


def _build_rows(
    connection: sa.Connection, reach: Reach, contract_ids: Iterable[int] | None
) -> list[dict[str, Any]]:
    """The period rows of the given contracts (None: every contract)."""
    ids = None if contract_ids is None else sorted(set(contract_ids))
    if ids == []:
        return []

    def only(column: Any) -> list[Any]:
        return [] if ids is None else [column.in_(ids)]

    rates, thresholds = _reference_data(connection)
    changes: dict[int, list[tuple[date, Decimal]]] = {}
    for contract_id, effective, new_price in connection.execute(
        sa.select(
            col(PriceChange.contract_id),
            col(PriceChange.effective_date),
            col(PriceChange.new_price),
        )
        .where(*only(col(PriceChange.contract_id)), not_voided_sql(PriceChange))
        .order_by(
            col(PriceChange.contract_id), col(PriceChange.effective_date), col(PriceChange.id)
        )
    ):
        changes.setdefault(contract_id, []).append((effective, new_price))
    addons: dict[int, list[tuple[Any, ...]]] = {}
    for contract_id, *addon in connection.execute(
        sa.select(
            col(ContractAddon.contract_id),
            col(ContractAddon.price),
            _text(ContractAddon.unit),
            col(ContractAddon.valid_from),
            col(ContractAddon.valid_to),
        ).where(*only(ContractAddon.contract_id), not_voided_sql(ContractAddon))
    ):
        addons.setdefault(contract_id, []).append(tuple(addon))
    regulations: dict[tuple[Any, ...], Regulation] = {}
    rows: list[dict[str, Any]] = []
    unpriced: list[int] = []
    for (
        row_id,
        paragraph,
        start,
        price,
        unit,
        base_date,
        *regulation_key,
        visitation,
    ) in connection.execute(
        sa.select(
            col(Contract.id),
            _text(Contract.paragraph),
            col(Contract.start_date),
            col(Contract.price),
            _text(Contract.price_unit),
            col(Contract.price_base_date),
            _text(Contract.regulation_kind),
            col(Contract.regulation_pct),
            col(Contract.regulation_month),
            col(Contract.regulation_day),
            _text(Contract.visitation_category),
        ).where(*only(col(Contract.id)))
    ):
        assert row_id is not None  # a stored contract always has its id
        contract_changes = tuple(changes.get(row_id, ()))
        try:
            _check_dates(start, base_date, *(day for day, _ in contract_changes))
            key = tuple(regulation_key)
            regulation = regulations.get(key)
            if regulation is None:
                kind, pct, month, day = key
                regulation = Regulation(
                    kind=RegulationKind(kind), pct=pct, month=month, day=day, index_rates=rates
                )
                regulations[key] = regulation
            contract_addons = [
                # An add-on "until 9999" ends with the last day a date can hold.
                AddonTerms(
                    addon_price,
                    PriceUnit(addon_unit),
                    valid_from,
                    None if valid_to is None else min(valid_to, DATE_MAX),
                )
                for addon_price, addon_unit, valid_from, valid_to in addons.get(row_id, ())
            ]
            _check_dates(*(addon.valid_from for addon in contract_addons))
            periods = contract_price_periods(
                terms=PriceTerms(price, PriceUnit(unit), base_date, regulation, contract_changes),
                addons=contract_addons,
                paragraph=str(paragraph),
                visitation_category=str(visitation) if visitation else None,
                thresholds=thresholds,
                first=min(start, base_date, reach.floor),
                last=reach.horizon,
            )
        except UNPRICEABLE as exc:
            unpriced.append(row_id)
            logger.warning("Contract %s cannot be priced, stored without a price: %r", row_id, exc)
            periods = unpriced_periods(max(DATE_MIN, min(start, reach.floor)), reach.horizon)
        rows.extend(
            {
                "contract_id": row_id,
                "valid_from": p.valid_from,
                "valid_to": p.valid_to,
                "price_ore": p.price_ore,
                "annual_ore": p.annual_ore,
                "category": p.category,
                "above_visitation": p.above_visitation,
                "missing_rate": p.missing_rate,
            }
            for p in periods
        )
    if unpriced:
        logger.warning(
            "%d contract(s) stored without a price (see the warnings above): %s",
            len(unpriced),
            ", ".join(map(str, unpriced[:50])),
        )
    return rows


def _insert(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        connection.execute(sa.insert(PERIODS), rows[start : start + INSERT_BATCH])


def _lock(connection: sa.Connection) -> None:
    """Serialise writers of the periods on PostgreSQL (until the transaction ends), so a full
    rebuild and a contract's refresh cannot overwrite each other with older prices. SQLite
    has one writer at a time anyway."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(TIMELINE_LOCK)))


def rebuild_price_timeline(connection: sa.Connection, *, today: date) -> Reach:
    """Build every contract's price periods anew, reaching from `today`'s year to the next."""
    reach = Reach.of(today)
    _lock(connection)
    # Delete first: on SQLite that takes the write lock before the prices are read.
    connection.execute(sa.delete(PERIODS))
    connection.execute(sa.delete(TIMELINE))
    _insert(connection, _build_rows(connection, reach, None))
    connection.execute(
        sa.insert(TIMELINE).values(
            id=1,
            built_on=reach.built_on,
            horizon=reach.horizon,
            rules_version=PRICE_RULES_VERSION,
        )
    )
    return reach


def refresh_contract_prices(connection: sa.Connection, contract_ids: Iterable[int]) -> None:
    """Rebuild the price periods of some contracts (no-op while a full rebuild is pending)."""
    reach = _reach(connection)
    ids = sorted(set(contract_ids))
    if reach is None or not ids:
        return
    _lock(connection)
    connection.execute(sa.delete(PERIODS).where(PERIODS.c.contract_id.in_(ids)))
    _insert(connection, _build_rows(connection, reach, ids))


def mark_stale(connection: sa.Connection) -> None:
    """Every contract's periods need a rebuild (an index rate or category set changed); the next
    ensure_price_timeline does it."""
    _lock(connection)  # not while a rebuild from the old rates is about to be committed
    connection.execute(sa.delete(TIMELINE))


def period_on(day: date) -> sa.ColumnElement[bool]:
    """Join condition from Contract: the contract's stored price period that holds `day`."""
    return sa.and_(
        PERIODS.c.contract_id == col(Contract.id),
        PERIODS.c.valid_from <= day,
        PERIODS.c.valid_to >= day,
    )


def ensure_price_timeline(*, session: Session, day: date, historical: bool = False) -> None:
    """Make sure the stored periods are current and hold the prices on `day`; rebuilds and
    commits when they do not (first use, after a reference change, after a change of the pricing
    rules version, or a new year)."""
    connection = session.connection()
    reach = _reach(connection)
    if reach is not None and reach.covers(day, historical=historical):
        return
    # A day in the past counts only contracts started by then: build from today's year. Today's
    # figures need every active contract, also one starting later: build from that day's year.
    reference = max(day, date.today()) if historical else day
    try:
        _lock(connection)
        reach = _reach(connection)  # another session may have rebuilt while this one waited
        if reach is None or not reach.covers(day, historical=historical):
            rebuild_price_timeline(connection, today=reference)
        if not in_action(session):  # inside a user action its own commit takes the rebuild
            session.commit()
    except (IntegrityError, OperationalError):
        # Another session was rebuilding them at the same moment (SQLite: it held the write
        # lock); read on with what is committed, the next read tries again.
        session.rollback()


# --- Keeping them current on every ORM write ------------------------------------------------

CONTRACT_PARTS = (PriceChange, ContractAddon)
REFERENCE = (RegulationRate, PriceCategorySet)


def keep_prices_current() -> None:
    """Refresh the periods on every ORM flush from now on, in this process.

    Call it at start-up, before the first write (services.startup.prepare_database does). Safe to
    call again: the hook is installed once."""
    if not event.contains(OrmSession, "after_flush", _refresh_after_flush):
        event.listen(OrmSession, "after_flush", _refresh_after_flush)


def _refresh_after_flush(session: OrmSession, _context: Any) -> None:
    contract_ids: set[int] = set()
    references: list[Any] = []
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, Contract) and row.id is not None:
            contract_ids.add(row.id)
        elif isinstance(row, CONTRACT_PARTS):
            contract_ids.add(row.contract_id)
        elif isinstance(row, REFERENCE):
            references.append(row)
    if references:
        contract_ids |= _affected_by(session.connection(), references)
    if contract_ids:
        refresh_contract_prices(session.connection(), contract_ids)


def _affected_by(connection: sa.Connection, references: Sequence[Any]) -> set[int]:
    """The contracts whose prices an index rate or a category set can change: an index rate
    those regulated by index; a category set (per paragraph and year) those of its paragraph,
    before and after the change. Refreshed in the writer's transaction, so no page has to
    rebuild every contract after a reference change."""
    paragraphs: set[str] = set()
    index = False
    for row in references:
        if isinstance(row, RegulationRate):
            index = True
            continue
        paragraphs.add(str(row.paragraph))
        history = sa.inspect(row).attrs.paragraph.history
        paragraphs.update(str(old) for old in history.deleted or ())
    conditions: list[Any] = []
    if index:
        conditions.append(_text(Contract.regulation_kind) == RegulationKind.INDEX.value)
    if paragraphs:
        conditions.append(_text(Contract.paragraph).in_(sorted(paragraphs)))
    if not conditions:
        return set()
    found = connection.execute(sa.select(col(Contract.id)).where(sa.or_(*conditions))).scalars()
    return {contract_id for contract_id in found if contract_id is not None}
