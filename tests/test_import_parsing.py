"""Reading a Danish file's cells (SPEC 9): strict Danish amounts, percentages, dates in the
chosen format and as Excel serials, encodings, separators and headers."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.formatting import format_number
from services.imports.parsing import (
    DATE_FORMATS,
    decode_text,
    excel_serial_date,
    header_key,
    parse_amount,
    parse_cell_date,
    parse_percent,
    sniff_separator,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", D("1234.56")),
        ("1234,56", D("1234.56")),
        ("-1.234,56", D("-1234.56")),
        ("−5,00", D("-5.00")),  # the typographic minus
        ("2.080,80 kr.", D("2080.80")),
        ("2080,80 DKK", D("2080.80")),
        ("1.234.567", D("1234567")),
        (" 0,5 ", D("0.5")),
        ("", None),
        ("   ", None),
        (None, None),
        (1234, D("1234")),
        (0.1, D("0.1")),  # an Excel number through its text, not its binary fraction
        (2080.8, D("2080.8")),
        (D("95.40"), D("95.40")),
    ],
)
def test_danish_amounts(text, expected):
    assert expected == parse_amount(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("95.4", "»95.4« er ikke et tal skrevet på dansk. Mente du 95,4?"),
        ("12.34", "Mente du 12,34?"),
        ("1,234.56", "Mente du 1.234,56?"),
        ("1 234,56", "skriv tusinder med punktum"),
        ("abc", "er ikke et beløb skrevet på dansk"),
        ("1e5", "er ikke et beløb"),
        ("NaN", "er ikke et beløb"),
        ("١٢٣", "er ikke et beløb"),
        (float("inf"), "er ikke et beløb"),
        (True, "er ikke et beløb"),
    ],
)
def test_not_danish_amounts_are_refused_with_a_suggestion(text, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?").replace(".", r"\.")):
        parse_amount(text)


def test_95_4_is_never_954():
    with pytest.raises(ValueError):
        parse_amount("95.4")


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_an_amount_written_the_danish_way_reads_back_exactly(amount):
    assert amount == parse_amount(format_number(amount, 2))


@given(st.one_of(st.text(max_size=30), st.floats(), st.integers(), st.booleans()))
def test_any_cell_is_a_number_or_a_danish_message(value):
    try:
        result = parse_amount(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert result is None or result.is_finite()


@pytest.mark.parametrize(
    ("value", "excel_percent", "expected"),
    [
        ("95,4%", False, D("95.4")),
        ("95,4 %", False, D("95.4")),
        ("95,4", False, D("95.4")),
        ("100%", False, D("100")),
        ("95%", False, D("95")),
        ("", False, None),
        (0.954, True, D("95.4")),  # an Excel cell formatted as a percentage
        (95.4, False, D("95.4")),
    ],
)
def test_percentages(value, excel_percent, expected):
    assert expected == parse_percent(value, excel_percent=excel_percent)


def test_95_point_4_percent_is_an_error_too():
    with pytest.raises(ValueError, match="Mente du 95,4"):
        parse_percent("95.4%")


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("25-03-2026", "DD-MM-ÅÅÅÅ", date(2026, 3, 25)),
        ("25.03.2026", "DD.MM.ÅÅÅÅ", date(2026, 3, 25)),
        ("2026-03-25", "ÅÅÅÅ-MM-DD", date(2026, 3, 25)),
        ("03/25/2026", "MM/DD/ÅÅÅÅ", date(2026, 3, 25)),
        (datetime(2026, 3, 25, 14, 30), "DD-MM-ÅÅÅÅ", date(2026, 3, 25)),
        (date(2026, 3, 25), "MM/DD/ÅÅÅÅ", date(2026, 3, 25)),
        (46106, "DD-MM-ÅÅÅÅ", date(2026, 3, 25)),  # an Excel serial
        ("", "DD-MM-ÅÅÅÅ", None),
    ],
)
def test_dates_in_the_chosen_format(text, name, expected):
    assert expected == parse_cell_date(text, name)


@pytest.mark.parametrize(
    ("text", "name"),
    [("25/03/2026", "MM/DD/ÅÅÅÅ"), ("03-25-2026", "DD-MM-ÅÅÅÅ"), ("31.02.2026", "DD.MM.ÅÅÅÅ")],
)
def test_a_date_in_another_format_is_refused(text, name):
    with pytest.raises(ValueError, match=f"ikke en dato i formatet {name}"):
        parse_cell_date(text, name)


def test_every_format_has_a_danish_name():
    assert ["DD-MM-ÅÅÅÅ", "DD.MM.ÅÅÅÅ", "ÅÅÅÅ-MM-DD", "MM/DD/ÅÅÅÅ"] == list(DATE_FORMATS)


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (45658, date(2025, 1, 1)),
        (45658.75, date(2025, 1, 1)),  # a time of day is dropped
        (109574, date(2199, 12, 31)),
    ],
)
def test_excel_serials(serial, expected):
    assert expected == excel_serial_date(serial)


@pytest.mark.parametrize("serial", [0, -1, 60, 109575, float("nan")])
def test_serials_excel_does_not_have_are_refused(serial):
    with pytest.raises(ValueError, match="datonummer"):
        excel_serial_date(serial)


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("Navn;By\nÅhuset;Århus\n".encode(), "Navn;By\nÅhuset;Århus\n", "UTF-8"),
        (b"\xef\xbb\xbf" + "Navn\nØ\n".encode(), "Navn\nØ\n", "UTF-8 med BOM"),
        ("Navn\nØresund\n".encode("cp1252"), "Navn\nØresund\n", "Windows-1252"),
    ],
)
def test_encodings(data, text, encoding):
    assert (text, encoding) == decode_text(data)


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        ("CVR;Navn;By\n12345674;Bo;Århus\n", ";"),
        ("CVR,Navn,By\n12345674,Bo,Århus\n", ","),
        ("CVR\tNavn\n12345674\tBo\n", "\t"),
        ('Beløb;Navn\n"1.234,56";"Bo, Nord"\n', ";"),
        ("", ";"),
    ],
)
def test_separators_are_sniffed(text, separator):
    assert separator == sniff_separator(text)


def test_headers_match_ignoring_case_accents_and_punctuation():
    assert header_key("Moms-faktor") == header_key("momsfaktor")
    assert header_key("Postnr.") == header_key("POSTNR")
    assert header_key("Beløb (kr.)") == header_key("beloeb kr")
    assert header_key("Tilbudsportalen URL") == header_key("tilbudsportalen-url")
    assert header_key("Område") == header_key("omraade")
    assert header_key("Café") == header_key("cafe")


def test_the_fast_reading_of_plain_amounts_gives_babels_answer():
    """parse_amount reads the common forms directly: on 20.000 texts of digits, dots, commas and
    a sign it accepts exactly what Babel's strict da_DK parsing accepts, with the same value."""
    import random

    from babel.numbers import NumberFormatError
    from babel.numbers import parse_decimal as babel_decimal

    rng = random.Random(11)
    texts = {"1.234,56", "1234,56", "0,5", "-1.234.567,891", "001234", "12,"}
    while len(texts) < 20_000:
        body = "".join(rng.choice("0123456789.,") for _ in range(rng.randint(1, 12)))
        texts.add(rng.choice(["", "", "-"]) + body)
    for text in sorted(texts):
        try:
            expected = babel_decimal(text, locale="da_DK", strict=True)
        except (NumberFormatError, ArithmeticError):
            expected = None
        try:
            found = parse_amount(text)
        except ValueError:
            found = None
        if expected is not None and not expected.is_finite():
            expected = None
        assert (expected, str(expected)) == (found, str(found)), text
