"""Regulated price, daily equivalent and annual amount, expected invoice amount (SPEC 4.1–4.2).

Pure functions on plain values: no database, no Streamlit. Money keeps full precision until
the final sum: the pieces of a period are added as exact fractions and rounded once.
"""

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any

import sqlalchemy as sa

from models.enums import PriceUnit, RegulationKind
from models.types import ORE, round_ore
from services.errors import UserError

HUNDRED = Decimal(100)
# Multiplying and adding amounts of at most 14 digits stays exact in 60 digits; the traps make
# sure of it (an inexact step raises instead of rounding silently).
EXACT = Context(prec=60, traps=[Inexact, Rounded])
DAYS_PER_YEAR = Decimal(365)


class MissingIndexRate(UserError):
    """An index-regulated price needs a year's rate that is not registered."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"Der mangler en reguleringssats (indeks) for {year}. "
            "Tilføj den under Indstillinger, før prisen kan beregnes."
        )
        self.year = year


# The largest amount a price may reach: NUMERIC(14,2), as every amount is stored.
PRICE_CEILING = Decimal("999999999999.99")


class PriceOutOfRange(UserError):
    """Regulated so long (decades at a high rate) that the price leaves every stored amount."""

    def __init__(self, on: date) -> None:
        super().__init__(
            f"Prisen pr. {on.strftime('%d.%m.%Y')} kan ikke beregnes: reguleret så længe bliver "
            "den større end noget beløb, der kan gemmes. Tjek kontraktens pris, prisdato og "
            "regulering."
        )


@dataclass(frozen=True)
class Regulation:
    """How a price is regulated: kind, fixed rate in percent, and the day of the year."""

    kind: RegulationKind = RegulationKind.FIXED_PCT
    pct: Decimal = Decimal("2.00")
    month: int = 1
    day: int = 1
    index_rates: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceTerms:
    """A price with its unit, base date, regulation and later price changes (date, new price)."""

    price: Decimal
    unit: PriceUnit
    base_date: date
    regulation: Regulation = Regulation()
    changes: Sequence[tuple[date, Decimal]] = ()


@dataclass(frozen=True)
class AddonTerms:
    price: Decimal
    unit: PriceUnit
    valid_from: date
    valid_to: date | None = None


def add_months(start: date, months: int) -> date:
    """Calendar months, clamped to the month's end: 31 Jan + 1 month = 28/29 Feb."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def regulation_day_in(year: int, month: int, day: int) -> date:
    """The regulation day in a given year; 29 or 31 is clamped to the month's last day."""
    if day <= 28:  # every month has it: no clamping needed (the common, fast case)
        return date(year, month, day)
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def regulation_days(base_date: date, on: date, regulation: Regulation) -> list[date]:
    """Regulation days strictly after the base date and on or before `on`."""
    if regulation.kind == RegulationKind.NONE or on <= base_date:
        return []
    days = []
    for year in range(base_date.year, on.year + 1):
        day = regulation_day_in(year, regulation.month, regulation.day)
        if base_date < day <= on:
            days.append(day)
    return days


def regulation_rate(year: int, regulation: Regulation) -> Decimal:
    """The rate in percent applied on the regulation day of `year`."""
    if regulation.kind == RegulationKind.INDEX:
        if year not in regulation.index_rates:
            raise MissingIndexRate(year)
        return Decimal(regulation.index_rates[year])
    if regulation.kind == RegulationKind.NONE:
        return Decimal(0)
    return regulation.pct


def regulate(price: Decimal, base_date: date, on: date, regulation: Regulation) -> Decimal:
    """Apply each regulation step after `base_date` up to `on`, rounding to øre each step."""
    result = round_ore(price)
    fixed = HUNDRED + regulation.pct if regulation.kind == RegulationKind.FIXED_PCT else None
    for day in regulation_days(base_date, on, regulation):
        factor = fixed if fixed is not None else HUNDRED + regulation_rate(day.year, regulation)
        result = round_ore(EXACT.multiply(result, factor).scaleb(-2))
        if abs(result) > PRICE_CEILING:
            raise PriceOutOfRange(on)
    return result


# The most decimals a rate may have for regulate_sql: whole-number arithmetic on øre stays
# within BIGINT (a step multiplies a remainder below 100 × 10^d by about 100 × 10^d).
_SQL_RATE_DECIMALS = 6
_CEILING_ORE = int(PRICE_CEILING * 100)


def _rate_scale(rates: Sequence[Decimal]) -> int:
    """10^d for the most decimals d among the rates, so every (100 + rate) × 10^d is whole."""
    decimals = 0
    for rate in rates:
        exponent = Decimal(rate).normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            decimals = max(decimals, -exponent)
    if decimals > _SQL_RATE_DECIMALS:
        raise ValueError(f"regulate_sql: a rate has more than {_SQL_RATE_DECIMALS} decimals")
    return 10**decimals


def regulate_sql(source: Any, on: date, regulation: Regulation, *, name: str = "regulated") -> Any:
    """SQL twin of `regulate` for many prices at once, exact on SQLite and PostgreSQL.

    `source` is a subquery with the columns `key`, `price` (kroner, positive) and `base_date`
    (not NULL). Returns a subquery with `key` and `price_ore`: the price regulated from its base
    date to `on`, in whole øre, rounded half-up at every step as `regulate` does; NULL where
    `regulate` raises (a missing index rate, or past PRICE_CEILING).

    The steps run as a recursive query over the regulation years, in whole numbers: a step
    multiplies by (100 + rate) × 10^d and divides by 100 × 10^d, split into quotient and
    remainder so nothing outgrows BIGINT and nothing passes through floating point (SQLite
    stores NUMERIC as REAL). Regulation days after the 28th (clamped per month) are not
    supported here; offers are regulated on 1 January.
    """
    if regulation.day > 28:
        raise ValueError("regulate_sql supports regulation days 1–28")
    price_ore = sa.cast(sa.func.round(source.c.price * 100), sa.BigInteger)
    if regulation.kind == RegulationKind.NONE:
        return sa.select(source.c.key, price_ore.label("price_ore")).subquery(name)

    base_year = sa.cast(sa.extract("year", source.c.base_date), sa.Integer)
    base_month_day = sa.extract("month", source.c.base_date) * 100 + sa.extract(
        "day", source.c.base_date
    )
    # The first year whose regulation day is strictly after the base date ...
    first_year = sa.case(
        (base_month_day < regulation.month * 100 + regulation.day, base_year),
        else_=base_year + 1,
    )
    # ... and the last whose regulation day is on or before `on`.
    last_year = on.year if date(on.year, regulation.month, regulation.day) <= on else on.year - 1

    rates = dict(regulation.index_rates) if regulation.kind == RegulationKind.INDEX else {}
    scale = _rate_scale(list(rates.values()) if rates else [regulation.pct])
    divisor = 100 * scale

    steps = sa.select(
        source.c.key.label("key"),
        price_ore.label("price_ore"),
        sa.cast(first_year, sa.Integer).label("year"),
    ).cte(f"{name}_steps", recursive=True)
    previous = steps.alias(f"{name}_previous")
    if regulation.kind == RegulationKind.INDEX:
        # A year without a rate gives NULL: the price cannot be computed (MissingIndexRate).
        factor: Any = sa.case(
            *(
                (previous.c.year == year, int((HUNDRED + Decimal(rate)) * scale))
                for year, rate in sorted(rates.items())
            ),
            else_=sa.null(),
        )
    else:
        factor = sa.literal(int((HUNDRED + regulation.pct) * scale), sa.BigInteger)
    quotient = previous.c.price_ore // divisor  # whole-number division on both engines
    remainder = previous.c.price_ore % divisor
    stepped = quotient * factor + (remainder * factor + divisor // 2) // divisor
    steps = steps.union_all(
        sa.select(
            previous.c.key,
            sa.case((stepped > _CEILING_ORE, sa.null()), else_=stepped),
            previous.c.year + 1,
        ).where(previous.c.year <= last_year)
    )
    return sa.select(steps.c.key, steps.c.price_ore).where(steps.c.year > last_year).subquery(name)


def price_base(terms: PriceTerms, on: date) -> tuple[Decimal, date]:
    """The latest price change on or before `on`, else the contract price and its base date."""
    latest: tuple[date, Decimal] | None = None
    for effective, new_price in terms.changes:
        if effective <= on and (latest is None or effective >= latest[0]):
            latest = (effective, new_price)
    if latest is None:
        return terms.price, terms.base_date
    return latest[1], latest[0]


def regulated_price(terms: PriceTerms, on: date) -> Decimal:
    """The price in force on `on` (SPEC 4.1)."""
    price, base_date = price_base(terms, on)
    return regulate(price, base_date, on, terms.regulation)


def daily_equivalent(price: Decimal, unit: PriceUnit | str) -> Decimal:
    """Price per day for comparison: `dag` as is, `maaned` × 12 / 365, `aar` / 365 (unrounded)."""
    unit = PriceUnit(unit)
    if unit == PriceUnit.MONTH:
        return price * 12 / DAYS_PER_YEAR
    if unit == PriceUnit.YEAR:
        return price / DAYS_PER_YEAR
    return Decimal(price)


# A year of a price per unit: 365 daily equivalents (SPEC 4.4, 4.7).
ANNUAL_FACTOR = {PriceUnit.DAY: 365, PriceUnit.MONTH: 12, PriceUnit.YEAR: 1}


def annual_amount(price: Decimal, unit: PriceUnit | str) -> Decimal:
    """A year's cost of a price: 365 daily equivalents, rounded to øre."""
    return round_ore(price * ANNUAL_FACTOR[PriceUnit(unit)])


def annual_factor_sql(unit: Any) -> Any:
    """SQL twin of ANNUAL_FACTOR for a price-unit column: price × factor is a year's cost."""
    return sa.case(
        *((unit == u.value, factor) for u, factor in ANNUAL_FACTOR.items() if factor != 1),
        else_=1,
    )


def _days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def _days_of_unit(unit: PriceUnit, first: date) -> int:
    """The days a price's unit is spread over: 1 for `dag`, the calendar month's days for
    `maaned`, the calendar year's days for `aar`."""
    if unit == PriceUnit.MONTH:
        return calendar.monthrange(first.year, first.month)[1]
    if unit == PriceUnit.YEAR:
        return _days_in_year(first.year)
    return 1


class ExactSum:
    """Adds amounts of the form price × days / days-of-unit without rounding anything: the
    numerators are added per denominator in exact Decimal arithmetic, and the few
    denominators are combined as a fraction only when the total is rounded, once."""

    def __init__(self) -> None:
        self._numerators: dict[int, Decimal] = {}

    def add(self, price: Decimal, days: int, denominator: int) -> Decimal:
        """Add price × days / denominator; returns the piece (unrounded, for display)."""
        numerator = EXACT.multiply(price, days)
        self._numerators[denominator] = EXACT.add(
            self._numerators.get(denominator, Decimal(0)), numerator
        )
        return numerator / denominator

    def rounded(self) -> Decimal:
        """The exact total rounded half-up to øre: over the least common denominator L the
        total is N / L, and N × 100 divided by L in whole numbers leaves the remainder that
        decides the rounding."""
        common = math.lcm(*self._numerators) if self._numerators else 1
        total = Decimal(0)
        for denominator, numerator in self._numerators.items():
            total = EXACT.add(total, EXACT.multiply(numerator, common // denominator))
        ore, remainder = EXACT.divmod(EXACT.multiply(abs(total), HUNDRED), common)
        if EXACT.multiply(remainder, 2) >= common:
            ore += 1
        return (ore * ORE).copy_sign(total) if ore else Decimal("0.00")


def _month_starts(start: date, stop: date) -> list[date]:
    """The first days of the months after `start`'s, before `stop`."""
    result: list[date] = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        current = date(year, month, 1)
        if current >= stop:
            return result
        result.append(current)


@dataclass(frozen=True)
class PeriodLine:
    """One segment of an expected-amount calculation, for showing the user how it was done."""

    what: str
    first: date
    last: date
    days: int
    price: Decimal
    unit: PriceUnit
    amount: Decimal


@dataclass(frozen=True)
class ExpectedAmount:
    total: Decimal
    lines: list[PeriodLine]
    days: int


def expected_amount(
    *,
    terms: PriceTerms,
    period_from: date,
    period_to: date,
    contract_start: date,
    contract_end: date | None = None,
    addons: Sequence[AddonTerms] = (),
) -> ExpectedAmount:
    """Expected invoice amount for a period (SPEC 4.2): exact per day, rounded once at the end."""
    if period_to < period_from:
        raise UserError("Perioden slutter før den begynder.")
    first = max(period_from, contract_start)
    last = min(period_to, contract_end) if contract_end else period_to
    if last < first:
        return ExpectedAmount(Decimal("0.00"), [], 0)
    stop = last + timedelta(days=1)

    # Split the period wherever a price or the way it is spread can change.
    cuts = {first, stop, *_month_starts(first, stop)}
    cuts.update(regulation_days(first - timedelta(days=1), last, terms.regulation))
    if terms.changes:
        cuts.update(d for d, _ in terms.changes if first < d < stop)
    for addon in addons:
        cuts.add(addon.valid_from)
        if addon.valid_to:
            cuts.add(addon.valid_to + timedelta(days=1))
    edges = sorted(c for c in cuts if first <= c <= stop)

    total = ExactSum()
    lines: list[PeriodLine] = []
    for seg_start, seg_stop in zip(edges, edges[1:], strict=False):
        days = (seg_stop - seg_start).days
        seg_last = seg_stop - timedelta(days=1)
        price = regulated_price(terms, seg_start)
        amount = total.add(price, days, _days_of_unit(terms.unit, seg_start))
        lines.append(PeriodLine("Grundtakst", seg_start, seg_last, days, price, terms.unit, amount))
        for addon in addons:
            if addon.valid_from <= seg_start and (
                addon.valid_to is None or seg_last <= addon.valid_to
            ):
                addon_terms = PriceTerms(
                    addon.price, addon.unit, addon.valid_from, terms.regulation
                )
                addon_price = regulated_price(addon_terms, seg_start)
                addon_amount = total.add(addon_price, days, _days_of_unit(addon.unit, seg_start))
                lines.append(
                    PeriodLine(
                        "Tillæg",
                        seg_start,
                        seg_last,
                        days,
                        addon_price,
                        addon.unit,
                        addon_amount,
                    )
                )
    return ExpectedAmount(total.rounded(), lines, (stop - first).days)


def net_after_vat_refund(price: Decimal, refund_pct: Decimal) -> Decimal:
    """Net price after the municipality's vat refund: price × (1 − refund)."""
    return round_ore(price * (1 - refund_pct / HUNDRED))


# --- Plausibility of an agreed price (issue 10) ------------------------------------------------


def plausible_price_max(
    unit: PriceUnit | str, *, daily_rate: Decimal, monthly_price: Decimal
) -> Decimal:
    """The highest price per `unit` saved without asking the user to confirm it: the daily rate
    for `dag`, the monthly price for `maaned`, the daily rate × 365 for `aar` (both limits are
    settings: AppSettings.plausible_daily_rate and plausible_monthly_price)."""
    unit = PriceUnit(unit)
    if unit == PriceUnit.MONTH:
        return monthly_price
    if unit == PriceUnit.YEAR:
        return daily_rate * DAYS_PER_YEAR
    return daily_rate


# --- The price a contract is bought at from an offer ------------------------------------------


def offer_price(
    *,
    list_rate: Decimal | None,
    list_rate_year: int | None,
    negotiated_rate: Decimal | None,
    negotiated_from: date | None,
) -> tuple[Decimal, date | None] | None:
    """The daily rate a new contract on an offer starts from, with the date it is agreed per
    (regulation runs from there): the negotiated rate from its valid-from date, else the list
    rate of Tilbudsportalen from 1 January of its year. None: the offer has no rate."""
    if negotiated_rate is not None:
        return negotiated_rate, negotiated_from
    if list_rate is not None:
        return list_rate, date(list_rate_year, 1, 1) if list_rate_year else None
    return None
