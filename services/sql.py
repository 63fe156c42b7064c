"""SQL building blocks that render the same meaning on SQLite and PostgreSQL."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class day_number(FunctionElement):  # noqa: N801 - reads like the SQL function it renders
    """Days since 1970-01-01 of a date column, the same on SQLite and PostgreSQL."""

    type = sa.Integer()
    inherit_cache = True


@compiles(day_number)
def _day_number_default(element: day_number, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: Any, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def date_of(value: Any) -> date | None:
    """A date read back from SQL, e.g. MIN(date): SQLite hands it back as ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
