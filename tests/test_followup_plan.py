"""Follow-up work lists, the month plan and the on-time share, with hand-made known numbers."""

from datetime import date

import pytest
from sqlmodel import delete

from models import FollowUp, Goal
from services.queries.followups import (
    DUE_SOON,
    OVERDUE,
    PLAN_COLUMNS,
    active_goal_count,
    assignee_choices,
    find_contracts_to_follow_up,
    find_open_followups,
    followup_counts,
    followup_worklist,
    get_open_followup,
    month_plan,
    on_time_figures,
    provider_choices,
)
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 6, 15)

# (name, contract, due date, done date) — the numbers the tests below count by hand.
FOLLOWUPS = [
    ("f1", "c1", date(2026, 6, 1), None),  # overdue 14 days
    ("f2", "c1", date(2026, 6, 20), None),  # due in 5 days
    ("f3", "c1", date(2026, 3, 10), date(2026, 3, 8)),  # on time
    ("f4", "c1", date(2026, 2, 10), date(2026, 2, 20)),  # late
    ("f5", "c1", date(2025, 5, 1), date(2025, 5, 1)),  # before the 12-month window
    ("f6", "c1", date(2025, 6, 15), date(2025, 6, 10)),  # first day of the window, on time
    ("f7", "c2", date(2026, 5, 20), None),  # overdue 26 days
    ("f8", "c2", date(2026, 8, 1), None),  # due in 47 days
    ("f9", "c2", date(2026, 9, 10), None),  # due in 87 days
    ("f10", "c2", date(2026, 6, 15), None),  # due today: due soon, not overdue
    ("f11", "c2", date(2026, 12, 31), None),  # December, upcoming
    ("f12", "c2", date(2026, 1, 31), date(2026, 1, 31)),  # done on the due date: on time
]
# Who is responsible ("Mine sager"); the rest are Ole's, and f10 is nobody's.
MINE = "Mette K."
ASSIGNEES = {"f1": MINE, "f3": MINE, "f6": MINE, "f8": MINE, "f11": MINE, "f10": None}


@pytest.fixture
def plan(session):
    """Two contracts at two providers (SEL108 at A, SEL107 at B) with the follow-ups above."""
    provider_a = make_provider(session, name="Bostedet Alfa", cvr="10000009")
    provider_b = make_provider(session, name="Botilbuddet Beta", cvr="20000008")
    contracts = {
        "c1": make_contract(session, provider_a, case_ref="SAG-2024-0001", paragraph="SEL108"),
        "c2": make_contract(session, provider_b, case_ref="SAG-2025-0002", paragraph="SEL107"),
    }
    session.exec(delete(FollowUp))  # the first follow-ups the contracts got automatically
    session.commit()
    ids = {}
    for name, contract, due, done in FOLLOWUPS:
        row = FollowUp(
            contract_id=contracts[contract].id,
            due_date=due,
            done_date=done,
            done_by=USER if done else None,
            kind="telefon" if contract == "c2" else "moede",
            assignee=ASSIGNEES.get(name, "Ole"),
            created_by=USER,
            updated_by=USER,
        )
        session.add(row)
        session.flush()
        ids[name] = row.id
    session.commit()
    return {"contracts": contracts, "providers": (provider_a, provider_b), "ids": ids}


def _names(plan, frame) -> list[str]:
    by_id = {v: k for k, v in plan["ids"].items()}
    return [by_id[i] for i in frame["followup_id"]]


def test_overdue_list_is_open_followups_due_before_today_oldest_first(session, plan):
    page = followup_worklist(session=session, kind=OVERDUE, today=TODAY)
    assert 2 == page.total
    assert ["f7", "f1"] == _names(plan, page.rows)
    assert [26, 14] == list(page.rows["days_overdue"])
    assert ["SAG-2025-0002", "SAG-2024-0001"] == list(page.rows["case_ref"])
    assert ["Botilbuddet Beta", "Bostedet Alfa"] == list(page.rows["provider"])
    assert ["SEL107", "SEL108"] == list(page.rows["paragraph"])
    assert ["telefon", "moede"] == list(page.rows["kind"])
    assert ["Ole", MINE] == list(page.rows["assignee"])
    assert [date(2026, 5, 20), date(2026, 6, 1)] == list(page.rows["due_date"])


@pytest.mark.parametrize(
    ("horizon", "expected"),
    [(30, ["f10", "f2"]), (60, ["f10", "f2", "f8"]), (90, ["f10", "f2", "f8", "f9"])],
)
def test_due_soon_list_covers_today_up_to_the_horizon(session, plan, horizon, expected):
    page = followup_worklist(session=session, kind=DUE_SOON, today=TODAY, horizon_days=horizon)
    assert len(expected) == page.total
    assert expected == _names(plan, page.rows)
    assert {0} == set(page.rows["days_overdue"])


def test_work_lists_filter_by_paragraph_and_provider(session, plan):
    _, provider_b = plan["providers"]
    by_paragraph = followup_worklist(
        session=session, kind=OVERDUE, today=TODAY, paragraphs=["SEL108"]
    )
    by_provider = followup_worklist(
        session=session, kind=OVERDUE, today=TODAY, provider_id=provider_b.id
    )
    both = followup_worklist(
        session=session,
        kind=DUE_SOON,
        today=TODAY,
        horizon_days=90,
        paragraphs=["SEL108"],
        provider_id=provider_b.id,
    )
    assert (1, ["f1"]) == (by_paragraph.total, _names(plan, by_paragraph.rows))
    assert (1, ["f7"]) == (by_provider.total, _names(plan, by_provider.rows))
    assert (0, []) == (both.total, _names(plan, both.rows))


def test_work_list_pages_in_sql_and_counts_the_whole_list(session, plan):
    second = followup_worklist(session=session, kind=OVERDUE, today=TODAY, limit=1, offset=1)
    everything = followup_worklist(session=session, kind=OVERDUE, today=TODAY, limit=None)
    assert (2, ["f1"]) == (second.total, _names(plan, second.rows))
    assert ["f7", "f1"] == _names(plan, everything.rows)


def test_work_list_on_an_empty_database_has_the_columns_and_no_rows(session):
    page = followup_worklist(session=session, kind=OVERDUE, today=TODAY)
    assert 0 == page.total
    assert page.rows.empty
    assert "case_ref" in page.rows.columns


def test_month_plan_counts_planned_done_on_time_late_overdue_and_upcoming(session, plan):
    frame = month_plan(session=session, year=2026, today=TODAY).set_index("month")
    assert list(range(1, 13)) == list(frame.index)
    expected = {  # month: planned, done, on_time, late, overdue, upcoming
        1: [1, 1, 1, 0, 0, 0],
        2: [1, 1, 0, 1, 0, 0],
        3: [1, 1, 1, 0, 0, 0],
        5: [1, 0, 0, 0, 1, 0],
        6: [3, 0, 0, 0, 1, 2],
        8: [1, 0, 0, 0, 0, 1],
        9: [1, 0, 0, 0, 0, 1],
        12: [1, 0, 0, 0, 0, 1],
    }
    for month in range(1, 13):
        assert expected.get(month, [0] * 6) == list(frame.loc[month]), month
    assert 10 == frame["planned"].sum()


def test_month_plan_of_another_year_and_with_a_filter(session, plan):
    last_year = month_plan(session=session, year=2025, today=TODAY).set_index("month")
    sel107 = month_plan(session=session, year=2026, today=TODAY, paragraphs=["SEL107"])
    assert [1, 1, 1, 0, 0, 0] == list(last_year.loc[5])
    assert [1, 1, 1, 0, 0, 0] == list(last_year.loc[6])
    assert 2 == last_year["planned"].sum()
    assert [0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1] == [
        int(x) for x in sel107.set_index("month")["upcoming"]
    ]
    assert 6 == sel107["planned"].sum()


def test_month_plan_on_an_empty_database_is_twelve_zero_months(session):
    frame = month_plan(session=session, year=2026, today=TODAY)
    assert PLAN_COLUMNS == list(frame.columns)
    assert 12 == len(frame)
    assert 0 == frame.drop(columns="month").to_numpy().sum()


def test_on_time_share_counts_followups_due_in_the_last_twelve_months(session, plan):
    figures = on_time_figures(session=session, today=TODAY)
    assert (date(2025, 6, 15), date(2026, 6, 14)) == (figures.period_from, figures.period_to)
    assert (6, 3, 1, 2) == (figures.due, figures.on_time, figures.late, figures.not_done)
    assert 50.0 == figures.share_on_time


def test_on_time_share_with_a_filter_and_when_nothing_was_due(session, plan):
    _, provider_b = plan["providers"]
    at_b = on_time_figures(session=session, today=TODAY, provider_id=provider_b.id)
    nothing = on_time_figures(session=session, today=date(2030, 1, 1))
    assert (2, 1, 0, 1) == (at_b.due, at_b.on_time, at_b.late, at_b.not_done)
    assert 50.0 == at_b.share_on_time
    assert 0 == nothing.due
    assert nothing.share_on_time is None


def test_followup_counts(session, plan):
    counts = followup_counts(session=session, today=TODAY)
    assert (7, 2, 2, 3) == (
        counts.open,
        counts.overdue,
        counts.due_next_30,
        counts.done_last_12_months,
    )
    sel108 = followup_counts(session=session, today=TODAY, paragraphs=["SEL108"])
    assert (2, 1, 1, 2) == (
        sel108.open,
        sel108.overdue,
        sel108.due_next_30,
        sel108.done_last_12_months,
    )


def test_followup_counts_on_an_empty_database_are_zero(session):
    assert (0, 0, 0, 0) == tuple(vars(followup_counts(session=session, today=TODAY)).values())


def test_finding_open_followups_by_part_of_the_case_ref(session, plan):
    found = find_open_followups(session=session, case_ref="sag-2025")
    assert ["f7", "f10", "f8", "f9", "f11"] == [
        {v: k for k, v in plan["ids"].items()}[f.followup_id] for f in found
    ]
    assert {"SAG-2025-0002"} == {f.case_ref for f in found}
    assert [] == find_open_followups(session=session, case_ref="  ")
    assert [] == find_open_followups(session=session, case_ref="%")


def test_get_open_followup_is_none_when_done_or_missing(session, plan):
    ids = plan["ids"]
    open_one = get_open_followup(session=session, followup_id=ids["f1"])
    assert open_one is not None
    assert ("SAG-2024-0001", "Bostedet Alfa", "SEL108", date(2026, 6, 1), "moede") == (
        open_one.case_ref,
        open_one.provider,
        open_one.paragraph,
        open_one.due_date,
        open_one.kind,
    )
    assert MINE == open_one.assignee
    assert get_open_followup(session=session, followup_id=ids["f10"]).assignee is None
    assert get_open_followup(session=session, followup_id=ids["f3"]) is None
    assert get_open_followup(session=session, followup_id=999_999) is None


def test_find_contracts_lists_active_first(session, plan):
    provider_a, _ = plan["providers"]
    make_contract(session, provider_a, case_ref="SAG-2020-0009", status="afsluttet")
    found = find_contracts_to_follow_up(session=session, case_ref="SAG-20")
    assert ["SAG-2024-0001", "SAG-2025-0002", "SAG-2020-0009"] == [ref for _, ref, _, _ in found]
    assert "afsluttet" == found[-1][3]
    assert [] == find_contracts_to_follow_up(session=session, case_ref="")


def test_provider_choices_are_providers_with_followups(session, plan):
    make_provider(session, name="Aaa uden opfølgning", cvr="30000007")
    assert ["Bostedet Alfa", "Botilbuddet Beta"] == [
        name for _, name in provider_choices(session=session)
    ]


def test_active_goal_count(session, plan):
    c1 = plan["contracts"]["c1"]
    for status in ("aktiv", "aktiv", "opnaaet"):
        session.add(Goal(contract_id=c1.id, theme="Egenomsorg", text="Et mål", status=status))
    session.commit()
    assert 2 == active_goal_count(session=session, contract_id=c1.id)
    assert 0 == active_goal_count(session=session, contract_id=plan["contracts"]["c2"].id)


# --- "Mine sager": the lists, counts and plan of one responsible person -----------------------


def test_work_lists_of_one_assignee(session, plan):
    overdue = followup_worklist(session=session, kind=OVERDUE, today=TODAY, assignee=MINE)
    due = followup_worklist(
        session=session, kind=DUE_SOON, today=TODAY, horizon_days=90, assignee=MINE
    )
    nobody = followup_worklist(session=session, kind=OVERDUE, today=TODAY, assignee="Karin")
    assert (1, ["f1"]) == (overdue.total, _names(plan, overdue.rows))
    assert (1, ["f8"]) == (due.total, _names(plan, due.rows))
    assert (0, []) == (nobody.total, _names(plan, nobody.rows))


def test_assignee_filter_combines_with_the_other_filters(session, plan):
    provider_a, provider_b = plan["providers"]
    at_a = followup_worklist(
        session=session, kind=OVERDUE, today=TODAY, provider_id=provider_a.id, assignee=MINE
    )
    at_b = followup_worklist(
        session=session, kind=OVERDUE, today=TODAY, provider_id=provider_b.id, assignee=MINE
    )
    assert ["f1"] == _names(plan, at_a.rows)
    assert [] == _names(plan, at_b.rows)


def test_key_figures_of_one_assignee(session, plan):
    counts = followup_counts(session=session, today=TODAY, assignee=MINE)
    figures = on_time_figures(session=session, today=TODAY, assignee=MINE)
    assert (3, 1, 0, 1) == (
        counts.open,
        counts.overdue,
        counts.due_next_30,
        counts.done_last_12_months,
    )
    assert (3, 2, 0, 1) == (figures.due, figures.on_time, figures.late, figures.not_done)


def test_month_plan_of_one_assignee(session, plan):
    frame = month_plan(session=session, year=2026, today=TODAY, assignee=MINE).set_index("month")
    expected = {  # month: planned, done, on_time, late, overdue, upcoming
        3: [1, 1, 1, 0, 0, 0],
        6: [1, 0, 0, 0, 1, 0],
        8: [1, 0, 0, 0, 0, 1],
        12: [1, 0, 0, 0, 0, 1],
    }
    for month in range(1, 13):
        assert expected.get(month, [0] * 6) == list(frame.loc[month]), month


def test_assignee_choices_are_the_names_in_use_once_each(session, plan):
    assert [MINE, "Ole"] == assignee_choices(session=session)
