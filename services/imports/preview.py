"""What every import kind shares (SPEC 9): the preview of a file (rows to create, rows that
update an existing record old → new, and the error and warning tables row by row), reading a
row's cells through the kind's readers, and the rule that confirming writes all rows or none.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from models import label
from services.audit import record_change
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import InputError, UserError
from services.formatting import format_amount, format_date, format_number
from services.imports.columns import ColumnMatch
from services.imports.parsing import header_key
from services.imports.reading import SourceRow

ROW = "(rækken)"  # the error table's column for a problem of the whole row
YES = {"ja", "j", "x", "sand", "true", "1"}
NO = {"nej", "n", "falsk", "false", "0"}
CPR_ROW = f"{CPR_MESSAGE} Rækken er afvist."

Reader = Callable[[Any], Any]


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the user sees it in Excel
    column: str  # the file's header, or ROW
    value: str
    message: str


@dataclass(frozen=True)
class PlannedRow:
    row: int
    data: dict[str, Any]  # the input for the kind's create or update service
    record_id: int | None = None  # an update of this record
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (old, new)


@dataclass(frozen=True)
class ImportPreview:
    columns: ColumnMatch
    rows: int  # data rows read
    new: list[PlannedRow]
    updates: list[PlannedRow]
    unchanged: int  # matched rows with nothing to change
    errors: list[RowProblem]
    warnings: list[RowProblem]
    # Figures the kind adds to the preview (an invoice import's sum of deviations): label → text.
    figures: tuple[tuple[str, str], ...] = ()
    summary: str | None = (
        None  # a sentence the kind adds (the sum of an invoice import's deviations)
    )
    counted: int = 0  # records to create that a streaming kind counts instead of listing
    more_errors: int = 0  # errors beyond those listed

    @property
    def creates(self) -> int:
        return len(self.new) + self.counted

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    @property
    def ready(self) -> bool:
        missing = self.columns.missing
        return not self.error_count and not missing and bool(self.creates or self.updates)


def codes(enum: Iterable[Any], context: str | None = None) -> dict[str, str]:
    """Every code and Danish label of an enum, as a file may write it → the code."""
    found: dict[str, str] = {}
    for member in enum:
        for name in (member.value, label(member.value), label(member.value, context)):
            found[header_key(name)] = member.value
    return found


def shown(value: Any) -> str:
    """A cell's value as the error table shows it: one line, at most 80 characters."""
    return "" if value is None else " ".join(str(value).split())[:80]


def code(raw: Any, known: Mapping[str, str], what: str, choices: str) -> str | None:
    if raw is None:
        return None
    found = known.get(header_key(raw))
    if found is None:
        raise ValueError(f"Ukendt {what} »{shown(raw)}«: skriv {choices}")
    return found


def yes_no(raw: Any) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"»{shown(raw)}« er hverken ja eller nej")


def whole_number_text(raw: Any) -> Any:
    """An Excel number typed in a text column (a CVR or postal code) as its digits."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return raw


def cells(source: SourceRow, match: ColumnMatch) -> dict[str, Any]:
    """A row's cells by the kind's column keys."""
    return {c.key: source.values[i] for i, c in match.by_index.items() if i < len(source.values)}


def has_cpr(source: SourceRow) -> bool:
    """A CPR-like value in any cell: in text, and in a whole number Excel made of one (a CPR
    number typed without its hyphen is a number of 10 digits, or 9 when it loses a leading
    zero). A CVR number typed as a number has 8 digits and is not one."""
    for value in source.values:
        if isinstance(value, str):
            if contains_cpr(value):
                return True
        elif value is not None and not isinstance(value, bool):
            digits = whole_number_text(value)
            if (
                isinstance(digits, str)
                and len(digits) in (9, 10)
                and digits.isdigit()
                and contains_cpr(digits.zfill(10))
            ):
                return True
    return False


def shown_value(value: Any, context: str | None = None) -> str:
    """A value as the preview's table of changes shows it, the Danish way (a code by its Danish
    label, in `context` where the code has more than one meaning)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, int):
        return str(value) if 1900 <= value <= 2199 else format_number(value)
    return label(value, context)


def read_cells(
    values: Mapping[str, Any], readers: Mapping[str, Reader]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A row's input from its cells (each through its column's reader, if it has one), and the
    cells that could not be read (column key → Danish message). Empty cells are left out."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in values.items():
        try:
            value = readers[key](raw) if key in readers else raw
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if value is not None:
            data[key] = value
    return data, errors


def header_of(match: ColumnMatch, key: str, headers: Sequence[str]) -> str:
    """The file's header of a column key (ROW when the file has no such column)."""
    for index, column in match.by_index.items():
        if column.key == key:
            return headers[index]
    return ROW


def require_ready(preview: ImportPreview) -> None:
    """Confirming writes nothing while the file has a missing column or an error."""
    if preview.columns.missing:
        raise InputError({"_form": "Filen mangler kolonnen " + ", ".join(preview.columns.missing)})
    if preview.error_count:
        raise InputError(
            {
                "_form": f"{preview.error_count} fejl i filen: intet er gemt. Ret "
                "rækkerne i fejltabellen og prøv igen."
            }
        )


def write_planned(
    session: Session,
    preview: ImportPreview,
    *,
    kind_name: str,
    file_name: str,
    create: Callable[[PlannedRow], object],
    update: Callable[[PlannedRow], object],
) -> ImportPreview:
    """Confirming a register import: nothing when the file has an error, else every planned row
    through the kind's create or update service (a refusal names its row: InputError, and the
    action's transaction writes nothing), then the import's own audit event."""
    require_ready(preview)
    row = 0
    try:
        for planned in preview.new:
            row = planned.row
            create(planned)
        for planned in preview.updates:
            row = planned.row
            update(planned)
    except UserError as exc:
        raise InputError({"_form": f"Række {row}: {exc.message}"}) from None
    record_import(
        session,
        kind_name=kind_name,
        file_name=file_name,
        created=len(preview.new),
        updated=len(preview.updates),
    )
    return preview


def record_import(
    session: Session, *, kind_name: str, file_name: str, created: int, updated: int
) -> None:
    """The import's own audit event (each row it wrote has its own as well)."""
    record_change(
        session=session,
        action="import",
        entity="import",
        entity_id=file_name[:50],
        changes={"kind": (None, kind_name), "created": (None, created), "updated": (None, updated)},
    )
