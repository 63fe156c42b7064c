"""Errors the pages show to the user, worded in Danish."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from pydantic import ValidationError


class UserError(Exception):
    """Something the user can fix; `message` is Danish and safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(UserError):
    """Invalid input: one Danish message per form field (key `_form` for the whole form)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("Ret de markerede felter: " + "; ".join(self.fields.values()))


class ConfirmationNeeded(InputError):
    """A plausible mistake rather than an invalid value (an unusually high amount, a CVR that
    another provider already has): the message goes next to the field and the form offers a
    checkbox there. Saving again with the field in the data's `confirmed` list accepts it."""


def confirmed(data: Mapping[str, object], field: str) -> bool:
    """Whether the user ticked "confirm" for `field` (see ConfirmationNeeded)."""
    fields = data.get("confirmed")
    return isinstance(fields, list | tuple | set | frozenset) and field in fields


class ConflictError(UserError):
    """Someone else saved the same row after it was loaded."""

    def __init__(self, what: str = "posten") -> None:
        super().__init__(
            f"En anden har gemt {what} imens du redigerede. Dine ændringer er ikke gemt. "
            "Indlæs siden igen for at se den nyeste udgave, og indtast dine ændringer igen."
        )


class NotFoundError(UserError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} findes ikke (måske slettet af en anden).")


def _bound_text(value: object) -> str:
    """A limit in a message the Danish way: 100.000, 20,5, 22.11.2026 (never "Decimal('0')")."""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, Decimal | int | float):
        return format_decimal(value, format="#,##0.##########", locale="da_DK")
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return str(value)


def _danish_message(error: Mapping) -> str:
    """One pydantic error as a Danish message for the field; limits written the Danish way."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "Ugyldig værdi")))
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Skal udfyldes"
    if kind == "decimal_max_places" and ctx.get("decimal_places") in (0, 1):
        return "Skal være et helt tal" if ctx["decimal_places"] == 0 else "Højst én decimal"
    messages = {
        "string_too_short": "Skal være mindst {min_length} tegn",
        "string_too_long": "Må højst være {max_length} tegn",
        "greater_than": "Skal være større end {gt}",
        "greater_than_equal": "Må ikke være mindre end {ge}",
        "less_than": "Skal være mindre end {lt}",
        "less_than_equal": "Må ikke være større end {le}",
        "int_parsing": "Skal være et helt tal",
        "int_from_float": "Skal være et helt tal",
        "int_type": "Skal være et helt tal",
        "decimal_parsing": "Skal være et tal, fx 2.080,80",
        "decimal_type": "Skal være et tal, fx 2.080,80",
        "decimal_max_digits": "Tallet er for stort",
        "decimal_max_places": "Højst {decimal_places} decimaler",
        "decimal_whole_digits": "Tallet er for stort",
        "float_parsing": "Skal være et tal, fx 2.080,80",
        "float_type": "Skal være et tal, fx 2.080,80",
        "finite_number": "Skal være et tal, fx 2.080,80",
        "int_parsing_size": "Tallet er for stort",
        "multiple_of": "Skal gå op i {multiple_of}",
        "too_long": "Højst {max_length}",
        "too_short": "Mindst {min_length}",
        "date_parsing": "Skal være en dato, fx 22.11.2026",
        "date_from_datetime_parsing": "Skal være en dato, fx 22.11.2026",
        "date_type": "Skal være en dato, fx 22.11.2026",
        "enum": "Vælg en af mulighederne",
        "bool_parsing": "Skal være ja eller nej",
        "literal_error": "Vælg en af mulighederne",
    }
    template = messages.get(kind)
    if template is None:
        return "Ugyldig værdi"
    values = {k: _bound_text(v) for k, v in ctx.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def input_error_from(exc: ValidationError) -> InputError:
    """Translate a pydantic validation error into per-field Danish messages."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("_form",)
        field = str(loc[0])
        fields.setdefault(field, _danish_message(error))
    return InputError(fields)
