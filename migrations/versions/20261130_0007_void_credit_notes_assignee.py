"""corrections kept on record: void with a reason, credit notes, follow-up assignee

Notes, price changes, add-ons and invoice checks can be voided: the row stays, marked with who
voided it, when and why, and is left out of every sum, price and alert. A vidensbank note gets a
version (optimistic locking) now that voiding changes it. An invoice check can be a credit note
that references the invoice it corrects. A follow-up gets a responsible person. The unique
index of one price change per contract and day only counts changes in force, so a voided
change makes room for its correction; the covering indexes of the invoice checks carry the
voided mark so the sums still read no table rows. Existing data: every row is in force, every
check an invoice, every note version 1. An invoice number is unique per provider and period
among the checks in force (a partial unique index instead of the table constraint), so a voided
check makes room for its correction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOIDABLE = ("providernote", "contractaddon", "pricechange", "invoicecheck")
FLAGGED_COLUMNS = [
    "flagged",
    "status",
    "checked_on",
    "resolved_on",
    "contract_id",
    "provider_id",
    "deviation",
]
INVOICE_KEY = ["provider_id", "invoice_no", "period_from", "period_to"]
PERIOD_COLUMNS = ["period_from", "period_to", "contract_id", "provider_id", "invoiced"]


def _void_columns() -> list[sa.Column]:
    return [
        sa.Column("voided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("voided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    ]


def upgrade() -> None:
    for table in VOIDABLE:
        with op.batch_alter_table(table) as batch:
            for column in _void_columns():
                batch.add_column(column)
    with op.batch_alter_table("providernote") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    op.drop_index("uq_pricechange_contract_day", table_name="pricechange")
    op.create_index(
        "uq_pricechange_contract_day",
        "pricechange",
        ["contract_id", "effective_date"],
        unique=True,
        sqlite_where=sa.text("voided_at IS NULL"),
        postgresql_where=sa.text("voided_at IS NULL"),
    )

    with op.batch_alter_table("invoicecheck") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "faktura",
                    "kreditnota",
                    name="invoicekind",
                    native_enum=False,
                    create_constraint=False,
                    length=20,
                ),
                nullable=False,
                server_default="faktura",
            )
        )
        batch.add_column(sa.Column("credits_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_invoicecheck_credits_id_invoicecheck",
            "invoicecheck",
            ["credits_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("ix_invoicecheck_credits_id", "invoicecheck", ["credits_id"], unique=False)
    with op.batch_alter_table("invoicecheck") as batch:
        batch.drop_constraint("uq_invoicecheck_provider_invoice_period", type_="unique")
    op.create_index(
        "uq_invoicecheck_provider_invoice_period",
        "invoicecheck",
        INVOICE_KEY,
        unique=True,
        sqlite_where=sa.text("voided_at IS NULL"),
        postgresql_where=sa.text("voided_at IS NULL"),
    )
    op.drop_index("ix_invoicecheck_flagged_status", table_name="invoicecheck")
    op.create_index(
        "ix_invoicecheck_flagged_status", "invoicecheck", [*FLAGGED_COLUMNS, "voided_at"]
    )
    op.drop_index("ix_invoicecheck_period_cover", table_name="invoicecheck")
    op.create_index("ix_invoicecheck_period_cover", "invoicecheck", [*PERIOD_COLUMNS, "voided_at"])

    with op.batch_alter_table("followup") as batch:
        batch.add_column(
            sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("followup") as batch:
        batch.drop_column("assignee")
    op.drop_index("ix_invoicecheck_period_cover", table_name="invoicecheck")
    op.create_index("ix_invoicecheck_period_cover", "invoicecheck", PERIOD_COLUMNS)
    op.drop_index("ix_invoicecheck_flagged_status", table_name="invoicecheck")
    op.create_index("ix_invoicecheck_flagged_status", "invoicecheck", FLAGGED_COLUMNS)
    op.drop_index("uq_invoicecheck_provider_invoice_period", table_name="invoicecheck")
    op.execute("DELETE FROM invoicecheck WHERE voided_at IS NOT NULL")
    with op.batch_alter_table("invoicecheck") as batch:
        batch.create_unique_constraint("uq_invoicecheck_provider_invoice_period", INVOICE_KEY)
    op.drop_index("ix_invoicecheck_credits_id", table_name="invoicecheck")
    with op.batch_alter_table("invoicecheck") as batch:
        batch.drop_constraint("fk_invoicecheck_credits_id_invoicecheck", type_="foreignkey")
        batch.drop_column("credits_id")
        batch.drop_column("kind")
    op.drop_index("uq_pricechange_contract_day", table_name="pricechange")
    op.execute(
        "DELETE FROM pricechange WHERE voided_at IS NOT NULL"
    )  # a downgrade cannot keep a voided change beside its correction
    op.create_index(
        "uq_pricechange_contract_day", "pricechange", ["contract_id", "effective_date"], unique=True
    )
    with op.batch_alter_table("providernote") as batch:
        batch.drop_column("version")
    for table in VOIDABLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("void_reason")
            batch.drop_column("voided_by")
            batch.drop_column("voided_at")
