"""The Alembic migrations give exactly the models' schema on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from services.db import upgrade_schema


def test_upgrade_head_matches_models(engine):
    upgrade_schema(engine)  # idempotent on an already migrated database
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert [] == diff


def test_upgrade_keeps_existing_data(tmp_path):
    """A database created at the baseline with data in it keeps every row through the upgrades."""
    import sqlalchemy as sa
    from alembic import command

    from services.db import alembic_config, get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO provider (id, name, kind, framework, vat_refund, active, is_demo,"
                " version, created_at, created_by, updated_at, updated_by) VALUES (7,"
                " 'Egelunden', 'privat', 'ingen', 1, 1, 0, 3, '2026-01-01', 'u', '2026-01-01', 'u')"
            )
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT name, version FROM provider WHERE id = 7")).one()
        head = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert ("Egelunden", 3) == tuple(row)
    assert "0001" != head


def test_periods_built_before_the_rules_version_was_stored_are_rebuilt(engine):
    """Migration 0004 keeps the data and gives the bookkeeping row version 0: the first read after
    the upgrade rebuilds the periods and stores the version of the rules now running."""
    from datetime import date

    import sqlalchemy as sa
    from alembic import command
    from sqlmodel import Session, select

    from models import PriceTimeline
    from services.db import alembic_config
    from services.price_timeline import ensure_price_timeline, is_stale
    from services.rules.version import PRICE_RULES_VERSION

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO provider (id, name, kind, framework, vat_refund, active, is_demo,"
                " version, created_at, created_by, updated_at, updated_by) VALUES (7,"
                " 'Egelunden', 'privat', 'ingen', TRUE, TRUE, FALSE, 3, '2026-01-01', 'u',"
                " '2026-01-01', 'u')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO pricetimeline (id, built_on, horizon)"
                " VALUES (1, '2026-06-30', '2027-12-31')"
            )
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        provider = connection.execute(sa.text("SELECT name, version FROM provider WHERE id = 7"))
        timeline = connection.execute(
            sa.select(PriceTimeline.built_on, PriceTimeline.horizon, PriceTimeline.rules_version)
        )
        assert [("Egelunden", 3)] == [tuple(row) for row in provider]
        assert [(date(2026, 6, 30), date(2027, 12, 31), 0)] == [tuple(row) for row in timeline]
        assert is_stale(connection)
    with Session(engine) as session:
        ensure_price_timeline(session=session, day=date(2026, 6, 30))
        assert not is_stale(session.connection())
        assert PRICE_RULES_VERSION == session.exec(select(PriceTimeline.rules_version)).one()


def test_duplicate_price_changes_are_resolved_into_the_audit_trail(engine):
    """Migration 0006 makes one price change per contract and day unique; duplicates stored
    before it keep the earliest row, and the later ones go to the audit trail in full."""
    import json
    from datetime import date

    import sqlalchemy as sa
    from alembic import command
    from sqlmodel import Session

    from services.db import alembic_config, upgrade_schema
    from tests.factories import make_contract

    with Session(engine) as session:
        contract_id = make_contract(session).id
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with engine.begin() as connection:
        for price in ("2100.00", "2150.00", "2200.00"):
            connection.execute(
                sa.text(
                    "INSERT INTO pricechange (contract_id, effective_date, old_price, new_price,"
                    " reason, version, created_at, created_by, updated_at, updated_by) VALUES"
                    " (:c, :d, 2000, :p, 'genforhandling', 1, '2026-01-01', 'u', '2026-01-01',"
                    " 'u')"
                ),
                {"c": contract_id, "d": date(2026, 4, 1), "p": price},
            )
    upgrade_schema(engine)
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT new_price FROM pricechange")).scalars().all()
        audit = connection.execute(
            sa.text("SELECT changes FROM auditevent WHERE entity = 'pricechange'")
        ).scalars()
        removed = sorted(json.loads(text)["row"]["new_price"] for text in audit)
    assert ["2100.00"] == [f"{price:.2f}" for price in kept]
    assert ["2150.00", "2200.00"] == [f"{float(p):.2f}" for p in removed]


def test_target_group_texts_move_to_the_list_with_variants_merged(engine):
    """Migration 0008 turns each offer's target group text into links to one list: items that
    differ only in case and spacing become one group, spelled as written most often (a tie: as
    met first), and the merge is in the audit trail; contracts keep their offers. The downgrade
    writes the texts back."""
    import json

    import sqlalchemy as sa
    from alembic import command
    from sqlmodel import Session

    from services.db import alembic_config, upgrade_schema
    from tests.factories import make_contract

    with Session(engine) as session:
        contract = make_contract(session)
        contract_id, provider_id = contract.id, contract.provider_id
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    texts = {
        1: "Udviklingshæmning, Autisme",
        2: "udviklingshæmning,  ADHD ",
        3: "Udviklingshæmning,autisme, , ADHD",
        4: "Voksne  med ADHD, voksne med adhd",
        5: "",
        6: "Senhjerne skade",
        7: "Senhjerneskade",
    }
    with engine.begin() as connection:
        for offer_id, text in texts.items():
            connection.execute(
                sa.text(
                    "INSERT INTO offer (id, provider_id, name, paragraph, target_groups, active,"
                    " version, created_at, created_by, updated_at, updated_by) VALUES (:id,"
                    " :provider, :name, 'SEL108', :text, TRUE, 2, '2026-01-01', 'u',"
                    " '2026-01-01', 'u')"
                ),
                {"id": offer_id, "provider": provider_id, "name": f"Hus {offer_id}", "text": text},
            )
        # A contract bought on an offer keeps it through the upgrade.
        connection.execute(
            sa.text("UPDATE contract SET offer_id = 1 WHERE id = :id"), {"id": contract_id}
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        groups = dict(connection.execute(sa.text("SELECT id, name FROM targetgroup")).all())
        links = connection.execute(
            sa.text("SELECT offer_id, target_group_id FROM offertargetgroup")
        ).all()
        merges = connection.execute(
            sa.text("SELECT who, changes FROM auditevent WHERE action = 'merge'")
        ).all()
        offers = connection.execute(sa.text("SELECT id, name, version FROM offer")).all()
        bought_on = connection.execute(
            sa.text("SELECT offer_id FROM contract WHERE id = :id"), {"id": contract_id}
        ).scalar_one()
    per_offer: dict[int, set[str]] = {}
    for offer_id, group_id in links:
        per_offer.setdefault(offer_id, set()).add(groups[group_id])
    assert {
        "Udviklingshæmning",  # 2 offers against 1
        "Autisme",  # 1 against 1: the first met
        "ADHD",
        "Voksne med ADHD",  # runs of spaces made one
        "Senhjerne skade",  # "Senhjerneskade" is the same group: spacing does not count
    } == set(groups.values())
    assert {
        1: {"Udviklingshæmning", "Autisme"},
        2: {"Udviklingshæmning", "ADHD"},
        3: {"Udviklingshæmning", "Autisme", "ADHD"},
        4: {"Voksne med ADHD"},
        6: {"Senhjerne skade"},
        7: {"Senhjerne skade"},
    } == per_offer
    assert 7 == len(offers) and {2} == {version for _id, _name, version in offers}
    assert 1 == bought_on
    merged = sorted(json.loads(changes)["name"][0] for _who, changes in merges)
    assert [
        ["Autisme", "autisme"],
        ["Senhjerne skade", "Senhjerneskade"],
        ["Udviklingshæmning", "udviklingshæmning"],
        ["Voksne med ADHD", "voksne med adhd"],
    ] == merged
    assert {"migration 0008"} == {who for who, _changes in merges}

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.connect() as connection:
        back = dict(connection.execute(sa.text("SELECT id, target_groups FROM offer")).all())
    assert "ADHD, Autisme, Udviklingshæmning" == back[3]
    assert "" == back[5]
    upgrade_schema(engine)


def _insert_full_row(connection, table: str, values: dict) -> None:
    """Insert a row naming every NOT NULL column of the table as it is at this revision: the
    given values, else a plain value of the column's type."""
    import sqlalchemy as sa

    row = dict(values)
    for column in sa.inspect(connection).get_columns(table):
        name, kind = column["name"], str(column["type"]).upper()
        if name in row or column["nullable"] or column.get("default") is not None:
            continue
        if "DATE" in kind:
            row[name] = "2026-01-01"
        elif any(t in kind for t in ("INT", "NUMERIC", "BOOL", "FLOAT")):
            row[name] = 1
        else:
            row[name] = "x"
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row)


def test_a_table_rebuilt_by_a_migration_keeps_its_children(tmp_path):
    """Migration 0007 rebuilds invoicecheck on SQLite (batch mode); the deviation events under a
    check (ON DELETE CASCADE) must survive it, and every foreign key still resolves."""
    import sqlalchemy as sa
    from alembic import command

    from services.db import alembic_config, get_engine

    engine = get_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    with engine.begin() as connection:
        _insert_full_row(connection, "provider", {"id": 1, "name": "Egelunden"})
        _insert_full_row(connection, "contract", {"id": 1, "provider_id": 1, "offer_id": None})
        _insert_full_row(
            connection,
            "invoicecheck",
            {"id": 1, "contract_id": 1, "provider_id": 1, "invoice_no": "F-1"},
        )
        _insert_full_row(
            connection, "deviationevent", {"id": 1, "invoice_check_id": 1, "new_status": "ny"}
        )
    upgrade_schema(engine)
    with engine.connect() as connection:
        events = connection.execute(sa.text("SELECT count(*) FROM deviationevent")).scalar()
        kind = connection.execute(sa.text("SELECT kind FROM invoicecheck WHERE id = 1")).scalar()
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    assert 1 == events
    assert "faktura" == kind
    assert [] == broken
    assert 1 == enforced


def test_the_heads_read_from_the_files_are_alembics_own():
    """Start-up skips Alembic when the database is at head; the head it compares with is read
    from the migration files without Alembic, and must be the one Alembic finds."""
    from alembic.script import ScriptDirectory

    from services.db import alembic_config, head_revisions

    assert set(ScriptDirectory.from_config(alembic_config()).get_heads()) == head_revisions()


def test_a_database_at_head_is_left_alone_and_one_behind_is_upgraded(tmp_path):
    from alembic import command

    from services.db import alembic_config, get_engine, upgrade_schema

    engine = get_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    upgrade_schema(engine)
    with engine.connect() as connection:
        head = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    config = alembic_config(engine)
    command.downgrade(config, "-1")
    upgrade_schema(engine)  # one behind: upgraded
    with engine.connect() as connection:
        assert (
            head == connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        )
    upgrade_schema(engine)  # at head: nothing to do, nothing breaks
    engine.dispose()
