"""The Opfølgning page through AppTest: lists, recording an outcome, goals, planning by hand."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from models import Contract, ContractStatus, FollowUp, Goal, GoalStatus, label
from services.contracts import current_category
from services.cpr import CPR_MESSAGE
from services.db import get_engine
from services.formatting import format_date
from services.rules.cadence import next_followup_due
from services.settings import get_settings
from tests.pagetest import run_page

PAGE = "pages/opfoelgning.py"


def _open_followup(url: str, *, exclude: tuple[int, ...] = (), with_goals: bool = False):
    """An open follow-up of an active contract without an end date (so a next one is planned)."""
    with Session(get_engine(url)) as s:
        query = (
            select(FollowUp, Contract)
            .join(Contract, col(Contract.id) == FollowUp.contract_id)
            .where(
                col(FollowUp.done_date).is_(None),
                Contract.status == ContractStatus.ACTIVE,
                col(Contract.end_date).is_(None),
                col(FollowUp.id).not_in(exclude),
            )
            .order_by(col(FollowUp.due_date))
        )
        for followup, contract in s.exec(query):
            goals = s.exec(
                select(Goal).where(
                    Goal.contract_id == contract.id, Goal.status == GoalStatus.ACTIVE
                )
            ).all()
            if with_goals == bool(goals) and len(goals) < 3:
                return followup, contract
    raise AssertionError("the demo data has no such follow-up")


def _metric(at, name: str) -> str:
    return next(m.value for m in at.metric if m.label == name)


def test_lists_plan_and_key_figures_render_on_demo_data(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    assert "Opfølgning" == at.title[0].value
    assert ["Arbejdsliste", "Registrér udfald", "Årsplan"] == [s.value for s in at.subheader]
    assert _metric(at, "Udført til tiden (12 mdr.)").endswith("%")
    assert int(_metric(at, "Overskredne")) > 0
    assert any(t.label.startswith("Overskredne (") for t in at.tabs)
    assert len(at.dataframe) >= 3  # overdue, due soon, month plan
    overdue = at.dataframe[0].value
    assert "Sagsnummer" in overdue.columns and "Dage overskredet" in overdue.columns
    assert not at.error

    at.radio(key="opfoelgning_horizon").set_value(90).run()
    at.multiselect(key="opfoelgning_filter_paragraphs").select("SEL108").run()
    assert not at.exception
    assert any("inden for 90 dage" in t.label for t in at.tabs)
    shown = {p for df in at.dataframe if "Paragraf" in df.value for p in df.value["Paragraf"]}
    assert {label("SEL108")} == shown


def test_lists_render_on_an_empty_database(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "–" == _metric(at, "Udført til tiden (12 mdr.)")
    assert "0" == _metric(at, "Overskredne")
    infos = [i.value for i in at.info]
    assert any("ingen opfølgninger" in i for i in infos)
    assert any("Ingen overskredne" in i for i in infos)
    assert not at.error


def test_record_an_outcome_schedules_the_next_followup_by_the_cadence(demo_db, monkeypatch):
    followup, contract = _open_followup(demo_db)
    today = date.today()
    with Session(get_engine(demo_db)) as s:
        settings = get_settings(session=s)
        expected_due = next_followup_due(
            last_done=today,
            paragraph=contract.paragraph,
            category=current_category(session=s, contract=contract, on=today),
            cadence=settings.cadence,
        )

    at = run_page(demo_db, PAGE, monkeypatch)
    at.text_input(key="opfoelgning_search_case").input(contract.case_ref).run()
    at.selectbox(key="opfoelgning_search_pick").select(followup.id).run()
    at.button(key="opfoelgning_pick").click().run()
    assert not at.exception
    assert any(contract.case_ref in m.value.replace("\\", "") for m in at.markdown)

    at.selectbox(key="opfoelgning_record_progression").select("fremgang")
    at.selectbox(key="opfoelgning_record_goal1_theme").select("Egenomsorg")
    at.text_area(key="opfoelgning_record_goal1_text").input("Tager selv medicin morgen og aften")
    at.text_input(key="opfoelgning_record_goal1_measure").input("Medicinskema, ugentligt")
    at.button(key="opfoelgning_record_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    with Session(get_engine(demo_db)) as s:
        done = s.get(FollowUp, followup.id)
        assert today == done.done_date
        assert "fremgang" == done.progression
        upcoming = s.exec(
            select(FollowUp).where(
                FollowUp.contract_id == contract.id, col(FollowUp.done_date).is_(None)
            )
        ).all()
        goals = s.exec(select(Goal).where(Goal.followup_id == followup.id)).all()
    assert [expected_due] == [f.due_date for f in upcoming]
    assert ["Egenomsorg"] == [g.theme for g in goals]
    assert any(
        f"Næste opfølgning planlagt til {format_date(expected_due)}" in i.value for i in at.info
    )
    assert any("er registreret" in s.value for s in at.success)


def test_invalid_save_shows_the_message_at_the_field_and_keeps_the_input(demo_db, monkeypatch):
    followup, contract = _open_followup(demo_db)
    at = run_page(demo_db, PAGE, monkeypatch)
    at.session_state["opfoelgning_selected_id"] = followup.id
    at.run()
    future = date.today() + timedelta(days=5)
    note = "Talt med borger 010190-1234 om ugen"
    at.date_input(key="opfoelgning_record_done_date").set_value(future)
    at.selectbox(key="opfoelgning_record_progression").select("uaendret")
    at.text_area(key="opfoelgning_record_note").input(note)
    at.text_area(key="opfoelgning_record_goal1_text").input("Går selv til indkøb")
    at.button(key="opfoelgning_record_save").click().run()
    assert not at.exception

    assert CPR_MESSAGE in [e.value for e in at.error]
    assert note == at.text_area(key="opfoelgning_record_note").value
    assert future == at.date_input(key="opfoelgning_record_done_date").value
    assert "uaendret" == at.selectbox(key="opfoelgning_record_progression").value
    assert "Går selv til indkøb" == at.text_area(key="opfoelgning_record_goal1_text").value

    # With the CPR number gone, the future date is refused next, still at its field.
    at.text_area(key="opfoelgning_record_note").input("Talt med borgeren om ugen")
    at.button(key="opfoelgning_record_save").click().run()
    errors = [e.value for e in at.error]
    assert "Datoen må ikke ligge i fremtiden" in errors
    assert future == at.date_input(key="opfoelgning_record_done_date").value

    # A goal with text but no theme is refused at the goal's theme.
    at.date_input(key="opfoelgning_record_done_date").set_value(date.today())
    at.button(key="opfoelgning_record_save").click().run()
    assert "Skal udfyldes" in [e.value for e in at.error]
    assert "Går selv til indkøb" == at.text_area(key="opfoelgning_record_goal1_text").value

    with Session(get_engine(demo_db)) as s:
        assert s.get(FollowUp, followup.id).done_date is None


def test_change_the_status_of_an_active_goal(demo_db, monkeypatch):
    followup, contract = _open_followup(demo_db, with_goals=True)
    with Session(get_engine(demo_db)) as s:
        goal = s.exec(
            select(Goal).where(Goal.contract_id == contract.id, Goal.status == GoalStatus.ACTIVE)
        ).first()
    at = run_page(demo_db, PAGE, monkeypatch)
    at.query_params["id"] = str(followup.id)  # as a link from Kontrakter would open it
    at.run()
    assert any(contract.case_ref in m.value.replace("\\", "") for m in at.markdown)
    at.selectbox(key=f"opfoelgning_goal_{goal.id}_status").select("opnaaet").run()
    at.button(key=f"opfoelgning_goal_{goal.id}_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_db)) as s:
        assert GoalStatus.ACHIEVED == s.get(Goal, goal.id).status


def test_plan_an_extra_followup_by_hand(demo_db, monkeypatch):
    _, contract = _open_followup(demo_db)
    due = date.today() + timedelta(days=20)
    at = run_page(demo_db, PAGE, monkeypatch)
    at.button(key="opfoelgning_plan_save").click().run()
    assert "Vælg en kontrakt" in [e.value for e in at.error]

    at.text_input(key="opfoelgning_plan_case").input(contract.case_ref).run()
    at.selectbox(key="opfoelgning_plan_contract_id").select(contract.id)
    at.date_input(key="opfoelgning_plan_due_date").set_value(due)
    at.selectbox(key="opfoelgning_plan_kind").select("tilsynsbesoeg")
    at.button(key="opfoelgning_plan_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_db)) as s:
        planned = s.exec(
            select(FollowUp).where(FollowUp.contract_id == contract.id, FollowUp.due_date == due)
        ).all()
    assert ["tilsynsbesoeg"] == [f.kind for f in planned]
    assert any(f"planlagt til {format_date(due)}" in m.value for m in at.success)


@pytest.fixture
def empty_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"
