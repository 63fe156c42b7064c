"""The CPR guard: the tool holds no CPR numbers, so text that looks like one is refused.

A CPR-like number is a valid date DDMMYY followed by four digits, written

- together: ``0101901234``;
- with a separator before the four digits: ``010190-1234``, ``010190 - 1234``, ``010190/1234``,
  ``010190.1234``, or any dash or space a word processor or a PDF puts there (en dash, minus
  sign U+2212, non-breaking hyphen, soft hyphen, non-breaking or thin space, …);
- with the date itself split by one separator used twice: ``01.01.90-1234``, ``01 01 90 1234``.

It is not a CPR number when it is part of a longer number (a digit, or a digit and a decimal
point, either side). Ten digits written together are not one either when they are glued to a
word, as in a file name's timestamp (``scan_0103261030.pdf``, unless the word is ``cpr``), when
they are joined to another number by a dash or slash (``1234-0101234567``), or when a word such
as konto, kontonr., reg.nr. or account comes first (``reg. 1234 konto 0101234567``). A number
written with a separator is always taken for a CPR number.

One compiled regex finds the candidates; the date and the few checks above decide (they only
run for a candidate, so the guard stays as fast as the regex).
"""

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache

from services.errors import InputError

_DASHES = r"\-\u00ad\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
# Spaces, including the non-breaking, thin and zero-width ones pasted text may carry.
_SPACES = r" \t\u00a0\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff"
_S = f"[{_SPACES}]"

_CPR_PATTERN = re.compile(
    # Not part of a longer number: "2.0101901234" is a number's decimals.
    r"(?<!\d)(?<!\d[.,])"
    rf"(?P<day>\d\d)(?P<dsep>[./{_SPACES}{_DASHES}]?)(?P<month>\d\d)(?P=dsep)(?P<year>\d\d)"
    rf"(?P<sep>{_S}{{0,2}}[/{_DASHES}]{_S}{{0,2}}|{_S}{{1,2}}|\.)?"
    r"(?P<serial>\d{4})(?![\d.,]?\d)"
)

# A bank account's words right before ten digits: "konto", "kontonr.", "reg.nr. 1234", "account".
# Only asked about the rare candidate that is a valid date, so the scan stays one regex.
_ACCOUNT_BEFORE = re.compile(
    r"(?i:konto|\bkto|\breg(?:istrerings)?|\baccount|\bacct)"
    r"(?i:\.?[ ]?(?:nr|nummer|no|number)\b)?\.?:?[ \u00a0]*"
    r"(?:\d{4}[ \u00a0]*[-\u2013]?[ \u00a0]*)?$"
)
_ACCOUNT_REACH = 40

CPR_MESSAGE = "Feltet ligner et CPR-nummer. Takstkompas må ikke indeholde CPR-numre – fjern det."


def _is_valid_date(day: int, month: int, year2: int) -> bool:
    # The year's century is unknown without the 7th digit; try both a leap and non-leap year.
    for year in (2000 + year2, 1900 + year2):
        try:
            date(year, month, day)
            return True
        except ValueError:
            continue
    return False


def _is_glued(text: str, start: int, end: int) -> bool:
    """Ten digits written together that belong to something else: a word or another number."""
    before = text[start - 1] if start else ""
    after = text[end : end + 1]
    if before.isalpha() or before == "_":
        return not text[max(0, start - 5) : start].lower().endswith(("cpr", "cprnr"))
    if after.isalpha() or after == "_":
        return True
    if after == "." and text[end + 1 : end + 2].isalpha():  # a file name's extension
        return True
    if before in ("-", "/") and text[start - 2 : start - 1].isdigit():
        return True
    return after in ("-", "/") and text[end + 1 : end + 2].isdigit()


def _is_cpr(text: str, match: re.Match[str]) -> bool:
    day, month, year2 = (int(match.group(name)) for name in ("day", "month", "year"))
    if not _is_valid_date(day, month, year2):
        return False
    if match.group("dsep") or match.group("sep"):
        return True
    start = match.start()
    if _ACCOUNT_BEFORE.search(text, max(0, start - _ACCOUNT_REACH), start):
        return False
    return not _is_glued(text, start, match.end())


def contains_cpr(text: str | None) -> bool:
    """True if the text holds a CPR-like number: DDMMYY-SSSS or DDMMYYSSSS with a valid date."""
    if not text:
        return False
    text = str(text)
    if len(text) < 10:  # the shortest is ten digits written together (an amount, a date: no)
        return False
    if len(text) <= _REMEMBERED_LENGTH:
        return _short_contains_cpr(text)
    return _scan(text)


def _scan(text: str) -> bool:
    return any(_is_cpr(text, match) for match in _CPR_PATTERN.finditer(text))


# A short text's answer is kept: an import asks about each cell more than once (the row, then
# its schema before and after cleaning), and a file repeats its dates and case references.
_REMEMBERED_LENGTH = 100
_short_contains_cpr = lru_cache(maxsize=8192)(_scan)


def ensure_no_cpr(values: Mapping[str, object]) -> None:
    """Raise an InputError naming every text field that looks like it holds a CPR number."""
    bad = {
        field: CPR_MESSAGE
        for field, value in values.items()
        if isinstance(value, str) and contains_cpr(value)
    }
    if bad:
        raise InputError(bad)
