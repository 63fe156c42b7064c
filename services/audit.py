"""The audit trail: who changed what, old → new (SPEC 8).

One session listener writes it. Inside a user action (services.unit_of_work) every ORM insert,
update and delete of a user-editable table becomes one AuditEvent per record: the fields old →
new, who, when, what was done, the table and the record's id. Several flushes of the same
record in one action (created, then given its computed price) merge into one event. The events
are written at the action's commit, in its transaction: a failed save leaves none.

Nothing here updates or deletes an audit row, and the app holds no other code that does (on
PostgreSQL it can run as a role that may not: docs/app_role.sql). Writes that bypass the ORM
(bulk deletes by SQL) are audited explicitly with `record_change`; the tables the app derives
itself (NOT_AUDITED) are left out, as their source row's event already says what changed.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from models import AuditEvent
from models.base import utcnow
from services.sql import bulk_insert

# The user a write is done for (services.unit_of_work.action sets it from the action's `user`).
WHO = "takstkompas_audit_who"
PENDING = "takstkompas_audit_pending"
# Set by services.unit_of_work while a user action runs (there: DEPTH).
ACTION_DEPTH = "takstkompas_action_depth"

# Derived by the app from a user's change, whose own event already says what changed: a
# deviation's history (its status change), stored prices, an offer's target-group links (in the
# offer's event) and the audit trail itself.
NOT_AUDITED = frozenset(
    {"auditevent", "contractpriceperiod", "pricetimeline", "deviationevent", "offertargetgroup"}
)
# Columns every row has for bookkeeping, and a user's "last seen": not what a user changed.
BOOKKEEPING = frozenset(
    {"id", "created_at", "created_by", "updated_at", "updated_by", "version"}
    | {"first_seen", "last_seen", "name_key"}  # name_key: a target group's name, for sorting
)

Changes = dict[str, tuple[object, object]]


@dataclass
class _Event:
    action: str
    changes: Changes = field(default_factory=dict)
    fixed: bool = False  # the action was named by the service (a merge): the listener keeps it


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


_encode = json.JSONEncoder(ensure_ascii=False, default=_plain).encode


def _pending(session: OrmSession) -> dict[tuple[str, str], _Event]:
    pending: dict[tuple[str, str], _Event] = session.info.setdefault(PENDING, {})
    return pending


def _merge(
    session: OrmSession, key: tuple[str, str], action: str, changes: Changes, fixed: bool = False
) -> None:
    """Fold a change into the record's event of this action: one event per record."""
    pending = _pending(session)
    current = pending.get(key)
    if current is None:
        pending[key] = _Event(action, dict(changes), fixed)
        return
    if fixed:
        current.action, current.fixed = action, True
    elif current.fixed or action == "update":
        pass  # a named action, or a create, void or delete, stays what it is
    elif current.action == "create" and action == "delete":
        del pending[key]  # created and deleted in the same action: nothing happened
        return
    elif current.action != "create":
        current.action = action  # updated, then voided or deleted
    for name, (old, new) in changes.items():
        first = current.changes[name][0] if name in current.changes else old
        current.changes[name] = (first, new)


def record_change(
    *,
    session: Session,
    action: str,
    entity: str,
    entity_id: object,
    changes: Mapping[str, tuple[object, object]],
) -> None:
    """Audit what the listener cannot see (a bulk delete by SQL) or name it (a merge): the
    record's event of this action gets this action name and these changes as well."""
    _merge(session, (entity, str(entity_id)), action, dict(changes), fixed=True)


def record_row_change(
    session: Session, row: SQLModel, changes: Mapping[str, tuple[object, object]]
) -> None:
    """Changes kept outside the row's own columns (an offer's target groups) into its event."""
    _merge(session, _key(row), "update", dict(changes))


def apply_changes(row: SQLModel, values: Mapping[str, object]) -> Changes:
    """Set the fields on a row; return the ones that actually changed (old, new)."""
    changed: Changes = {}
    for key, new in values.items():
        old = getattr(row, key)
        if old != new:
            changed[key] = (old, new)
            setattr(row, key, new)
    return changed


def created_changes(values: Mapping[str, object]) -> str:
    """A created record's changes as its create event stores them (JSON): each filled-in
    field but the bookkeeping, [None, value]. The text `json` would make of them, written
    directly for the common types (an import makes 100.000 of these)."""
    parts = []
    for name, value in values.items():
        if value is None or name in BOOKKEEPING:
            continue
        kind = type(value)
        if kind is str:
            if not value:
                continue
            text = _json_text(value)
        elif (encode := _JSON_OF.get(kind)) is not None:
            text = encode(value)
        elif value == "":  # an empty str subclass
            continue
        else:
            text = _json_other(value)
        parts.append(f"{_JSON_NAMES.get(name) or _json_name(name)}: [null, {text}]")
    return "{" + ", ".join(parts) + "}"


def _quoted(value: object) -> str:
    return f'"{value}"'  # a Decimal's or a date's text holds nothing JSON escapes


_json_text: Any = json.encoder.encode_basestring  # type: ignore[attr-defined]
# Exact types (not subclasses: an enum member is a str or an int too) → their JSON, as _encode.
_JSON_OF: dict[type, Any] = {
    bool: lambda value: "true" if value else "false",
    int: int.__repr__,
    Decimal: _quoted,
    date: lambda value: _quoted(value.isoformat()),
    datetime: lambda value: _quoted(value.isoformat()),
}
_JSON_NAMES: dict[str, str] = {}
_JSON_MEMBERS: dict[Enum, str] = {}


def _json_name(name: str) -> str:
    text = _JSON_NAMES.get(name)
    if text is None:
        text = _JSON_NAMES[name] = _encode(name)
    return text


def _json_other(value: object) -> str:
    """Any other value as _encode writes it; an enum member's text is kept."""
    if not isinstance(value, Enum):
        return _encode(value)
    text = _JSON_MEMBERS.get(value)
    if text is None:
        text = _JSON_MEMBERS[value] = _encode(value)
    return text


def write_created(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, object]],
    changes: Sequence[str] | None = None,
) -> None:
    """The create events of rows a user action inserted in bulk, by SQL (an import of 100.000
    invoice lines): each row's event as the listener would write it, written now, in the
    action's transaction (a rollback takes them with it). Each row holds its `id`; `changes`
    are the rows' `created_changes`, when the caller has them already."""
    if not session.info.get(ACTION_DEPTH):
        raise RuntimeError("Bulk writes are audited only inside a user action")
    who = session.info.get(WHO)
    if not who:
        raise RuntimeError("A user action changed records without saying for whom")
    now = utcnow()
    if changes is None:
        changes = [created_changes(row) for row in rows]
    events = [
        {
            "at": now,
            "who": who,
            "action": "create",
            "entity": table.name,
            "entity_id": str(row["id"]),
            "changes": row_changes,
        }
        for row, row_changes in zip(rows, changes, strict=True)
    ]
    bulk_insert(session.connection(), AuditEvent.__table__, events)  # type: ignore[attr-defined]


# --- The listener ---------------------------------------------------------------------------


def _audited(row: object) -> bool:
    table = getattr(row, "__table__", None)
    return table is not None and table.name not in NOT_AUDITED


def _key(row: object) -> tuple[str, str]:
    identity = inspect(row).mapper.primary_key_from_instance(row)
    if any(part is None for part in identity):  # the caller flushes before it names the row
        raise RuntimeError(f"{type(row).__name__} has no id yet")
    return row.__table__.name, "/".join(str(part) for part in identity)  # type: ignore[attr-defined]


def _columns(row: object) -> list[Any]:
    return [c for c in inspect(row).mapper.column_attrs if c.key not in BOOKKEEPING]


def _values(row: object, *, old: bool) -> Changes:
    """A created (old=False) or deleted (old=True) record's filled-in fields."""
    values: Changes = {}
    for column in _columns(row):
        value = getattr(row, column.key, None)
        if value is not None and value != "":
            values[column.key] = (value, None) if old else (None, value)
    return values


def _updated(row: object) -> Changes:
    changes: Changes = {}
    state = inspect(row)
    for column in _columns(row):
        history = state.attrs[column.key].history
        if not history.added:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0]
        if old != new:
            changes[column.key] = (old, new)
    return changes


def _after_flush(session: OrmSession, _context: Any) -> None:
    """Collect the flushed changes of a user action (session state is still pre-flush here)."""
    if not session.info.get(ACTION_DEPTH):
        return  # the seed, migrations and tests' own fixtures: not a user's action
    for row in chain(session.new, session.dirty, session.deleted):
        if not _audited(row):
            continue
        if row in session.new:
            _merge(session, _key(row), "create", _values(row, old=False))
        elif row in session.deleted:
            _merge(session, _key(row), "delete", _values(row, old=True))
        elif changes := _updated(row):
            voided = "voided_at" in changes and changes["voided_at"][0] is None
            _merge(session, _key(row), "void" if voided else "update", changes)


def _before_commit(session: OrmSession) -> None:
    """Write the action's events in its own transaction, just before it commits."""
    if not session.info.get(ACTION_DEPTH):
        return
    session.flush()  # the action's last changes, into the pending events
    pending = session.info.pop(PENDING, {})
    for e in pending.values():
        e.changes = {name: pair for name, pair in e.changes.items() if pair[0] != pair[1]}
    events = [(key, e) for key, e in pending.items() if e.changes or e.action != "update"]
    if not events:
        return
    who = session.info.get(WHO)
    if not who:
        raise RuntimeError("A user action changed records without saying for whom")
    now = utcnow()
    rows = [
        {
            "at": now,
            "who": who,
            "action": e.action,
            "entity": entity,
            "entity_id": entity_id,
            "changes": json.dumps(
                {name: [_plain(old), _plain(new)] for name, (old, new) in e.changes.items()},
                ensure_ascii=False,
            ),
        }
        for (entity, entity_id), e in events
    ]
    session.connection().execute(sa.insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]


def _forget(session: OrmSession, _transaction: Any = None) -> None:
    """A rolled-back action leaves no events."""
    session.info.pop(PENDING, None)


for _name, _fn in (
    ("after_flush", _after_flush),
    ("before_commit", _before_commit),
    ("after_soft_rollback", _forget),
):
    if not event.contains(OrmSession, _name, _fn):
        event.listen(OrmSession, _name, _fn)
