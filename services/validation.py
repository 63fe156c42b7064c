"""One way to validate input and save rows: schema check, CPR guard, optimistic locking, audit.

The row helpers flush; the user action around them commits (services.unit_of_work)."""

import operator
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel

from models.base import utcnow
from models.types import INT_MAX
from services.audit import apply_changes, record_row_change
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import ConflictError, InputError, NotFoundError, input_error_from
from services.unit_of_work import flush

Schema = TypeVar("Schema", bound=BaseModel)
Row = TypeVar("Row", bound=SQLModel)


def validate(
    schema: type[Schema], data: Mapping[str, Any], extra_errors: Mapping[str, str] | None = None
) -> Schema:
    """Validate input through its schema; refuse CPR-like text. All field errors at once."""
    errors: dict[str, str] = {
        key: CPR_MESSAGE
        for key, value in data.items()
        if isinstance(value, str) and contains_cpr(value)
    }
    errors.update(extra_errors or {})
    try:
        result = schema.model_validate(dict(data))
    except ValidationError as exc:
        for key, message in input_error_from(exc).fields.items():
            errors.setdefault(key, message)
        raise InputError(errors) from None
    # The schema cleans text (control characters out): "010190\x01-1234" becomes a CPR number
    # only then, so the cleaned values are guarded too.
    for key, value in vars(result).items():  # the fields as validated (flat schemas)
        if isinstance(value, str) and key not in errors and contains_cpr(value):
            errors[key] = CPR_MESSAGE
    if errors:
        raise InputError(errors)
    return result


def require(session: Session, table: type[Row], row_id: Any, what: str) -> Row:
    """The row with this id, else NotFoundError; an id no row can have (not a whole number, or
    beyond the database's INTEGER) is not looked up: SQLite cannot even bind 2**63."""
    try:
        key = operator.index(row_id)
    except TypeError:
        raise NotFoundError(what) from None
    if isinstance(row_id, bool) or not 1 <= key <= INT_MAX:
        raise NotFoundError(what)
    row = session.get(table, key)
    if row is None:
        raise NotFoundError(what)
    return row


def insert_row(*, session: Session, row: Row, user: str) -> Row:
    """Add a new row (flushed, not committed: see unit_of_work; services.audit records it)."""
    if hasattr(row, "created_by"):
        row.created_by = user
        row.updated_by = user
    session.add(row)
    flush(session)
    return row


def update_row(
    *,
    session: Session,
    row: Row,
    values: Mapping[str, Any],
    expected_version: int,
    user: str,
    what: str,
    extra_changes: Mapping[str, tuple[object, object]] | None = None,
) -> Row:
    """Apply changed values if nobody saved the row since `expected_version` was loaded; the
    change is flushed, not committed (see unit_of_work; services.audit records it).
    `extra_changes` are changes kept outside the row (an offer's target groups): they go into
    the row's audit event and count as a change of the row (its version moves on)."""
    if getattr(row, "version", None) != expected_version:
        raise ConflictError(what)
    changes = apply_changes(row, values)
    if not changes and not extra_changes:
        return row
    row.updated_by = user
    row.updated_at = utcnow()
    if extra_changes:
        record_row_change(session, row, extra_changes)
    session.add(row)
    flush(session, what)
    return row


def void_row(
    *,
    session: Session,
    row: Row,
    reason: str,
    expected_version: int,
    user: str,
    what: str,
) -> Row:
    """Void a row with the user's reason (models.base.Voidable: kept, marked, left out of every
    price, sum and alert, services.rules.voiding) if nobody saved it since `expected_version`;
    flushed, not committed (see unit_of_work; services.audit records it as "void")."""
    if getattr(row, "version", None) != expected_version:
        raise ConflictError(what)
    if getattr(row, "voided_at", None) is not None:
        raise InputError({"_form": f"{what[:1].upper()}{what[1:]} er allerede annulleret."})
    now = utcnow()
    apply_changes(row, {"voided_at": now, "voided_by": user, "void_reason": reason})
    row.updated_by = user  # type: ignore[attr-defined]
    row.updated_at = now  # type: ignore[attr-defined]
    session.add(row)
    flush(session, what)
    return row


def without(data: BaseModel, *keys: str) -> dict[str, Any]:
    """The schema's values minus bookkeeping keys such as `version`."""
    return data.model_dump(exclude=set(keys))
