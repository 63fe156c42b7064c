"""The demo data set: size, determinism, consistency with the pricing rules, no CPR numbers."""

import os
import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, func, select

from models import (
    Budget,
    Contract,
    ContractAddon,
    ContractStatus,
    FollowUp,
    InvoiceCheck,
    PriceCategorySet,
    PriceChange,
    PriceUnit,
    Provider,
    RegulationKind,
    RegulationRate,
    Setting,
)
from seed import SeedError, seed_database
from seed.__main__ import main as seed_main
from services.cpr import contains_cpr
from services.db import get_engine, upgrade_schema
from services.rules.checklist import checklist_completeness, checklist_of
from services.rules.notice import notice_deadline
from services.rules.pricing import AddonTerms, PriceTerms, Regulation, expected_amount

TODAY = date(2026, 11, 22)


def _fresh_engine(path) -> Engine:
    engine = get_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    return engine


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory) -> Engine:
    engine = _fresh_engine(tmp_path_factory.mktemp("seed") / "demo.db")
    seed_database(engine=engine, size="demo", today=TODAY)
    yield engine
    engine.dispose()


def _count(session: Session, statement) -> int:
    return session.exec(statement).one()


def test_demo_has_the_expected_rough_size(demo_engine):
    with Session(demo_engine) as session:
        assert 20 <= _count(session, select(func.count()).select_from(Provider)) <= 30
        assert _count(session, select(func.count()).select_from(Contract)) >= 120
        assert _count(session, select(func.count(InvoiceCheck.id))) > 1000
        flagged = session.exec(select(InvoiceCheck).where(InvoiceCheck.flagged)).all()
        overdue = _count(
            session,
            select(func.count(FollowUp.id)).where(
                FollowUp.done_date.is_(None), FollowUp.due_date < TODAY
            ),
        )
        dataset = session.get(Setting, "dataset")
    with demo_engine.connect() as connection:
        offers = connection.execute(sa.text("SELECT COUNT(*) FROM offer")).scalar_one()
    assert offers >= 60
    assert len(flagged) >= 5
    assert len({check.status for check in flagged}) >= 3
    assert all(check.status is not None for check in flagged)
    assert overdue >= 1
    assert dataset is not None and dataset.value == "demo"


def test_demo_raises_the_contract_alerts(demo_engine):
    horizon = date.fromordinal(TODAY.toordinal() + 90)
    with Session(demo_engine) as session:
        contracts = session.exec(select(Contract)).all()
    active = [c for c in contracts if c.status == ContractStatus.ACTIVE]
    deadlines = [notice_deadline(c.end_date, c.notice_days) for c in active]
    assert sum(1 for d in deadlines if d is not None and TODAY <= d <= horizon) >= 2
    assert any(checklist_completeness(checklist_of(c)) < 1 for c in active)
    assert 0.5 <= sum(c.standard_contract for c in contracts) / len(contracts) <= 0.7
    assert {c.status for c in contracts} == set(ContractStatus)
    assert {c.price_unit for c in contracts} == set(PriceUnit)
    assert any(c.regulation_month == 7 for c in contracts)
    assert any(c.regulation_kind == RegulationKind.INDEX for c in contracts)


def test_every_default_setting_is_stored(demo_engine):
    from dataclasses import fields

    from services.settings import AppSettings

    with Session(demo_engine) as session:
        keys = set(session.exec(select(Setting.key)))
    assert {f.name for f in fields(AppSettings)} <= keys


def test_demo_rows_are_marked_as_demo(demo_engine):
    with Session(demo_engine) as session:
        providers = session.exec(select(Provider)).all()
        sets = session.exec(select(PriceCategorySet)).all()
        budgets = session.exec(select(Budget)).all()
    assert providers and all(p.is_demo for p in providers)
    assert all("(demo)" in p.name for p in providers)
    assert sets and all(s.is_demo for s in sets)
    assert budgets and all(b.is_demo for b in budgets)


def _assert_audit_history(engine: Engine) -> None:
    """Each seeded record has its "created" event, readable in Revisionsspor's words."""
    from models import AuditEvent, Contract
    from services.queries.audit import changes_text

    with Session(engine) as session:
        contracts = session.exec(select(func.count()).select_from(Contract)).one()
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "contract")).all()
    assert contracts == len(events)
    assert {("create", "demo")} == {(e.action, e.who) for e in events}
    assert changes_text(events[0].changes).startswith("Sagsnummer: – → SAG-")


def test_the_demo_has_an_audit_history(demo_engine):
    _assert_audit_history(demo_engine)


def _fingerprint(engine: Engine) -> tuple[list[str], Decimal, Decimal]:
    with Session(engine) as session:
        names = list(session.exec(select(Provider.name).order_by(Provider.id)))
        invoiced = session.exec(select(func.sum(InvoiceCheck.invoiced))).one()
        expected = session.exec(select(func.sum(InvoiceCheck.expected))).one()
    return names, Decimal(str(invoiced)), Decimal(str(expected))


def test_same_today_gives_identical_data(demo_engine, tmp_path):
    other = _fresh_engine(tmp_path / "again.db")
    seed_database(engine=other, size="demo", today=TODAY)
    assert _fingerprint(demo_engine) == _fingerprint(other)
    other.dispose()


def _contract_terms(session: Session) -> dict[int, tuple[Contract, PriceTerms, list]]:
    """Pricing terms of every contract, built from the stored rows as the app would."""
    rates = {r.year: r.percent for r in session.exec(select(RegulationRate))}
    changes: dict[int, list[PriceChange]] = {}
    for change in session.exec(select(PriceChange)):
        changes.setdefault(change.contract_id, []).append(change)
    addons: dict[int, list[AddonTerms]] = {}
    for addon in session.exec(select(ContractAddon)):
        addons.setdefault(addon.contract_id, []).append(
            AddonTerms(addon.price, PriceUnit(addon.unit), addon.valid_from, addon.valid_to)
        )
    result = {}
    for contract in session.exec(select(Contract)):
        regulation = Regulation(
            kind=RegulationKind(contract.regulation_kind),
            pct=contract.regulation_pct,
            month=contract.regulation_month,
            day=contract.regulation_day,
            index_rates=rates,
        )
        terms = PriceTerms(
            contract.price,
            PriceUnit(contract.price_unit),
            contract.price_base_date,
            regulation,
            tuple((c.effective_date, c.new_price) for c in changes.get(contract.id, [])),
        )
        result[contract.id] = (contract, terms, addons.get(contract.id, []))
    return result


def _assert_expected_matches_pricing(engine: Engine) -> None:
    with Session(engine) as session:
        terms_of = _contract_terms(session)
        # Every flagged check, every contract with a price change or add-on, and a spread sample.
        interesting = set(session.exec(select(PriceChange.contract_id))) | set(
            session.exec(select(ContractAddon.contract_id))
        )
        checks = session.exec(
            select(InvoiceCheck).where(
                InvoiceCheck.flagged
                | InvoiceCheck.contract_id.in_(interesting)
                | (InvoiceCheck.id % 7 == 0)
            )
        ).all()
    assert len(checks) > 200
    for check in checks:
        contract, terms, addons = terms_of[check.contract_id]
        recomputed = expected_amount(
            terms=terms,
            period_from=check.period_from,
            period_to=check.period_to,
            contract_start=contract.start_date,
            contract_end=contract.end_date,
            addons=addons,
        ).total
        assert recomputed == check.expected, check.invoice_no


def test_stored_expected_amounts_follow_the_pricing_rules(demo_engine):
    _assert_expected_matches_pricing(demo_engine)


def test_deviation_columns_agree_with_the_amounts(demo_engine):
    with Session(demo_engine) as session:
        checks = session.exec(select(InvoiceCheck)).all()
    for check in checks:
        assert check.deviation == check.invoiced - check.expected
        assert check.flagged == (check.deviation > Decimal("1.00"))
        assert check.under_expected == (check.deviation < Decimal("-1.00"))
        assert (check.status is None) == (not check.flagged)


def test_no_text_column_holds_a_cpr_like_number(demo_engine):
    with demo_engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.c:
                if not isinstance(column.type, sa.String):
                    continue
                values = connection.execute(sa.select(column).distinct()).scalars()
                offending = [v for v in values if contains_cpr(v)]
                assert not offending, f"{table.name}.{column.name}: {offending[:3]}"


def test_seeding_refuses_a_database_with_data(demo_engine):
    with pytest.raises(SeedError):
        seed_database(engine=demo_engine, size="demo", today=TODAY)


@pytest.mark.parametrize("today", [date(2028, 2, 29), date(2027, 1, 1)])
def test_demo_looks_current_on_any_day(tmp_path, today):
    engine = _fresh_engine(tmp_path / "day.db")
    seed_database(engine=engine, size="demo", today=today)
    with Session(engine) as session:
        latest_period = session.exec(select(func.max(InvoiceCheck.period_to))).one()
        latest_check = session.exec(select(func.max(InvoiceCheck.checked_on))).one()
        statuses = set(session.exec(select(InvoiceCheck.status).where(InvoiceCheck.flagged)))
        overdue = _count(
            session,
            select(func.count(FollowUp.id)).where(
                FollowUp.done_date.is_(None), FollowUp.due_date < today
            ),
        )
        soon = _count(
            session,
            select(func.count(Contract.id)).where(
                Contract.renegotiation_date >= today,
                Contract.renegotiation_date <= date.fromordinal(today.toordinal() + 60),
            ),
        )
    engine.dispose()
    assert latest_period < today.replace(day=1) <= date.fromordinal(latest_period.toordinal() + 1)
    assert latest_check <= today
    assert len(statuses) >= 3
    assert soon >= 3
    assert overdue >= 1


def test_cli_refuses_existing_data_unless_replace(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert seed_main(["--size", "demo", "--db-url", url, "--today", "2026-11-22"]) == 0
    assert seed_main(["--size", "demo", "--db-url", url]) == 2
    assert "--replace" in capsys.readouterr().err
    assert seed_main(["--size", "demo", "--db-url", url, "--today", "2026-11-22", "--replace"]) == 0
    engine = get_engine(url)
    with Session(engine) as session:
        assert 20 <= _count(session, select(func.count()).select_from(Provider)) <= 30
    engine.dispose()


@pytest.mark.skipif(
    not os.environ.get("TAKSTKOMPAS_TEST_PG_URL"), reason="TAKSTKOMPAS_TEST_PG_URL is not set"
)
def test_demo_on_postgresql():
    server = make_url(os.environ["TAKSTKOMPAS_TEST_PG_URL"])
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"seed_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        engine = get_engine(server.set(database=name).render_as_string(hide_password=False))
        upgrade_schema(engine)
        seed_database(engine=engine, size="demo", today=TODAY)
        _assert_expected_matches_pricing(engine)
        _assert_audit_history(engine)
        with Session(engine) as session:
            # The id sequences continue after the seeded ids.
            next_id = session.exec(
                sa.text("SELECT nextval(pg_get_serial_sequence('provider', 'id'))")
            ).one()[0]
            assert next_id > session.exec(select(func.max(Provider.id))).one()
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
