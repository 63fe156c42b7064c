"""The stored price periods: built by the pricing rules, and kept current by every write."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import (
    Contract,
    ContractPricePeriod,
    PriceCategory,
    PriceTimeline,
    PriceUnit,
    RegulationKind,
    RegulationRate,
)
from services.contracts import (
    add_addon,
    price_on,
    register_price_change,
    update_addon,
    update_contract,
    void_addon,
    void_price_change,
)
from services.demo_data import remove_demo_data
from services.price_timeline import (
    PricePeriod,
    contract_price_periods,
    ensure_price_timeline,
    is_stale,
    rebuild_price_timeline,
)
from services.reference import create_price_category_set, save_regulation_rate
from services.rules.categories import CategoryThresholds
from services.rules.pricing import AddonTerms, MissingIndexRate, PriceTerms, Regulation
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 6, 30)
THRESHOLDS = {
    ("SEL108", 2025): CategoryThresholds(Decimal(1500), Decimal(2500), Decimal(4000)),
    ("SEL108", 2026): CategoryThresholds(Decimal(1500), Decimal(2000), Decimal(4000)),
}


def test_periods_split_where_the_price_or_its_category_changes():
    # 2.000,00 kr./dag from 01.01.2025, 2 % on 1 July; renegotiated to 1.900,00 from 01.03.2026;
    # an add-on of 300,00 kr./måned from 01.02.2026 to 31.05.2026.
    terms = PriceTerms(
        Decimal("2000.00"),
        PriceUnit.DAY,
        date(2025, 1, 1),
        Regulation(RegulationKind.FIXED_PCT, Decimal("2.00"), 7, 1),
        ((date(2026, 3, 1), Decimal("1900.00")),),
    )
    addon = AddonTerms(Decimal("300.00"), PriceUnit.MONTH, date(2026, 2, 1), date(2026, 5, 31))
    periods = contract_price_periods(
        terms=terms,
        addons=[addon],
        paragraph="SEL108",
        visitation_category="middel",
        thresholds=THRESHOLDS,
        first=date(2025, 1, 1),
        last=date(2026, 12, 31),
    )
    assert [
        # 2.000 × 365 = 730.000; middel (1.500–2.500) in 2025
        PricePeriod(date(2025, 1, 1), date(2025, 6, 30), 200000, 73000000, "middel", False, False),
        # 2 % on 01.07.2025: 2.040 × 365 = 744.600
        PricePeriod(date(2025, 7, 1), date(2025, 12, 31), 204000, 74460000, "middel", False, False),
        # 2026's set puts 2.040 in høj (from 2.000): above the visitation category
        PricePeriod(date(2026, 1, 1), date(2026, 1, 31), 204000, 74460000, "hoej", True, False),
        # + add-on 300 × 12 = 3.600
        PricePeriod(date(2026, 2, 1), date(2026, 2, 28), 204000, 74820000, "hoej", True, False),
        # renegotiated 1.900 × 365 = 693.500 + 3.600: middel again
        PricePeriod(date(2026, 3, 1), date(2026, 5, 31), 190000, 69710000, "middel", False, False),
        PricePeriod(date(2026, 6, 1), date(2026, 6, 30), 190000, 69350000, "middel", False, False),
        # 2 % from the renegotiated base: 1.938 × 365 = 707.370
        PricePeriod(date(2026, 7, 1), date(2026, 12, 31), 193800, 70737000, "middel", False, False),
    ] == periods


def test_a_missing_index_rate_gives_a_period_without_price():
    terms = PriceTerms(
        Decimal("1000.00"),
        PriceUnit.DAY,
        date(2025, 1, 1),
        Regulation(RegulationKind.INDEX, index_rates={2025: Decimal("3.0")}),
    )
    periods = contract_price_periods(
        terms=terms,
        addons=[],
        paragraph="SEL107",
        visitation_category=None,
        thresholds={},
        first=date(2025, 1, 1),
        last=date(2026, 12, 31),
    )
    # 1 January is the base date itself: no regulation in 2025; 2026 needs the 2026 rate.
    assert [(date(2025, 1, 1), 100000), (date(2026, 1, 1), None)] == [
        (p.valid_from, p.price_ore) for p in periods
    ]
    assert periods[-1].missing_rate
    with pytest.raises(MissingIndexRate):
        from services.rules.pricing import regulated_price

        regulated_price(terms, date(2026, 1, 1))


def _stored(session: Session) -> list[tuple]:
    return [
        tuple(row)
        for row in session.connection().execute(
            sa.select(ContractPricePeriod.__table__).order_by(  # type: ignore[attr-defined]
                "contract_id", "valid_from"
            )
        )
    ]


def _rebuilt(session: Session) -> list[tuple]:
    """What a full rebuild gives, without keeping it."""
    with Session(session.get_bind()) as fresh:
        reach = fresh.exec(select(PriceTimeline)).one()
        rebuild_price_timeline(fresh.connection(), today=reach.built_on)
        rows = _stored(fresh)
        fresh.rollback()
    return rows


def test_every_kind_of_write_keeps_the_stored_periods_current(session):
    contract = make_contract(session, start_date=date(2025, 1, 1), price_base_date=date(2025, 1, 1))
    ensure_price_timeline(session=session, day=TODAY)
    assert _rebuilt(session) == _stored(session) != []

    data = {c: getattr(contract, c) for c in Contract.model_fields if c not in ("id", "created_at")}
    data.update(price=Decimal("2100.00"), version=contract.version)
    update_contract(session=session, contract_id=contract.id, data=data, user=USER)
    assert _rebuilt(session) == _stored(session)

    register_price_change(
        session=session,
        contract_id=contract.id,
        user=USER,
        data={"effective_date": date(2026, 3, 1), "new_price": Decimal("1950.00")},
    )
    assert _rebuilt(session) == _stored(session)

    addon = add_addon(
        session=session,
        data={
            "contract_id": contract.id,
            "name": "Ledsagelse",
            "price": Decimal("500.00"),
            "unit": "maaned",
            "valid_from": date(2026, 2, 1),
        },
        user=USER,
    )
    assert _rebuilt(session) == _stored(session)
    update_addon(
        session=session,
        addon_id=addon.id,
        data={
            "contract_id": contract.id,
            "name": "Ledsagelse",
            "price": Decimal("650.00"),
            "unit": "maaned",
            "valid_from": date(2026, 2, 1),
            "version": addon.version,
        },
        user=USER,
    )
    assert _rebuilt(session) == _stored(session)
    assert (
        1950 * 100
        == session.connection()
        .execute(
            sa.select(ContractPricePeriod.price_ore).where(
                ContractPricePeriod.contract_id == contract.id,
                ContractPricePeriod.valid_from <= TODAY,
                ContractPricePeriod.valid_to >= TODAY,
            )
        )
        .scalar_one()
    )


@pytest.mark.parametrize("change", ["index_rate", "category_set"])
def test_a_reference_change_refreshes_the_contracts_it_changes_at_once(session, change):
    """No page waits for a full rebuild after an index rate or a category set is saved: the
    contracts it can change are rebuilt in the writer's transaction (issue 15)."""
    make_contract(session, regulation_kind="indeks")
    ensure_price_timeline(session=session, day=TODAY)
    if change == "index_rate":
        save_regulation_rate(session=session, data={"year": 2026, "percent": "3,1"}, user=USER)
    else:
        create_price_category_set(
            session=session,
            data={
                "paragraph": "SEL108",
                "year": 2026,
                "middel_from": Decimal(1000),
                "hoej_from": Decimal(2000),
                "ekstraordinaer_from": Decimal(3000),
            },
            user=USER,
        )
    assert not is_stale(session.connection())  # nothing left for a reader to rebuild
    assert _rebuilt(session) == _stored(session)


def _categories(session: Session) -> set[PriceCategory | None]:
    return set(
        session.connection().execute(sa.select(ContractPricePeriod.category).distinct()).scalars()
    )


def _rules_version(session: Session) -> int:
    return session.connection().execute(sa.select(PriceTimeline.rules_version)).scalar_one()


def test_a_new_pricing_rules_version_rebuilds_every_period_on_the_next_read(session, monkeypatch):
    from services.rules.version import PRICE_RULES_VERSION

    make_contract(session, start_date=date(2025, 1, 1), price_base_date=date(2025, 1, 1))
    ensure_price_timeline(session=session, day=TODAY)
    assert not is_stale(session.connection())
    assert PRICE_RULES_VERSION == _rules_version(session)
    assert {None} == _categories(session)  # no category set registered

    # A rule that feeds the periods changes in code (here: every price is extraordinary) ...
    monkeypatch.setattr(
        "services.price_timeline.price_category", lambda *_: PriceCategory.EXTRAORDINARY
    )
    ensure_price_timeline(session=session, day=TODAY)
    assert {None} == _categories(session)  # ... without a new version the old periods stand
    # ... and the version is bumped with it: the stored periods are stale until the next read.
    monkeypatch.setattr("services.price_timeline.PRICE_RULES_VERSION", PRICE_RULES_VERSION + 1)
    assert is_stale(session.connection())
    ensure_price_timeline(session=session, day=TODAY)
    assert not is_stale(session.connection())
    assert PRICE_RULES_VERSION + 1 == _rules_version(session)
    assert {PriceCategory.EXTRAORDINARY} == _categories(session)
    assert _rebuilt(session) == _stored(session)


def test_periods_of_another_rules_version_are_not_patched_contract_by_contract(
    session, monkeypatch
):
    """While a full rebuild is pending, saving a contract leaves the rebuild to the next read."""
    contract = make_contract(session)
    ensure_price_timeline(session=session, day=TODAY)
    before = _stored(session)
    monkeypatch.setattr("services.price_timeline.PRICE_RULES_VERSION", 99)
    register_price_change(
        session=session,
        contract_id=contract.id,
        user=USER,
        data={"effective_date": date(2026, 3, 1), "new_price": Decimal("1950.00")},
    )
    assert before == _stored(session)
    ensure_price_timeline(session=session, day=TODAY)
    assert 99 == _rules_version(session)
    assert _rebuilt(session) == _stored(session) != before


def test_start_up_installs_the_write_hook_once(tmp_path):
    """get_engine alone does not touch the ORM; prepare_database installs the hook, once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session as OrmSession

    from services.config import AppConfig
    from services.db import get_engine
    from services.price_timeline import _refresh_after_flush, keep_prices_current
    from services.startup import prepare_database

    hook = (OrmSession, "after_flush", _refresh_after_flush)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    config = AppConfig(db_url=url, is_default_db=False, local_user="test")
    event.remove(*hook)  # as in a process that has not started up yet
    try:
        get_engine(url).dispose()
        assert not event.contains(*hook)
        startup = prepare_database(config)
        assert event.contains(*hook)
        prepare_database(config).engine.dispose()
        keep_prices_current()
        with Session(startup.engine) as s:
            assert 1 == list(s.dispatch.after_flush).count(_refresh_after_flush)
        startup.engine.dispose()
    finally:
        keep_prices_current()
    assert event.contains(*hook)


def test_a_day_past_the_horizon_rebuilds(session):
    make_contract(session)
    ensure_price_timeline(session=session, day=TODAY)
    first = session.exec(select(PriceTimeline)).one().horizon
    ensure_price_timeline(session=session, day=first.replace(year=first.year + 1))
    assert first < session.exec(select(PriceTimeline)).one().horizon


def test_stored_prices_equal_the_rules_for_every_demo_contract(demo_db):
    from services.db import get_engine

    engine = get_engine(demo_db)
    today = date.today()
    with Session(engine) as s:
        ensure_price_timeline(session=s, day=today)
        query = sa.select(ContractPricePeriod.contract_id, ContractPricePeriod.price_ore).where(
            ContractPricePeriod.valid_from <= today, ContractPricePeriod.valid_to >= today
        )
        stored = {cid: price for cid, price in s.connection().execute(query)}
        contracts = s.exec(select(Contract)).all()
        assert len(contracts) == len(stored)
        for contract in contracts:
            assert price_on(session=s, contract=contract, on=today) * 100 == stored[contract.id]
    engine.dispose()


def test_removing_the_demo_data_leaves_no_periods_behind(tmp_path):
    from seed import seed_database
    from services.db import get_engine, upgrade_schema

    engine = get_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade_schema(engine)
    seed_database(engine=engine, size="demo", today=TODAY)
    with Session(engine) as s:
        assert _stored(s)
        remove_demo_data(session=s, user=USER)
        assert [] == _stored(s)
        assert s.exec(select(PriceTimeline)).first() is None
    engine.dispose()


def test_an_upgraded_database_gets_its_periods_on_the_first_read(session):
    """Migration 0003 leaves the periods empty; contracts saved before then count anyway."""
    from services.queries.overview import portfolio

    make_contract(session, start_date=date(2025, 1, 1), price_base_date=date(2025, 1, 1))
    assert [] == _stored(session)  # nothing built yet, as right after the upgrade
    figures = portfolio(session=session, as_of=TODAY, large_case_threshold=Decimal(1_000_000))
    assert 1 == figures.active_contracts
    assert Decimal("744600.00") == figures.annual_spend  # 2.040,00 × 365 after 2 % in 2026
    assert _stored(session)


def test_two_sessions_rebuilding_at_once_both_read_on(engine):
    """Two users open Overblik right after an index rate changed: one rebuilds, the other
    waits or reads on; neither sees an error, and the periods end up complete."""
    from concurrent.futures import ThreadPoolExecutor

    from services.queries.overview import portfolio

    with Session(engine) as s:
        for n in range(30):
            make_contract(s, case_ref=f"SAG-{n}", start_date=date(2025, 1, 1))
        ensure_price_timeline(session=s, day=TODAY)
        save_regulation_rate(session=s, data={"year": 2026, "percent": "3"}, user=USER)

    def overview_figures(_: int) -> int:
        with Session(engine) as s:
            figures = portfolio(session=s, as_of=TODAY, large_case_threshold=Decimal(10**6))
            return figures.active_contracts

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(overview_figures, range(4)))
    assert [30, 30, 30, 30] == counts
    with Session(engine) as s:
        ensure_price_timeline(session=s, day=TODAY)
        assert (
            30
            == portfolio(
                session=s, as_of=TODAY, large_case_threshold=Decimal(10**6)
            ).active_contracts
        )
        assert _rebuilt(s) == _stored(s)


def test_voiding_a_change_or_an_addon_restores_the_stored_periods(session):
    contract = make_contract(session, start_date=date(2025, 1, 1), price_base_date=date(2025, 1, 1))
    ensure_price_timeline(session=session, day=TODAY)
    before = _stored(session)

    change = register_price_change(
        session=session,
        contract_id=contract.id,
        user=USER,
        data={"effective_date": date(2026, 3, 1), "new_price": Decimal("2950.00")},
    )
    addon = add_addon(
        session=session,
        data={
            "contract_id": contract.id,
            "name": "Ledsagelse",
            "price": Decimal("500.00"),
            "unit": "maaned",
            "valid_from": date(2026, 2, 1),
        },
        user=USER,
    )
    assert before != _stored(session)
    void = {"reason": "Tastet på den forkerte sag"}
    void_price_change(
        session=session,
        price_change_id=change.id,
        data={**void, "version": change.version},
        user=USER,
    )
    void_addon(
        session=session, addon_id=addon.id, data={**void, "version": addon.version}, user=USER
    )
    # Refreshed in the void's own transaction, and what a full rebuild gives.
    assert before == _stored(session) == _rebuilt(session)


def test_every_reference_change_leaves_exactly_what_a_full_rebuild_gives(session):
    """Index rates saved and changed, category sets created, changed to another paragraph and
    copied to a year: after each, the stored periods of every contract (index and fixed,
    every paragraph) equal a full rebuild, and nothing waits for one."""
    from services.reference import copy_price_category_year, update_price_category_set

    provider = make_provider(session)
    for n, (paragraph, kind) in enumerate(
        [("SEL107", "indeks"), ("SEL108", "indeks"), ("ABL105", "fast_pct"), ("SEL108", "fast_pct")]
    ):
        make_contract(
            session,
            provider,
            case_ref=f"SAG-2024-{n:04d}",
            paragraph=paragraph,
            regulation_kind=kind,
            start_date=date(2024, 3, 1),
        )
    ensure_price_timeline(session=session, day=TODAY)
    bands = {"middel_from": "1.500,00", "hoej_from": "2.050,00", "ekstraordinaer_from": "3.000,00"}

    def same() -> None:
        assert not is_stale(session.connection())
        assert _rebuilt(session) == _stored(session)

    for year, percent in ((2025, "2,5"), (2026, "3,1")):
        save_regulation_rate(session=session, data={"year": year, "percent": percent}, user=USER)
        same()
    rate = session.exec(select(RegulationRate).where(RegulationRate.year == 2026)).one()
    save_regulation_rate(
        session=session,
        data={"year": 2026, "percent": "1,0", "version": rate.version},
        user=USER,
    )
    same()
    category_set = create_price_category_set(
        session=session, data={"paragraph": "SEL108", "year": 2026, **bands}, user=USER
    )
    same()
    assert {None, PriceCategory.HIGH} <= _categories(session)
    update_price_category_set(  # moved to another paragraph: both paragraphs' contracts change
        session=session,
        set_id=category_set.id,
        data={"paragraph": "SEL107", "year": 2026, **bands, "version": category_set.version},
        user=USER,
    )
    same()
    copy_price_category_year(
        session=session, from_year=2026, to_year=2027, rate_pct=Decimal("2.0"), user=USER
    )
    same()
