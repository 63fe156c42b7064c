"""Follow-ups and SMART goals (SPEC 4.5): record an outcome, schedule the next one."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Contract,
    FollowUp,
    FollowUpAction,
    FollowUpAssign,
    FollowUpCreate,
    FollowUpOutcome,
    Goal,
    GoalCreate,
    GoalStatus,
    GoalUpdate,
    SupportNeedChange,
)
from models.types import lenient_date
from services.contracts import current_category
from services.errors import InputError
from services.formatting import format_date
from services.rules.cadence import next_followup_due
from services.settings import get_settings
from services.unit_of_work import action, flush
from services.validation import insert_row, require, update_row, validate, without


@action
def plan_followup(*, session: Session, data: Mapping[str, Any], user: str) -> FollowUp:
    """Plan a follow-up by hand (besides the ones the cadence rule schedules); the user who
    plans it is responsible for it unless `assignee` names someone else."""
    valid = validate(FollowUpCreate, data)
    require(session, Contract, valid.contract_id, "Kontrakten")
    row = FollowUp(**{**valid.model_dump(), "assignee": valid.assignee or user})
    return insert_row(session=session, row=row, user=user)


@action
def assign_followup(
    *, session: Session, followup_id: int, data: Mapping[str, Any], user: str
) -> FollowUp:
    """Make someone responsible for an open follow-up ("Mine sager"); version-checked."""
    valid = validate(FollowUpAssign, data)
    followup = require(session, FollowUp, followup_id, "Opfølgningen")
    if followup.done_date is not None:
        raise InputError({"_form": "Opfølgningen er allerede registreret"})
    return update_row(
        session=session,
        row=followup,
        values={"assignee": valid.assignee},
        expected_version=valid.version,
        user=user,
        what="opfølgningen",
    )


def _validate_goals(
    session: Session, contract_id: int, goals: Sequence[Mapping[str, Any]]
) -> list[GoalCreate]:
    settings = get_settings(session=session)
    errors: dict[str, str] = {}
    valid_goals = []
    for index, goal in enumerate(goals, start=1):
        try:
            valid = validate(GoalCreate, {**dict(goal), "contract_id": contract_id})
        except InputError as exc:
            errors.update({f"goal{index}_{key}": msg for key, msg in exc.fields.items()})
            continue
        if valid.theme not in settings.vum_themes:
            errors[f"goal{index}_theme"] = "Vælg et af temaerne"
        valid_goals.append(valid)
    # The cap holds under concurrent saves: the contract row is locked first (PostgreSQL; on
    # SQLite the action already holds the write lock), so two follow-ups adding goals at once
    # count one after the other.
    session.execute(
        sa.select(col(Contract.id)).where(col(Contract.id) == contract_id).with_for_update()
    )
    active = session.exec(
        select(sa.func.count())
        .select_from(Goal)
        .where(Goal.contract_id == contract_id, Goal.status == GoalStatus.ACTIVE)
    ).one()
    new_active = sum(1 for g in valid_goals if g.status == GoalStatus.ACTIVE)
    if active + new_active > settings.max_active_goals:
        errors["goals"] = (
            f"Højst {settings.max_active_goals} aktive mål pr. kontrakt "
            f"(der er allerede {active}). Afslut et mål først."
        )
    if errors:
        raise InputError(errors)
    return valid_goals


@action
def record_followup(
    *,
    session: Session,
    followup_id: int,
    data: Mapping[str, Any],
    goals: Sequence[Mapping[str, Any]] = (),
    user: str,
    today: date | None = None,
) -> tuple[FollowUp, FollowUp | None]:
    """Record the outcome and new goals; schedule the next follow-up by the cadence rule.

    The next follow-up's responsible person is `next_assignee`, else the one of this
    follow-up, else the user. Returns the recorded follow-up and the next one (None when the
    contract ends before it).
    """
    today = today or date.today()
    done = lenient_date(data.get("done_date"))
    future = {"done_date": "Datoen må ikke ligge i fremtiden"} if done and done > today else {}
    valid = validate(FollowUpOutcome, data, future)
    followup = require(session, FollowUp, followup_id, "Opfølgningen")
    if followup.done_date is not None:
        raise InputError({"_form": "Opfølgningen er allerede registreret"})
    contract = require(session, Contract, followup.contract_id, "Kontrakten")
    valid_goals = _validate_goals(session, contract.id, goals)  # type: ignore[arg-type]
    # Everything that can fail is worked out before anything is written: the next due date
    # needs the price category, which needs the index rate of the year.
    settings = get_settings(session=session)
    category = current_category(session=session, contract=contract, on=valid.done_date)
    due = next_followup_due(
        last_done=valid.done_date,
        paragraph=contract.paragraph,
        category=category,
        cadence=settings.cadence,
    )

    followup = update_row(
        session=session,
        row=followup,
        values=without(valid, "version", "next_assignee"),
        expected_version=valid.version,
        user=user,
        what="opfølgningen",
    )
    for goal in valid_goals:
        session.add(
            Goal(
                **{**goal.model_dump(), "followup_id": followup.id},
                created_by=user,
                updated_by=user,
            )
        )
    if contract.renegotiation_date is None and (
        valid.action == FollowUpAction.RENEGOTIATE
        or valid.support_need_change == SupportNeedChange.DOWN
    ):
        contract.renegotiation_date = valid.done_date
        contract.updated_by = user
        session.add(contract)
    if valid.action == FollowUpAction.TERMINATE or (
        contract.end_date is not None and due > contract.end_date
    ):
        return followup, None
    upcoming = FollowUp(
        contract_id=contract.id,  # type: ignore[arg-type]
        due_date=due,
        kind=followup.kind,
        assignee=valid.next_assignee or followup.assignee or user,
        created_by=user,
        updated_by=user,
    )
    session.add(upcoming)
    flush(session)
    return followup, upcoming


def next_followup_text(
    *, recorded: FollowUp, upcoming: FollowUp | None, contract_end: date | None
) -> str:
    """After an outcome is recorded: when the next follow-up is, or why none was planned."""
    if upcoming is not None:
        return f"Næste opfølgning planlagt til {format_date(upcoming.due_date)}" + (
            f" med {upcoming.assignee} som ansvarlig." if upcoming.assignee else "."
        )
    if recorded.action == FollowUpAction.TERMINATE:
        return "Der er ikke planlagt en ny opfølgning, fordi kontrakten skal opsiges."
    if contract_end is not None:
        return (
            "Der er ikke planlagt en ny opfølgning, fordi kontrakten udløber "
            f"{format_date(contract_end)}, før den næste ville falde."
        )
    return "Der er ikke planlagt en ny opfølgning."


def list_followups(*, session: Session, contract_id: int) -> list[FollowUp]:
    return list(
        session.exec(
            select(FollowUp)
            .where(FollowUp.contract_id == contract_id)
            .order_by(col(FollowUp.due_date).desc())
        )
    )


def list_goals(*, session: Session, contract_id: int) -> list[Goal]:
    return list(
        session.exec(
            select(Goal).where(Goal.contract_id == contract_id).order_by(Goal.status, Goal.theme)
        )
    )


@action
def update_goal(*, session: Session, goal_id: int, data: Mapping[str, Any], user: str) -> Goal:
    """Edit a goal or change its status."""
    goal = require(session, Goal, goal_id, "Målet")
    valid = validate(GoalUpdate, {**dict(data), "contract_id": goal.contract_id})
    if valid.theme not in get_settings(session=session).vum_themes:
        raise InputError({"theme": "Vælg et af temaerne"})
    if valid.status == GoalStatus.ACTIVE and goal.status != GoalStatus.ACTIVE:
        _validate_goals(session, goal.contract_id, [valid.model_dump(exclude={"version"})])
    return update_row(
        session=session,
        row=goal,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        what="målet",
    )
