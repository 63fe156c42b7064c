"""Danish display and parsing of amounts, percentages and dates (Babel, da_DK)."""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import get_month_names
from babel.numbers import format_decimal

from models.enums import RegulationKind, label
from models.types import parse_date, parse_decimal, round_ore

LOCALE = "da_DK"

__all__ = [
    "format_amount",
    "format_date",
    "format_kr",
    "format_large_kr",
    "format_number",
    "format_pct",
    "format_short_kr",
    "parse_amount",
    "parse_date",
    "parse_decimal",
    "sentence",
]


def format_amount(value: Decimal | int | float | None) -> str:
    """`1.234.567,89` — two decimals, Danish separators; empty for None."""
    if value is None:
        return ""
    return format_decimal(round_ore(Decimal(str(value))), format="#,##0.00", locale=LOCALE)


def format_kr(value: Decimal | int | float | None, decimals: int = 2) -> str:
    """`1.234.567,89 kr.`; with `decimals=0` whole kroner (`1.234.568 kr.`) for headline figures."""
    if value is None:
        return ""
    if decimals == 0:
        whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{format_decimal(whole, format='#,##0', locale=LOCALE)} kr."
    return f"{format_amount(value)} kr."


def _half_up(value: Decimal | int | float, decimals: int) -> Decimal:
    """Rounded half-up to `decimals` places (Babel on its own rounds half to even: 2,5 → 2)."""
    number = Decimal(str(value))
    if not number.is_finite():
        return number
    try:
        return number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal's precision: nothing left to round
        return number


def format_number(value: Decimal | int | float | None, decimals: int = 0) -> str:
    """`1.234.568`; with `decimals` that many places (`97,9`), rounded half-up."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(_half_up(value, decimals), format=pattern, locale=LOCALE)


def format_pct(value: Decimal | int | float | None, decimals: int = 2) -> str:
    """A percentage given in percent: 2.318 → `2,32 %` (rounded half-up)."""
    if value is None:
        return ""
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return f"{format_decimal(_half_up(value, decimals), format=pattern, locale=LOCALE)} %"


# "januar" … "december", index 0 = January.
MONTH_NAMES: tuple[str, ...] = tuple(
    get_month_names("wide", locale=LOCALE)[month] for month in range(1, 13)
)


def format_date(value: date | None) -> str:
    """`22.11.2026`"""
    if value is None:
        return ""
    return babel_format_date(value, format="dd.MM.yyyy", locale=LOCALE)


def parse_amount(text: str | None) -> Decimal | None:
    """Parse `2.080,80` or `2080.80` into an amount rounded to øre; raises ValueError (Danish)."""
    number = parse_decimal(text)
    return None if number is None else round_ore(number)


def format_large_kr(value: Decimal | int | float | None, decimals: int = 1) -> str:
    """A large amount short enough for a key figure: in millions, 97.943.762,87 → `97,9 mio.
    kr.`; from a billion in billions with two decimals, 2.733.061.512 → `2,73 mia. kr.`"""
    if value is None:
        return ""
    amount = Decimal(str(value))
    if abs(amount) >= 1_000_000_000:
        return f"{format_number(amount / 1_000_000_000, 2)} mia. kr."
    return f"{format_number(amount / 1_000_000, decimals)} mio. kr."


def format_short_kr(value: Decimal | int | float | None) -> str:
    """An amount short enough for a key figure on a laptop screen: whole kroner below a million
    (`993.777 kr.`), else millions or billions (`97,9 mio. kr.`, `1,19 mia. kr.`). Show the
    full amount (format_kr) next to it, in the help."""
    if value is None:
        return ""
    if abs(Decimal(str(value))) >= 1_000_000:
        return format_large_kr(value)
    return format_kr(value, decimals=0)


def sentence(text: str) -> str:
    """`text` ending a sentence: a full stop, unless it ends with one already (an amount in
    kroner does: `… 35.040,00 kr.`, never `kr..`)."""
    return text if text.endswith(".") else f"{text}."


def regulation_text(kind: object, pct: Decimal | None, day: int, month: int) -> str:
    """How a price is regulated, in words: "2,00 % den 1. januar", "Indeks (reguleringssats)
    den 1. januar" or "Ingen regulering"."""
    code = str(kind)
    when = f"den {day}. {MONTH_NAMES[month - 1]}"
    if code == RegulationKind.FIXED_PCT:
        return f"{format_pct(pct)} {when}"
    if code == RegulationKind.INDEX:
        return f"{label(code)} {when}"
    return label(code, "regulation")


LOCAL_TIME = ZoneInfo("Europe/Copenhagen")


def local_time(moment: datetime) -> datetime:
    """Stored timestamps are UTC (naive on SQLite); shown in Danish time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_TIME)


def voided_text(
    voided_at: datetime | None, voided_by: str | None, reason: str | None, *, time: bool = False
) -> str:
    """ "Annulleret 12.03.2026 af Anne: <reason>" for a voided row (Danish day, `time`: and
    clock), else ""."""
    if voided_at is None:
        return ""
    when = local_time(voided_at).strftime("%d.%m.%Y %H:%M" if time else "%d.%m.%Y")
    return f"Annulleret {when} af {voided_by or '?'}: {reason or ''}"
