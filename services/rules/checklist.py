"""The standard-contract checklist (SPEC 4.6): eight points, completeness = checked / 8."""

from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa

from models.contract import CHECKLIST_ITEMS, Contract

CHECKLIST_SIZE = len(CHECKLIST_ITEMS)


def checklist_of(contract: object) -> dict[str, bool]:
    """The eight points of a contract (or any object with the chk_* attributes)."""
    return {key: bool(getattr(contract, key)) for key in CHECKLIST_ITEMS}


def checked_count(checks: Mapping[str, bool]) -> int:
    """How many of the eight points are checked."""
    return sum(1 for key in CHECKLIST_ITEMS if checks.get(key))


def checked_count_sql() -> sa.ColumnElement[int]:
    """SQL twin of `checked_count`, per contract row."""
    terms = [sa.case((getattr(Contract, key).is_(True), 1), else_=0) for key in CHECKLIST_ITEMS]
    total: sa.ColumnElement[int] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def checklist_completeness(checks: Mapping[str, bool]) -> Decimal:
    """Share of the eight standard-contract checklist points that are checked (0–1)."""
    return Decimal(checked_count(checks)) / Decimal(CHECKLIST_SIZE)
