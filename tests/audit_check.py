"""An independent check of the audit trail (SPEC 8): what a write changed, read from the tables
themselves before and after, against the audit events it wrote. Every changed record has
exactly one event, with the same fields old → new; no record has two."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from models import AuditEvent

# Stated here, not taken from services.audit, so that the check is independent of it: the
# tables the app derives itself, and the columns that are bookkeeping rather than content.
NOT_AUDITED = frozenset(
    {"auditevent", "contractpriceperiod", "pricetimeline", "deviationevent", "offertargetgroup"}
)
BOOKKEEPING = frozenset(
    {"id", "created_at", "created_by", "updated_at", "updated_by", "version"}
    | {"first_seen", "last_seen", "name_key"}  # name_key: a target group's name, for sorting
)
Key = tuple[str, str]
Records = dict[Key, dict[str, Any]]
# Fields an event may name that are not columns of the record: an offer's target groups (kept
# in a link table) and what a merge of two target groups did.
OUTSIDE_THE_ROW = frozenset({"target_groups", "merged_into", "offers"})


def records(session: Session) -> Records:
    """Every record of every audited table, by (table, id), without bookkeeping columns."""
    found: Records = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in NOT_AUDITED:
            continue
        keys = list(table.primary_key.columns)
        for row in session.execute(table.select()).mappings():
            key = (table.name, "/".join(str(row[c.name]) for c in keys))
            found[key] = {c.name: row[c.name] for c in table.columns if c.name not in BOOKKEEPING}
    return found


def last_event_id(session: Session) -> int:
    return session.exec(select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0))).one()


def events_after(session: Session, event_id: int) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(col(AuditEvent.id) > event_id).order_by(col(AuditEvent.id))
        )
    )


def _empty(value: Any) -> bool:
    return value is None or value == ""


def changed_records(before: Records, after: Records) -> dict[Key, dict[str, tuple[Any, Any]]]:
    """The fields each created, changed or deleted record changed (old → new)."""
    changed: dict[Key, dict[str, tuple[Any, Any]]] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            fields = {f: (None, v) for f, v in (new or {}).items() if not _empty(v)}
        elif new is None:
            fields = {f: (v, None) for f, v in old.items() if not _empty(v)}
        else:
            fields = {f: (old[f], new[f]) for f in new if old[f] != new[f]}
        changed[key] = fields
    return changed


def _same(stored: Any, logged: Any) -> bool:
    """A stored value and its text in the audit event are the same value."""
    if _empty(stored) or _empty(logged):
        return _empty(stored) and _empty(logged)
    if isinstance(stored, datetime):
        moment = datetime.fromisoformat(str(logged))
        as_utc = [
            m.astimezone(UTC).replace(tzinfo=None) if m.tzinfo else m for m in (stored, moment)
        ]
        return abs((as_utc[0] - as_utc[1]).total_seconds()) < 1
    if isinstance(stored, bool) or isinstance(logged, bool):
        return bool(stored) == bool(logged)
    try:
        return Decimal(str(stored)) == Decimal(str(logged))
    except InvalidOperation:
        return str(getattr(stored, "value", stored)) == str(logged)


def check_events(
    changed: dict[Key, dict[str, tuple[Any, Any]]], events: list[AuditEvent], who: str
) -> None:
    by_record: dict[Key, list[AuditEvent]] = {}
    for e in events:
        by_record.setdefault((e.entity, e.entity_id), []).append(e)
    twice = {key: [e.action for e in found] for key, found in by_record.items() if len(found) > 1}
    assert not twice, f"records with more than one event: {twice}"
    missing = sorted(key for key in changed if key not in by_record)
    assert not missing, f"changed without an audit event: {missing}"
    tables = {t.name for t in SQLModel.metadata.sorted_tables}
    for key, found in by_record.items():
        event = found[0]
        assert event.who == who, (key, event.who)
        if key[0] not in tables:  # an event about a whole operation (an import): its own check
            continue
        logged = json.loads(event.changes)
        fields = changed.get(key, {})
        for name, (old, new) in fields.items():
            assert name in logged, f"{key}: {name} changed ({old!r} → {new!r}), not in the event"
            assert _same(old, logged[name][0]) and _same(new, logged[name][1]), (
                f"{key}: {name} is {old!r} → {new!r}, the event says {logged[name]}"
            )
        extra = set(logged) - set(fields) - OUTSIDE_THE_ROW
        assert not extra, f"{key}: the event names fields that did not change: {extra}"
        assert fields or set(logged) & OUTSIDE_THE_ROW, f"{key}: an event for an unchanged record"


@contextmanager
def audited(
    engine: sa.Engine, who: str, expect: Callable[[list[AuditEvent]], None] | None = None
) -> Iterator[None]:
    """Around a write: afterwards, exactly one event per changed record with its changes (or,
    with `expect`, the events checked by it: a bulk delete audited as one event)."""
    with Session(engine) as s:
        before, first = records(s), last_event_id(s)
    yield
    with Session(engine) as s:
        changed = changed_records(before, records(s))
        events = events_after(s, first)
    if expect is not None:
        expect(events)
    else:
        check_events(changed, events, who)
