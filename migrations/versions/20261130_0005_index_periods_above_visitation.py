"""a partial index of the price periods above their visitation category

The category alert (services.rules.alerts) counts the contracts whose price period of today is
above the visitation category; those are few, so a partial index finds them without a pass
over every contract's periods. No data changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_contractpriceperiod_above",
        "contractpriceperiod",
        ["valid_from", "valid_to", "contract_id"],
        unique=False,
        sqlite_where=sa.text("above_visitation = 1"),
        postgresql_where=sa.text("above_visitation"),
    )


def downgrade() -> None:
    op.drop_index("ix_contractpriceperiod_above", table_name="contractpriceperiod")
