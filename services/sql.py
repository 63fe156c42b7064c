"""SQL building blocks that render the same meaning on SQLite and PostgreSQL."""

from collections.abc import Callable, Mapping, Sequence
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
    fastest way each engine has: COPY on PostgreSQL, the driver's executemany on SQLite. For
    imports of 100.000 lines; the values are those an ORM insert would bind, and the columns a
    row leaves out get the database's defaults (as with COPY), not the model's."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        _sqlite_insert(connection, table, rows)
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
            for values in zip(*(_copy_column(rows, name, zone) for name in names), strict=True):
                copy.write_row(values)
    except psycopg.errors.IntegrityError as exc:
        # As SQLAlchemy reports a broken constraint (the action turns it into a message).
        raise sa.exc.IntegrityError(statement, None, exc) from exc


def reserve_ids(connection: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """`count` ids for rows about to be inserted in bulk with their ids, so none need be read
    back: the id sequence's next values on PostgreSQL; on SQLite the ones after the largest,
    which SQLite would give itself, as only a user action's transaction may ask (it began
    IMMEDIATE and holds the write lock: nobody else inserts until it ends)."""
    if count <= 0:
        return []
    (key,) = table.primary_key.columns
    if connection.dialect.name == "postgresql":
        # The sequence's name looked up once (as a function of each row it took five times as
        # long as the 2.000 nextval calls themselves).
        sequence = sa.select(sa.func.pg_get_serial_sequence(table.name, key.name))
        numbers = sa.func.generate_series(1, count)
        query = sa.select(sa.func.nextval(sequence.scalar_subquery())).select_from(numbers)
        return [int(new_id) for new_id in connection.execute(query).scalars()]
    from services.unit_of_work import WRITE  # it imports this module (through the audit)

    if connection.dialect.name != "sqlite" or not connection.get_execution_options().get(WRITE):
        raise RuntimeError("Ids are reserved only in a user action's transaction")
    largest = int(connection.execute(sa.select(sa.func.max(key))).scalar() or 0)
    return list(range(largest + 1, largest + 1 + count))


def _sqlite_insert(
    connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """One executemany on the driver's cursor, each column's values bound as SQLAlchemy
    binds them (its type's processor for SQLite: ISO text for dates, …), a column at a time.
    SQLAlchemy's own executemany binds a row at a time, which took half the time of writing
    an import."""
    dialect = connection.dialect
    names = list(rows[0])
    columns: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        bind = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        columns.append(values if bind is None else _bound(values, bind))
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    import sqlite3

    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, zip(*columns, strict=True))
    except sqlite3.IntegrityError as exc:
        # As SQLAlchemy reports a broken constraint (the action turns it into a message).
        raise sa.exc.IntegrityError(statement, None, exc) from exc
    finally:
        cursor.close()


def _bound(values: list[Any], bind: Callable[[Any], Any]) -> list[Any]:
    """A column's values bound, each distinct value once (an import's rows share their
    timestamps, and mostly their periods). Equal values bind alike: Decimals to the same
    float, aware datetimes to the same UTC time, dates and enums to the same text."""
    done: dict[Any, Any] = {None: None}
    try:
        return [done[v] if v in done else done.setdefault(v, bind(v)) for v in values]
    except TypeError:  # a value that cannot be a dict key
        return [None if v is None else bind(v) for v in values]


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


def _copy_column(rows: Sequence[Mapping[str, Any]], name: str, zone: ZoneInfo) -> list[Any]:
    """A column's values as COPY takes them; the others converted each distinct value once
    (an import's rows share their timestamps and enums)."""
    values = [row[name] for row in rows]
    if set(map(type, values)) <= _AS_IS:
        return values
    return _bound(values, lambda value: _copy_value(value, zone))


def _copy_value(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value
