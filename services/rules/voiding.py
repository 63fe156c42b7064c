"""Corrections kept on record (SPEC 8): a voided row counts nowhere.

A note, price change, add-on or invoice check registered by mistake is voided with a reason
(models.base.Voidable): it stays in the database and on screen, marked, and is left out of every
price, sum, count and alert. This is that rule once, in its Python form (for rows already
loaded) and its SQL form (for queries), tested with the same rows on SQLite and PostgreSQL.
"""

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import col

Row = TypeVar("Row")


def is_voided(row: Any) -> bool:
    """Whether a row was voided (a row without the Voidable columns never is)."""
    return getattr(row, "voided_at", None) is not None


def in_force(rows: Iterable[Row]) -> list[Row]:
    """The rows that count: every row not voided, in the same order."""
    return [row for row in rows if not is_voided(row)]


def not_voided_sql(model: Any) -> sa.ColumnElement[bool]:
    """SQL twin of `not is_voided(row)` for a Voidable table (or an aliased one)."""
    return col(model.voided_at).is_(None)
