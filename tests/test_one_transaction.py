"""One user action, one transaction (services.unit_of_work): a failure anywhere in an action
leaves nothing of it behind, and a save that loses a race gets the conflict message.

Each test here failed before the write helpers stopped committing halfway.
"""

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (
    AuditEvent,
    Contract,
    DeviationEvent,
    FollowUp,
    Goal,
    InvoiceCheck,
    Setting,
)
from services import contracts as contracts_service
from services import invoices as invoices_service
from services import settings as settings_service
from services.errors import ConflictError, InputError, UserError
from services.followups import record_followup
from services.invoices import check_invoice, update_deviation
from services.providers import create_provider
from services.reference import save_regulation_rate
from services.settings import setting_versions, update_settings
from services.unit_of_work import unit_of_work
from tests.factories import USER, make_contract, make_provider

GOAL = {
    "theme": "Egenomsorg",
    "goal_type": "udvikle",
    "text": "Tager selv medicin morgen og aften",
    "measure": "Medicinskema, ugentligt",
    "deadline": date(2026, 12, 1),
}


def _count(session: Session, table: type) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _first_followup(session: Session, contract: Contract) -> FollowUp:
    return session.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).one()


def test_followup_on_an_index_contract_without_a_rate_saves_nothing(session):
    # Finding 1: the follow-up was saved as done, its goals lost and no next one planned,
    # while the user was told it failed; a retry then said it was already registered.
    # Regulated by index on 1 January 2026, a year with no index rate registered.
    contract = make_contract(
        session,
        start_date=date(2025, 6, 2),
        price_base_date=date(2025, 6, 2),
        regulation_kind="indeks",
    )
    followup = _first_followup(session, contract)
    data = {
        "done_date": date(2026, 4, 6),
        "done_by": "Mette",
        "kind": "moede",
        "progression": "fremgang",
        "support_need_change": "uaendret",
        "action": "fortsaet",
        "version": followup.version,
    }
    audit_before = _count(session, AuditEvent)
    with pytest.raises(UserError, match="reguleringssats"):
        record_followup(
            session=session,
            followup_id=followup.id,
            data=data,
            goals=[GOAL],
            user=USER,
            today=date(2026, 4, 6),
        )
    session.expire_all()
    assert _first_followup(session, contract).done_date is None
    assert 0 == _count(session, Goal)
    assert audit_before == _count(session, AuditEvent)
    # With the rate in place the same save goes through, goals and next follow-up included.
    save_regulation_rate(session=session, data={"year": 2026, "percent": "2,1"}, user=USER)
    done, upcoming = record_followup(
        session=session,
        followup_id=followup.id,
        data=data,
        goals=[GOAL],
        user=USER,
        today=date(2026, 4, 6),
    )
    assert date(2026, 4, 6) == done.done_date
    assert upcoming is not None
    assert 1 == _count(session, Goal)


def test_a_contract_is_stored_with_its_first_followup_or_not_at_all(session, monkeypatch):
    provider = make_provider(session)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(contracts_service, "first_followup_due", broken)
    with pytest.raises(RuntimeError):
        make_contract(session, provider)
    session.expire_all()
    assert 0 == _count(session, Contract)
    assert 0 == _count(session, FollowUp)


def _flagged_check(session: Session) -> dict:
    contract = make_contract(
        session,
        start_date=date(2024, 3, 1),
        price_base_date=date(2024, 3, 1),
    )
    return {
        "contract_id": contract.id,
        "invoice_no": "F-1001",
        "period_from": date(2026, 3, 1),
        "period_to": date(2026, 3, 31),
        "invoiced": Decimal("66000.00"),
    }


def test_a_flagged_check_is_stored_with_its_ny_event_or_not_at_all(session, monkeypatch):
    data = _flagged_check(session)

    def broken(**_kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(invoices_service, "DeviationEvent", broken)
    with pytest.raises(RuntimeError):
        check_invoice(session=session, data=data, user=USER, today=date(2026, 4, 10))
    session.expire_all()
    assert 0 == _count(session, InvoiceCheck)
    monkeypatch.undo()
    check = check_invoice(session=session, data=data, user=USER, today=date(2026, 4, 10))
    assert check.flagged
    assert 1 == _count(session, DeviationEvent)


def test_a_status_change_is_stored_with_its_event_or_not_at_all(session, monkeypatch):
    check = check_invoice(
        session=session, data=_flagged_check(session), user=USER, today=date(2026, 4, 10)
    )
    events = _count(session, DeviationEvent)

    def broken(**_kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(invoices_service, "DeviationEvent", broken)
    with pytest.raises(RuntimeError):
        update_deviation(
            session=session,
            check_id=check.id,
            data={"status": "undersoeges", "version": check.version},
            user=USER,
        )
    session.expire_all()
    assert "ny" == session.get(InvoiceCheck, check.id).status
    assert events == _count(session, DeviationEvent)


def test_actions_in_one_unit_of_work_commit_together_or_not_at_all(session):
    with pytest.raises(InputError), unit_of_work(session):
        create_provider(
            session=session,
            data={"name": "Første", "cvr": "10000009", "kind": "privat"},
            user=USER,
        )
        create_provider(session=session, data={"name": "", "kind": "privat"}, user=USER)
    session.expire_all()
    assert [] == session.execute(sa.text("select name from provider")).all()


def test_settings_saved_from_the_same_loaded_page_one_wins_one_gets_the_conflict(
    engine, monkeypatch
):
    # Finding 4: the loser got a StaleDataError traceback instead of the conflict message.
    # The race, made deterministic: the other save starts when this one has passed its version
    # check. On PostgreSQL the other one commits first and this one gets the conflict; on
    # SQLite this one holds the write lock (BEGIN IMMEDIATE), so the other waits, then finds
    # its loaded version outdated.
    with Session(engine) as setup:
        update_settings(session=setup, values={"tolerance_kr": "1"}, user=USER)
    first, second = Session(engine), Session(engine)
    versions = setting_versions(session=first)
    real_flush = settings_service.flush
    outcome: dict[str, object] = {}

    def save(session: Session, value: str, user: str) -> None:
        try:
            update_settings(
                session=session, values={"tolerance_kr": value}, user=user, versions=versions
            )
            outcome[user] = value
        except ConflictError as exc:
            outcome[user] = exc

    def flush_while_the_other_saves(session: Session, what: str = "posten") -> None:
        if session is second and "other" not in outcome:
            outcome["other"] = threading.Thread(target=save, args=(first, "5", "a"))
            outcome["other"].start()
            outcome["other"].join(timeout=1)
        real_flush(session, what)

    monkeypatch.setattr(settings_service, "flush", flush_while_the_other_saves)
    try:
        save(second, "7", "b")
        outcome["other"].join(timeout=10)
    finally:
        first.close()
        second.close()
    results = [outcome["a"], outcome["b"]]
    winners = [r for r in results if isinstance(r, str)]
    assert 1 == len(winners), results
    assert 1 == sum(isinstance(r, ConflictError) for r in results), results
    with Session(engine) as check:
        assert winners[0] == check.get(Setting, "tolerance_kr").value
