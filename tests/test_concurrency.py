"""Concurrent writers on SQLite and PostgreSQL (SPEC 7): 2 and 20 threads, each with its own
session, released at once. No update is lost, no check is passed twice, and nobody sees
anything but the Danish conflict or input message ("database is locked" never reaches a user).
"""

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import FollowUp, Goal, PriceChange, Provider
from services.contracts import SAME_DAY, register_price_change
from services.errors import ConflictError, InputError
from services.followups import plan_followup, record_followup
from services.providers import update_provider
from tests.factories import USER, make_contract, make_provider

WRITERS = [2, 20]
# Writer processes each import the app (~2 s on 2 cores): ten, the colleagues who may save at
# once, rather than twenty.
PROCESSES = [2, 10]


def _race(engine: Engine, n: int, work: Callable[[Session, int], Any]) -> list[Any]:
    """Run `work(session, i)` in n threads started together; each result or exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                results[i] = work(session, i)
            except Exception as exc:  # noqa: BLE001 - collected and checked below
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _only(results: list[Any], *allowed: type[Exception]) -> None:
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, allowed)]
    assert [] == unexpected


@pytest.mark.parametrize("n", WRITERS)
def test_same_version_edits_one_wins_the_rest_get_the_conflict(engine, n):
    with Session(engine) as setup:
        provider = make_provider(setup)
        provider_id, version = provider.id, provider.version

    def save(session: Session, i: int) -> Any:
        return update_provider(
            session=session,
            provider_id=provider_id,
            data={
                "name": f"Bostedet nr. {i}",
                "cvr": "10000009",
                "kind": "privat",
                "version": version,
            },
            user=f"bruger{i}",
        )

    results = _race(engine, n, save)
    _only(results, ConflictError)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert 1 == len(winners)
    with Session(engine) as check:
        stored = check.get(Provider, provider_id)
        assert winners[0].name == stored.name
        assert version + 1 == stored.version


@pytest.mark.parametrize("n", WRITERS)
def test_same_day_price_changes_one_is_stored(engine, n):
    # Finding 4: up to 20 rows were stored for the same contract and day.
    with Session(engine) as setup:
        contract_id = make_contract(setup).id

    def renegotiate(session: Session, i: int) -> Any:
        return register_price_change(
            session=session,
            contract_id=contract_id,
            data={
                "effective_date": date(2026, 4, 1),
                "new_price": Decimal("2000.00") + i,
                "reason": "genforhandling",
            },
            user=f"bruger{i}",
        )

    results = _race(engine, n, renegotiate)
    _only(results, InputError)
    assert all(SAME_DAY in r.fields["effective_date"] for r in results if isinstance(r, Exception))
    with Session(engine) as check:
        stored = check.exec(select(PriceChange).where(PriceChange.contract_id == contract_id))
        assert 1 == len(list(stored))


@pytest.mark.parametrize("n", WRITERS)
def test_goals_cap_holds_when_follow_ups_add_goals_at_once(engine, n):
    # Finding 4: simultaneous follow-ups each adding a goal broke the 3-active-goals cap.
    with Session(engine) as setup:
        contract = make_contract(setup, start_date=date(2024, 3, 1))
        contract_id = contract.id
        followups = [
            plan_followup(
                session=setup,
                data={"contract_id": contract_id, "due_date": date(2024, 9, 1), "kind": "moede"},
                user=USER,
            )
            for _ in range(n)
        ]
        targets = [(f.id, f.version) for f in followups]

    def record(session: Session, i: int) -> Any:
        followup_id, version = targets[i]
        return record_followup(
            session=session,
            followup_id=followup_id,
            data={
                "done_date": date(2024, 9, 2),
                "done_by": f"bruger{i}",
                "kind": "moede",
                "progression": "fremgang",
                "support_need_change": "uaendret",
                "action": "fortsaet",
                "version": version,
            },
            goals=[
                {
                    "theme": "Egenomsorg",
                    "goal_type": "udvikle",
                    "text": f"Mål nummer {i}",
                    "measure": "Ugentligt",
                    "deadline": date(2025, 3, 1),
                }
            ],
            user=f"bruger{i}",
            today=date(2024, 9, 2),
        )

    results = _race(engine, n, record)
    _only(results, InputError)
    with Session(engine) as check:
        active = check.exec(
            select(sa.func.count())
            .select_from(Goal)
            .where(Goal.contract_id == contract_id, Goal.status == "aktiv")
        ).one()
        done = check.exec(
            select(sa.func.count())
            .select_from(FollowUp)
            .where(FollowUp.contract_id == contract_id, FollowUp.done_by.is_not(None))  # type: ignore[union-attr]
        ).one()
    assert min(n, 3) == active
    # A refused follow-up is not half saved: exactly the ones that got their goal are done.
    assert min(n, 3) == done


def _start_processes(engine: Engine, n: int) -> list[subprocess.Popen[str]]:
    """n writer processes (tests/race_worker.py), connected and waiting for work."""
    url = engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.race_worker", url, str(i)],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert "ready" == worker.stdout.readline().strip()
    return workers


def _release(workers: list[subprocess.Popen[str]], job: str) -> list[str]:
    """Give every process the same job at once; what each one said."""
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(job + "\n")
        worker.stdin.flush()
    said = []
    for worker in workers:
        assert worker.stdout is not None
        said.append(worker.stdout.readline().strip())
    return said


@pytest.mark.parametrize("n", PROCESSES)
def test_writer_processes_same_version_edits_and_same_day_price_changes(engine, n):
    with Session(engine) as setup:
        provider = make_provider(setup)
        contract_id = make_contract(setup, provider).id
        provider_id, version = provider.id, provider.version
    workers = _start_processes(engine, n)
    try:
        edits = _release(workers, f"edit {provider_id} {version}")
        changes = _release(workers, f"price {contract_id} 0")
    finally:
        for worker in workers:
            worker.communicate(timeout=60)
    assert 1 == edits.count("won") and n - 1 == edits.count("conflict"), edits
    assert 1 == changes.count("won") and n - 1 == changes.count("refused"), changes
    with Session(engine) as check:
        stored = check.exec(select(PriceChange).where(PriceChange.contract_id == contract_id))
        assert 1 == len(list(stored))


@pytest.mark.parametrize("n", WRITERS)
def test_the_same_e_invoice_saved_at_once_is_stored_once(engine, n):
    """Colleagues saving the same upload at the same moment: one stores it, the others get
    the Danish "already checked" or duplicate message, never a traceback."""
    from models import InvoiceCheck
    from services.einvoice.batch import BatchFile, save_einvoices
    from services.einvoice.matching import match_einvoice
    from tests.test_einvoice_matching import _einvoice

    with Session(engine) as setup:
        make_contract(setup)
    invoice = _einvoice(contract_ref="SAG-2024-0001")

    def save(session: Session, i: int) -> Any:
        files = [BatchFile(1, "f.xml", invoice, match_einvoice(session=session, invoice=invoice))]
        return save_einvoices(session=session, files=files, user=f"bruger{i}")

    results = _race(engine, n, save)
    _only(results, InputError)
    with Session(engine) as check:
        assert 1 == len(check.exec(select(InvoiceCheck)).all())
