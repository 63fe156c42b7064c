"""Danish display and input of amounts, percentages and dates (SPEC 6)."""

from datetime import date
from decimal import Decimal

import pytest

from models.types import round_ore
from services.formatting import (
    format_amount,
    format_date,
    format_kr,
    format_large_kr,
    format_number,
    format_pct,
    format_short_kr,
    parse_amount,
    parse_date,
    parse_decimal,
    regulation_text,
    sentence,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234567.89"), "1.234.567,89 kr."),
        (Decimal("2080.8"), "2.080,80 kr."),
        (Decimal("64504.80"), "64.504,80 kr."),
        (Decimal("999.99"), "999,99 kr."),
        (Decimal("0"), "0,00 kr."),
        (Decimal("-1495.20"), "-1.495,20 kr."),
        (Decimal("2122.415"), "2.122,42 kr."),  # half-up to øre
        (Decimal("0.005"), "0,01 kr."),
        (1000, "1.000,00 kr."),
        (None, ""),
    ],
)
def test_format_kr(value, expected):
    assert expected == format_kr(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234567.89"), "1.234.567,89"),
        (Decimal("2080.80"), "2.080,80"),
        (2122.415, "2.122,42"),
        (None, ""),
    ],
)
def test_format_amount(value, expected):
    assert expected == format_amount(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 11, 22), "22.11.2026"),
        (date(2026, 1, 5), "05.01.2026"),
        (date(2024, 2, 29), "29.02.2024"),
        (None, ""),
    ],
)
def test_format_date(value, expected):
    assert expected == format_date(value)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("2.318"), 2, "2,32 %"),  # the SPEC 4.3 example
        (Decimal("2"), 2, "2,00 %"),
        (Decimal("-1.5"), 2, "-1,50 %"),
        (Decimal("4.6"), 1, "4,6 %"),
        (Decimal("1234.5"), 2, "1.234,50 %"),
        (Decimal("95.4"), 0, "95 %"),
        (None, 2, ""),
    ],
)
def test_format_pct(value, decimals, expected):
    assert expected == format_pct(value, decimals)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("97943762.87"), "97,9 mio. kr."),
        (Decimal("999949999.99"), "999,9 mio. kr."),
        (Decimal("2733061512.40"), "2,73 mia. kr."),  # too long in millions for a key figure
        (Decimal("-177400000"), "-177,4 mio. kr."),
        (None, ""),
    ],
)
def test_format_large_kr(value, expected):
    assert expected == format_large_kr(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("993776.50"), "993.777 kr."),  # whole kroner, half-up
        (Decimal("23052.13"), "23.052 kr."),
        (Decimal("0"), "0 kr."),
        (Decimal("-407891.49"), "-407.891 kr."),
        (Decimal("999999.99"), "1.000.000 kr."),  # still below a million before rounding
        (Decimal("1000000"), "1,0 mio. kr."),
        (Decimal("1192392.23"), "1,2 mio. kr."),  # the cut-off "1.192.392.23…" at 1366 px
        (Decimal("2733061512.40"), "2,73 mia. kr."),
        (None, ""),
    ],
)
def test_format_short_kr_fits_a_key_figure(value, expected):
    assert expected == format_short_kr(value)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("2.5"), 0, "3"),  # Babel alone rounds half to even: "2"
        (Decimal("-2.5"), 0, "-3"),
        (Decimal("97.95"), 1, "98,0"),
        (Decimal("1.25"), 1, "1,3"),
        (1234567, 0, "1.234.567"),
    ],
)
def test_format_number_rounds_half_up(value, decimals, expected):
    assert expected == format_number(value, decimals)


def test_format_pct_rounds_half_up():
    assert "1,3 %" == format_pct(Decimal("1.25"), 1)
    assert "0,13 %" == format_pct(Decimal("0.125"), 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Forrige kvartal: 35.040,00 kr.", "Forrige kvartal: 35.040,00 kr."),  # not "kr.."
        ("I alt 12 kontrakter", "I alt 12 kontrakter."),
        ("", "."),
    ],
)
def test_sentence_ends_with_one_full_stop(text, expected):
    assert expected == sentence(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.080,80", Decimal("2080.80")),
        ("2080.80", Decimal("2080.80")),
        ("2080,80", Decimal("2080.80")),
        ("2080,8", Decimal("2080.80")),
        ("2.080", Decimal("2080.00")),
        ("2080", Decimal("2080.00")),
        ("1.234.567,89", Decimal("1234567.89")),
        (" 2080 kr. ", Decimal("2080.00")),
        ("2.080,80 kr.", Decimal("2080.80")),
        ("2.080,80\u00a0kr.", Decimal("2080.80")),  # Babel's non-breaking space
        ("-1.495,20", Decimal("-1495.20")),
        ("2080,805", Decimal("2080.81")),  # rounded half-up to øre
        ("2,080.80", Decimal("2080.80")),  # English thousands, unambiguous with decimals
        ("2,08", Decimal("2.08")),
        ("2,080", Decimal("2.08")),  # a Danish decimal comma, never 2080
        ("1,500", Decimal("1.50")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_amount_accepts_danish_and_plain_input(text, expected):
    assert expected == parse_amount(text)


@pytest.mark.parametrize(
    "text", ["abc", "1,2,3", "2.08.0", "2,080.80.1", "1,234,567", "12 kr 50", "NaN"]
)
def test_parse_amount_rejects_garbage_with_a_danish_message(text):
    with pytest.raises(ValueError, match="Skal være et tal"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2,5", Decimal("2.5")),
        ("4,6 %", Decimal("4.6")),
        ("2,125", Decimal("2.125")),  # a rate with three decimals, never 2125
        ("0,125", Decimal("0.125")),
        ("2.00", Decimal("2.00")),
        (Decimal("2.125"), Decimal("2.125")),  # not rounded: rates keep their decimals
        (3, Decimal("3")),
        (0.1, Decimal("0.1")),
    ],
)
def test_parse_decimal(value, expected):
    assert expected == parse_decimal(value)


def test_parse_decimal_refuses_a_boolean():
    with pytest.raises(ValueError, match="Skal være et tal"):
        parse_decimal(True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2122.415"), Decimal("2122.42")),
        (Decimal("2122.416"), Decimal("2122.42")),
        (Decimal("2122.414"), Decimal("2122.41")),
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("0.004"), Decimal("0.00")),
        (Decimal("1.125"), Decimal("1.13")),  # half-even would give 1,12
        (Decimal("-0.005"), Decimal("-0.01")),
        (Decimal("2000"), Decimal("2000.00")),
    ],
)
def test_round_ore_is_half_up(value, expected):
    assert expected == round_ore(value)
    assert -2 == round_ore(value).as_tuple().exponent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22.11.2026", date(2026, 11, 22)),
        ("2026-11-22", date(2026, 11, 22)),
        ("22-11-2026", date(2026, 11, 22)),
        (" 29.02.2024 ", date(2024, 2, 29)),
        (date(2026, 11, 22), date(2026, 11, 22)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert expected == parse_date(text)


@pytest.mark.parametrize("text", ["31.02.2026", "29.02.2025", "2026-13-01", "32.01.2026", "i går"])
def test_parse_date_rejects_impossible_dates_with_a_danish_message(text):
    with pytest.raises(ValueError, match="Skal være en dato"):
        parse_date(text)


@pytest.mark.parametrize("text", ["22.11.0026", "1.1.26"])
def test_parse_date_refuses_two_digit_or_ancient_years(text):
    with pytest.raises(ValueError, match="Årstallet|dato"):
        parse_date(text)


@pytest.mark.parametrize(
    ("kind", "pct", "expected"),
    [
        ("fast_pct", Decimal("2.00"), "2,00 % den 1. januar"),
        ("indeks", None, "Indeks (reguleringssats) den 1. januar"),
        ("ingen", None, "Ingen regulering"),
    ],
)
def test_regulation_text(kind, pct, expected):
    assert expected == regulation_text(kind, pct, 1, 1)


def test_voided_text_shows_the_danish_day_and_time_of_a_utc_moment():
    from datetime import UTC, datetime

    from services.formatting import voided_text

    naive_utc = datetime(2026, 12, 31, 23, 30)  # SQLite returns stored UTC without a zone
    assert "Annulleret 01.01.2027 af Anne: fejl" == voided_text(naive_utc, "Anne", "fejl")
    summer = datetime(2026, 6, 30, 22, 15, tzinfo=UTC)
    assert "Annulleret 01.07.2026 00:15 af ?: " == voided_text(summer, None, None, time=True)
    assert "" == voided_text(None, "Anne", "fejl")
