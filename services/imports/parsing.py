"""Reading the cells of a Danish Excel or CSV file (SPEC 9): amounts, percentages, dates,
encodings, separators and column headers. Pure functions, no Streamlit.

Amounts in text are parsed strictly the Danish way (Babel, `da_DK`, `strict=True`): `1.234,56`
is 1234.56, and `95.4` is an error that suggests `95,4` (never 954). Excel's own numbers are
read through their text (`Decimal(str(value))`), never as binary fractions. Dates come as
Excel dates, as Excel serial numbers, or as text in the format the user chose for the file.
Every error is a ValueError with a Danish message for the row-by-row error table.
"""

import codecs
import csv
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.numbers import NumberFormatError
from babel.numbers import parse_decimal as babel_decimal

LOCALE = "da_DK"
# The date formats a file may use, by their Danish name (the default first).
DATE_FORMATS: Mapping[str, str] = {
    "DD-MM-ÅÅÅÅ": "%d-%m-%Y",
    "DD.MM.ÅÅÅÅ": "%d.%m.%Y",
    "ÅÅÅÅ-MM-DD": "%Y-%m-%d",
    "MM/DD/ÅÅÅÅ": "%m/%d/%Y",
}
DEFAULT_DATE_FORMAT = "DD-MM-ÅÅÅÅ"
SEPARATORS: Mapping[str, str] = {";": "Semikolon (;)", ",": "Komma (,)", "\t": "Tabulator"}
# Excel's 1900 date system: serial 1 is 1900-01-01, and 60 is the 29 February 1900 that never
# was; from 61 on, day 0 is 1899-12-30.
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MAX = 109_574  # 31.12.2199, the last day the app stores
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})
_CURRENCY = re.compile(r"\s*(kr\.?|dkk)\s*$", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# What an amount may hold once its currency is off: ASCII digits, the separators, a sign (no
# exponent, no other scripts' digits, no NaN).
_AMOUNT_CHARS = re.compile(r"^[+-]?[0-9.,]+$", re.ASCII)

# The amounts Babel's strict da_DK parsing accepts as they are, in their common forms (plain, or
# grouped by thousands, with decimals after a comma): read directly, as Babel reads them, which
# is many times faster for a file of 100.000 lines. Every other text goes through Babel, which
# decides, and suggests (tests/test_import_parsing.py holds the two to the same answers).
_PLAIN_DANISH = re.compile(r"^-?(?:[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?$", re.ASCII)

AMOUNT_MESSAGE = "»{text}« er ikke et beløb skrevet på dansk, fx 1.234,56"
SUGGESTION_MESSAGE = "»{text}« er ikke et tal skrevet på dansk. Mente du {suggestion}?"
SPACE_MESSAGE = "»{text}«: skriv tusinder med punktum, fx 1.234,56"
DATE_MESSAGE = "»{text}« er ikke en dato i formatet {name}"
SERIAL_MESSAGE = "{text} er ikke et datonummer mellem 1 og 109574 (01.01.1900–31.12.2199)"


def parse_amount(value: Any) -> Decimal | None:
    """An amount from a cell: None for an empty cell; ValueError (Danish) for anything that is
    not a finite number written the Danish way."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(AMOUNT_MESSAGE.format(text=value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        number = Decimal(str(value))  # through its text: 0.1 stays 0.1
        if not number.is_finite():
            raise ValueError(AMOUNT_MESSAGE.format(text=value))
        return number
    text = _CURRENCY.sub("", str(value).strip().translate(_MINUS)).strip()
    if not text:
        return None
    if _SPACES.search(text):
        raise ValueError(SPACE_MESSAGE.format(text=_shown(value)))
    if not _AMOUNT_CHARS.match(text):
        raise ValueError(AMOUNT_MESSAGE.format(text=_shown(value)))
    if _PLAIN_DANISH.match(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    return _babel_amount(text, value)


def _babel_amount(text: str, value: Any) -> Decimal:
    """Babel's strict reading of an amount, with its suggestion when it refuses."""
    try:
        number = babel_decimal(text, locale=LOCALE, strict=True)
    except NumberFormatError as exc:
        # The suggestion written the Danish way: with a decimal comma, grouped if it can be.
        ranked = sorted(exc.suggestions or [], key=lambda s: ("," not in s, "." not in s))
        if ranked:
            message = SUGGESTION_MESSAGE.format(text=_shown(value), suggestion=ranked[0])
            raise ValueError(message) from None
        raise ValueError(AMOUNT_MESSAGE.format(text=_shown(value))) from None
    except InvalidOperation:
        raise ValueError(AMOUNT_MESSAGE.format(text=_shown(value))) from None
    if not number.is_finite():
        raise ValueError(AMOUNT_MESSAGE.format(text=_shown(value)))
    return number


def parse_percent(value: Any, *, excel_percent: bool = False) -> Decimal | None:
    """A percentage: `95,4%`, `95,4` and `100 %` are 95.4, 95.4 and 100. An Excel cell formatted
    as a percentage holds a fraction (0.954): `excel_percent` says so."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            text = text[:-1].rstrip()
        return parse_amount(text)
    number = parse_amount(value)
    if number is not None and excel_percent:
        number = number * 100
    return number


def parse_cell_date(value: Any, date_format: str = DEFAULT_DATE_FORMAT) -> date | None:
    """A date from a cell: an Excel date, an Excel serial number, or text in the file's format
    (a name of DATE_FORMATS). None for an empty cell; ValueError (Danish) otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(DATE_MESSAGE.format(text=value, name=date_format))
    if isinstance(value, int | float | Decimal):
        return excel_serial_date(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return _text_date(text, DATE_FORMATS[date_format])
    except ValueError:
        raise ValueError(DATE_MESSAGE.format(text=_shown(value), name=date_format)) from None


@lru_cache(maxsize=4096)
def _text_date(text: str, pattern: str) -> date:
    """A date's text read by its pattern (kept: an invoice file repeats its few dates)."""
    return datetime.strptime(text, pattern).date()


def excel_serial_date(value: int | float | Decimal) -> date:
    """The day of an Excel serial number in the 1900 date system (a time of day is dropped)."""
    number = Decimal(str(value))
    if not number.is_finite() or not 1 <= number < _SERIAL_MAX + 1:
        raise ValueError(SERIAL_MESSAGE.format(text=_shown(value)))
    serial = int(number)
    if serial == 60:  # 29.02.1900, which Excel counts but the calendar never had
        raise ValueError(SERIAL_MESSAGE.format(text=_shown(value)))
    if serial < 60:
        serial += 1  # before Excel's phantom day, day 0 is one day later
    return _EXCEL_EPOCH + timedelta(days=serial)


def _shown(value: Any, limit: int = 40) -> str:
    """A cell's value as an error message quotes it: short, one line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Files --------------------------------------------------------------------------------------


def text_encoding(data: bytes) -> tuple[str, int, str]:
    """A CSV file's codec, the bytes to skip before its text (a BOM) and the encoding's Danish
    name: UTF-8 with or without BOM, else Windows-1252. The file is checked in pieces, so no
    decoded copy of it is kept."""
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(skip, len(data), 1 << 20):
            decoder.decode(data[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # not UTF-8 (a BOM before Windows-1252 text is a wrong BOM)
        return "cp1252", skip, "Windows-1252"
    return "utf-8", skip, "UTF-8 med BOM" if skip else "UTF-8"


def decode_text(data: bytes) -> tuple[str, str]:
    """A CSV file's text and its encoding: UTF-8 with or without BOM, else Windows-1252."""
    codec, skip, name = text_encoding(data)
    return data[skip:].decode(codec, errors="replace"), name


def sniff_separator(text: str) -> str:
    """The separator of a CSV text (semicolon when in doubt: Danish Excel writes it)."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        return ";"


def header_key(name: Any) -> str:
    """A column header as it is matched: case, accents, spaces and punctuation ignored, and
    æ, ø, å as ae, oe, aa ("Moms-faktor" and "momsfaktor", "Postnr." and "postnr")."""
    text = str(name or "").casefold()
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))
