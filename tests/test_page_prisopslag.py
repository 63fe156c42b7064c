"""Prisopslag: the search service (SQLite and PostgreSQL) and the page through AppTest."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import NoCategory, Offer, PriceCategorySet, ProviderNote, TargetGroup
from models.base import utcnow
from services.contracts import register_price_change
from services.db import get_engine, upgrade_schema
from services.providers import add_provider_note, create_offer
from services.queries.lookup import (
    ContractRange,
    LookupFilters,
    SortOrder,
    contract_range,
    contract_range_text,
    count_offers,
    export_frame,
    latest_notes,
    screen_frame,
    search_offers,
    target_group_options,
)
from services.reference import create_price_category_set, save_regulation_rate
from services.settings import update_settings
from services.target_groups import create_target_group, update_target_group
from tests.factories import USER, make_contract, make_provider
from tests.pagetest import run_page, unescaped

PAGE = "pages/prisopslag.py"
TODAY = date(2026, 6, 15)


def _group_ids(session, names: str) -> list[int]:
    """The ids of target groups named "A, B", added to the list when missing."""
    ids = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        group = session.exec(select(TargetGroup).where(TargetGroup.name == name)).first()
        if group is None:
            group = create_target_group(session=session, data={"name": name}, user=USER)
        ids.append(group.id)
    return ids


def _offer(session, provider, name, paragraph="SEL108", target_groups="Autisme", **overrides):
    data = {
        "provider_id": provider.id,
        "name": name,
        "paragraph": paragraph,
        "target_group_ids": _group_ids(session, target_groups),
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


def _names(session, order=SortOrder.NAME, **filters):
    return [
        o.offer_name
        for o in search_offers(
            session=session, filters=LookupFilters(**filters), today=TODAY, order=order
        )
    ]


def test_ordered_by_provider_and_offer_name_on_request(session, catalogue):
    assert ["Kilden Akut", "Kilden Bo", "Væksthuset Hus", "Åbo Nord", "Åbo Syd"] == sorted(
        _names(session)
    )
    assert ["Bostedet Åbo", "Bostedet Åbo", "Kilden", "Kilden", "Væksthuset"] == [
        o.provider_name
        for o in search_offers(
            session=session, filters=LookupFilters(), today=TODAY, order=SortOrder.NAME
        )
    ]
    assert 5 == count_offers(session=session, filters=LookupFilters(), today=TODAY)


def test_cheapest_first_by_the_rate_today(session, catalogue):
    # Åbo Syd 1.400,00 (list); Åbo Nord 2.080,80 (negotiated 2.000,00 regulated to today);
    # Kilden Akut and Væksthuset Hus 2.499,99/2.500,00 (list); Kilden Bo 3.500,00.
    assert ["Åbo Syd", "Åbo Nord", "Væksthuset Hus", "Kilden Akut", "Kilden Bo"] == _names(
        session, order=SortOrder.CHEAPEST
    )
    offers = search_offers(session=session, filters=LookupFilters(), today=TODAY)
    assert [1, 2, 3, 4, 5] == [o.rank for o in offers]
    assert [Decimal("1400.00"), Decimal("2080.80")] == [o.rate_today for o in offers[:2]]


def test_sort_by_category_then_cheapest_with_no_category_last(session, catalogue):
    assert ["Åbo Syd", "Åbo Nord", "Væksthuset Hus", "Kilden Bo", "Kilden Akut"] == _names(
        session, order=SortOrder.CATEGORY
    )


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


def test_filter_by_target_group_from_the_list(session, catalogue):
    options = dict((name, group_id) for group_id, name in target_group_options(session=session))
    assert ["ADHD", "Autisme", "Voksne med ADHD"] == list(options)
    assert ["Åbo Nord"] == _names(session, target_group=options["ADHD"])
    assert ["Kilden Bo"] == _names(session, target_group=options["Voksne med ADHD"])
    assert 1 == count_offers(
        session=session, filters=LookupFilters(target_group=options["ADHD"]), today=TODAY
    )


def test_search_box_matches_target_groups(session, catalogue):
    assert ["Kilden Bo", "Åbo Nord"] == sorted(_names(session, text="adhd"))
    assert ["Kilden Bo"] == _names(session, text="voksne")
    assert ["Åbo Nord"] == _names(session, text="adhd aarhus")  # with the city


def test_a_renamed_or_inactive_group_shows_its_name_and_still_filters(session, catalogue):
    group = session.exec(select(TargetGroup).where(TargetGroup.name == "ADHD")).one()
    update_target_group(
        session=session,
        target_group_id=group.id,
        data={"name": "ADHD og ADD", "active": False, "version": group.version},
        user=USER,
    )
    [nord] = search_offers(
        session=session, filters=LookupFilters(target_group=group.id), today=TODAY
    )
    assert "ADHD og ADD, Autisme" == nord.target_groups
    assert (group.id, "ADHD og ADD (inaktiv)") in target_group_options(session=session)


def test_filter_by_framework_agreement(session, catalogue):
    assert ["Åbo Nord", "Åbo Syd"] == _names(session, frameworks=("rammeaftale",))
    assert ["Kilden Akut", "Kilden Bo"] == _names(session, frameworks=("ingen",))


def test_category_of_the_rate_today_against_this_years_set(session, catalogue):
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
    def page(offset):
        offers = search_offers(
            session=session,
            filters=LookupFilters(),
            today=TODAY,
            order=SortOrder.NAME,
            limit=2,
            offset=offset,
        )
        return [(o.rank, o.offer_name) for o in offers]

    assert [(1, "Åbo Nord"), (2, "Åbo Syd")] == page(0)
    assert [(3, "Kilden Akut"), (4, "Kilden Bo")] == page(2)
    assert [(5, "Væksthuset Hus")] == page(4)


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


def test_export_frame_holds_every_match_in_the_order_shown_with_danish_labels(session, catalogue):
    frame = export_frame(
        session=session,
        filters=LookupFilters(paragraphs=("SEL108",)),
        today=TODAY,
        order=SortOrder.NAME,
    )
    assert 4 == len(frame)
    assert {"§108 længerevarende botilbud"} == set(frame["Paragraf"])
    assert "Rammeaftale" == frame.iloc[0]["Samarbejde"]
    assert ["Middel", "Lav"] == list(frame["Priskategori"][:2])
    assert "Autisme, ADHD" != frame.iloc[0]["Målgrupper"]  # Danish alphabetical order
    assert "ADHD, Autisme" == frame.iloc[0]["Målgrupper"]
    cheapest = export_frame(session=session, filters=LookupFilters(), today=TODAY)
    assert ["Åbo Syd", "Åbo Nord"] == list(cheapest["Tilbud"][:2])
    assert [1, 2] == list(cheapest["Nr."][:2])


def test_screen_frame_shows_the_key_columns_only():
    frame = screen_frame([])
    assert [
        "Nr.",
        "Tilbud",
        "Leverandør",
        "§",
        "Takst i dag",
        "Netto",
        "Kontrakter i dag",
        "Priskategori",
        "Portal",
    ] == list(frame.columns)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ""),
        (["1776.49"], "1.776 (1)"),
        (["1349.50", "1500", "1776"], "1.350–1.500–1.776 (3)"),  # whole kroner, half-up
    ],
)
def test_contract_range_text(values, expected):
    assert expected == contract_range_text(contract_range([Decimal(v) for v in values]))


def test_a_negotiated_rate_is_compared_as_regulated_to_today(session):
    """The negotiated 1.300,00 of 2022 is 1.407,16 today: dearer than a list rate of 1.400,00,
    though cheaper before regulation; and a negotiated rate applies even above the list rate."""
    provider = make_provider(session)
    _offer(
        session,
        provider,
        "Gammel aftale",
        negotiated_rate="1300,00",
        negotiated_from=date(2022, 3, 1),
    )
    _offer(session, provider, "Listepris", list_rate="1400,00")
    _offer(
        session,
        provider,
        "Dyr aftale",
        list_rate="1000,00",
        negotiated_rate="1500,00",
        negotiated_from=TODAY,
    )
    offers = search_offers(session=session, filters=LookupFilters(), today=TODAY)
    assert [("Listepris", Decimal("1400.00")), ("Gammel aftale", Decimal("1407.16"))] == [
        (o.offer_name, o.rate_today) for o in offers[:2]
    ]
    assert ("Dyr aftale", Decimal("1500.00")) == (offers[2].offer_name, offers[2].rate_today)


def test_a_rate_that_cannot_be_regulated_is_unknown_and_sorted_last(session):
    update_settings(session=session, values={"regulation_default_pct": "20"}, user=USER)
    provider = make_provider(session)
    _offer(
        session,
        provider,
        "Uden for rækkevidde",
        list_rate="100,00",
        negotiated_rate="100000,00",
        negotiated_from=date(1900, 1, 1),
    )
    _offer(session, provider, "Almindelig", list_rate="3000,00")
    offers = search_offers(session=session, filters=LookupFilters(), today=TODAY)
    assert ["Almindelig", "Uden for rækkevidde"] == [o.offer_name for o in offers]
    far = offers[1]
    assert (None, None, None) == (far.rate_today, far.negotiated_today, far.net_after_refund)
    assert far.category is None


# 60 offers named so that the cheapest comes 54th by name: on page 3 of 25.
CHEAP_NAME = "Hus 52 – billigste"


def _sixty_offers(session) -> int:
    provider = make_provider(session, name="Bostedet Tresiden")
    for n in range(59):
        _offer(session, provider, f"Hus {n:02d}", list_rate=f"{1500 + n * 10},00")
    cheapest = _offer(
        session,
        provider,
        CHEAP_NAME,
        list_rate="2900,00",
        negotiated_rate="1300,00",
        negotiated_from=TODAY,
        target_groups="Udviklingshæmning",
    )
    add_provider_note(
        session=session,
        data={
            "provider_id": provider.id,
            "text": "Gode erfaringer med udslusning",
            "topic": "kvalitet",
        },
        user="Mette",
    )
    return cheapest.id


def test_cheapest_is_first_across_all_pages(session):
    _sixty_offers(session)
    by_name = search_offers(
        session=session, filters=LookupFilters(), today=TODAY, order=SortOrder.NAME, limit=None
    )
    assert 54 == next(o.rank for o in by_name if o.offer_name == CHEAP_NAME)  # page 3
    [first] = search_offers(session=session, filters=LookupFilters(), today=TODAY, limit=1)
    assert (1, CHEAP_NAME, Decimal("1300.00")) == (first.rank, first.offer_name, first.rate_today)
    third_page = search_offers(
        session=session, filters=LookupFilters(), today=TODAY, limit=25, offset=50
    )
    assert [51, 60] == [third_page[0].rank, third_page[-1].rank]
    assert CHEAP_NAME not in [o.offer_name for o in third_page]


def test_voided_notes_are_left_out_of_the_latest(session, catalogue):
    provider = catalogue["kilden"]
    for day, text in ((1, "Gammel note"), (2, "Fejlagtig note"), (3, "Ny note")):
        add_provider_note(
            session=session,
            data={"provider_id": provider.id, "note_date": date(2026, 5, day), "text": text},
            user="Mette",
        )
    wrong = session.exec(select(ProviderNote).where(ProviderNote.text == "Fejlagtig note")).one()
    wrong.voided_at = utcnow()
    wrong.voided_by = "Mette"
    wrong.void_reason = "Skrevet om den forkerte leverandør"
    session.add(wrong)
    session.commit()
    notes = latest_notes(session=session, provider_id=provider.id, limit=3)
    assert ["Ny note", "Gammel note"] == [n.text for n in notes]


# --- The page through AppTest ---------------------------------------------------------------


def _bold_count(at) -> int:
    text = next(m.value for m in at.markdown if "passer på søgningen" in m.value)
    return int(text.strip("*").split()[0].replace(".", ""))


def _shown(at) -> str:
    """Every caption and Markdown text on the page as the browser shows it."""
    return unescaped(" ".join(c.value for c in [*at.caption, *at.markdown]))


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


def test_target_group_filter_and_search_on_demo_data(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        group_id, name = target_group_options(session=s)[0]
        expected = count_offers(
            session=s, filters=LookupFilters(target_group=group_id), today=date.today()
        )
        by_text = count_offers(
            session=s, filters=LookupFilters(text=name.lower()), today=date.today()
        )
    at = run_page(demo_db, PAGE, monkeypatch)
    at.selectbox(key="prisopslag_target_group").set_value(group_id).run()
    assert not at.exception
    assert expected == _bold_count(at)
    at.selectbox(key="prisopslag_target_group").set_value(None).run()
    at.text_input(key="prisopslag_text").input(name.lower()).run()
    assert by_text == _bold_count(at) >= expected > 0


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
        at.button(key="prisopslag_page_next").click().run()
        assert not at.exception
        frame = at.dataframe[0].value
        assert min(expected - 25, 25) == len(frame)
        assert 26 == frame["Nr."].iloc[0]


def test_first_offer_is_shown_beside_the_list_with_prices_and_latest_notes(demo_db, monkeypatch):
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
    assert not at.exception
    shown = _shown(at)
    # The first row is chosen without a click: its detail is there at once.
    for label_text in ("Takst i dag:", "Listetakst ", "Netto efter momsrefusion:"):
        assert label_text in shown
    assert "Priskategori:" in shown and "Kontrakttakster i dag:" in shown
    texts = [t.value for t in at.text]  # a note is plain text, not Markdown
    assert all(n.author in shown and n.text in texts for n in notes)
    assert 1 <= len(notes) <= 3


def test_cheapest_offer_from_page_three_is_first_and_its_notes_show(empty_db, monkeypatch):
    """The issue's test: a data set where the cheapest offer is on page 3 by name; "Billigst
    først" (the default) puts it first, with its detail and notes beside the list."""
    engine = get_engine(empty_db)
    upgrade_schema(engine)
    with Session(engine) as s:
        _sixty_offers(s)
    at = run_page(empty_db, PAGE, monkeypatch)
    assert SortOrder.CHEAPEST == at.selectbox(key="prisopslag_sort").value
    frame = at.dataframe[0].value
    assert (1, CHEAP_NAME) == (frame["Nr."].iloc[0], frame["Tilbud"].iloc[0])
    assert 1300.0 == frame["Takst i dag"].iloc[0]
    shown = _shown(at)
    assert CHEAP_NAME in shown and "Gode erfaringer med udslusning" in [t.value for t in at.text]
    assert "på tværs af alle 60 tilbud" in shown

    # By name it is on page 3, and the table says where each row stands in the whole list.
    at.selectbox(key="prisopslag_sort").set_value(SortOrder.NAME).run()
    assert CHEAP_NAME not in list(at.dataframe[0].value["Tilbud"])
    at.button(key="prisopslag_page_next").click().run()
    at.button(key="prisopslag_page_next").click().run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert 54 == frame.set_index("Tilbud").loc[CHEAP_NAME, "Nr."]

    # Back to cheapest first: a new order starts on page 1 again.
    at.selectbox(key="prisopslag_sort").set_value(SortOrder.CHEAPEST).run()
    assert CHEAP_NAME == at.dataframe[0].value["Tilbud"].iloc[0]


def test_choosing_another_row_shows_its_detail(empty_db, monkeypatch):
    engine = get_engine(empty_db)
    upgrade_schema(engine)
    with Session(engine) as s:
        _sixty_offers(s)
    at = run_page(empty_db, PAGE, monkeypatch)
    table_key = f"prisopslag_table_{at.session_state['prisopslag_search_number']}_0"
    at.session_state[table_key] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    second = at.dataframe[0].value["Tilbud"].iloc[1]
    headings = [m.value for m in at.markdown if m.value.startswith("#####")]
    assert [f"##### {second}"] == [unescaped(h) for h in headings]


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
    assert ["§108"] == list(frame["§"])
    assert 2 == len([b for b in at.get("download_button")])
