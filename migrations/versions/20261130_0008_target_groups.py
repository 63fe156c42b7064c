"""target groups as a maintained list: TargetGroup and the offers' links to it

Target groups were free text on the offer ("Autisme, ADHD"), so "Udviklingshæmning" and
"udviklingshæmning" were two filter values. Now they are rows of `targetgroup` (name unique
ignoring case and spacing through `name_key`, active, versioned), and an offer's groups are its
rows in `offertargetgroup`: the one place they are stored. `offer.target_groups` goes.

The existing texts move over: each offer's text is split at commas, every item trimmed, runs of
spaces made one, empty items dropped, an item longer than 100 characters cut there. Items that
differ only in case and spacing become one group. Which spelling wins: the one written most
often (over all offers); on a tie, the one met first (on the offer with the lowest id, then
leftmost in its text). Each merge of several spellings is kept in the audit trail (action
"merge", entity "targetgroup", who "migration 0008") with the spellings merged. Every group
starts active. The offers themselves are not changed (same rows, same versions), and the
contracts bought on them keep them.

The downgrade writes each offer's groups back as text ("A, B", alphabetical) and drops the
tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00.000000
"""

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 100
WHO = "migration 0008"


def _key(name: str) -> str:
    """As services.target_groups.target_group_key at the time of this migration (a migration
    keeps its own copy: the app's code may change after it)."""
    return "".join(name.casefold().split())


def _items(text: str | None) -> list[str]:
    items = (" ".join(part.split())[:NAME_MAX].strip() for part in (text or "").split(","))
    return [item for item in items if item]


def _offer_texts() -> list[tuple[int, str | None]]:
    offers = sa.table("offer", sa.column("id"), sa.column("target_groups"))
    query = sa.select(offers.c.id, offers.c.target_groups).order_by(offers.c.id)
    return [(offer_id, text) for offer_id, text in op.get_bind().execute(query)]


def _move_texts_to_groups(texts: list[tuple[int, str | None]]) -> None:
    bind = op.get_bind()
    groups = sa.table(
        "targetgroup",
        sa.column("id"),
        sa.column("name"),
        sa.column("name_key"),
        sa.column("active"),
        sa.column("version"),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("created_by"),
        sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("updated_by"),
    )
    links = sa.table("offertargetgroup", sa.column("offer_id"), sa.column("target_group_id"))
    audit = sa.table(
        "auditevent",
        sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("who"),
        sa.column("action"),
        sa.column("entity"),
        sa.column("entity_id"),
        sa.column("changes"),
    )
    per_offer: dict[int, list[str]] = {}
    spellings: dict[str, Counter[str]] = {}  # key → spelling → times used (first met first)
    for offer_id, text in texts:
        keys: list[str] = []
        for item in _items(text):
            key = _key(item)
            spellings.setdefault(key, Counter())[item] += 1
            if key not in keys:  # "ADHD, adhd" on one offer is one link
                keys.append(key)
        per_offer[offer_id] = keys
    if not spellings:
        return
    # Counter.most_common keeps first-met order among equal counts: the tie rule above.
    winners = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    now = datetime.now(UTC)
    bind.execute(
        sa.insert(groups),
        [
            {
                "name": name,
                "name_key": key,
                "active": True,
                "version": 1,
                "created_at": now,
                "created_by": WHO,
                "updated_at": now,
                "updated_by": WHO,
            }
            for key, name in winners.items()
        ],
    )
    ids = dict(bind.execute(sa.select(groups.c.name_key, groups.c.id)).all())
    link_rows = [
        {"offer_id": offer_id, "target_group_id": ids[key]}
        for offer_id, keys in per_offer.items()
        for key in keys
    ]
    if link_rows:
        bind.execute(sa.insert(links), link_rows)
    merges = [
        {
            "at": now,
            "who": WHO,
            "action": "merge",
            "entity": "targetgroup",
            "entity_id": str(ids[key]),
            "changes": json.dumps(
                {"name": [sorted(counts), winners[key]], "offers": [None, sum(counts.values())]},
                ensure_ascii=False,
            ),
        }
        for key, counts in spellings.items()
        if len(counts) > 1
    ]
    if merges:
        bind.execute(sa.insert(audit), merges)


def upgrade() -> None:
    op.create_table(
        "targetgroup",
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targetgroup")),
    )
    op.create_index("uq_targetgroup_name_key", "targetgroup", ["name_key"], unique=True)
    texts = _offer_texts()
    # Dropped in place (SQLite ≥ 3.35 can), not by batch mode's copy of the table: dropping the
    # old copy would run the foreign keys' ON DELETE and take every contract's offer with it.
    op.drop_column("offer", "target_groups")
    op.create_table(
        "offertargetgroup",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("target_group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offertargetgroup_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_group_id"],
            ["targetgroup.id"],
            name=op.f("fk_offertargetgroup_target_group_id_targetgroup"),
        ),
        sa.PrimaryKeyConstraint("offer_id", "target_group_id", name=op.f("pk_offertargetgroup")),
    )
    op.create_index(
        op.f("ix_offertargetgroup_target_group_id"),
        "offertargetgroup",
        ["target_group_id"],
        unique=False,
    )
    _move_texts_to_groups(texts)


def downgrade() -> None:
    op.add_column(
        "offer",
        sa.Column(
            "target_groups",
            sqlmodel.sql.sqltypes.AutoString(length=500),
            nullable=False,
            server_default="",
        ),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT l.offer_id, g.name FROM offertargetgroup l"
            " JOIN targetgroup g ON g.id = l.target_group_id ORDER BY l.offer_id, g.name"
        )
    )
    texts: dict[int, list[str]] = {}
    for offer_id, name in rows:
        texts.setdefault(offer_id, []).append(name)
    offers = sa.table("offer", sa.column("id"), sa.column("target_groups"))
    for offer_id, names in texts.items():
        bind.execute(
            offers.update()
            .where(offers.c.id == offer_id)
            .values(target_groups=", ".join(names)[:500])
        )
    op.drop_index(op.f("ix_offertargetgroup_target_group_id"), table_name="offertargetgroup")
    op.drop_table("offertargetgroup")
    op.drop_index("uq_targetgroup_name_key", table_name="targetgroup")
    op.drop_table("targetgroup")
