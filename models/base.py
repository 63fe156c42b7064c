"""Shared building blocks for all tables: naming convention, audit columns, versioning."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from models.types import INT_MAX, MultilineTextIn

# Constraint names are fixed so Alembic can alter tables the same way on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Decimal


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClampedNumeric(sa.types.TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) that stores a value beyond its range as the nearest value it can
    hold, rounded half-up to its scale. For derived figures whose size the input does not bound:
    an invoice's deviation in percent of a tiny expected amount (NUMERIC(9,4) holds ±99.999,9999
    %) must not make PostgreSQL refuse the whole check."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale)
        self.step = Decimal(1).scaleb(-scale)
        self.limit = Decimal(10) ** (precision - scale) - self.step

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        number = Decimal(value)
        if not number.is_finite():
            return None
        if abs(number) >= self.limit:
            return self.limit.copy_sign(number)
        return number.quantize(self.step, rounding=ROUND_HALF_UP)


def money_field(
    *, default: Any = ..., ge: int | None = None, gt: int | None = None, **kwargs: Any
) -> Any:
    """A NUMERIC(14,2) amount in kroner; `ge`/`gt` are whole kroner (compared exactly)."""
    return Field(default=default, max_digits=14, decimal_places=2, ge=ge, gt=gt, **kwargs)


def enum_field(enum: type[Enum], *, default: Any = ..., length: int = 30, **kwargs: Any) -> Any:
    """An enum stored as its Danish value in a VARCHAR column (no database enum type)."""
    column_type = sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
    return Field(default=default, sa_type=column_type, **kwargs)


# Who created and last changed a row, and when.
class Audited(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_by: str = Field(default="", max_length=100)


# A row that was a mistake: kept, marked with who voided it, when and why, and left out of every
# sum, price and alert (services.rules.voiding). Nothing a user registered is deleted.
class Voidable(SQLModel):
    voided_at: datetime | None = Field(default=None)
    voided_by: str | None = Field(default=None, max_length=100)
    void_reason: str | None = Field(default=None, max_length=500)


# What the user gives to void a row: the reason (required) and the version they saw.
class VoidInput(SQLModel):
    reason: MultilineTextIn = Field(min_length=3, max_length=500)
    version: int = Field(ge=0, le=INT_MAX)


# Optimistic locking: a save from an outdated version fails instead of overwriting.
class Versioned(Audited):
    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
