"""Notice deadline and renegotiation date (SPEC 4.6): when the contract's deadlines fall and
when they are near. Python for one contract, SQL twins for counts and lists."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import col

from models.contract import Contract
from services.sql import day_number

EPOCH = date(1970, 1, 1)


def day_no(day: date) -> int:
    """Days since 1970-01-01: the Python side of services.sql.day_number."""
    return (day - EPOCH).days


def notice_deadline(end_date: date | None, notice_days: int) -> date | None:
    """The last day to give notice: end date − notice days (None without an end date)."""
    if end_date is None:
        return None
    return end_date - timedelta(days=notice_days)


def notice_deadline_sql() -> sa.ColumnElement[int]:
    """SQL twin of `notice_deadline` as a day number (NULL without an end date)."""
    return day_number(Contract.end_date) - col(Contract.notice_days)


def notice_near(deadline: date | None, today: date, horizon_days: int) -> bool:
    """The deadline is today or within the next `horizon_days` days (a passed one is not)."""
    return deadline is not None and today <= deadline <= today + timedelta(days=horizon_days)


def notice_near_sql(today: date, horizon_days: int) -> sa.ColumnElement[bool]:
    """SQL twin of `notice_near` for the contract's own deadline."""
    deadline = notice_deadline_sql()
    return sa.and_(
        col(Contract.end_date).is_not(None),
        deadline >= day_no(today),
        deadline <= day_no(today) + horizon_days,
    )


def notice_deadline_between_sql(first: date, last: date) -> sa.ColumnElement[bool]:
    """The contract's notice deadline falls from `first` to `last` (both included)."""
    deadline = notice_deadline_sql()
    return sa.and_(
        col(Contract.end_date).is_not(None),
        deadline >= day_no(first),
        deadline <= day_no(last),
    )


def renegotiation_due(renegotiation_date: date | None, today: date, horizon_days: int) -> bool:
    """On or before today + `horizon_days`; a passed date keeps alerting until it is moved."""
    return renegotiation_date is not None and renegotiation_date <= today + timedelta(
        days=horizon_days
    )


def renegotiation_due_sql(today: date, horizon_days: int) -> sa.ColumnElement[bool]:
    """SQL twin of `renegotiation_due` for the contract's renegotiation date."""
    return sa.and_(
        col(Contract.renegotiation_date).is_not(None),
        col(Contract.renegotiation_date) <= today + timedelta(days=horizon_days),
    )


def renegotiation_overdue(renegotiation_date: date | None, today: date) -> bool:
    """The renegotiation date has passed (the alert then says "overskredet")."""
    return renegotiation_date is not None and renegotiation_date < today
