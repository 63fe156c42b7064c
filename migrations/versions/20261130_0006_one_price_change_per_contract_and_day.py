"""one price change per contract and day, enforced by a unique index

Two renegotiations registered at the same moment could both be stored (the duplicate check
read before it wrote). Duplicates already stored are resolved first: the earliest row of a
contract and day stays; each later one is removed and kept in full in the audit trail (action
"delete", entity "pricechange"), so nothing disappears without a trace.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:00:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _resolve_duplicates() -> None:
    bind = op.get_bind()
    changes = sa.table(
        "pricechange",
        sa.column("id"),
        sa.column("contract_id"),
        sa.column("effective_date"),
        sa.column("old_price"),
        sa.column("new_price"),
        sa.column("reason"),
        sa.column("note"),
        sa.column("created_by"),
    )
    audit = sa.table(
        "auditevent",
        sa.column("at"),
        sa.column("who"),
        sa.column("action"),
        sa.column("entity"),
        sa.column("entity_id"),
        sa.column("changes"),
    )
    keep = (
        sa.select(sa.func.min(changes.c.id))
        .group_by(changes.c.contract_id, changes.c.effective_date)
        .scalar_subquery()
    )
    later = bind.execute(sa.select(changes).where(changes.c.id.not_in(keep))).mappings().all()
    for row in later:
        kept = {k: str(v) if v is not None else None for k, v in row.items()}
        bind.execute(
            sa.insert(audit).values(
                at=datetime.now(UTC).replace(tzinfo=None),
                who="migration 0006",
                action="delete",
                entity="pricechange",
                entity_id=str(row["id"]),
                changes=json.dumps(
                    {"reason": "dublet af en prisændring samme dag", "row": kept},
                    ensure_ascii=False,
                ),
            )
        )
        bind.execute(sa.delete(changes).where(changes.c.id == row["id"]))


def upgrade() -> None:
    _resolve_duplicates()
    with op.batch_alter_table("pricechange", schema=None) as batch_op:
        batch_op.drop_index("ix_pricechange_contract_effective")
        batch_op.create_index(
            "uq_pricechange_contract_day", ["contract_id", "effective_date"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("pricechange", schema=None) as batch_op:
        batch_op.drop_index("uq_pricechange_contract_day")
        batch_op.create_index(
            "ix_pricechange_contract_effective", ["contract_id", "effective_date"], unique=False
        )
