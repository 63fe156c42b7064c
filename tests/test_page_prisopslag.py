"""Prisopslag: the search service (SQLite and PostgreSQL) and the page through AppTest."""

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import NoCategory, Offer, PriceCategorySet
from services.contracts import register_price_change
from services.db import get_engine, upgrade_schema
from services.providers import add_provider_note, create_offer
from services.queries.lookup import (
    ContractRange,
    LookupFilters,
    contract_range,
    count_offers,
    export_frame,
    latest_notes,
    search_offers,
    target_group_options,
)
from services.reference import create_price_category_set, save_regulation_rate
from tests.factories import USER, make_contract, make_provider
from tests.pagetest import run_page

PAGE = "pages/prisopslag.py"
TODAY = date(2026, 6, 15)


def _offer(session, provider, name, paragraph="SEL108", **overrides):
    data = {
        "provider_id": provider.id,
        "name": name,
        "paragraph": paragraph,
        "target_groups": "Autisme",
        "list_rate": "2500,00",
        "list_rate_year": 2026,
        **overrides,
    }
    return create_offer(session=session, data=data, user=USER)


@pytest.fixture
def catalogue(session):
    """Three providers, five offers and this year's SEL108 set (1.500 / 2.500 / 3.500)."""
    aabo = make_provider(
        session,
        name="Bostedet Åbo",
        cvr="12345674",
        city="Aarhus",
        kind="privat",
        framework="rammeaftale",
        portal_url="https://tilbudsportalen.dk/aabo",
    )
    kilden = make_provider(
        session, name="Kilden", cvr="23456789", city="Odense", kind="kommunal", postal_code="5000"
    )
    vaeksthuset = make_provider(
        session,
        name="Væksthuset",
        cvr="34567890",
        city="Aalborg",
        kind="selvejende",
        framework="samarbejdsaftale",
    )
    offers = {
        "aabo_nord": _offer(
            session,
            aabo,
            "Åbo Nord",
            negotiated_rate="2000,00",
            negotiated_from=date(2024, 3, 1),
            target_groups="Autisme, ADHD",
            portal_url="https://tilbudsportalen.dk/aabo-nord",
        ),
        "aabo_syd": _offer(session, aabo, "Åbo Syd", list_rate="1400,00"),
        "kilden_bo": _offer(
            session, kilden, "Kilden Bo", list_rate="3500,00", target_groups="Voksne med ADHD"
        ),
        "kilden_107": _offer(session, kilden, "Kilden Akut", paragraph="SEL107"),
        "vaekst": _offer(session, vaeksthuset, "Væksthuset Hus", list_rate="2499,99"),
    }
    create_price_category_set(
        session=session,
        data={
            "paragraph": "SEL108",
            "year": TODAY.year,
            "middel_from": "1500",
            "hoej_from": "2500",
            "ekstraordinaer_from": "3500",
        },
        user=USER,
    )
    return {"aabo": aabo, "kilden": kilden, "vaeksthuset": vaeksthuset, **offers}


def _names(session, **filters):
    return [
        o.offer_name
        for o in search_offers(session=session, filters=LookupFilters(**filters), today=TODAY)
    ]


def test_all_offers_ordered_by_provider_and_offer_name(session, catalogue):
    assert ["Kilden Akut", "Kilden Bo", "Væksthuset Hus", "Åbo Nord", "Åbo Syd"] == sorted(
        _names(session)
    )
    assert ["Bostedet Åbo", "Bostedet Åbo", "Kilden", "Kilden", "Væksthuset"] == [
        o.provider_name
        for o in search_offers(session=session, filters=LookupFilters(), today=TODAY)
    ]
    assert 5 == count_offers(session=session, filters=LookupFilters(), today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aarhus", ["Åbo Nord", "Åbo Syd"]),  # city, any case
        ("KILDEN", ["Kilden Akut", "Kilden Bo"]),  # provider name
        ("akut", ["Kilden Akut"]),  # offer name
        ("åbo", ["Åbo Nord", "Åbo Syd"]),  # Danish letters in any case, also on SQLite
        ("VÆKSTHUSET", ["Væksthuset Hus"]),
        ("34567890", ["Væksthuset Hus"]),  # CVR
        ("DK23456789", ["Kilden Akut", "Kilden Bo"]),  # CVR with country prefix
        ("5000", ["Kilden Akut", "Kilden Bo"]),  # postal code
        ("odense bo", ["Kilden Bo"]),  # every word must match somewhere
        ("100%_", []),  # LIKE wildcards are taken literally
    ],
)
def test_text_search_over_name_offer_cvr_and_city(session, catalogue, text, expected):
    assert expected == _names(session, text=text)


def test_filter_by_paragraph(session, catalogue):
    assert ["Kilden Akut"] == _names(session, paragraphs=("SEL107",))


def test_filter_by_target_group_matches_whole_items(session, catalogue):
    assert ["Åbo Nord"] == _names(session, target_group="ADHD")
    assert ["Kilden Bo"] == _names(session, target_group="Voksne med ADHD")
    assert ["ADHD", "Autisme", "Voksne med ADHD"] == target_group_options(session=session)


def test_filter_by_framework_agreement(session, catalogue):
    assert ["Åbo Nord", "Åbo Syd"] == _names(session, frameworks=("rammeaftale",))
    assert ["Kilden Akut", "Kilden Bo"] == _names(session, frameworks=("ingen",))


def test_category_from_negotiated_else_list_rate_against_this_years_set(session, catalogue):
    by_name = {
        o.offer_name: o.category
        for o in search_offers(session=session, filters=LookupFilters(), today=TODAY)
    }
    assert {
        "Åbo Nord": "middel",  # negotiated 2.000 beats the list rate 2.500
        "Åbo Syd": "lav",
        "Kilden Bo": "ekstraordinaer",  # equal to a threshold: the higher band
        "Væksthuset Hus": "middel",
        "Kilden Akut": None,  # no SEL107 set: ingen kategori
    } == by_name


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (("middel",), ["Væksthuset Hus", "Åbo Nord"]),
        (("lav", "ekstraordinaer"), ["Kilden Bo", "Åbo Syd"]),
        ((NoCategory.NO_SET.value,), ["Kilden Akut"]),
        (("hoej", NoCategory.NO_SET.value), ["Kilden Akut"]),
    ],
)
def test_filter_by_price_category_in_sql(session, catalogue, categories, expected):
    assert expected == sorted(_names(session, categories=categories))
    filters = LookupFilters(categories=categories)
    assert len(expected) == count_offers(session=session, filters=filters, today=TODAY)


def test_no_set_for_this_year_means_no_category(session, catalogue):
    offers = search_offers(session=session, filters=LookupFilters(), today=date(2027, 1, 5))
    assert {None} == {o.category for o in offers}


def test_inactive_offers_only_on_request(session, catalogue):
    offer = session.get(Offer, catalogue["aabo_syd"].id)
    offer.active = False
    session.add(offer)
    session.commit()
    assert "Åbo Syd" not in _names(session)
    assert "Åbo Syd" in _names(session, include_inactive=True)


def test_pagination_in_sql_with_count(session, catalogue):
    first = search_offers(session=session, filters=LookupFilters(), today=TODAY, limit=2)
    second = search_offers(session=session, filters=LookupFilters(), today=TODAY, limit=2, offset=2)
    last = search_offers(session=session, filters=LookupFilters(), today=TODAY, limit=2, offset=4)
    assert ["Åbo Nord", "Åbo Syd"] == [o.offer_name for o in first]
    assert ["Kilden Akut", "Kilden Bo"] == [o.offer_name for o in second]
    assert ["Væksthuset Hus"] == [o.offer_name for o in last]


def test_rates_net_price_and_link(session, catalogue):
    offers = {
        o.offer_name: o
        for o in search_offers(session=session, filters=LookupFilters(), today=TODAY)
    }
    nord = offers["Åbo Nord"]
    # SPEC 4.1: 2.000,00 from 2024-03-01 at 2,00 % on 1 January is 2.080,80 on 2026-06-15.
    assert Decimal("2080.80") == nord.negotiated_today
    assert (Decimal("2500.00"), 2026) == (nord.list_rate, nord.list_rate_year)
    assert Decimal("1985.08") == nord.net_after_refund  # 2.080,80 × (1 − 4,6 %)
    assert "https://tilbudsportalen.dk/aabo-nord" == nord.portal_url
    assert "https://tilbudsportalen.dk/aabo" == offers["Åbo Syd"].portal_url  # provider's link
    assert Decimal("1335.60") == offers["Åbo Syd"].net_after_refund  # list rate × 0,954
    assert offers["Kilden Bo"].net_after_refund is None  # municipal: no vat refund
    assert offers["Væksthuset Hus"].net_after_refund is not None  # selvejende


def _contract(session, catalogue, key, price, case_ref, **overrides):
    offer = catalogue[key]
    provider = next(
        catalogue[name]
        for name in ("aabo", "kilden", "vaeksthuset")
        if catalogue[name].id == offer.provider_id
    )
    return make_contract(
        session,
        provider=provider,
        offer_id=offer.id,
        case_ref=case_ref,
        price=price,
        **{"price_base_date": TODAY, "start_date": date(2026, 1, 1), **overrides},
    )


def test_contract_range_regulates_to_today_and_skips_ended_contracts(session, catalogue):
    for n, price in enumerate(("1000", "4000", "2000")):
        _contract(session, catalogue, "aabo_nord", Decimal(price), f"SAG-{n}")
    _contract(session, catalogue, "aabo_nord", Decimal("9000"), "SAG-ended", status="afsluttet")
    _contract(
        session,
        catalogue,
        "aabo_nord",
        Decimal("2000"),
        "SAG-regulated",
        price_base_date=date(2024, 3, 1),
        start_date=date(2024, 3, 1),
    )  # 2.080,80 today
    [nord] = search_offers(session=session, filters=LookupFilters(text="nord"), today=TODAY)
    assert (
        ContractRange(
            count=4,
            low=Decimal("1000.00"),
            median=Decimal("2040.40"),  # even count: mean of 2.000,00 and 2.080,80
            high=Decimal("4000.00"),
        )
        == nord.contracts
    )


def test_contract_range_with_odd_count_monthly_price_and_price_change(session, catalogue):
    _contract(session, catalogue, "vaekst", Decimal("1000"), "SAG-1")
    # 60.833,33 kr./måned × 12 / 365 = 2.000,00 kr./dag
    _contract(session, catalogue, "vaekst", Decimal("60833.33"), "SAG-2", price_unit="maaned")
    changed = _contract(session, catalogue, "vaekst", Decimal("5000"), "SAG-3")
    register_price_change(
        session=session,
        contract_id=changed.id,
        data={"effective_date": TODAY, "new_price": "3000,00", "reason": "genforhandling"},
        user=USER,
    )
    [vaekst] = search_offers(session=session, filters=LookupFilters(text="væksthuset"), today=TODAY)
    assert 3 == vaekst.contracts.count
    assert (Decimal("1000.00"), Decimal("2000.00"), Decimal("3000.00")) == (
        vaekst.contracts.low,
        vaekst.contracts.median,
        vaekst.contracts.high,
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], (None, None, None)),
        (["3"], ("3.00", "3.00", "3.00")),
        (["1", "5", "2"], ("1.00", "2.00", "5.00")),
        (["1", "2", "3", "10"], ("1.00", "2.50", "10.00")),
        (["1.005", "1.006"], ("1.01", "1.01", "1.01")),
    ],
)
def test_contract_range_median_odd_and_even(values, expected):
    result = contract_range([Decimal(v) for v in values])
    as_text = tuple(None if v is None else str(v) for v in (result.low, result.median, result.high))
    assert expected == as_text
    assert len(values) == result.count


def test_index_contract_without_rate_is_counted_as_missing(session, catalogue):
    _contract(session, catalogue, "kilden_bo", Decimal("3000"), "SAG-1")
    _contract(
        session,
        catalogue,
        "kilden_bo",
        Decimal("3000"),
        "SAG-2",
        regulation_kind="indeks",
        price_base_date=date(2024, 1, 1),
        start_date=date(2024, 1, 1),
    )
    save_regulation_rate(session=session, data={"year": 2025, "percent": "3"}, user=USER)
    [kilden] = search_offers(session=session, filters=LookupFilters(text="kilden bo"), today=TODAY)
    assert (1, 1) == (kilden.contracts.count, kilden.contracts.missing_index)


def test_contract_prices_load_in_a_fixed_number_of_queries(session, catalogue, engine):
    """One query each for contracts, price changes and index rates – not one per contract."""

    def statements() -> int:
        seen: list[str] = []

        def count(*_args) -> None:
            seen.append("x")

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            search_offers(session=session, filters=LookupFilters(), today=TODAY)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    _contract(session, catalogue, "aabo_syd", Decimal("1000"), "SAG-1")
    with_one = statements()
    for n in range(2, 8):
        _contract(
            session, catalogue, "aabo_syd", Decimal(1000 + n), f"SAG-{n}", regulation_kind="indeks"
        )
    assert with_one + 1 == statements()  # + the index rates, now that they are needed


def test_latest_notes_newest_first(session, catalogue):
    provider = catalogue["kilden"]
    for day, text in ((1, "Første"), (9, "Nyeste"), (5, "Midterste"), (3, "Tredje")):
        add_provider_note(
            session=session,
            data={
                "provider_id": provider.id,
                "note_date": date(2026, 5, day),
                "text": text,
                "topic": "kvalitet",
            },
            user="Mette",
        )
    notes = latest_notes(session=session, provider_id=provider.id, limit=3)
    assert ["Nyeste", "Midterste", "Tredje"] == [n.text for n in notes]
    assert "Mette" == notes[0].author


def test_export_frame_holds_every_match_with_danish_labels(session, catalogue):
    frame = export_frame(
        session=session, filters=LookupFilters(paragraphs=("SEL108",)), today=TODAY
    )
    assert 4 == len(frame)
    assert {"§108 længerevarende botilbud"} == set(frame["Paragraf"])
    assert "Rammeaftale" == frame.iloc[0]["Samarbejde"]
    assert ["Middel", "Lav"] == list(frame["Priskategori"][:2])


# --- The page through AppTest ---------------------------------------------------------------


def _bold_count(at) -> int:
    text = next(m.value for m in at.markdown if "passer på søgningen" in m.value)
    return int(text.strip("*").split()[0].replace(".", ""))


def test_page_on_empty_database_says_what_to_do(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "Prisopslag" == at.title[0].value
    assert any("ingen tilbud" in i.value for i in at.info)


def test_search_and_filters_narrow_the_list(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    with Session(get_engine(demo_db)) as s:
        total = count_offers(session=s, filters=LookupFilters(), today=date.today())
        city = s.exec(sa.text("SELECT city FROM provider WHERE active ORDER BY id")).first()[0]
        in_city = count_offers(session=s, filters=LookupFilters(text=city), today=date.today())
        sel107 = count_offers(
            session=s,
            filters=LookupFilters(text=city, paragraphs=("SEL107",)),
            today=date.today(),
        )
    assert total == _bold_count(at)
    assert min(total, 25) == len(at.dataframe[0].value)
    at.text_input(key="prisopslag_text").input(city).run()
    assert in_city == _bold_count(at)
    at.multiselect(key="prisopslag_paragraphs").select("SEL107").run()
    assert not at.exception
    if sel107:
        assert sel107 == _bold_count(at)
    else:
        assert any("Ingen tilbud passer" in i.value for i in at.info)


def test_category_filter_and_paging(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    at.multiselect(key="prisopslag_categories").select("middel").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert {"Middel"} == set(frame["Priskategori"])
    with Session(get_engine(demo_db)) as s:
        expected = count_offers(
            session=s, filters=LookupFilters(categories=("middel",)), today=date.today()
        )
    assert expected == _bold_count(at)
    if expected > 25:
        at.number_input(key="prisopslag_page").set_value(2).run()
        assert min(expected - 25, 25) == len(at.dataframe[0].value)


def test_selected_row_shows_prices_and_latest_notes(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        provider_id = s.exec(
            sa.text(
                "SELECT o.provider_id FROM offer o JOIN providernote n "
                "ON n.provider_id = o.provider_id WHERE o.active ORDER BY o.id"
            )
        ).first()[0]
        name = s.exec(sa.text(f"SELECT name FROM provider WHERE id = {provider_id}")).one()[0]
        notes = latest_notes(session=s, provider_id=provider_id, limit=3)
    at = run_page(demo_db, PAGE, monkeypatch)
    at.text_input(key="prisopslag_text").input(name).run()
    table_key = f"prisopslag_table_{at.session_state['prisopslag_search_number']}_0"
    at.session_state[table_key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert {"Listetakst pr. dag", "Forhandlet takst i dag", "Priskategori"} <= {
        m.label for m in at.metric
    }
    assert any("Kontrakttakster i dag" in m.value for m in at.markdown)
    shown = re.sub(r"\\(.)", r"\1", " ".join(c.value for c in [*at.caption, *at.markdown]))
    texts = [t.value for t in at.text]  # a note is plain text, not Markdown
    assert all(n.author in shown and n.text in texts for n in notes)
    assert 1 <= len(notes) <= 3


def test_price_category_set_appears_in_lookup(empty_db, monkeypatch):
    engine = get_engine(empty_db)
    upgrade_schema(engine)
    with Session(engine) as s:
        provider = make_provider(s)
        _offer(s, provider, "Testhuset", list_rate="1600")
        s.add(
            PriceCategorySet(
                paragraph="SEL108",
                year=date.today().year,
                middel_from=Decimal(1500),
                hoej_from=Decimal(2500),
                ekstraordinaer_from=Decimal(3500),
            )
        )
        s.commit()
        assert [] != s.exec(select(Offer)).all()
    at = run_page(empty_db, PAGE, monkeypatch)
    frame = at.dataframe[0].value
    assert ["Testhuset"] == list(frame["Tilbud"])
    assert ["Middel"] == list(frame["Priskategori"])
    assert 2 == len([b for b in at.get("download_button")])
