"""Create the PostgreSQL database the seed is pointed at when it does not exist yet."""

import re

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from seed.seeding import SeedError

# Where to connect to run CREATE DATABASE, in the order `createdb` tries them.
MAINTENANCE_DATABASES = ("postgres", "template1")
CONNECT_TIMEOUT_SECONDS = 10
DUPLICATE_DATABASE = "42P04"


class DatabaseUnavailable(SeedError):
    """The database cannot be reached or created; the message says what to do instead."""


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names if it is missing; True if it was created.

    Only PostgreSQL is handled (SQLite creates its file on first use). Connects to the
    server's maintenance database with AUTOCOMMIT to run CREATE DATABASE. Raises
    DatabaseUnavailable, with a message for the user, when the URL is bad, the server cannot
    be reached or the database cannot be created.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    name = parsed.database
    if not name:
        raise DatabaseUnavailable(
            f"The database URL {_shown(parsed)} names no database; add one at the end, "
            "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/takstkompas."
        )
    try:
        _connect_once(parsed)
        return False
    except sa.exc.DBAPIError as error:
        target_error = error
    for maintenance in MAINTENANCE_DATABASES:
        if maintenance == name:
            continue
        admin = _engine(parsed.set(database=maintenance))
        try:
            with admin.connect() as connection:
                exists = connection.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists:  # there, but we may not connect: say why
                    break
                quoted = connection.dialect.identifier_preparer.quote_identifier(name)
                try:
                    # Not sa.text(): it would double a % in the name for the driver.
                    connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
                except sa.exc.DBAPIError as error:
                    if getattr(error.orig, "sqlstate", None) == DUPLICATE_DATABASE:
                        return False  # someone else created it just now
                    raise DatabaseUnavailable(_cannot_create(parsed, error)) from None
                return True
        except sa.exc.DBAPIError:
            continue  # no such maintenance database, or not allowed in: try the next
        finally:
            admin.dispose()
    raise DatabaseUnavailable(cannot_connect(parsed, target_error))


def parse_url(url: str) -> URL:
    """The URL parsed, or DatabaseUnavailable saying it is not a database URL."""
    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()  # unknown backend, or its driver not installed
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError, ValueError):
        masked = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        raise DatabaseUnavailable(
            f"{masked!r} is not a database URL this program can use. Give --db-url (or "
            "TAKSTKOMPAS_DB_URL) as e.g. postgresql+psycopg://USER@HOST:5432/NAME or "
            "sqlite:///data/takstkompas.db."
        ) from None
    return parsed


def cannot_connect(url: URL, error: BaseException) -> str:
    """What to tell the user when connecting to the database at `url` failed."""
    shown = _shown(url)
    reason = driver_message(error)
    if url.get_backend_name() != "postgresql":
        return f"Cannot use the database {shown}: {reason} Check the path and its permissions."
    createdb = _createdb_command(url)
    return (
        f"Cannot connect to the PostgreSQL database {shown}: {reason} Check that the server "
        "is running and that host, port, user and password in --db-url (or "
        "TAKSTKOMPAS_DB_URL) are right. If the database does not exist and could not be "
        f"created automatically, create it with `{createdb}` and run the seed again."
    )


def driver_message(error: BaseException) -> str:
    """The database driver's own error text as one sentence (no SQL, no parameters)."""
    original = getattr(error, "orig", None) or error
    text = re.sub(r"\s+", " ", str(original)).strip() or type(original).__name__
    return text if text.endswith((".", "?", "!")) else text + "."


def _cannot_create(url: URL, error: BaseException) -> str:
    return (
        f'The PostgreSQL database "{url.database}" does not exist and user '
        f'"{url.username or "(default)"}" could not create it: {driver_message(error)} '
        f"Create it as a user who may create databases, e.g. `{_createdb_command(url)}`, "
        "then run the seed again."
    )


def _createdb_command(url: URL) -> str:
    parts = ["createdb"]
    if url.host:
        parts += ["-h", url.host]
    if url.port:
        parts += ["-p", str(url.port)]
    parts += ["-U", "postgres"]
    if url.username and url.username != "postgres":
        parts += ["-O", url.username]
    parts.append(str(url.database))
    return " ".join(parts)


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _engine(url: URL) -> Engine:
    connect_args = {}
    if url.get_driver_name() in ("psycopg", "psycopg2"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args=connect_args)


def _connect_once(url: URL) -> None:
    engine = _engine(url)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
