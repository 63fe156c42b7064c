"""Follow-up work lists and plan figures for the Opfølgning screen (SPEC 4.5, 5.6).

Every query aggregates or paginates in SQL, so the screen stays fast on the large data set.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import Contract, ContractStatus, FollowUp, Goal, GoalStatus, Provider
from services.rules.cadence import done_on_time_sql, overdue_sql
from services.rules.pricing import add_months

OVERDUE = "overdue"
DUE_SOON = "due"

# Column names of the work list frames (English; the page gives them Danish headers).
WORKLIST_COLUMNS = [
    "followup_id",
    "contract_id",
    "version",
    "case_ref",
    "provider",
    "paragraph",
    "due_date",
    "days_overdue",
    "days_until_due",
    "kind",
    "assignee",
    "contract_status",
]
PLAN_COLUMNS = ["month", "planned", "done", "on_time", "late", "overdue", "upcoming"]


@dataclass(frozen=True)
class WorklistPage:
    """One page of a follow-up work list and how many rows the whole list has."""

    total: int
    rows: pd.DataFrame


@dataclass(frozen=True)
class OnTimeFigures:
    """Follow-ups due in the last 12 months (before today) and how they were done."""

    period_from: date
    period_to: date
    due: int
    on_time: int
    late: int
    not_done: int

    @property
    def share_on_time(self) -> float | None:
        """Share done on or before the due date, in percent; None when nothing was due."""
        return None if self.due == 0 else 100.0 * self.on_time / self.due


@dataclass(frozen=True)
class FollowupCounts:
    """Overall numbers for the top of the screen."""

    open: int
    overdue: int
    due_next_30: int
    done_last_12_months: int


@dataclass(frozen=True)
class OpenFollowup:
    """An open follow-up with what the record form needs to show about its contract."""

    followup_id: int
    version: int
    contract_id: int
    case_ref: str
    provider: str
    paragraph: str
    contract_status: str
    contract_end: date | None
    due_date: date
    kind: str
    assignee: str | None


def _filtered(
    query: Any,
    paragraphs: Sequence[str] | None,
    provider_id: int | None,
    assignee: str | None = None,
) -> Any:
    """The screen's filters: paragraphs, provider, and "Mine sager" (the responsible person)."""
    if paragraphs:
        query = query.where(col(Contract.paragraph).in_(list(paragraphs)))
    if provider_id is not None:
        query = query.where(Contract.provider_id == provider_id)
    if assignee is not None:
        query = query.where(FollowUp.assignee == assignee)
    return query


def _worklist_where(
    kind: str, today: date, horizon_days: int
) -> tuple[sa.ColumnElement[bool], ...]:
    open_ = col(FollowUp.done_date).is_(None)
    if kind == OVERDUE:
        return (overdue_sql(today),)
    if kind == DUE_SOON:
        return (
            open_,
            col(FollowUp.due_date) >= today,
            col(FollowUp.due_date) <= today + timedelta(days=horizon_days),
        )
    raise ValueError(f"unknown work list {kind!r}")


def count_followup_worklist(
    *,
    session: Session,
    kind: str,
    today: date | None = None,
    horizon_days: int = 30,
    paragraphs: Sequence[str] | None = None,
    provider_id: int | None = None,
    assignee: str | None = None,
) -> int:
    """How many rows the work list `kind` has with these filters (see followup_worklist)."""
    today = today or date.today()
    query = _filtered(
        select(sa.func.count())
        .select_from(FollowUp)
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .where(*_worklist_where(kind, today, horizon_days)),
        paragraphs,
        provider_id,
        assignee,
    )
    return int(session.exec(query).one())


def followup_worklist(
    *,
    session: Session,
    kind: str,
    today: date | None = None,
    horizon_days: int = 30,
    paragraphs: Sequence[str] | None = None,
    provider_id: int | None = None,
    assignee: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> WorklistPage:
    """Open follow-ups that are overdue (`kind="overdue"`: due before today) or due within
    `horizon_days` from today (`kind="due"`), oldest due first; one page of rows and the total.
    """
    today = today or date.today()
    where = _worklist_where(kind, today, horizon_days)
    total = count_followup_worklist(
        session=session,
        kind=kind,
        today=today,
        horizon_days=horizon_days,
        paragraphs=paragraphs,
        provider_id=provider_id,
        assignee=assignee,
    )
    query = _filtered(
        sa.select(
            col(FollowUp.id),
            col(FollowUp.contract_id),
            col(FollowUp.version),
            col(Contract.case_ref),
            col(Provider.name),
            col(Contract.paragraph),
            col(FollowUp.due_date),
            col(FollowUp.kind),
            col(FollowUp.assignee),
            col(Contract.status),
        )
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(*where),
        paragraphs,
        provider_id,
        assignee,
    ).order_by(col(FollowUp.due_date), col(Contract.case_ref), col(FollowUp.id))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    records = [
        {
            "followup_id": fid,
            "contract_id": cid,
            "version": version,
            "case_ref": case_ref,
            "provider": provider,
            "paragraph": str(paragraph),
            "due_date": due,
            # Only the rows on screen, so a Python date difference is cheap and portable.
            "days_overdue": max(0, (today - due).days),
            "days_until_due": max(0, (due - today).days),
            "kind": str(kind_),
            "assignee": assignee_,
            "contract_status": str(status),
        }
        for (
            fid,
            cid,
            version,
            case_ref,
            provider,
            paragraph,
            due,
            kind_,
            assignee_,
            status,
        ) in session.exec(query)
    ]
    return WorklistPage(total=total, rows=pd.DataFrame(records, columns=WORKLIST_COLUMNS))


def month_plan(
    *,
    session: Session,
    year: int,
    today: date | None = None,
    paragraphs: Sequence[str] | None = None,
    provider_id: int | None = None,
    assignee: str | None = None,
) -> pd.DataFrame:
    """Follow-ups due in each month of `year`: planned, done (on time / late), overdue and
    upcoming (not done, not yet due). Aggregated in SQL; all twelve months are returned.
    """
    today = today or date.today()
    month = sa.extract("month", col(FollowUp.due_date))
    done = col(FollowUp.done_date).is_not(None)
    not_done = col(FollowUp.done_date).is_(None)

    def count_if(condition: sa.ColumnElement[bool]) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    query = _filtered(
        sa.select(
            month.label("month"),
            sa.func.count().label("planned"),
            count_if(done),
            count_if(done_on_time_sql()),
            count_if(sa.and_(done, sa.not_(done_on_time_sql()))),
            count_if(overdue_sql(today)),
            count_if(sa.and_(not_done, col(FollowUp.due_date) >= today)),
        )
        .select_from(FollowUp)
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .where(
            col(FollowUp.due_date) >= date(year, 1, 1),
            col(FollowUp.due_date) <= date(year, 12, 31),
        ),
        paragraphs,
        provider_id,
        assignee,
    ).group_by(month)
    counts = {int(row[0]): [int(v or 0) for v in row[1:]] for row in session.exec(query)}
    records = [[m, *counts.get(m, [0] * 6)] for m in range(1, 13)]
    return pd.DataFrame(records, columns=PLAN_COLUMNS)


def on_time_figures(
    *,
    session: Session,
    today: date | None = None,
    paragraphs: Sequence[str] | None = None,
    provider_id: int | None = None,
    assignee: str | None = None,
) -> OnTimeFigures:
    """How the follow-ups due in the last 12 months (from today − 12 months up to yesterday)
    were done: on time (done date ≤ due date), late, or not at all.
    """
    today = today or date.today()
    period_from = add_months(today, -12)
    done = col(FollowUp.done_date).is_not(None)
    on_time = sa.and_(done, col(FollowUp.done_date) <= col(FollowUp.due_date))
    late = sa.and_(done, col(FollowUp.done_date) > col(FollowUp.due_date))
    query = _filtered(
        select(
            sa.func.count(),
            sa.func.sum(sa.case((on_time, 1), else_=0)),
            sa.func.sum(sa.case((late, 1), else_=0)),
        )
        .select_from(FollowUp)
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .where(col(FollowUp.due_date) >= period_from, col(FollowUp.due_date) < today),
        paragraphs,
        provider_id,
        assignee,
    )
    due, on_time_count, late_count = session.exec(query).one()
    due, on_time_count, late_count = int(due), int(on_time_count or 0), int(late_count or 0)
    return OnTimeFigures(
        period_from=period_from,
        period_to=today - timedelta(days=1),
        due=due,
        on_time=on_time_count,
        late=late_count,
        not_done=due - on_time_count - late_count,
    )


def followup_counts(
    *,
    session: Session,
    today: date | None = None,
    paragraphs: Sequence[str] | None = None,
    provider_id: int | None = None,
    assignee: str | None = None,
) -> FollowupCounts:
    """Open, overdue, due in the next 30 days, and done in the last 12 months — one query."""
    today = today or date.today()
    open_ = col(FollowUp.done_date).is_(None)
    due_date = col(FollowUp.due_date)
    done_date = col(FollowUp.done_date)

    def count_if(condition: sa.ColumnElement[bool]) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    query = _filtered(
        sa.select(
            count_if(open_),
            count_if(overdue_sql(today)),
            count_if(sa.and_(open_, due_date >= today, due_date <= today + timedelta(days=30))),
            count_if(sa.and_(done_date > add_months(today, -12), done_date <= today)),
        )
        .select_from(FollowUp)
        .join(Contract, col(Contract.id) == FollowUp.contract_id),
        paragraphs,
        provider_id,
        assignee,
    )
    values = [int(v or 0) for v in session.exec(query).one()]
    return FollowupCounts(*values)


def _open_followup_query() -> Any:
    return (
        sa.select(
            col(FollowUp.id),
            col(FollowUp.version),
            col(FollowUp.contract_id),
            col(Contract.case_ref),
            col(Provider.name),
            col(Contract.paragraph),
            col(Contract.status),
            col(Contract.end_date),
            col(FollowUp.due_date),
            col(FollowUp.kind),
            col(FollowUp.assignee),
        )
        .join(Contract, col(Contract.id) == FollowUp.contract_id)
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(col(FollowUp.done_date).is_(None))
    )


def _open_followup(row: Any) -> OpenFollowup:
    fid, version, cid, case_ref, provider, paragraph, status, end, due, kind, assignee = row
    return OpenFollowup(
        followup_id=fid,
        version=version,
        contract_id=cid,
        case_ref=case_ref,
        provider=provider,
        paragraph=str(paragraph),
        contract_status=str(status),
        contract_end=end,
        due_date=due,
        kind=str(kind),
        assignee=assignee,
    )


def get_open_followup(*, session: Session, followup_id: int) -> OpenFollowup | None:
    """The follow-up with its contract, or None when it does not exist or is already done."""
    row = session.exec(_open_followup_query().where(FollowUp.id == followup_id)).first()
    return None if row is None else _open_followup(row)


def find_open_followups(*, session: Session, case_ref: str, limit: int = 20) -> list[OpenFollowup]:
    """Open follow-ups of contracts whose case reference contains `case_ref` (any case)."""
    text = case_ref.strip()
    if not text:
        return []
    query = (
        _open_followup_query()
        .where(sa.func.lower(col(Contract.case_ref)).contains(text.lower(), autoescape=True))
        .order_by(col(FollowUp.due_date), col(FollowUp.id))
        .limit(limit)
    )
    return [_open_followup(row) for row in session.exec(query)]


def find_contracts_to_follow_up(
    *, session: Session, case_ref: str, limit: int = 20
) -> list[tuple[int, str, str, str]]:
    """Contracts (id, case ref, provider, status) whose case reference contains `case_ref`,
    active ones first; for planning an extra follow-up.
    """
    text = case_ref.strip()
    if not text:
        return []
    active_first = sa.case((col(Contract.status) == ContractStatus.ACTIVE, 0), else_=1)
    query: Any = (
        sa.select(
            col(Contract.id), col(Contract.case_ref), col(Provider.name), col(Contract.status)
        )
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(sa.func.lower(col(Contract.case_ref)).contains(text.lower(), autoescape=True))
        .order_by(active_first, col(Contract.case_ref), col(Contract.id))
        .limit(limit)
    )
    rows = session.exec(query)
    return [(int(cid), ref, name, str(status)) for cid, ref, name, status in rows]


def active_goal_count(*, session: Session, contract_id: int) -> int:
    """How many active goals a contract has (the form allows up to the setting's maximum)."""
    query = (
        select(sa.func.count())
        .select_from(Goal)
        .where(Goal.contract_id == contract_id, Goal.status == GoalStatus.ACTIVE)
    )
    return int(session.exec(query).one())


def provider_choices(*, session: Session) -> list[tuple[int, str]]:
    """Providers that have follow-ups, for the filter (id, name), by name."""
    query = (
        select(Provider.id, Provider.name)
        .where(
            sa.exists()
            .where(col(Contract.provider_id) == col(Provider.id))
            .where(sa.exists().where(col(FollowUp.contract_id) == col(Contract.id)))
        )
        .order_by(col(Provider.name), col(Provider.id))
    )
    return [(int(pid or 0), name) for pid, name in session.exec(query)]


def assignee_choices(*, session: Session) -> list[str]:
    """Everyone follow-ups are assigned to, by name: the choices for a responsible person."""
    query = (
        select(FollowUp.assignee)
        .where(col(FollowUp.assignee).is_not(None))
        .distinct()
        .order_by(col(FollowUp.assignee))
    )
    return [name for name in session.exec(query) if name]
