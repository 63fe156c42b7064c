"""A colleague saving index rates while others click (`python -m bench --users … --saving S`).

Saving an index rate rebuilds, in the saver's transaction, the stored prices of every
index-regulated contract (services/price_timeline.py): on the large set the heaviest ordinary
write there is, and on SQLite it holds the write lock meanwhile. The saver runs in a process of
its own (as a colleague's session runs beside the others on the server, not inside the clients'
event loop) and saves the latest year's rate every `every` seconds through the same service as
Indstillinger, alternating between the rate it found and that rate plus 0,1 percentage point.
It puts the rate back when it stops, so the bench database keeps its figures; the saves stay in
the audit trail as the user "bench".
"""

import multiprocessing as mp
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.synchronize import Event
from typing import Any

SAVER = "bench"
STEP = Decimal("0.1")


@dataclass
class Saves:
    seconds: list[float] = field(default_factory=list)  # each save, from call to commit
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "saves": len(self.seconds),
            "save_p50_s": statistics.median(self.seconds) if self.seconds else None,
            "save_max_s": max(self.seconds, default=None),
            "errors": len(self.errors),
            "first_error": next(iter(self.errors), None),
        }


def _save(url: str, year: int, percent: Decimal) -> None:
    from sqlmodel import Session, select

    from models.reference import RegulationRate
    from services.db import get_engine
    from services.reference import save_regulation_rate

    with Session(get_engine(url)) as session:
        current = session.exec(select(RegulationRate).where(RegulationRate.year == year)).one()
        save_regulation_rate(
            session=session,
            data={"year": year, "percent": percent, "version": current.version},
            user=SAVER,
        )


def _latest_rate(url: str) -> tuple[int, Decimal] | None:
    from sqlmodel import Session, col, select

    from models.reference import RegulationRate
    from services.db import get_engine

    with Session(get_engine(url)) as session:
        row = session.exec(select(RegulationRate).order_by(col(RegulationRate.year).desc())).first()
        return None if row is None else (row.year, row.percent)


def _saver(url: str, every: float, ready: Event, stop: Event, out: Any) -> None:
    from services.price_timeline import keep_prices_current

    keep_prices_current()  # as the app's start-up: a save rebuilds the prices it changes
    saves = Saves()
    latest = _latest_rate(url)
    ready.set()
    if latest is None:
        saves.errors.append("databasen har ingen reguleringssats at gemme")
        out.send(saves)
        return
    year, found = latest
    turn = 0
    try:
        while not stop.is_set():  # the first save at once, then one every `every` seconds
            turn += 1
            started = time.perf_counter()
            try:
                _save(url, year, found + STEP if turn % 2 else found)
            except Exception as exc:  # a conflict or a busy database: counted, the bench goes on
                saves.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                saves.seconds.append(time.perf_counter() - started)
            stop.wait(every)
    finally:
        if turn % 2:
            _save(url, year, found)  # the rate as it was
        out.send(saves)


@contextmanager
def saving(url: str, every: float) -> Iterator[Saves]:
    """Save an index rate every `every` seconds in another process while the block runs; the
    yielded Saves is filled in when the block ends."""
    context = mp.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_saver, args=(url, every, ready, stop, send), daemon=True)
    process.start()
    ready.wait(60)
    result = Saves()
    try:
        yield result
    finally:
        stop.set()
        if receive.poll(120):
            done: Saves = receive.recv()
            result.seconds, result.errors = done.seconds, done.errors
        else:
            result.errors.append("den der gemte svarede ikke")
        process.join(10)
        if process.is_alive():
            process.kill()
