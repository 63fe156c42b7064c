"""Input types that accept what a Danish user types (`2.080,80`, `2080.80`, `22.11.2026`) and
bound it where it enters.

Every value from a form, an import or an e-invoice passes one of these types in an input schema
(the …Create and …Update models), so all three get the same limits with the same Danish
messages, and no stored value can break a page or an export (SPEC 3, 7):

- Numbers: finite (no NaN or Infinity), written with digits, an optional sign and the Danish or
  the plain separators (no exponent, no underscores, no other scripts' digits).
- Money: at most two decimals (more is refused, not rounded: 2.080,805 in an import is a wrong
  column more often than a price), within NUMERIC(14,2), and within a cap per kind of amount:
  a price per unit (PRICE_MAX), a daily rate, an invoice, a budget (the constants below).
- Dates: 01.01.1900–31.12.2199, typed as text or given as a date.
- Text: Unicode NFC, no control characters. A single-line field turns line breaks and tabs into
  one space; a multi-line field keeps newline and tab and turns CR LF, CR, Word's manual line
  break (vertical tab), form feed and the Unicode line separators into a newline. Other control
  characters, lone surrogates, non-characters and the byte order mark are dropped; NUL is
  refused (it is never typed, only carried by a broken file). Lengths are per field (Field).
- Whole numbers (ids, versions) within the database's INTEGER (INT_MAX); days, months and years
  have their own ranges per field.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

ORE = Decimal("0.01")

# --- Limits -------------------------------------------------------------------------------

MONEY_MAX = Decimal("999999999999.99")  # NUMERIC(14,2): what any stored amount can hold
DAILY_RATE_MAX = Decimal(100_000)  # kr. a day: several times the dearest place on the portal
MONTHLY_PRICE_MAX = Decimal(3_000_000)  # kr. a month: about the daily cap × 365 / 12
YEARLY_PRICE_MAX = Decimal(36_500_000)  # kr. a year: the daily cap × 365
# The cap of a price by its unit (PriceUnit values: dag, maaned, aar).
PRICE_MAX: Mapping[str, Decimal] = {
    "dag": DAILY_RATE_MAX,
    "maaned": MONTHLY_PRICE_MAX,
    "aar": YEARLY_PRICE_MAX,
}
PRICE_UNIT_TEXT: Mapping[str, str] = {"dag": "dag", "maaned": "måned", "aar": "år"}
INVOICE_MAX = Decimal(100_000_000)  # kr. on one invoice (at most a year of one placement)
BUDGET_MAX = Decimal(10_000_000_000)  # kr. a year for one paragraph
# Regulation in percent a year, fixed or by index (as the default in Indstillinger).
REGULATION_PCT_MIN = -10
REGULATION_PCT_MAX = 20
INT_MAX = 2_147_483_647  # INTEGER on PostgreSQL: ids and versions
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)

NUMBER_MESSAGE = "Skal være et tal, fx 2.080,80"
DECIMALS_MESSAGE = "Højst to decimaler (øre), fx 2.080,80"
DATE_MESSAGE = "Skal være en dato, fx 22.11.2026"
DATE_RANGE_MESSAGE = "Datoen skal ligge mellem 01.01.1900 og 31.12.2199"
YEAR_DIGITS_MESSAGE = "Årstallet skal skrives med fire cifre, fx 22.11.2026"
NUL_MESSAGE = (
    "Teksten indeholder et ugyldigt tegn (NUL), typisk fra en beskadiget fil. "
    "Skriv eller indsæt teksten igen."
)
REQUIRED_MESSAGE = "Skal udfyldes"
# A computed amount that NUMERIC(14,2) cannot hold (a price regulated for a century).
EXPECTED_TOO_LARGE_MESSAGE = (
    "Det forventede beløb for perioden er for stort til at kunne gemmes. "
    "Tjek kontraktens pris, prisdato og regulering."
)


def round_ore(value: Decimal) -> Decimal:
    """Round half-up to whole øre."""
    return value.quantize(ORE, rounding=ROUND_HALF_UP)


def format_limit(amount: Decimal) -> str:
    """An amount in a message, the Danish way: `100.000 kr.`, `999.999.999.999,99 kr.`"""
    whole, _, fraction = f"{amount:.2f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{grouped} kr." if fraction == "00" else f"{grouped},{fraction} kr."


# --- Numbers ------------------------------------------------------------------------------

_DANISH_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
# Only with a decimal point: "2,080" is Danish for 2,08, never 2080.
_ENGLISH_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+\.\d+$")
# What is left after the separators are settled: ASCII digits, one point, a sign.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", re.ASCII)


def parse_decimal(value: Any) -> Decimal | None:
    """Parse a number typed the Danish or the plain way. Empty gives None; garbage, NaN and
    Infinity raise ValueError with a Danish message."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("Skal være et tal")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        text = re.sub(r"(kr\.?|DKK|%)$", "", text, flags=re.IGNORECASE).strip()
        if not text:
            return None
        if _DANISH_THOUSANDS.match(text):
            text = text.replace(".", "").replace(",", ".")
        elif _ENGLISH_THOUSANDS.match(text):
            text = text.replace(",", "")
        elif "," in text and "." not in text:
            text = text.replace(",", ".")
        elif "," in text:
            raise ValueError(NUMBER_MESSAGE)
        if not _PLAIN_NUMBER.match(text):
            raise ValueError(NUMBER_MESSAGE)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(NUMBER_MESSAGE) from None
    if not number.is_finite():  # NaN, sNaN, Infinity
        raise ValueError(NUMBER_MESSAGE)
    return number


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_none(value: Any) -> Any:
    """Empty text is "not given" (an optional whole number from a form or an import)."""
    return None if _empty(value) else value


def _number(value: Any) -> Decimal | None:
    return None if _empty(value) else parse_decimal(value)


def _required(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The same parser for a field that must be filled: empty gives "Skal udfyldes"."""

    def parse_required(value: Any) -> Any:
        result = parse(value)
        if result is None:
            raise ValueError(REQUIRED_MESSAGE)
        return result

    return parse_required


def _money(cap: Decimal | None, message: str = "") -> Callable[[Any], Decimal | None]:
    """A parser of an amount in kroner: at most two decimals, within NUMERIC(14,2) and at most
    `cap` (None: the column's limit only), else `message` (default: "Må højst være …")."""
    too_large = message or (f"Må højst være {format_limit(cap)}" if cap is not None else "")

    def parse_money(value: Any) -> Decimal | None:
        number = _number(value)
        if number is None:
            return None
        if abs(number) > MONEY_MAX:
            raise ValueError(f"Beløbet er for stort (højst {format_limit(MONEY_MAX)})")
        if number != number.quantize(ORE, rounding=ROUND_HALF_UP):
            raise ValueError(DECIMALS_MESSAGE)
        if cap is not None and number > cap:
            raise ValueError(too_large)
        return round_ore(number)

    return parse_money


def price_limit_error(price: Decimal | None, unit: Any) -> str | None:
    """The Danish message when a price is above the cap of its unit (PRICE_MAX), else None."""
    code = str(getattr(unit, "value", unit))
    cap = PRICE_MAX.get(code)
    if price is None or cap is None or price <= cap:
        return None
    return f"Prisen må højst være {format_limit(cap)} pr. {PRICE_UNIT_TEXT[code]}"


def field_error(model: str, field: str, message: str, value: Any) -> ValidationError:
    """A validation error on one field, raised from a model validator (a cross-field check
    whose message belongs next to that field, e.g. a price too high for its unit)."""
    return ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{error}", {"error": message}),
                loc=(field,),
                input=value,
            )
        ],
    )


# --- Dates --------------------------------------------------------------------------------


def parse_date(value: Any) -> date | None:
    """Parse `22.11.2026`, `22-11-2026`, `22/11/2026` or ISO `2026-11-22`, or take a date or a
    datetime; anything outside 1900–2199 is refused either way."""
    if value is None:
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        if not text:
            return None
        for fmt in ("%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if day.year < 1000:  # "22.11.0026": the century left out
                raise ValueError(YEAR_DIGITS_MESSAGE)
            break
        else:
            raise ValueError(DATE_MESSAGE)
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(DATE_RANGE_MESSAGE)
    return day


def lenient_date(value: Any) -> date | None:
    """A date if the value parses as one, else None (for cross-field checks on raw input)."""
    try:
        return parse_date(value)
    except ValueError:
        return None


# --- Text ---------------------------------------------------------------------------------

# Line breaks as Word, Excel, old Macs and Unicode write them.
_LINE_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_DROPPED = (
    [chr(c) for c in range(0x20) if chr(c) not in ("\t", "\n", *_LINE_BREAKS)]
    + [chr(c) for c in range(0x7F, 0xA0) if chr(c) not in _LINE_BREAKS]
    + [chr(c) for c in range(0xD800, 0xE000)]  # lone surrogates: no encoding can store them
    + [chr(c) for c in range(0xFDD0, 0xFDF0)]  # non-characters
    + [chr(plane + c) for plane in range(0, 0x110000, 0x10000) for c in (0xFFFE, 0xFFFF)]
    + ["\ufeff"]  # a byte order mark pasted along
)
_MULTILINE: dict[int, str | None] = {ord(c): None for c in _DROPPED} | {
    ord(c): "\n" for c in _LINE_BREAKS
}
_SINGLE_LINE: dict[int, str | None] = _MULTILINE | {ord("\n"): " ", ord("\t"): " "}
_SPACE_RUNS = re.compile(r"[ \t]*\n[ \t\n]*")
_PLAIN_ASCII = re.compile(r"^[\x20-\x7e]*$")


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Text as it may be stored: NFC, no control characters (see the module docstring), no
    surrounding whitespace. NUL raises ValueError with a Danish message."""
    text = value if isinstance(value, str) else str(value)
    if _PLAIN_ASCII.match(text):  # the common case: nothing to clean
        return text.strip()
    if "\x00" in text:
        raise ValueError(NUL_MESSAGE)
    if multiline:
        text = text.replace("\r\n", "\n").translate(_MULTILINE)
    else:
        text = _SPACE_RUNS.sub(" ", text.replace("\r\n", "\n").translate(_MULTILINE))
        text = text.translate(_SINGLE_LINE)
    return unicodedata.normalize("NFC", text).strip()


def _text(value: Any) -> str:
    return "" if value is None else clean_text(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else clean_text(value) or None


def _multiline_text(value: Any) -> str:
    return "" if value is None else clean_text(value, multiline=True)


def _optional_multiline_text(value: Any) -> str | None:
    return None if value is None else clean_text(value, multiline=True) or None


# --- The types ----------------------------------------------------------------------------

# An amount in kroner, at most two decimals, within NUMERIC(14,2).
MoneyIn = Annotated[Decimal, BeforeValidator(_required(_money(None)))]
OptionalMoneyIn = Annotated[Decimal | None, BeforeValidator(_money(None))]
# A price of a contract, an add-on or a price change: at most the cap of the dearest unit; the
# schema that knows the unit checks its own cap (price_limit_error).
PRICE_MESSAGE = (
    f"Prisen må højst være {format_limit(DAILY_RATE_MAX)} pr. dag, "
    f"{format_limit(MONTHLY_PRICE_MAX)} pr. måned eller {format_limit(YEARLY_PRICE_MAX)} pr. år"
)
PriceIn = Annotated[Decimal, BeforeValidator(_required(_money(YEARLY_PRICE_MAX, PRICE_MESSAGE)))]
# A daily rate (an offer's list or negotiated rate, a price category threshold).
DAILY_RATE_MESSAGE = f"Må højst være {format_limit(DAILY_RATE_MAX)} pr. døgn"
DailyRateIn = Annotated[
    Decimal, BeforeValidator(_required(_money(DAILY_RATE_MAX, DAILY_RATE_MESSAGE)))
]
OptionalDailyRateIn = Annotated[
    Decimal | None, BeforeValidator(_money(DAILY_RATE_MAX, DAILY_RATE_MESSAGE))
]
# The amount of one invoice.
InvoiceAmountIn = Annotated[Decimal, BeforeValidator(_required(_money(INVOICE_MAX)))]
# A year's budget of one paragraph.
BudgetIn = Annotated[Decimal, BeforeValidator(_required(_money(BUDGET_MAX)))]
# Any other number (percent, hours): finite; the field gives its range and decimals.
NumberIn = Annotated[Decimal, BeforeValidator(_required(_number))]
OptionalNumberIn = Annotated[Decimal | None, BeforeValidator(_number)]
# An optional whole number; the field gives its range.
OptionalIntIn = Annotated[int | None, BeforeValidator(_blank_none)]
DateIn = Annotated[date, BeforeValidator(_required(parse_date))]
OptionalDateIn = Annotated[date | None, BeforeValidator(parse_date)]
# One line of text (a name, a reference); empty is "" (the field's min_length decides).
TextIn = Annotated[str, BeforeValidator(_text)]
OptionalTextIn = Annotated[str | None, BeforeValidator(_optional_text)]
# Text that may run over several lines (notes, assessments, goals).
MultilineTextIn = Annotated[str, BeforeValidator(_multiline_text)]
OptionalMultilineTextIn = Annotated[str | None, BeforeValidator(_optional_multiline_text)]
