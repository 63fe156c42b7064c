"""Follow-up cadence (SPEC 4.5): when the first and the next follow-up are due, and when one is
overdue. The overdue and on-time rules have SQL twins for counts and lists."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from models.enums import Paragraph, PriceCategory
from models.followup import FollowUp
from services.rules.pricing import add_months


@dataclass(frozen=True)
class Cadence:
    """Months between follow-ups; all are settings."""

    first_months: int = 3
    sel107_months: int = 3
    sel108_months: int = 12
    abl105_months: int = 12
    high_category_max_months: int = 6

    def interval(self, paragraph: Paragraph | str, category: PriceCategory | str | None) -> int:
        """Months to the next follow-up for a paragraph and current price category."""
        months = {
            Paragraph.SEL107: self.sel107_months,
            Paragraph.SEL108: self.sel108_months,
            Paragraph.ABL105: self.abl105_months,
        }[Paragraph(paragraph)]
        if category in (PriceCategory.HIGH, PriceCategory.EXTRAORDINARY):
            months = min(months, self.high_category_max_months)
        return months


def first_followup_due(start_date: date, cadence: Cadence = Cadence()) -> date:
    """The first follow-up is due `first_months` after the contract starts."""
    return add_months(start_date, cadence.first_months)


def next_followup_due(
    *,
    last_done: date,
    paragraph: Paragraph | str,
    category: PriceCategory | str | None,
    cadence: Cadence = Cadence(),
) -> date:
    """The follow-up after one done on `last_done`."""
    return add_months(last_done, cadence.interval(paragraph, category))


def is_overdue(due_date: date, done_date: date | None, today: date) -> bool:
    """Overdue: due before today and not done."""
    return done_date is None and due_date < today


def overdue_sql(today: date) -> sa.ColumnElement[bool]:
    """SQL twin of `is_overdue` on FollowUp (uses the (done_date, due_date) index)."""
    return sa.and_(col(FollowUp.done_date).is_(None), col(FollowUp.due_date) < today)


def was_overdue(due_date: date, done_date: date | None, on: date) -> bool:
    """Overdue as it stood on an earlier day `on`: due before then and not done by then."""
    return due_date < on and (done_date is None or done_date > on)


def was_overdue_sql_parts(on: date) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    """SQL twin of `was_overdue` as two disjoint conditions (not done; done after `on`), to
    count separately: each then walks the (done_date, due_date) index on SQLite. The done-after
    part is a closed range so SQLite (without statistics) starts the walk at `on`."""
    due_before = col(FollowUp.due_date) < on
    return (
        sa.and_(col(FollowUp.done_date).is_(None), due_before),
        sa.and_(col(FollowUp.done_date).between(on + timedelta(days=1), date.max), due_before),
    )


def was_overdue_sql(on: date) -> sa.ColumnElement[bool]:
    """SQL twin of `was_overdue`."""
    return sa.or_(*was_overdue_sql_parts(on))


def done_on_time(due_date: date, done_date: date | None) -> bool:
    """Done on or before its due date."""
    return done_date is not None and done_date <= due_date


def done_on_time_sql() -> sa.ColumnElement[bool]:
    """SQL twin of `done_on_time` (NULL done date is not on time)."""
    return sa.and_(
        col(FollowUp.done_date).is_not(None), col(FollowUp.done_date) <= col(FollowUp.due_date)
    )


def overdue_per_contract(today: date) -> Any:
    """Subquery: per contract with overdue follow-ups, how many (`n`) and the oldest due date
    (`oldest`)."""
    return (
        select(
            col(FollowUp.contract_id).label("contract_id"),
            sa.func.count().label("n"),
            sa.func.min(FollowUp.due_date).label("oldest"),
        )
        .where(overdue_sql(today))
        .group_by(col(FollowUp.contract_id))
        .subquery("overdue")
    )
