"""Regulated price, expected amount, invoice deviation and price category (SPEC 4.1–4.4)."""

from datetime import date
from decimal import Decimal

import pytest

from models.enums import PriceCategory, PriceUnit, RegulationKind
from models.types import round_ore
from services.errors import UserError
from services.rules.categories import CategoryThresholds, above_visitation, price_category
from services.rules.deviations import invoice_deviation
from services.rules.pricing import (
    AddonTerms,
    MissingIndexRate,
    PriceTerms,
    Regulation,
    add_months,
    annual_amount,
    daily_equivalent,
    expected_amount,
    net_after_vat_refund,
    regulated_price,
    regulation_days,
)

# The contract of the SPEC 4.1 example: 2.000,00 kr./dag, base 2024-03-01, 2.00 % on 1 January.
SPEC_TERMS = PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1))
SPEC_CHANGE = (date(2026, 4, 1), Decimal("2050.00"))
SPEC_TERMS_WITH_CHANGE = PriceTerms(
    Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), changes=[SPEC_CHANGE]
)
SPEC_START = date(2024, 3, 1)
NO_REGULATION = Regulation(kind=RegulationKind.NONE)
INDEX = Regulation(
    kind=RegulationKind.INDEX,
    pct=Decimal("9.00"),  # ignored for index regulation
    index_rates={2025: Decimal("3.10"), 2026: Decimal("1.50")},
)
THRESHOLDS = CategoryThresholds(
    middel_from=Decimal("1500.00"),
    hoej_from=Decimal("2500.00"),
    ekstraordinaer_from=Decimal("4000.00"),
)


# --- add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 Feb + a year clamps
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across a year end
        (date(2026, 1, 31), 0, date(2026, 1, 31)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert expected == add_months(start, months)


# --- regulation_days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "on", "regulation", "expected"),
    [
        (
            date(2024, 3, 1),
            date(2027, 1, 1),
            Regulation(),
            [date(2025, 1, 1), date(2026, 1, 1), date(2027, 1, 1)],
        ),
        (date(2024, 3, 1), date(2024, 12, 31), Regulation(), []),
        (date(2024, 3, 1), date(2024, 3, 1), Regulation(), []),
        (date(2024, 3, 1), date(2023, 1, 1), Regulation(), []),
        # Strictly after the base date: a base on the regulation day is not regulated that day.
        (date(2025, 1, 1), date(2026, 1, 1), Regulation(), [date(2026, 1, 1)]),
        (date(2024, 3, 1), date(2030, 1, 1), NO_REGULATION, []),
        (
            date(2024, 3, 1),
            date(2026, 6, 30),
            Regulation(month=7, day=1),
            [date(2024, 7, 1), date(2025, 7, 1)],
        ),
        # Day 31 in a 30-day month is clamped to the 30th.
        (
            date(2025, 1, 1),
            date(2026, 12, 31),
            Regulation(month=4, day=31),
            [date(2025, 4, 30), date(2026, 4, 30)],
        ),
        # Day 29/31 of February: 28th, or 29th in a leap year.
        (
            date(2023, 1, 1),
            date(2025, 12, 31),
            Regulation(month=2, day=29),
            [date(2023, 2, 28), date(2024, 2, 29), date(2025, 2, 28)],
        ),
        (
            date(2023, 1, 1),
            date(2025, 12, 31),
            Regulation(month=2, day=31),
            [date(2023, 2, 28), date(2024, 2, 29), date(2025, 2, 28)],
        ),
    ],
)
def test_regulation_days(base, on, regulation, expected):
    assert expected == regulation_days(base, on, regulation)


# --- regulated_price (SPEC 4.1) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "on", "expected"),
    [
        # SPEC 4.1 worked examples.
        (SPEC_TERMS, date(2024, 12, 31), Decimal("2000.00")),
        (SPEC_TERMS, date(2025, 1, 1), Decimal("2040.00")),
        (SPEC_TERMS, date(2026, 6, 15), Decimal("2080.80")),
        (SPEC_TERMS, date(2027, 1, 1), Decimal("2122.42")),  # 2.122,416 rounds up
        (SPEC_TERMS_WITH_CHANGE, date(2026, 6, 15), Decimal("2050.00")),
        (SPEC_TERMS_WITH_CHANGE, date(2027, 1, 1), Decimal("2091.00")),
    ],
)
def test_regulated_price_spec_examples(terms, on, expected):
    assert expected == regulated_price(terms, on)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2024, 3, 1), Decimal("2000.00")),  # the base date itself
        (date(2026, 3, 31), Decimal("2080.80")),  # the day before the price change
        (date(2026, 4, 1), Decimal("2050.00")),  # the change's own day
        (date(2027, 12, 31), Decimal("2091.00")),
        (date(2028, 1, 1), Decimal("2132.82")),  # 2.091,00 × 1,02 — regulation from the change
    ],
)
def test_regulated_price_runs_from_latest_price_change(on, expected):
    assert expected == regulated_price(SPEC_TERMS_WITH_CHANGE, on)


def test_regulated_price_rounds_each_step_so_steps_compound_on_rounded_prices():
    # 2.122,42 × 1,02 = 2.164,8684 → 2.164,87; unrounded 2.000 × 1,02⁴ would give 2.164,86.
    assert Decimal("2164.87") == regulated_price(SPEC_TERMS, date(2028, 1, 1))


def test_regulated_price_rounds_half_up():
    # 1.000,75 × 1,02 = 1.020,765: half-up gives 1.020,77 (half-even would give 1.020,76).
    terms = PriceTerms(Decimal("1000.75"), PriceUnit.DAY, date(2024, 3, 1))
    assert Decimal("1020.77") == regulated_price(terms, date(2025, 1, 1))


@pytest.mark.parametrize(
    ("changes", "on", "expected"),
    [
        # Changes need not be given in date order; the latest on or before the date wins.
        (
            [SPEC_CHANGE, (date(2025, 6, 1), Decimal("2010.00"))],
            date(2025, 5, 31),
            Decimal("2040.00"),
        ),
        (
            [SPEC_CHANGE, (date(2025, 6, 1), Decimal("2010.00"))],
            date(2025, 12, 31),
            Decimal("2010.00"),
        ),
        (
            [SPEC_CHANGE, (date(2025, 6, 1), Decimal("2010.00"))],
            date(2026, 1, 1),
            Decimal("2050.20"),
        ),
        (
            [SPEC_CHANGE, (date(2025, 6, 1), Decimal("2010.00"))],
            date(2026, 6, 15),
            Decimal("2050.00"),
        ),
        # A change effective on a regulation day is not regulated that same day.
        ([(date(2026, 1, 1), Decimal("2050.00"))], date(2026, 1, 1), Decimal("2050.00")),
        ([(date(2026, 1, 1), Decimal("2050.00"))], date(2027, 1, 1), Decimal("2091.00")),
    ],
)
def test_regulated_price_with_several_price_changes(changes, on, expected):
    terms = PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), changes=changes)
    assert expected == regulated_price(terms, on)


@pytest.mark.parametrize(
    ("regulation", "base", "on", "expected"),
    [
        # Regulation on 1 July instead of 1 January.
        (Regulation(month=7, day=1), date(2024, 3, 1), date(2024, 6, 30), Decimal("2000.00")),
        (Regulation(month=7, day=1), date(2024, 3, 1), date(2024, 7, 1), Decimal("2040.00")),
        (Regulation(month=7, day=1), date(2024, 3, 1), date(2025, 1, 1), Decimal("2040.00")),
        (Regulation(month=7, day=1), date(2024, 3, 1), date(2025, 7, 1), Decimal("2080.80")),
        # Regulation day 31 April is clamped to 30 April.
        (Regulation(month=4, day=31), date(2025, 1, 1), date(2025, 4, 29), Decimal("2000.00")),
        (Regulation(month=4, day=31), date(2025, 1, 1), date(2025, 4, 30), Decimal("2040.00")),
        # Another fixed rate.
        (Regulation(pct=Decimal("3.50")), date(2024, 3, 1), date(2025, 1, 1), Decimal("2070.00")),
        # `ingen`: never regulated.
        (NO_REGULATION, date(2024, 3, 1), date(2030, 1, 1), Decimal("2000.00")),
        # `indeks`: the year's rate from the index table, not the fixed pct.
        (INDEX, date(2024, 3, 1), date(2024, 12, 31), Decimal("2000.00")),
        (INDEX, date(2024, 3, 1), date(2025, 1, 1), Decimal("2062.00")),
        (INDEX, date(2024, 3, 1), date(2026, 1, 1), Decimal("2092.93")),
        (INDEX, date(2024, 3, 1), date(2026, 12, 31), Decimal("2092.93")),
    ],
)
def test_regulated_price_by_regulation_kind_and_day(regulation, base, on, expected):
    terms = PriceTerms(Decimal("2000.00"), PriceUnit.DAY, base, regulation)
    assert expected == regulated_price(terms, on)


def test_index_regulation_with_missing_year_is_an_error_with_danish_message():
    terms = PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), INDEX)
    with pytest.raises(MissingIndexRate) as excinfo:
        regulated_price(terms, date(2027, 1, 1))
    assert 2027 == excinfo.value.year
    assert isinstance(excinfo.value, UserError)
    assert "2027" in excinfo.value.message
    assert "mangler en reguleringssats" in excinfo.value.message


# --- expected_amount (SPEC 4.2) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "period_from", "period_to", "contract_start", "addons", "expected"),
    [
        # 2.080,80 kr./dag for March 2026 (31 days).
        (SPEC_TERMS, date(2026, 3, 1), date(2026, 3, 31), SPEC_START, [], Decimal("64504.80")),
        # With an add-on of 4.500,00 kr./måned valid from 2026-01-01.
        (
            SPEC_TERMS,
            date(2026, 3, 1),
            date(2026, 3, 31),
            SPEC_START,
            [AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2026, 1, 1))],
            Decimal("69004.80"),
        ),
        # 60.000,00 kr./måned, base 2026-01-01, 16 days of March: 60.000 / 31 × 16.
        (
            PriceTerms(Decimal("60000.00"), PriceUnit.MONTH, date(2026, 1, 1)),
            date(2026, 3, 16),
            date(2026, 3, 31),
            date(2026, 1, 1),
            [],
            Decimal("30967.74"),  # rounding per day would give 30.967,68
        ),
    ],
)
def test_expected_amount_spec_examples(
    terms, period_from, period_to, contract_start, addons, expected
):
    result = expected_amount(
        terms=terms,
        period_from=period_from,
        period_to=period_to,
        contract_start=contract_start,
        addons=addons,
    )
    assert expected == result.total


def test_expected_amount_counts_days_and_explains_itself():
    result = expected_amount(
        terms=SPEC_TERMS,
        period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31),
        contract_start=SPEC_START,
    )
    assert 31 == result.days
    assert [Decimal("2080.80")] == [line.price for line in result.lines]
    assert 31 == sum(line.days for line in result.lines)


MONTHLY_60000 = PriceTerms(Decimal("60000.00"), PriceUnit.MONTH, date(2024, 1, 1), NO_REGULATION)
YEARLY_366000 = PriceTerms(Decimal("366000.00"), PriceUnit.YEAR, date(2024, 1, 1), NO_REGULATION)


@pytest.mark.parametrize(
    ("terms", "period_from", "period_to", "expected"),
    [
        # `maaned`: spread over the days of each calendar month.
        (MONTHLY_60000, date(2026, 3, 1), date(2026, 3, 31), Decimal("60000.00")),
        (MONTHLY_60000, date(2024, 2, 1), date(2024, 2, 29), Decimal("60000.00")),  # leap Feb
        (MONTHLY_60000, date(2025, 2, 1), date(2025, 2, 28), Decimal("60000.00")),
        (MONTHLY_60000, date(2024, 2, 1), date(2024, 2, 14), Decimal("28965.52")),  # 14/29
        (MONTHLY_60000, date(2025, 2, 1), date(2025, 2, 14), Decimal("30000.00")),  # 14/28
        # Across a month end: 16/31 of January + 14/28 of February.
        (MONTHLY_60000, date(2026, 1, 16), date(2026, 2, 14), Decimal("60967.74")),
        (MONTHLY_60000, date(2026, 1, 1), date(2026, 12, 31), Decimal("720000.00")),
        # `aar`: spread over the days of its year (366 in a leap year).
        (YEARLY_366000, date(2024, 1, 1), date(2024, 12, 31), Decimal("366000.00")),
        (YEARLY_366000, date(2024, 2, 29), date(2024, 2, 29), Decimal("1000.00")),
        (YEARLY_366000, date(2025, 1, 1), date(2025, 1, 1), Decimal("1002.74")),  # /365
        (YEARLY_366000, date(2024, 12, 31), date(2025, 1, 1), Decimal("2002.74")),
        (YEARLY_366000, date(2025, 1, 1), date(2025, 12, 31), Decimal("366000.00")),
        # `aar` regulated on 1 January: 365.000 / 365 + 372.300 / 365.
        (
            PriceTerms(Decimal("365000.00"), PriceUnit.YEAR, date(2025, 6, 1)),
            date(2025, 12, 31),
            date(2026, 1, 1),
            Decimal("2020.00"),
        ),
        # `ingen` regulation on a daily price.
        (
            PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), NO_REGULATION),
            date(2026, 3, 1),
            date(2026, 3, 31),
            Decimal("62000.00"),
        ),
        # Crossing a regulation day: 2 days at 2.040,00 and 2 days at 2.080,80.
        (SPEC_TERMS, date(2025, 12, 30), date(2026, 1, 2), Decimal("8241.60")),
        # Crossing a 1 July regulation day of a monthly price: 15/30 × 30.000 + 15/31 × 30.600.
        (
            PriceTerms(
                Decimal("30000.00"), PriceUnit.MONTH, date(2025, 1, 1), Regulation(month=7, day=1)
            ),
            date(2025, 6, 16),
            date(2025, 7, 15),
            Decimal("29806.45"),
        ),
        # A price change inside the period: 2 days at 2.080,80 and 2 days at 2.050,00.
        (SPEC_TERMS_WITH_CHANGE, date(2026, 3, 30), date(2026, 4, 2), Decimal("8261.60")),
        # Index regulation inside the period: 1 day at 2.000,00 and 1 day at 2.062,00.
        (
            PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), INDEX),
            date(2024, 12, 31),
            date(2025, 1, 1),
            Decimal("4062.00"),
        ),
    ],
)
def test_expected_amount_by_unit_and_regulation(terms, period_from, period_to, expected):
    result = expected_amount(
        terms=terms,
        period_from=period_from,
        period_to=period_to,
        contract_start=date(2024, 1, 1),
    )
    assert expected == result.total


@pytest.mark.parametrize(
    ("contract_start", "contract_end", "expected_total", "expected_days"),
    [
        (SPEC_START, None, Decimal("64504.80"), 31),
        (SPEC_START, date(2026, 3, 10), Decimal("20808.00"), 10),  # ends inside the period
        (date(2026, 3, 20), None, Decimal("24969.60"), 12),  # starts inside the period
        (date(2026, 3, 10), date(2026, 3, 19), Decimal("20808.00"), 10),  # both inside
        (date(2026, 3, 31), date(2026, 3, 31), Decimal("2080.80"), 1),
        (SPEC_START, date(2026, 2, 28), Decimal("0.00"), 0),  # ended before the period
        (date(2026, 4, 1), None, Decimal("0.00"), 0),  # starts after the period
    ],
)
def test_expected_amount_only_counts_days_inside_the_contract(
    contract_start, contract_end, expected_total, expected_days
):
    result = expected_amount(
        terms=SPEC_TERMS,
        period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31),
        contract_start=contract_start,
        contract_end=contract_end,
    )
    assert expected_total == result.total
    assert expected_days == result.days


def test_expected_amount_outside_the_contract_is_zero_with_two_decimals():
    result = expected_amount(
        terms=SPEC_TERMS,
        period_from=date(2023, 1, 1),
        period_to=date(2023, 12, 31),
        contract_start=SPEC_START,
    )
    assert "0.00" == str(result.total)
    assert [] == result.lines


@pytest.mark.parametrize(
    ("addon", "expected"),
    [
        # Starts mid-period: 16/31 of 4.500,00.
        (AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2026, 3, 16)), Decimal("66827.38")),
        # Ends mid-period: 15/31 of 4.500,00.
        (
            AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2026, 1, 1), date(2026, 3, 15)),
            Decimal("66682.22"),
        ),
        # A daily add-on for 10 days.
        (
            AddonTerms(Decimal("150.00"), PriceUnit.DAY, date(2026, 3, 10), date(2026, 3, 19)),
            Decimal("66004.80"),
        ),
        # Regulated like the contract: 4.500,00 from 2025-06-01 is 4.590,00 in 2026.
        (AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2025, 6, 1)), Decimal("69094.80")),
        # Ended before the period, or starting after it: not counted.
        (
            AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2026, 1, 1), date(2026, 2, 28)),
            Decimal("64504.80"),
        ),
        (AddonTerms(Decimal("4500.00"), PriceUnit.MONTH, date(2026, 4, 1)), Decimal("64504.80")),
    ],
)
def test_expected_amount_with_addons_valid_part_of_the_period(addon, expected):
    result = expected_amount(
        terms=SPEC_TERMS,
        period_from=date(2026, 3, 1),
        period_to=date(2026, 3, 31),
        contract_start=SPEC_START,
        addons=[addon],
    )
    assert expected == result.total


def test_expected_amount_with_missing_index_year_is_an_error_not_zero_percent():
    terms = PriceTerms(Decimal("2000.00"), PriceUnit.DAY, date(2024, 3, 1), INDEX)
    with pytest.raises(MissingIndexRate) as excinfo:
        expected_amount(
            terms=terms,
            period_from=date(2026, 12, 1),
            period_to=date(2027, 1, 31),
            contract_start=date(2024, 3, 1),
        )
    assert "2027" in str(excinfo.value)


def test_expected_amount_rejects_a_period_that_ends_before_it_begins():
    with pytest.raises(UserError):
        expected_amount(
            terms=SPEC_TERMS,
            period_from=date(2026, 3, 31),
            period_to=date(2026, 3, 1),
            contract_start=SPEC_START,
        )


# --- invoice_deviation (SPEC 4.3) -----------------------------------------------------------


def test_invoice_deviation_spec_example():
    result = invoice_deviation(invoiced=Decimal("66000.00"), expected=Decimal("64504.80"))
    assert Decimal("1495.20") == result.amount
    assert Decimal("2.32") == round_ore(result.pct)
    assert result.flagged
    assert not result.under_expected


@pytest.mark.parametrize(
    ("invoiced", "flagged", "under_expected"),
    [
        (Decimal("64504.80"), False, False),
        (Decimal("64505.80"), False, False),  # 1,00 kr. over: within the default tolerance
        (Decimal("64505.81"), True, False),  # 1,01 kr. over: flagged
        (Decimal("64503.80"), False, False),  # 1,00 kr. under
        (Decimal("64503.79"), False, True),  # 1,01 kr. under: shown, never flagged
        (Decimal("50000.00"), False, True),
    ],
)
def test_invoice_deviation_default_tolerance_edges(invoiced, flagged, under_expected):
    result = invoice_deviation(invoiced=invoiced, expected=Decimal("64504.80"))
    assert flagged == result.flagged
    assert under_expected == result.under_expected


@pytest.mark.parametrize(
    ("invoiced", "tolerance_kr", "tolerance_pct", "flagged", "under_expected"),
    [
        # 2 % of 10.000,00 = 200,00 is larger than 1,00 kr.
        (Decimal("10200.00"), Decimal("1.00"), Decimal("2"), False, False),
        (Decimal("10200.01"), Decimal("1.00"), Decimal("2"), True, False),
        (Decimal("9800.00"), Decimal("1.00"), Decimal("2"), False, False),
        (Decimal("9799.99"), Decimal("1.00"), Decimal("2"), False, True),
        # 500,00 kr. is larger than 2 % of 10.000,00.
        (Decimal("10500.00"), Decimal("500.00"), Decimal("2"), False, False),
        (Decimal("10500.01"), Decimal("500.00"), Decimal("2"), True, False),
        (Decimal("10200.01"), Decimal("500.00"), Decimal("2"), False, False),
    ],
)
def test_invoice_deviation_uses_the_larger_tolerance(
    invoiced, tolerance_kr, tolerance_pct, flagged, under_expected
):
    result = invoice_deviation(
        invoiced=invoiced,
        expected=Decimal("10000.00"),
        tolerance_kr=tolerance_kr,
        tolerance_pct=tolerance_pct,
    )
    assert flagged == result.flagged
    assert under_expected == result.under_expected


def test_invoice_deviation_percent_is_of_expected():
    result = invoice_deviation(invoiced=Decimal("9500.00"), expected=Decimal("10000.00"))
    assert Decimal("-500.00") == result.amount
    assert Decimal("-5") == result.pct


@pytest.mark.parametrize(
    ("invoiced", "amount", "flagged"),
    [
        (Decimal("0.00"), Decimal("0.00"), False),
        (Decimal("1.00"), Decimal("1.00"), False),
        (Decimal("100.00"), Decimal("100.00"), True),
    ],
)
def test_invoice_deviation_with_nothing_expected(invoiced, amount, flagged):
    result = invoice_deviation(invoiced=invoiced, expected=Decimal("0.00"))
    assert amount == result.amount
    assert result.pct is None
    assert flagged == result.flagged
    assert not result.under_expected


# --- price category (SPEC 4.4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("daily_rate", "expected"),
    [
        (Decimal("0.00"), PriceCategory.LOW),
        (Decimal("1499.99"), PriceCategory.LOW),
        (Decimal("1500.00"), PriceCategory.MEDIUM),  # equal to a threshold: the higher band
        (Decimal("2499.99"), PriceCategory.MEDIUM),
        (Decimal("2500.00"), PriceCategory.HIGH),
        (Decimal("3999.99"), PriceCategory.HIGH),
        (Decimal("4000.00"), PriceCategory.EXTRAORDINARY),
        (Decimal("12000.00"), PriceCategory.EXTRAORDINARY),
    ],
)
def test_price_category_bands(daily_rate, expected):
    assert expected == price_category(daily_rate, THRESHOLDS)


def test_price_category_without_a_set_is_none_never_guessed():
    assert price_category(Decimal("2000.00"), None) is None


@pytest.mark.parametrize(
    ("price", "unit", "expected"),
    [
        (Decimal("2080.80"), PriceUnit.DAY, Decimal("2080.80")),
        (Decimal("60000.00"), PriceUnit.MONTH, Decimal("720000") / Decimal("365")),
        (Decimal("730000.00"), PriceUnit.YEAR, Decimal("2000")),
        (Decimal("365000.00"), "aar", Decimal("1000")),
        (Decimal("36500.00"), "maaned", Decimal("1200")),
    ],
)
def test_daily_equivalent(price, unit, expected):
    assert expected == daily_equivalent(price, unit)


def test_daily_equivalent_of_a_monthly_price_is_unrounded():
    assert Decimal("1972.60") == round_ore(daily_equivalent(Decimal("60000.00"), "maaned"))
    assert Decimal("1972.60") != daily_equivalent(Decimal("60000.00"), "maaned")


@pytest.mark.parametrize(
    ("monthly_price", "expected"),
    [
        (Decimal("76041.66"), PriceCategory.MEDIUM),  # 2.499,9997… kr./dag
        (Decimal("76041.67"), PriceCategory.HIGH),  # 2.500,0001… kr./dag
    ],
)
def test_price_category_of_a_monthly_price_uses_its_daily_equivalent(monthly_price, expected):
    daily = daily_equivalent(monthly_price, PriceUnit.MONTH)
    assert expected == price_category(daily, THRESHOLDS)


@pytest.mark.parametrize(
    ("current", "visitation", "expected"),
    [
        (PriceCategory.HIGH, PriceCategory.MEDIUM, True),
        (PriceCategory.EXTRAORDINARY, PriceCategory.HIGH, True),
        (PriceCategory.MEDIUM, PriceCategory.LOW, True),
        (PriceCategory.MEDIUM, PriceCategory.MEDIUM, False),
        (PriceCategory.LOW, PriceCategory.HIGH, False),
        ("hoej", "lav", True),
        ("lav", "lav", False),
        (None, PriceCategory.LOW, False),
        (PriceCategory.HIGH, None, False),
        (None, None, False),
    ],
)
def test_above_visitation(current, visitation, expected):
    assert expected == above_visitation(current, visitation)


# --- annual amount and vat refund -----------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "unit", "expected"),
    [
        (Decimal("2000.00"), PriceUnit.DAY, Decimal("730000.00")),
        (Decimal("2080.80"), PriceUnit.DAY, Decimal("759492.00")),
        (Decimal("60000.00"), PriceUnit.MONTH, Decimal("720000.00")),
        (Decimal("720000.00"), PriceUnit.YEAR, Decimal("720000.00")),
    ],
)
def test_annual_amount_is_365_daily_equivalents(price, unit, expected):
    assert expected == annual_amount(price, unit)


@pytest.mark.parametrize(
    ("price", "refund_pct", "expected"),
    [
        (Decimal("2000.00"), Decimal("4.6"), Decimal("1908.00")),
        (Decimal("2080.80"), Decimal("4.6"), Decimal("1985.08")),  # 1.985,0832
        (Decimal("2080.80"), Decimal("0"), Decimal("2080.80")),
    ],
)
def test_net_after_vat_refund(price, refund_pct, expected):
    assert expected == net_after_vat_refund(price, refund_pct)


def test_a_price_regulated_past_any_amount_is_a_user_error_not_an_overflow():
    from services.rules.pricing import PRICE_CEILING, PriceOutOfRange, regulate

    with pytest.raises(PriceOutOfRange, match="kan ikke beregnes"):
        regulate(
            Decimal("100000.00"), date(1900, 1, 1), date(2199, 12, 31), Regulation(pct=Decimal(20))
        )
    # Below the ceiling it still works: one step of 20 % on 694.444.444.444,44.
    assert PRICE_CEILING >= regulate(
        Decimal("694444444444.44"), date(2024, 6, 1), date(2025, 1, 1), Regulation(pct=Decimal(20))
    )
