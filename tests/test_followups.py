"""Recording follow-ups, goals and the cadence-driven next follow-up (SPEC 4.5)."""

from datetime import date

import pytest
from sqlmodel import select

from models import FollowUp
from services.contracts import get_contract
from services.errors import InputError
from services.followups import list_goals, record_followup
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
