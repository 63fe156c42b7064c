"""The audit trail: who changed what, old → new."""

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, SQLModel

from models import AuditEvent


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def record_change(
    *,
    session: Session,
    user: str,
    action: str,
    entity: str,
    entity_id: object,
    changes: Mapping[str, tuple[object, object]],
) -> None:
    """Add an AuditEvent to the session (committed with the change itself)."""
    payload = {key: [_plain(old), _plain(new)] for key, (old, new) in changes.items()}
    session.add(
        AuditEvent(
            who=user,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            changes=json.dumps(payload, ensure_ascii=False),
        )
    )


def apply_changes(row: SQLModel, values: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    """Set the fields on a row; return the ones that actually changed (old, new)."""
    changed: dict[str, tuple[object, object]] = {}
    for key, new in values.items():
        old = getattr(row, key)
        if old != new:
            changed[key] = (old, new)
            setattr(row, key, new)
    return changed
