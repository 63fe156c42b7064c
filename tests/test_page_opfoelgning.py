"""The Opfølgning page through AppTest: lists, recording an outcome, goals, planning by hand,
the responsible person and "Mine sager", forms that forget, tabs and sections that stay."""

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
import streamlit
from sqlmodel import Session, col, func, select
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Contract, ContractStatus, FollowUp, Goal, GoalStatus, label
from services.contracts import current_category
from services.cpr import CPR_MESSAGE
from services.db import get_engine
from services.formatting import format_date
from services.rules.cadence import next_followup_due
from services.settings import get_settings
from tests.pagetest import run_page, unescaped

PAGE = "pages/opfoelgning.py"
TAB = "opfoelgning_worklist_tab"
EXTRA_SECTION = "opfoelgning_section_extra"
MINE = "opfoelgning_filter_mine"
OTHER_PERSON = "\x00anden"  # the assignee choice "Anden person …"


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


def _in_order(node: Any) -> Iterator[Any]:
    """Every element and block of the page, top to bottom."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _in_order(child)


def _part_of(at: AppTest, text: str) -> str | None:
    """The subheader above the success message containing `text` (where it shows)."""
    heading = None
    for node in _in_order(at.main):
        if node.type == "subheader":
            heading = node.value
        if node.type == "success" and text in unescaped(node.value):
            return heading
    return None


def _due_tab(at: AppTest) -> str:
    return next(t.label for t in at.tabs if t.label.startswith("Forfalder"))


def _worklist_table(at: AppTest, kind: str) -> Any:
    return next(d for d in at.dataframe if d.key and d.key.startswith(f"opfoelgning_{kind}_table"))


def _pick_row(at: AppTest, kind: str, row: int) -> int:
    """Select a row of a work list as a click would; returns the follow-up's case ref row."""
    table = _worklist_table(at, kind)
    at.session_state[table.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return row


def _open_count(url: str, **where: Any) -> int:
    with Session(get_engine(url)) as s:
        query = select(func.count()).select_from(FollowUp).where(col(FollowUp.done_date).is_(None))
        for field, value in where.items():
            query = query.where(getattr(FollowUp, field) == value)
        return int(s.exec(query).one())


def _last_followup_id(url: str) -> int:
    with Session(get_engine(url)) as s:
        return int(s.exec(select(func.max(FollowUp.id))).one())


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict:
    """What each download button would serve, by widget key (deferred data is called)."""
    served: dict = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, *args, **kwargs):  # type: ignore[no-untyped-def]
        served[kwargs.get("key")] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    # st.download_button is bound to the main area when Streamlit is imported.
    monkeypatch.setattr(streamlit, "download_button", lambda *a, **k: spy(streamlit._main, *a, **k))
    return served


def _export_headers(served: dict, prefix: str) -> list[list[str]]:
    """The header row of every file the download buttons under `prefix` serve."""
    headers = []
    for key, data in served.items():
        if not str(key).startswith(prefix):
            continue
        content = data() if callable(data) else data
        content = content.encode() if isinstance(content, str) else content
        if content[:2] == b"PK":
            sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
            rows = [[c.value for c in row] for row in sheet.iter_rows(max_row=5)]
            headers.append(next(r for r in rows if "Sagsnummer" in r))
        else:
            headers.append(content.decode("utf-8-sig").splitlines()[0].split(";"))
    return headers


def test_lists_plan_and_key_figures_render_on_demo_data(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    assert "Opfølgning" == at.title[0].value
    assert ["Arbejdsliste", "Registrér udfald", "Årsplan"] == [s.value for s in at.subheader]
    assert _metric(at, "Udført til tiden (12 mdr.)").endswith("%")
    assert int(_metric(at, "Overskredne")) > 0
    assert any(t.label.startswith("Overskredne (") for t in at.tabs)
    assert 2 == len(at.dataframe)  # the list on the open tab (only it is read) and the plan
    overdue = _worklist_table(at, "overdue").value
    assert {"Sagsnummer", "Dage overskredet", "Ansvarlig"} <= set(overdue.columns)
    assert not at.error

    at.radio(key="opfoelgning_horizon").set_value(90).run()
    at.multiselect(key="opfoelgning_filter_paragraphs").select("SEL108").run()
    assert not at.exception
    assert any("inden for 90 dage" in t.label for t in at.tabs)
    at.session_state[TAB] = _due_tab(at)
    at.run()
    due = _worklist_table(at, "due").value
    assert {"Sagsnummer", "Dage til forfald", "Ansvarlig"} <= set(due.columns)
    shown = {p for df in at.dataframe if "Paragraf" in df.value for p in df.value["Paragraf"]}
    assert {label("SEL108", "short")} == shown


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
    assert [followup.assignee] == [f.assignee for f in upcoming]  # the case stays with them
    assert ["Egenomsorg"] == [g.theme for g in goals]
    assert any(
        f"Næste opfølgning planlagt til {format_date(expected_due)} med {followup.assignee} som "
        "ansvarlig." in unescaped(i.value)
        for i in at.info
    )
    assert "Registrér udfald" == _part_of(at, "er registreret")  # shown where the user saved
    # The form is closed and forgets what was saved; so does the search that found it.
    assert "opfoelgning_record_progression" not in [w.key for w in at.selectbox]
    assert "" == at.text_input(key="opfoelgning_search_case").value


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
    monkeypatch.setenv("TAKSTKOMPAS_USER", "Karin Planlægger")
    _, contract = _open_followup(demo_db)
    due = date.today() + timedelta(days=20)
    at = run_page(demo_db, PAGE, monkeypatch)
    assert at.session_state[EXTRA_SECTION] is False  # closed until the user opens it
    at.button(key="opfoelgning_extra_save").click().run()
    assert "Vælg en kontrakt" in [e.value for e in at.expander[0].error]
    assert at.session_state[EXTRA_SECTION] is True  # the error opened the section

    at.text_input(key="opfoelgning_extra_case").input(contract.case_ref).run()
    at.selectbox(key="opfoelgning_extra_contract_id").select(contract.id)
    at.date_input(key="opfoelgning_extra_due_date").set_value(due)
    at.selectbox(key="opfoelgning_extra_kind").select("tilsynsbesoeg")
    assert "Karin Planlægger" == at.selectbox(key="opfoelgning_extra_assignee").value
    at.text_input(key="opfoelgning_extra_note").input("Henvendelse fra leverandøren")
    at.button(key="opfoelgning_extra_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_db)) as s:
        planned = s.exec(
            select(FollowUp).where(FollowUp.contract_id == contract.id, FollowUp.due_date == due)
        ).all()
    assert [("tilsynsbesoeg", "Karin Planlægger")] == [(f.kind, f.assignee) for f in planned]
    # The result shows in the section, which stays open; what described the saved follow-up
    # is gone.
    section = at.expander[0]
    assert at.session_state[EXTRA_SECTION] is True
    assert any(
        f"planlagt til {format_date(due)} med Karin Planlægger" in unescaped(m.value)
        for m in section.success
    )
    assert not any("planlagt til" in m.value for m in at.main.success if m not in section.success)
    assert "" == at.text_input(key="opfoelgning_extra_case").value
    assert at.selectbox(key="opfoelgning_extra_contract_id").value is None
    assert "" == at.text_input(key="opfoelgning_extra_note").value


def test_mine_sager_shows_only_the_users_followups(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        name = s.exec(
            select(FollowUp.assignee)
            .where(col(FollowUp.done_date).is_(None), col(FollowUp.assignee).is_not(None))
            .group_by(col(FollowUp.assignee))
            .order_by(func.count().desc())
        ).first()
    monkeypatch.setenv("TAKSTKOMPAS_USER", name)
    at = run_page(demo_db, PAGE, monkeypatch)
    everyone = _metric(at, "Åbne opfølgninger i alt")
    assert {name} < set(_worklist_table(at, "overdue").value["Ansvarlig"])  # others' too

    at.toggle(key=MINE).set_value(True).run()
    assert not at.exception
    assert str(_open_count(demo_db, assignee=name)) == _metric(at, "Åbne opfølgninger i alt")
    assert everyone != _metric(at, "Åbne opfølgninger i alt")
    for kind in ("overdue", "due"):
        if kind == "due":
            at.session_state[TAB] = _due_tab(at)
            at.run()
        table = _worklist_table(at, kind)
        assert {name} == set(table.value["Ansvarlig"]), kind
    plan_total = at.dataframe[-1].value.set_index("Måned").loc["I alt"]
    with Session(get_engine(demo_db)) as s:
        year = date.today().year
        planned = s.exec(
            select(func.count())
            .select_from(FollowUp)
            .where(
                FollowUp.assignee == name,
                col(FollowUp.due_date) >= date(year, 1, 1),
                col(FollowUp.due_date) <= date(year, 12, 31),
            )
        ).one()
    assert planned == plan_total["Planlagt"]


def test_work_list_export_names_the_responsible_person(demo_db, monkeypatch, downloads):
    run_page(demo_db, PAGE, monkeypatch)
    headers = _export_headers(downloads, "opfoelgning_overdue_export")
    assert headers
    for header in headers:
        assert {"Sagsnummer", "Ansvarlig", "Kontraktstatus"} <= set(header)


def test_the_list_tab_stays_after_a_save_and_a_new_horizon(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    # 30 days: the next follow-up a recorded one plans (3 months or more ahead) is never in it,
    # so the count always drops by one, whatever day the test runs.
    at.radio(key="opfoelgning_horizon").set_value(30).run()
    before = _due_tab(at)
    at.session_state[TAB] = before
    at.run()
    _pick_row(at, "due", 0)
    at.selectbox(key="opfoelgning_record_progression").select("uaendret")
    at.button(key="opfoelgning_record_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]

    after = _due_tab(at)
    assert after != before  # one fewer due: the label changed …
    assert after == at.session_state[TAB]  # … and the list the user worked in is still open
    assert _worklist_table(at, "due") is not None
    assert "Registrér udfald" == _part_of(at, "er registreret")

    at.radio(key="opfoelgning_horizon").set_value(90).run()
    assert at.session_state[TAB].startswith("Forfalder inden for 90 dage")
    at.session_state[TAB] = next(t.label for t in at.tabs if t.label.startswith("Overskredne"))
    at.run()
    at.radio(key="opfoelgning_horizon").set_value(60).run()
    assert at.session_state[TAB].startswith("Overskredne")


def test_change_the_responsible_person_then_record_the_outcome(demo_db, monkeypatch):
    followup, _ = _open_followup(demo_db)
    at = run_page(demo_db, PAGE, monkeypatch)
    at.query_params["id"] = str(followup.id)
    at.run()
    assert followup.assignee == at.selectbox(key="opfoelgning_assign_assignee").value
    at.selectbox(key="opfoelgning_assign_assignee").select(OTHER_PERSON).run()
    at.text_input(key="opfoelgning_assign_other").input("Ny Kollega")
    at.button(key="opfoelgning_assign_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_db)) as s:
        assert "Ny Kollega" == s.get(FollowUp, followup.id).assignee
        event = s.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "followup", AuditEvent.entity_id == str(followup.id))
            .order_by(col(AuditEvent.id).desc())
        ).first()
    assert {"assignee": [followup.assignee, "Ny Kollega"]} == json.loads(event.changes)
    assert "Registrér udfald" == _part_of(at, "Ny Kollega er nu ansvarlig")
    assert "Ny Kollega" == at.selectbox(key="opfoelgning_assign_assignee").value

    # The outcome form, open all along, saves on top of the change (no conflict); the next
    # follow-up goes to the new responsible person.
    assert "Ny Kollega" == at.selectbox(key="opfoelgning_record_next_assignee").value
    at.text_area(key="opfoelgning_record_note").input("Aftalt møde med bostedet")
    at.selectbox(key="opfoelgning_record_progression").select("fremgang")
    last_id = _last_followup_id(demo_db)
    at.button(key="opfoelgning_record_save").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_db)) as s:
        done = s.get(FollowUp, followup.id)
        planned = s.exec(select(FollowUp).where(col(FollowUp.id) > last_id)).all()
    assert ("Aftalt møde med bostedet", "Ny Kollega") == (done.note, done.assignee)
    assert [(followup.contract_id, "Ny Kollega")] == [(f.contract_id, f.assignee) for f in planned]


def test_a_bad_responsible_person_is_refused_at_the_field(demo_db, monkeypatch):
    followup, _ = _open_followup(demo_db)
    at = run_page(demo_db, PAGE, monkeypatch)
    at.session_state["opfoelgning_selected_id"] = followup.id
    at.run()
    at.selectbox(key="opfoelgning_assign_assignee").select(OTHER_PERSON).run()
    at.button(key="opfoelgning_assign_save").click().run()
    assert ["Skal udfyldes"] == [e.value for e in at.error]

    at.text_input(key="opfoelgning_assign_other").input("Borger 010190-1234")
    at.button(key="opfoelgning_assign_save").click().run()
    assert not at.exception
    assert [CPR_MESSAGE] == [e.value for e in at.error]
    assert OTHER_PERSON == at.selectbox(key="opfoelgning_assign_assignee").value
    assert "Borger 010190-1234" == at.text_input(key="opfoelgning_assign_other").value
    with Session(get_engine(demo_db)) as s:
        assert followup.assignee == s.get(FollowUp, followup.id).assignee


@pytest.fixture
def empty_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"
