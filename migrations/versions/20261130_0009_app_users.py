"""the user table: everyone who has signed in, and what an admin decided about them

`appuser` records each person who signs in through the municipality's identity provider (SPEC
8): the provider's stable id (`subject`, unique), name and e-mail from the token, the role the
token gave at the last sign-in, the role an admin assigned (wins over the token) and whether the
user is active (an admin can revoke access). No existing data changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("laeser", "koordinator", "indkoeb", "admin")


def _role() -> sa.Enum:
    return sa.Enum(*ROLES, name="role", native_enum=False, create_constraint=False, length=20)


def upgrade() -> None:
    op.create_table(
        "appuser",
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("token_role", _role(), nullable=True),
        sa.Column("assigned_role", _role(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("first_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appuser")),
    )
    op.create_index("uq_appuser_subject", "appuser", ["subject"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_appuser_subject", table_name="appuser")
    op.drop_table("appuser")
