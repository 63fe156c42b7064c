"""`python -m seed --size demo|large [--db-url URL] [--today YYYY-MM-DD] [--replace]`."""

import argparse
import sys
import time
from datetime import date

import sqlalchemy as sa

from seed import SIZES, SeedError, clear_database, existing_data, seed_database
from seed.database import cannot_connect, ensure_database, parse_url
from services.config import load_config
from services.db import get_engine, upgrade_schema

EXIT_REFUSED = 2


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ikke en dato (ÅÅÅÅ-MM-DD): {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seed",
        description="Fyld databasen med fiktive demodata (alle leverandører er markeret demo).",
    )
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="demo",
        help="demo (lille) eller large (stor kommune); standard: demo",
    )
    parser.add_argument(
        "--db-url",
        default=None,
        help="database-URL; standard: TAKSTKOMPAS_DB_URL eller den lokale SQLite",
    )
    parser.add_argument(
        "--today",
        type=_parse_date,
        default=None,
        help="dagen data skal se aktuelle ud fra (ÅÅÅÅ-MM-DD); standard: i dag",
    )
    parser.add_argument("--replace", action="store_true", help="slet alle eksisterende data først")
    args = parser.parse_args(argv)

    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    url = args.db_url or load_config().db_url
    if url.startswith("postgresql://"):  # as services.config does for TAKSTKOMPAS_DB_URL
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if ensure_database(url):
            name = parse_url(url).database
            print(f'Created the PostgreSQL database "{name}" (it did not exist).', flush=True)
        engine = get_engine(url)
    except SeedError as error:
        print(str(error), file=sys.stderr)
        return EXIT_REFUSED
    except OSError as error:  # e.g. the SQLite file's folder cannot be made
        print(cannot_connect(parse_url(url), error), file=sys.stderr)
        return EXIT_REFUSED
    try:
        progress(f"Database: {engine.url.render_as_string(hide_password=True)}")
        upgrade_schema(engine)
        progress("Skema opdateret")
        existing = existing_data(engine=engine)
        if existing and not args.replace:
            providers = existing.get("provider", 0)
            what = f"{providers} leverandører" if providers else "data"
            print(
                f"Databasen indeholder allerede {what}. Brug --replace for at slette "
                "alle data og indlæse demodata igen.",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        if args.replace:
            clear_database(engine=engine)
            progress("Eksisterende data slettet")
        counts = seed_database(engine=engine, size=args.size, today=args.today, progress=progress)
    except SeedError as error:
        print(str(error), file=sys.stderr)
        return EXIT_REFUSED
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        # Cannot connect, wrong password, connection lost, disk full, database locked.
        print(cannot_connect(engine.url, error), file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()

    width = max(len(name) for name in counts)
    print("\nRækker pr. tabel:")
    for name, count in counts.items():
        print(f"  {name:<{width}}  {count:>9,}".replace(",", "."))
    print(f"  {'i alt':<{width}}  {sum(counts.values()):>9,}".replace(",", "."))
    print(f"\nTid: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
