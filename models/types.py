"""Input types that accept what a Danish user types: `2.080,80`, `2080.80`, `22.11.2026`."""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

ORE = Decimal("0.01")


def round_ore(value: Decimal) -> Decimal:
    """Round half-up to whole øre."""
    return value.quantize(ORE, rounding=ROUND_HALF_UP)


_DANISH_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
# Only with a decimal point: "2,080" is Danish for 2,08, never 2080.
_ENGLISH_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+\.\d+$")


def parse_decimal(value: Any) -> Decimal | None:
    """Parse a number typed the Danish or the plain way. Empty gives None; garbage raises."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("Skal være et tal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
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
        raise ValueError("Skal være et tal, fx 2.080,80")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Skal være et tal, fx 2.080,80") from None
    if not number.is_finite():
        raise ValueError("Skal være et tal, fx 2.080,80")
    return number


def _money(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_decimal(value)
    if number is None:
        return None
    if abs(number) >= Decimal("1e12"):
        raise ValueError("Beløbet er for stort")
    return round_ore(number)


def _number(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_decimal(value)


def parse_date(value: Any) -> date | None:
    """Parse `22.11.2026`, `22-11-2026` or ISO `2026-11-22`."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not 1900 <= parsed.year <= 2199:
            raise ValueError("Årstallet skal skrives med fire cifre, fx 22.11.2026")
        return parsed
    raise ValueError("Skal være en dato, fx 22.11.2026")


def _date(value: Any) -> Any:
    return parse_date(value)


def _text(value: Any) -> Any:
    if value is None:
        return ""
    return str(value).strip()


def _optional_text(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# Money typed by a user, rounded half-up to øre.
MoneyIn = Annotated[Decimal, BeforeValidator(_money)]
NumberIn = Annotated[Decimal, BeforeValidator(_number)]
DateIn = Annotated[date, BeforeValidator(_date)]
TextIn = Annotated[str, BeforeValidator(_text)]
OptionalTextIn = Annotated[str | None, BeforeValidator(_optional_text)]


def lenient_date(value: Any) -> date | None:
    """A date if the value parses as one, else None (for cross-field checks on raw input)."""
    try:
        return parse_date(value)
    except ValueError:
        return None
