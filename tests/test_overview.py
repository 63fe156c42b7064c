"""Register counts and removing demo data, on SQLite and PostgreSQL."""

from dataclasses import fields
from datetime import date

import sqlalchemy as sa
from sqlmodel import SQLModel

from seed import seed_database
from services.demo_data import dataset_kind, remove_demo_data
from services.queries.home import table_counts
from services.settings import AppSettings
from tests.factories import USER, make_contract

TODAY = date(2026, 11, 22)


def _rows(session, table: str) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(SQLModel.metadata.tables[table])
    ).scalar_one()


def test_remove_demo_data_leaves_only_the_users_own_rows(engine, session):
    seed_database(engine=engine, size="demo", today=TODAY)
    own = make_contract(session, case_ref="EGEN-1")
    assert "demo" == dataset_kind(session=session)
    removed = remove_demo_data(session=session, user=USER)
    assert 25 == removed
    assert None is dataset_kind(session=session)
    for table in (
        "offer",
        "providernote",
        "pricecategoryset",
        "budget",
        "regulationrate",
        "pricechange",
        "contractaddon",
        "deviationevent",
        "goal",
    ):
        assert 0 == _rows(session, table), table
    counts = table_counts(session=session, today=TODAY)
    assert (1, 1) == (counts.providers, counts.contracts)
    assert own.id == session.execute(sa.text("select id from contract")).scalar_one()
    assert len(fields(AppSettings)) == _rows(session, "setting")  # the settings stay


def test_table_counts_on_demo(engine, session):
    seed_database(engine=engine, size="demo", today=TODAY)
    counts = table_counts(session=session, today=TODAY)
    assert (25, 60, 120) == (counts.providers, counts.offers, counts.contracts)
    assert counts.open_deviations >= 3
    assert counts.overdue_followups >= 1
