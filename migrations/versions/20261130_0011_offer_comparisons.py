"""saved offer comparisons: what a caseworker compared for the visitation committee

`offercomparison` keeps a comparison of 2–3 offers (SPEC 10) under a case reference so it can
be reopened: the start date, the visited offer, the offers' names for the list, and the inputs
(offers, add-ons, weights, scores and reasons) as JSON. No names, no CPR numbers. No existing
data changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offercomparison",
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("offer_names", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("visited_id", sa.Integer(), nullable=True),
        sa.Column("inputs", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_offercomparison_case_ref", "offercomparison", ["case_ref"])


def downgrade() -> None:
    op.drop_index("ix_offercomparison_case_ref", table_name="offercomparison")
    op.drop_table("offercomparison")
