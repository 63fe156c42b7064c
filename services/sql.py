"""SQL building blocks that render the same meaning on SQLite and PostgreSQL."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def bulk_insert(
    connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert many rows (each with the same columns) in the connection's transaction, the
    fastest way each engine has: COPY on PostgreSQL, one executemany elsewhere. For imports of
    100.000 lines; the values are those an ORM insert would bind."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), list(rows))
        return
    names = list(rows[0])
    zone = _session_zone(connection)
    columns = ", ".join(f'"{name}"' for name in names)
    import psycopg  # PostgreSQL's driver: only where it is used

    driver = connection.connection.driver_connection
    statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
    try:
        with (
            driver.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row(
                    [
                        value if type(value) in _AS_IS else _copy_value(value, zone)
                        for value in map(row.__getitem__, names)
                    ]
                )
    except psycopg.errors.IntegrityError as exc:
        # As SQLAlchemy reports a broken constraint (the action turns it into a message).
        raise sa.exc.IntegrityError(statement, None, exc) from exc


def _session_zone(connection: sa.Connection) -> ZoneInfo:
    """The PostgreSQL session's time zone: a bound aware datetime is stored in a timestamp
    column as its wall time there, and COPY must store the same."""
    name = str(connection.exec_driver_sql("SHOW TIME ZONE").scalar())
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# Values COPY takes as they are (most of an import's): the rest go through _copy_value.
_AS_IS = frozenset({str, int, Decimal, date, bool, type(None)})


def _copy_value(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value
