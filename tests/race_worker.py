"""A writer process for tests/test_concurrency.py. For each line "KIND TARGET_ID VERSION" on
stdin it saves once, at once, and prints what happened: won, conflict, refused, or the
exception's type. `python -m tests.race_worker DATABASE_URL N`."""

import sys
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from services.contracts import register_price_change
from services.db import get_engine
from services.errors import ConflictError, InputError
from services.price_timeline import keep_prices_current
from services.providers import update_provider


def save(engine: object, kind: str, target_id: int, version: int, n: int) -> str:
    try:
        with Session(engine) as session:  # type: ignore[arg-type]
            if kind == "edit":
                update_provider(
                    session=session,
                    provider_id=target_id,
                    data={
                        "name": f"Bostedet proces {n}",
                        "cvr": "10000009",
                        "kind": "privat",
                        "version": version,
                    },
                    user=f"proces{n}",
                )
            else:
                register_price_change(
                    session=session,
                    contract_id=target_id,
                    data={
                        "effective_date": date(2026, 4, 1),
                        "new_price": Decimal("2100.00") + n,
                        "reason": "genforhandling",
                    },
                    user=f"proces{n}",
                )
        return "won"
    except ConflictError:
        return "conflict"
    except InputError:
        return "refused"
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        return f"error {type(exc).__name__}: {exc}"


def main(url: str, n: int) -> None:
    keep_prices_current()
    engine = get_engine(url)
    with engine.connect():  # connect before the start, as a running server would be
        pass
    print("ready", flush=True)
    for line in sys.stdin:
        kind, target_id, version = line.split()
        print(save(engine, kind, int(target_id), int(version), n), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
