"""Recording follow-ups, goals and the cadence-driven next follow-up (SPEC 4.5)."""

import json
from datetime import date

import pytest
from sqlmodel import col, select

from models import AuditEvent, FollowUp
from services.contracts import get_contract
from services.cpr import CPR_MESSAGE
from services.errors import ConflictError, InputError
from services.followups import (
    assign_followup,
    list_goals,
    next_followup_text,
    plan_followup,
    record_followup,
)
from services.reference import create_price_category_set
from tests.factories import USER, make_contract


def _first_followup(session, contract) -> FollowUp:
    return session.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).one()


def _outcome(followup, **overrides) -> dict:
    data = {
        "done_date": date(2024, 6, 3),
        "done_by": "Mette",
        "kind": "moede",
        "progression": "fremgang",
        "support_need_change": "uaendret",
        "action": "fortsaet",
        "version": followup.version,
    }
    data.update(overrides)
    return data


GOAL = {
    "theme": "Egenomsorg",
    "goal_type": "udvikle",
    "text": "Tager selv medicin morgen og aften",
    "measure": "Medicinskema, ugentligt",
    "deadline": date(2024, 12, 1),
}


def test_recording_a_followup_schedules_the_next_by_paragraph(session):
    contract = make_contract(session, paragraph="SEL108")
    followup = _first_followup(session, contract)
    done, upcoming = record_followup(
        session=session,
        followup_id=followup.id,
        data=_outcome(followup),
        goals=[GOAL],
        user=USER,
        today=date(2024, 6, 10),
    )
    assert date(2024, 6, 3) == done.done_date
    assert date(2025, 6, 3) == upcoming.due_date
    assert ["Egenomsorg"] == [g.theme for g in list_goals(session=session, contract_id=contract.id)]


def test_high_price_category_caps_interval_at_six_months(session):
    create_price_category_set(
        session=session,
        user=USER,
        data={
            "paragraph": "SEL108",
            "year": 2024,
            "middel_from": "1.500",
            "hoej_from": "1.900",
            "ekstraordinaer_from": "3.000",
        },
    )
    contract = make_contract(session, paragraph="SEL108")
    followup = _first_followup(session, contract)
    _, upcoming = record_followup(
        session=session,
        followup_id=followup.id,
        data=_outcome(followup),
        user=USER,
        today=date(2024, 6, 10),
    )
    assert date(2024, 12, 3) == upcoming.due_date


def test_renegotiate_action_sets_renegotiation_date_when_none(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    record_followup(
        session=session,
        followup_id=followup.id,
        user=USER,
        data=_outcome(followup, action="genforhandl"),
        today=date(2024, 6, 10),
    )
    assert (
        date(2024, 6, 3)
        == get_contract(session=session, contract_id=contract.id).renegotiation_date
    )


def test_at_most_three_active_goals(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    goals = [
        {**GOAL, "theme": theme} for theme in ("Egenomsorg", "Mobilitet", "Sundhed", "Socialt liv")
    ]
    with pytest.raises(InputError) as raised:
        record_followup(
            session=session,
            followup_id=followup.id,
            data=_outcome(followup),
            goals=goals,
            user=USER,
            today=date(2024, 6, 10),
        )
    assert "goals" in raised.value.fields
    assert None is session.get(FollowUp, followup.id).done_date


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"done_date": date(2030, 1, 1)}, "done_date"),
        ({"note": "Borger 010190-1234 flytter"}, "note"),
        ({"done_by": ""}, "done_by"),
    ],
)
def test_invalid_outcome_is_refused(session, overrides, field):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    with pytest.raises(InputError) as raised:
        record_followup(
            session=session,
            followup_id=followup.id,
            data=_outcome(followup, **overrides),
            user=USER,
            today=date(2024, 6, 10),
        )
    assert field in raised.value.fields


def test_goal_theme_must_be_a_configured_theme(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    with pytest.raises(InputError) as raised:
        record_followup(
            session=session,
            followup_id=followup.id,
            data=_outcome(followup),
            goals=[{**GOAL, "theme": "Økonomi"}],
            user=USER,
            today=date(2024, 6, 10),
        )
    assert "goal1_theme" in raised.value.fields


def test_future_date_is_reported_together_with_cpr_in_note(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    with pytest.raises(InputError) as raised:
        record_followup(
            session=session,
            followup_id=followup.id,
            user=USER,
            today=date(2024, 6, 10),
            data=_outcome(followup, done_date=date(2030, 1, 1), note="Borger 010190-1234"),
        )
    assert {"done_date", "note"} <= set(raised.value.fields)


# --- The responsible person (assignee) --------------------------------------------------------


def _followup_events(session, followup_id: int) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "followup", AuditEvent.entity_id == str(followup_id))
            .order_by(col(AuditEvent.id))
        )
    )


def test_a_new_contracts_first_followup_is_assigned_to_who_registered_it(session):
    contract = make_contract(session)
    assert USER == _first_followup(session, contract).assignee


def test_planning_by_hand_assigns_the_planner_unless_someone_is_named(session):
    contract = make_contract(session)
    planned = {"contract_id": contract.id, "due_date": date(2024, 9, 1), "kind": "telefon"}
    mine = plan_followup(session=session, data=planned, user=USER)
    named = plan_followup(session=session, data={**planned, "assignee": " Ole N. "}, user=USER)
    blank = plan_followup(session=session, data={**planned, "assignee": "  "}, user=USER)
    assert [USER, "Ole N.", USER] == [mine.assignee, named.assignee, blank.assignee]


def test_planning_refuses_a_cpr_number_as_the_assignee(session):
    contract = make_contract(session)
    with pytest.raises(InputError) as raised:
        plan_followup(
            session=session,
            data={
                "contract_id": contract.id,
                "due_date": date(2024, 9, 1),
                "assignee": "0101901234",
            },
            user=USER,
        )
    assert {"assignee": CPR_MESSAGE} == raised.value.fields


@pytest.mark.parametrize(
    ("current", "next_assignee", "expected"),
    [
        ("Mette", "Ole", "Ole"),  # named in the outcome
        ("Mette", None, "Mette"),  # else the case stays with the same person
        ("Mette", "", "Mette"),
        (None, None, "Karin"),  # else the one who recorded the outcome
    ],
)
def test_the_next_followup_is_assigned(session, current, next_assignee, expected):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    followup.assignee = current
    session.add(followup)
    session.commit()
    recorded, upcoming = record_followup(
        session=session,
        followup_id=followup.id,
        data=_outcome(followup, next_assignee=next_assignee),
        user="Karin",
        today=date(2024, 6, 10),
    )
    assert expected == upcoming.assignee
    assert current == recorded.assignee  # the recorded one keeps who was responsible for it
    assert f"Næste opfølgning planlagt til 03.06.2025 med {expected} som ansvarlig." == (
        next_followup_text(recorded=recorded, upcoming=upcoming, contract_end=None)
    )


def test_assigning_an_open_followup_is_saved_with_one_audit_event(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    version = followup.version
    before = len(_followup_events(session, followup.id))

    assigned = assign_followup(
        session=session,
        followup_id=followup.id,
        data={"assignee": "Ole N.", "version": version},
        user="Karin",
    )

    assert ("Ole N.", version + 1) == (assigned.assignee, assigned.version)
    events = _followup_events(session, followup.id)
    assert before + 1 == len(events)
    assert ("update", "Karin") == (events[-1].action, events[-1].who)
    assert {"assignee": [USER, "Ole N."]} == json.loads(events[-1].changes)


def test_assigning_with_an_outdated_version_is_a_conflict(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    stale = followup.version
    assign_followup(
        session=session,
        followup_id=followup.id,
        data={"assignee": "Ole", "version": stale},
        user=USER,
    )
    with pytest.raises(ConflictError):
        assign_followup(
            session=session,
            followup_id=followup.id,
            data={"assignee": "Karin", "version": stale},
            user=USER,
        )
    session.rollback()
    assert "Ole" == session.get(FollowUp, followup.id).assignee


@pytest.mark.parametrize(
    ("assignee", "message"),
    [("", "Skal udfyldes"), ("   ", "Skal udfyldes"), ("Ole 010190-1234", CPR_MESSAGE)],
)
def test_assigning_needs_a_name_and_no_cpr_number(session, assignee, message):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    with pytest.raises(InputError) as raised:
        assign_followup(
            session=session,
            followup_id=followup.id,
            data={"assignee": assignee, "version": followup.version},
            user=USER,
        )
    assert {"assignee": message} == raised.value.fields
    assert USER == session.get(FollowUp, followup.id).assignee


def test_a_recorded_followup_cannot_be_reassigned(session):
    contract = make_contract(session)
    followup = _first_followup(session, contract)
    recorded, _ = record_followup(
        session=session,
        followup_id=followup.id,
        data=_outcome(followup),
        user=USER,
        today=date(2024, 6, 10),
    )
    with pytest.raises(InputError) as raised:
        assign_followup(
            session=session,
            followup_id=followup.id,
            data={"assignee": "Ole", "version": recorded.version},
            user=USER,
        )
    assert "_form" in raised.value.fields
