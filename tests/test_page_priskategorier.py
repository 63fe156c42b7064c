"""Priskategorier: the set table, copy forward and band distribution services (SQLite and
PostgreSQL), and the page through AppTest: create, validate at the field, edit, conflict, copy."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import PriceCategorySet
from services.contracts import add_addon, register_price_change
from services.db import get_engine, upgrade_schema
from services.errors import InputError
from services.queries.categories import (
    band_distribution,
    band_labels,
    band_texts,
    chart_years,
    copy_preview,
    copy_year_forward,
    parse_rate,
    set_choices,
    set_years,
    sets_frame,
)
from services.reference import (
    create_price_category_set,
    save_regulation_rate,
    update_price_category_set,
)
from services.rules.categories import CategoryThresholds
from tests.factories import USER, make_contract, make_provider
from tests.pagetest import run_page

PAGE = "pages/priskategorier.py"
TODAY = date(2026, 6, 15)


def _set(session, paragraph="SEL108", year=2026, low="1500", high="2500", top="3500"):
    return create_price_category_set(
        session=session,
        data={
            "paragraph": paragraph,
            "year": year,
            "middel_from": low,
            "hoej_from": high,
            "ekstraordinaer_from": top,
        },
        user=USER,
    )


# --- Services -------------------------------------------------------------------------------


def test_sets_frame_newest_year_first_with_danish_labels(session):
    _set(session, year=2025)
    _set(session, year=2026)
    _set(session, paragraph="SEL107", year=2026, low="2000", high="3000", top="4000")
    frame = sets_frame(session=session)
    assert [
        ("§107 midlertidigt botilbud", "2026"),
        ("§108 længerevarende botilbud", "2026"),
        ("§108 længerevarende botilbud", "2025"),
    ] == list(zip(frame["Paragraf"], frame["År"], strict=True))
    assert Decimal("2000.00") == frame.iloc[0]["Middel fra"]
    assert USER == frame.iloc[0]["Ændret af"]
    assert [2026, 2025] == set_years(session=session)
    assert ["SEL107", "SEL108", "SEL108"] == [c.paragraph for c in set_choices(session=session)]
    assert "§108 længerevarende botilbud – 2025" == set_choices(session=session)[2].title


def test_sets_frame_on_empty_database(session):
    assert sets_frame(session=session).empty
    assert [] == set_years(session=session)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2,00", Decimal("2.00")), ("2.5", Decimal("2.5")), ("-1", Decimal("-1")), ("3 %", 3)],
)
def test_parse_rate_accepts_danish_input(typed, expected):
    assert Decimal(expected) == parse_rate(typed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Skal udfyldes"),
        ("to procent", "Skal være et tal, fx 2.080,80"),
        ("25", "Skal være mellem -10 og 20 %"),
    ],
)
def test_parse_rate_refuses_with_danish_message(typed, message):
    with pytest.raises(InputError) as caught:
        parse_rate(typed)
    assert {"rate_pct": message} == caught.value.fields


def test_copy_preview_shows_regulated_thresholds_and_conflicts(session):
    _set(session, year=2026, low="1500", high="2500.50", top="3500.25")
    _set(session, paragraph="ABL105", year=2026, low="1000", high="1800", top="2600")
    preview = copy_preview(session=session, from_year=2026, to_year=2027, rate_text="2,00")
    assert preview.possible
    assert ["§105 almen bolig + §85", "§108 længerevarende botilbud"] == list(
        preview.frame["Paragraf"]
    )
    row = preview.frame.iloc[1]
    # 2.500,50 × 1,02 = 2.550,51; 3.500,25 × 1,02 = 3.570,255 → 3.570,26 (half up)
    assert (Decimal("1530.00"), Decimal("2550.51"), Decimal("3570.26")) == (
        row["Ny middel fra"],
        row["Ny høj fra"],
        row["Ny ekstraordinær fra"],
    )
    _set(session, year=2027)
    blocked = copy_preview(session=session, from_year=2026, to_year=2027, rate_text="2")
    assert ["§108 længerevarende botilbud"] == blocked.existing
    assert not blocked.possible


def test_copy_year_forward_creates_the_preview(session):
    _set(session, year=2026, low="1500", high="2500.50", top="3500.25")
    preview = copy_preview(session=session, from_year=2026, to_year=2027, rate_text="2,00")
    created = copy_year_forward(
        session=session, from_year=2026, to_year=2027, rate_text="2,00", user=USER
    )
    assert 1 == len(created)
    stored = session.exec(select(PriceCategorySet).where(PriceCategorySet.year == 2027)).one()
    assert list(preview.frame.iloc[0][["Ny middel fra", "Ny høj fra", "Ny ekstraordinær fra"]]) == [
        stored.middel_from,
        stored.hoej_from,
        stored.ekstraordinaer_from,
    ]


@pytest.mark.parametrize(
    ("from_year", "to_year", "rate", "field"),
    [(2026, 2026, "2", "to_year"), (2026, 2027, "x", "rate_pct"), (2024, 2025, "2", "from_year")],
)
def test_copy_year_forward_refuses(session, from_year, to_year, rate, field):
    _set(session, year=2026)
    with pytest.raises(InputError) as caught:
        copy_year_forward(
            session=session, from_year=from_year, to_year=to_year, rate_text=rate, user=USER
        )
    assert [field] == list(caught.value.fields)


def test_band_texts_in_danish_amounts():
    thresholds = CategoryThresholds(Decimal("1500"), Decimal("2500"), Decimal("13500"))
    assert [
        ("Lav", "under 1.500,00 kr."),
        ("Middel", "1.500,00 – 2.499,99 kr."),
        ("Høj", "2.500,00 – 13.499,99 kr."),
        ("Ekstraordinær", "fra 13.500,00 kr."),
    ] == band_texts(thresholds)
    assert [] == band_texts(None)


def _contract(session, provider, case_ref, price, **overrides):
    data = {
        "case_ref": case_ref,
        "price": Decimal(price),
        "price_base_date": TODAY,
        "start_date": date(2026, 1, 1),
        **overrides,
    }
    return make_contract(session, provider=provider, **data)


def test_band_distribution_counts_spend_and_over_visitation(session):
    _set(session, year=2026)  # 1.500 / 2.500 / 3.500
    provider = make_provider(session)
    _contract(session, provider, "SAG-1", "1000")  # lav
    _contract(session, provider, "SAG-2", "1500", visitation_category="lav")  # middel, over
    _contract(session, provider, "SAG-3", "2499.99", visitation_category="middel")  # middel
    # 2.000,00 from 2024-03-01 regulated 2 × 2 % = 2.080,80 today → middel
    _contract(
        session,
        provider,
        "SAG-4",
        "2000",
        price_base_date=date(2024, 3, 1),
        start_date=date(2024, 3, 1),
    )
    monthly = _contract(session, provider, "SAG-5", "106458.33", price_unit="maaned")
    # 106.458,33 × 12 / 365 = 3.499,99 → høj; add-on 1.000 kr./måned counts in the spend
    add_addon(
        session=session,
        data={
            "contract_id": monthly.id,
            "name": "Ledsagelse",
            "price": "1000",
            "unit": "maaned",
            "valid_from": TODAY,
        },
        user=USER,
    )
    changed = _contract(session, provider, "SAG-6", "2000", visitation_category="middel")
    register_price_change(
        session=session,
        contract_id=changed.id,
        data={"effective_date": TODAY, "new_price": "3500", "reason": "genforhandling"},
        user=USER,
    )  # ekstraordinær, above its visitation
    _contract(session, provider, "SAG-7", "9000", status="afsluttet")  # not active
    _contract(session, provider, "SAG-8", "9000", paragraph="SEL107")  # other paragraph

    dist = band_distribution(session=session, paragraph="SEL108", year=2026, today=TODAY)
    frame = dist.frame.set_index("Priskategori")
    assert band_labels() == list(dist.frame["Priskategori"])
    assert [1, 3, 1, 1, 0] == list(frame["Kontrakter"])
    assert [0, 1, 0, 1, 0] == list(frame["Over visiteret priskategori"])
    assert (6, 2, 0) == (dist.total, dist.over_visitation, dist.missing_index)
    assert Decimal("365000.00") == frame.loc["Lav", "Årlig udgift"]
    assert Decimal("1277499.96") + Decimal("12000.00") == frame.loc["Høj", "Årlig udgift"]
    middel = Decimal("1500") * 365 + Decimal("2499.99") * 365 + Decimal("2080.80") * 365
    assert middel == frame.loc["Middel", "Årlig udgift"]
    assert sum(frame["Årlig udgift"]) == dist.annual_total


def test_band_distribution_without_a_set_is_ingen_kategori(session):
    _set(session, year=2026)
    provider = make_provider(session)
    _contract(session, provider, "SAG-1", "1000", visitation_category="lav")
    dist = band_distribution(session=session, paragraph="SEL108", year=2027, today=TODAY)
    assert dist.thresholds is None
    assert 1 == dist.frame.set_index("Priskategori").loc["Ingen kategori", "Kontrakter"]
    assert 0 == dist.over_visitation  # no category: never guessed to be above


def test_band_distribution_counts_missing_index_rates(session):
    _set(session, year=2026)
    provider = make_provider(session)
    _contract(
        session,
        provider,
        "SAG-1",
        "2000",
        regulation_kind="indeks",
        price_base_date=date(2024, 6, 1),
        start_date=date(2024, 6, 1),
    )
    save_regulation_rate(session=session, data={"year": 2025, "percent": "3"}, user=USER)
    dist = band_distribution(session=session, paragraph="SEL108", year=2026, today=TODAY)
    assert (0, 1) == (dist.total, dist.missing_index)
    save_regulation_rate(session=session, data={"year": 2026, "percent": "2"}, user=USER)
    dist = band_distribution(session=session, paragraph="SEL108", year=2026, today=TODAY)
    assert (1, 0) == (dist.total, dist.missing_index)
    # 2.000 × 1,03 = 2.060,00; × 1,02 = 2.101,20 → middel
    assert 1 == dist.frame.set_index("Priskategori").loc["Middel", "Kontrakter"]


def test_chart_years_include_this_year(session):
    _set(session, year=2024)
    _set(session, paragraph="SEL107", year=2025)
    assert [2026, 2024] == chart_years(session=session, paragraph="SEL108", today=TODAY)


# --- The page through AppTest ---------------------------------------------------------------


@pytest.fixture
def sets_db(empty_db):
    """A configured (so not demo-filled) database with the 2026 sets of two paragraphs."""
    engine = get_engine(empty_db)
    upgrade_schema(engine)
    with Session(engine, expire_on_commit=False) as s:
        _set(s, year=2026)
        _set(s, paragraph="SEL107", year=2026, low="2000", high="3000", top="4000")
    engine.dispose()
    return empty_db


def _stored(url, paragraph, year):
    with Session(get_engine(url)) as s:
        return s.exec(
            select(PriceCategorySet).where(
                PriceCategorySet.paragraph == paragraph, PriceCategorySet.year == year
            )
        ).first()


def _errors(at):
    return [e.value for e in at.error]


def _click(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_empty_database_explains_and_offers_creating(empty_db, monkeypatch):
    at = run_page(empty_db, PAGE, monkeypatch)
    assert "Priskategorier" == at.title[0].value
    assert any("ingen priskategorier" in i.value for i in at.info)
    assert "Opret sæt" in [b.label for b in at.button]


def test_demo_database_shows_sets_chart_and_thresholds(demo_db, monkeypatch):
    at = run_page(demo_db, PAGE, monkeypatch)
    assert not at.dataframe[0].value.empty
    assert {"Aktive kontrakter", "Årlig udgift i alt", "Over visiteret priskategori"} <= {
        m.label for m in at.metric
    }
    assert any("**Ekstraordinær:** fra" in m.value for m in at.markdown)
    assert 4 <= len(at.get("download_button"))  # sets and bands, Excel and CSV each


def test_create_a_set(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_create_paragraph").select("ABL105")
    at.number_input(key="priskategorier_create_year").set_value(2026)
    at.text_input(key="priskategorier_create_middel_from").input("1.200,00")
    at.text_input(key="priskategorier_create_hoej_from").input("1.900")
    at.text_input(key="priskategorier_create_ekstraordinaer_from").input("2600.50")
    _click(at, "Opret sæt")
    stored = _stored(sets_db, "ABL105", 2026)
    assert (Decimal("1200.00"), Decimal("1900.00"), Decimal("2600.50")) == (
        stored.middel_from,
        stored.hoej_from,
        stored.ekstraordinaer_from,
    )
    assert any("er oprettet" in s.value for s in at.success)
    assert "" == at.text_input(key="priskategorier_create_middel_from").value  # form cleared


def test_invalid_set_shows_danish_message_at_the_field_and_keeps_input(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_create_paragraph").select("ABL105")
    at.text_input(key="priskategorier_create_middel_from").input("2.000,00")
    at.text_input(key="priskategorier_create_hoej_from").input("1.800,00")
    at.text_input(key="priskategorier_create_ekstraordinaer_from").input("3.000,00")
    _click(at, "Opret sæt")
    assert "Høj skal starte over middel" in _errors(at)
    assert "2.000,00" == at.text_input(key="priskategorier_create_middel_from").value
    assert "1.800,00" == at.text_input(key="priskategorier_create_hoej_from").value
    assert "ABL105" == at.selectbox(key="priskategorier_create_paragraph").value
    assert _stored(sets_db, "ABL105", 2026) is None


def test_duplicate_year_is_refused_at_the_year(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_create_paragraph").select("SEL108")
    at.number_input(key="priskategorier_create_year").set_value(2026)
    for field, value in (("middel_from", "1"), ("hoej_from", "2"), ("ekstraordinaer_from", "3")):
        at.text_input(key=f"priskategorier_create_{field}").input(value)
    _click(at, "Opret sæt")
    assert "Der findes allerede et sæt for 2026" in _errors(at)


def test_edit_a_set_and_conflict_on_outdated_version(sets_db, monkeypatch):
    stored = _stored(sets_db, "SEL108", 2026)
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_edit_choice").select(stored.id).run()
    prefix = f"priskategorier_edit_{stored.id}"
    assert "2.500,00" == at.text_input(key=f"{prefix}_hoej_from").value
    at.text_input(key=f"{prefix}_hoej_from").input("2.600,00")
    _click(at, "Gem ændringer")
    assert Decimal("2600.00") == _stored(sets_db, "SEL108", 2026).hoej_from

    # Someone else saves the set after this user opened it again.
    at.text_input(key=f"{prefix}_ekstraordinaer_from").input("3.900,00")
    with Session(get_engine(sets_db)) as s:
        current = _stored(sets_db, "SEL108", 2026)
        update_price_category_set(
            session=s,
            set_id=current.id,
            data={
                "paragraph": "SEL108",
                "year": 2026,
                "middel_from": "1400",
                "hoej_from": "2600",
                "ekstraordinaer_from": "3500",
                "version": current.version,
            },
            user="kollega",
        )
    _click(at, "Gem ændringer")
    assert any("En anden har gemt priskategorisættet" in e for e in _errors(at))
    assert "3.900,00" == at.text_input(key=f"{prefix}_ekstraordinaer_from").value
    assert Decimal("3500.00") == _stored(sets_db, "SEL108", 2026).ekstraordinaer_from
    _click(at, "Indlæs igen")
    assert "1.400,00" == at.text_input(key=f"{prefix}_middel_from").value
    assert not _errors(at)


def test_edit_with_thresholds_out_of_order_is_refused_at_the_field(sets_db, monkeypatch):
    stored = _stored(sets_db, "SEL107", 2026)
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_edit_choice").select(stored.id).run()
    key = f"priskategorier_edit_{stored.id}_ekstraordinaer_from"
    at.text_input(key=key).input("2.500")
    _click(at, "Gem ændringer")
    assert "Ekstraordinær skal starte over høj" in _errors(at)
    assert "2.500" == at.text_input(key=key).value


def test_copy_forward_via_the_page_creates_next_years_sets(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    assert "2026" == str(at.selectbox(key="priskategorier_copy_from").value)
    assert 2027 == at.number_input(key="priskategorier_copy_to_2026").value
    assert "2,00" == at.text_input(key="priskategorier_copy_rate").value  # the default setting
    at.text_input(key="priskategorier_copy_rate").input("3").run()
    assert any("2 sæt for 2027" in m.value and "3,00 %" in m.value for m in at.markdown)
    _click(at, "Kopiér til 2027")
    created = _stored(sets_db, "SEL108", 2027)
    assert (Decimal("1545.00"), Decimal("2575.00"), Decimal("3605.00")) == (
        created.middel_from,
        created.hoej_from,
        created.ekstraordinaer_from,
    )
    assert _stored(sets_db, "SEL107", 2027) is not None
    assert any("2 priskategorisæt er oprettet for 2027" in s.value for s in at.success)


def test_copy_forward_to_a_year_with_sets_is_blocked(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    at.number_input(key="priskategorier_copy_to_2026").set_value(2026).run()
    assert any("andet år" in e for e in _errors(at))
    at.text_input(key="priskategorier_copy_rate").input("abc").run()
    assert "Skal være et tal, fx 2.080,80" in _errors(at)
    assert "abc" == at.text_input(key="priskategorier_copy_rate").value


def test_chart_for_a_paragraph_without_contracts(sets_db, monkeypatch):
    at = run_page(sets_db, PAGE, monkeypatch)
    at.selectbox(key="priskategorier_chart_paragraph").select("SEL107").run()
    assert not at.exception
    assert any("ingen aktive kontrakter" in i.value for i in at.info)
    assert any("**Høj:** 3.000,00 – 3.999,99 kr." in m.value for m in at.markdown)
