"""The CPR guard: the tool holds no CPR numbers, so text that looks like one is refused."""

import re
from collections.abc import Mapping
from datetime import date

from services.errors import InputError

# Six digits (DDMMYY), optional dash or space, four digits; not part of a longer number.
# A dot or comma before it only means "number" after a digit: "nr.010190-1234" is a CPR number.
# Pasted text may carry an en dash, a non-breaking hyphen or a non-breaking space.
_CPR_PATTERN = re.compile(
    r"(?<!\d)(?<!\d[.,])(\d{2})(\d{2})(\d{2})[-\u2011\u2013 \u00a0]?(\d{4})(?![\d.,]?\d)"
)

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


def contains_cpr(text: str | None) -> bool:
    """True if the text holds DDMMYY-SSSS or DDMMYYSSSS where DDMMYY is a valid date."""
    if not text:
        return False
    for match in _CPR_PATTERN.finditer(str(text)):
        day, month, year2 = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if _is_valid_date(day, month, year2):
            return True
    return False


def ensure_no_cpr(values: Mapping[str, object]) -> None:
    """Raise an InputError naming every text field that looks like it holds a CPR number."""
    bad = {
        field: CPR_MESSAGE
        for field, value in values.items()
        if isinstance(value, str) and contains_cpr(value)
    }
    if bad:
        raise InputError(bad)
