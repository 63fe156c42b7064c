"""SPEC 4.2: the expected amount keeps full precision until the sum and is rounded once.

The worked example from the issue (three pieces in one month), and a property test: over random
contracts with price changes, regulation days and add-ons, the expected amount equals the exact
day-by-day sum rounded half-up once.
"""

import calendar
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from models import PriceUnit, RegulationKind
from services.rules.pricing import (
    AddonTerms,
    ExactSum,
    PriceTerms,
    Regulation,
    expected_amount,
    regulated_price,
)


def test_three_pieces_in_one_month_round_once():
    # 52.249,00 kr./måned; a price change to 52.249,15 from 24.09.2026; an add-on of
    # 7.222,50 kr./måned from 20.09.2026. September 2026 is exactly 54.897,285 kr.
    terms = PriceTerms(
        Decimal("52249.00"),
        PriceUnit.MONTH,
        date(2026, 1, 1),
        Regulation(),
        changes=((date(2026, 9, 24), Decimal("52249.15")),),
    )
    addon = AddonTerms(Decimal("7222.50"), PriceUnit.MONTH, date(2026, 9, 20))
    result = expected_amount(
        terms=terms,
        period_from=date(2026, 9, 1),
        period_to=date(2026, 9, 30),
        contract_start=date(2026, 1, 1),
        addons=[addon],
    )
    assert Decimal("54897.29") == result.total


def _rounded(price: str, days: int, denominator: int) -> Decimal:
    total = ExactSum()
    total.add(Decimal(price), days, denominator)
    return total.rounded()


def test_the_exact_sum_rounds_half_up_both_ways():
    assert Decimal("0.01") == _rounded("1", 1, 200)
    assert Decimal("0.00") == _rounded("499", 1, 100_000)
    assert Decimal("-0.01") == _rounded("-1", 1, 200)
    assert Decimal("54897.29") == _rounded("54897.285", 1, 1)


def _daily_share(price: Decimal, unit: PriceUnit, day: date) -> Fraction:
    if unit == PriceUnit.MONTH:
        return Fraction(price) / calendar.monthrange(day.year, day.month)[1]
    if unit == PriceUnit.YEAR:
        return Fraction(price) / (366 if calendar.isleap(day.year) else 365)
    return Fraction(price)


def _day_by_day(
    terms: PriceTerms,
    addons: list[AddonTerms],
    first: date,
    last: date,
    start: date,
    end: date | None,
) -> Decimal:
    total = Fraction(0)
    day = first
    while day <= last:
        if start <= day and (end is None or day <= end):
            total += _daily_share(regulated_price(terms, day), terms.unit, day)
            for addon in addons:
                if addon.valid_from <= day and (addon.valid_to is None or day <= addon.valid_to):
                    addon_terms = PriceTerms(
                        addon.price, addon.unit, addon.valid_from, terms.regulation
                    )
                    total += _daily_share(regulated_price(addon_terms, day), addon.unit, day)
        day += timedelta(days=1)
    return _half_up(total)


def _half_up(value: Fraction) -> Decimal:
    """Half-up to øre, written independently of the code under test (amounts here are ≥ 0)."""
    cents = value * 100
    whole = cents.numerator // cents.denominator
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole).scaleb(-2).quantize(Decimal("0.01"))


DAY0 = date(2025, 1, 1)
days = st.integers(min_value=0, max_value=700).map(lambda n: DAY0 + timedelta(days=n))
money = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("250000.00"), places=2)
units = st.sampled_from(list(PriceUnit))


@st.composite
def contracts(draw):
    base = draw(days)
    unit = draw(units)
    regulation = Regulation(
        kind=draw(st.sampled_from([RegulationKind.FIXED_PCT, RegulationKind.NONE])),
        pct=draw(st.decimals(min_value=Decimal("-5"), max_value=Decimal("12"), places=3)),
        month=draw(st.integers(1, 12)),
        day=draw(st.integers(1, 31)),
    )
    changes = tuple(
        (draw(days), draw(money)) for _ in range(draw(st.integers(min_value=0, max_value=3)))
    )
    terms = PriceTerms(draw(money), unit, base, regulation, changes)
    addons = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        valid_from = draw(days)
        length = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=200)))
        valid_to = None if length is None else valid_from + timedelta(days=length)
        addons.append(AddonTerms(draw(money), draw(units), valid_from, valid_to))
    start = draw(days)
    end = draw(st.one_of(st.none(), days))
    first = draw(days)
    last = first + timedelta(days=draw(st.integers(min_value=0, max_value=70)))
    return terms, addons, first, last, start, end


@settings(max_examples=300, deadline=None)
@given(contracts())
def test_expected_amount_is_the_exact_day_by_day_sum_rounded_once(case):
    terms, addons, first, last, start, end = case
    result = expected_amount(
        terms=terms,
        period_from=first,
        period_to=last,
        contract_start=start,
        contract_end=end,
        addons=addons,
    )
    assert _day_by_day(terms, addons, first, last, start, end) == result.total
