"""Follow-ups with each placement and the SMART goals set at them."""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Versioned, enum_field
from models.enums import (
    FollowUpAction,
    FollowUpKind,
    GoalStatus,
    GoalType,
    Progression,
    SupportNeedChange,
)
from models.types import (
    INT_MAX,
    DateIn,
    MultilineTextIn,
    OptionalDateIn,
    OptionalMultilineTextIn,
    OptionalTextIn,
    TextIn,
)


# A planned follow-up; the outcome fields are filled when it is done.
class FollowUpBase(SQLModel):
    contract_id: int = Field(
        foreign_key="contract.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    due_date: date
    kind: FollowUpKind = enum_field(FollowUpKind, default=FollowUpKind.MEETING, length=20)
    done_date: date | None = None
    done_by: str | None = Field(default=None, max_length=100)
    progression: Progression | None = enum_field(Progression, default=None, length=20)
    support_need_change: SupportNeedChange | None = enum_field(
        SupportNeedChange, default=None, length=20
    )
    action: FollowUpAction | None = enum_field(FollowUpAction, default=None, length=20)
    note: str | None = Field(default=None, max_length=4000)
    # Who is responsible for carrying out the follow-up ("Mine sager").
    assignee: str | None = Field(default=None, max_length=100)


class FollowUpCreate(FollowUpBase):
    due_date: DateIn
    done_date: OptionalDateIn = None
    done_by: OptionalTextIn = Field(default=None, max_length=100)
    note: OptionalMultilineTextIn = Field(default=None, max_length=4000)
    assignee: OptionalTextIn = Field(default=None, max_length=100)


# A new responsible person for an open follow-up.
class FollowUpAssign(SQLModel):
    assignee: TextIn = Field(min_length=1, max_length=100)
    version: int = Field(ge=0, le=INT_MAX)


# The outcome of a follow-up as recorded by the follow-up team.
class FollowUpOutcome(SQLModel):
    done_date: DateIn
    done_by: TextIn = Field(min_length=1, max_length=100)
    kind: FollowUpKind = FollowUpKind.MEETING
    progression: Progression
    support_need_change: SupportNeedChange
    action: FollowUpAction
    note: OptionalMultilineTextIn = Field(default=None, max_length=4000)
    # Who is responsible for the next follow-up the outcome schedules (not a field of this one).
    next_assignee: OptionalTextIn = Field(default=None, max_length=100)
    version: int = Field(ge=0, le=INT_MAX)


class FollowUp(FollowUpBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    __table_args__ = (
        sa.Index("ix_followup_done_due", "done_date", "due_date"),
        # Covers "due in a period, done on time?" without reading the rows (key figures).
        sa.Index("ix_followup_due_done", "due_date", "done_date", "contract_id"),
    )


# A SMART goal in one VUM theme.
class GoalBase(SQLModel):
    contract_id: int = Field(
        foreign_key="contract.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    followup_id: int | None = Field(
        default=None, foreign_key="followup.id", ondelete="SET NULL", ge=1, le=INT_MAX
    )
    theme: str = Field(min_length=1, max_length=100)
    goal_type: GoalType = enum_field(GoalType, default=GoalType.DEVELOP, length=20)
    text: str = Field(min_length=1, max_length=1000)
    measure: str | None = Field(default=None, max_length=1000)
    deadline: date | None = None
    status: GoalStatus = enum_field(GoalStatus, default=GoalStatus.ACTIVE, length=20)


class GoalCreate(GoalBase):
    theme: TextIn = Field(min_length=1, max_length=100)
    text: MultilineTextIn = Field(min_length=5, max_length=1000)
    measure: OptionalTextIn = Field(default=None, max_length=1000)
    deadline: OptionalDateIn = None


class GoalUpdate(GoalCreate):
    version: int = Field(ge=0, le=INT_MAX)


class Goal(GoalBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
