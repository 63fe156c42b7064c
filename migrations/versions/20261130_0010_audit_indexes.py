"""indexes for Revisionsspor: the audit events by person and by record, newest first

The audit trail grows with every change (services.audit records one event per changed
record). Revisionsspor filters it by who did it and shows a record's full history, both newest
first: two composite indexes serve those, and the one on `entity` alone is covered by the
record index. No data changes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 23:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_auditevent_who_at", "auditevent", ["who", "at"])
    op.create_index("ix_auditevent_record", "auditevent", ["entity", "entity_id", "at"])
    op.drop_index("ix_auditevent_entity", table_name="auditevent")


def downgrade() -> None:
    op.create_index("ix_auditevent_entity", "auditevent", ["entity"])
    op.drop_index("ix_auditevent_record", table_name="auditevent")
    op.drop_index("ix_auditevent_who_at", table_name="auditevent")
