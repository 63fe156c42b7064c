"""Reference data the working group maintains: price categories, budgets, index rates, settings."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Versioned, enum_field, money_field, utcnow
from models.enums import Paragraph
from models.types import (
    INT_MAX,
    REGULATION_PCT_MAX,
    REGULATION_PCT_MIN,
    BudgetIn,
    DailyRateIn,
    NumberIn,
    OptionalIntIn,
)


# Thresholds (daily rate in kr.) of the price bands for one paragraph and year.
class PriceCategorySetBase(SQLModel):
    paragraph: Paragraph = enum_field(Paragraph, length=10)
    year: int = Field(ge=2000, le=2100)
    middel_from: Decimal = money_field(gt=0)
    hoej_from: Decimal = money_field(gt=0)
    ekstraordinaer_from: Decimal = money_field(gt=0)


# The thresholds are daily rates: each at most the cap of a daily rate.
class PriceCategorySetCreate(PriceCategorySetBase):
    middel_from: DailyRateIn = Field(gt=0)
    hoej_from: DailyRateIn = Field(gt=0)
    ekstraordinaer_from: DailyRateIn = Field(gt=0)


class PriceCategorySetUpdate(PriceCategorySetCreate):
    version: int = Field(ge=0, le=INT_MAX)


class PriceCategorySet(PriceCategorySetBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_demo: bool = Field(default=False, nullable=False)
    __table_args__ = (sa.UniqueConstraint("paragraph", "year"),)


# Copying every paragraph's set of one year to another year, regulated by a rate in percent.
class PriceCategoryCopy(SQLModel):
    from_year: int = Field(ge=2000, le=2100)
    to_year: int = Field(ge=2000, le=2100)
    rate_pct: NumberIn = Field(ge=REGULATION_PCT_MIN, le=REGULATION_PCT_MAX)


# The budget for one paragraph in one year.
class BudgetBase(SQLModel):
    year: int = Field(ge=2000, le=2100)
    paragraph: Paragraph = enum_field(Paragraph, length=10)
    amount: Decimal = money_field(ge=0)


class BudgetCreate(BudgetBase):
    amount: BudgetIn = Field(ge=0)
    # The version of the budget being replaced, as loaded (None: no check).
    version: OptionalIntIn = Field(default=None, ge=0, le=INT_MAX)


class Budget(BudgetBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_demo: bool = Field(default=False, nullable=False)
    __table_args__ = (sa.UniqueConstraint("year", "paragraph"),)


# The index rate of a year, for contracts regulated by index.
class RegulationRateBase(SQLModel):
    year: int = Field(ge=2000, le=2100)
    percent: Decimal = Field(
        max_digits=6, decimal_places=3, ge=REGULATION_PCT_MIN, le=REGULATION_PCT_MAX
    )


class RegulationRateCreate(RegulationRateBase):
    percent: NumberIn = Field(
        max_digits=6, decimal_places=3, ge=REGULATION_PCT_MIN, le=REGULATION_PCT_MAX
    )
    # The version of the rate being replaced, as loaded (None: no check).
    version: OptionalIntIn = Field(default=None, ge=0, le=INT_MAX)


class RegulationRate(RegulationRateBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    __table_args__ = (sa.UniqueConstraint("year"),)


# A configurable default (SPEC 4), stored as text.
class Setting(Versioned, table=True):
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=4000)


# Who changed what and when, with old → new values (services.audit writes it).
class AuditEvent(SQLModel, table=True):
    # Revisionsspor filters by person and by record, newest first (services.queries.audit).
    __table_args__ = (
        sa.Index("ix_auditevent_who_at", "who", "at"),
        sa.Index("ix_auditevent_record", "entity", "entity_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    who: str = Field(default="", max_length=100)
    action: str = Field(max_length=20)
    entity: str = Field(max_length=50)
    entity_id: str = Field(max_length=50)
    changes: str = Field(default="", sa_type=sa.Text)
