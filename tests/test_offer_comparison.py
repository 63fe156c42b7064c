"""Sammenlign tilbud (SPEC 10): the comparison computed from the database's offers and the
caseworker's input, checked input, saving and reopening, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import AuditEvent, OfferComparison, Provider
from services.comparisons import check_comparison, load_comparison, save_comparison
from services.errors import ConflictError, InputError
from services.providers import add_provider_note, create_offer
from services.queries.comparison import (
    build_comparison,
    comparison_frame,
    offer_choices,
    printable_html,
)
from services.reference import create_price_category_set
from services.settings import AppSettings, get_settings
from tests.factories import USER, make_contract, make_provider

D = Decimal
TODAY = date(2026, 11, 30)
WEIGHTS = {k: str(v) for k, v in AppSettings().weights.items()}


def _offer(session: Session, provider_id: int, name: str, paragraph: str = "SEL108", **rates):
    return create_offer(
        session=session,
        data={"provider_id": provider_id, "name": name, "paragraph": paragraph, **rates},
        user=USER,
    ).id


@pytest.fixture
def offers(session):
    a = make_provider(session, name="Bo Vest", cvr="12345674", vat_refund=True)
    b = make_provider(session, name="Bo Øst", cvr="87654321", vat_refund=False)
    visited = _offer(
        session,
        a.id,
        "Vesthuset",
        negotiated_rate="2.000,00",
        negotiated_from=date(2026, 1, 1),
        list_rate="2.100,00",
        list_rate_year=2026,
    )
    dearer = _offer(session, b.id, "Østhuset", list_rate="2.150,00", list_rate_year=2026)
    s107 = _offer(
        session, b.id, "Botilbud 107", "SEL107", list_rate="1.500,00", list_rate_year=2027
    )
    create_price_category_set(
        session=session,
        data={
            "paragraph": "SEL108",
            "year": 2027,
            "middel_from": "1500",
            "hoej_from": "2100",
            "ekstraordinaer_from": "4000",
        },
        user=USER,
    )
    return {"visited": visited, "dearer": dearer, "s107": s107, "a": a.id, "b": b.id}


def _inputs(offers, **changes):
    data = {
        "offer_ids": [offers["visited"], offers["dearer"]],
        "start_date": date(2027, 3, 1),
        "visited_id": offers["visited"],
        "weights": WEIGHTS,
        "scores": {},
    }
    data.update(changes)
    return check_comparison(data)


def _compare(session, inputs):
    return build_comparison(
        session=session, inputs=inputs, settings=get_settings(session=session), today=TODAY
    )


def test_rates_are_regulated_to_a_start_date_in_a_later_year(session, offers):
    result = _compare(session, _inputs(offers))
    visited, dearer = result.offers
    # 2.000,00 from 2026-01-01, 2 % on 1 January: 2.040,00 on 2027-03-01.
    assert D("2040.00") == visited.negotiated_at_start == visited.rate
    assert D("2142.00") == visited.list_at_start  # 2.100,00 (2026) regulated once
    assert D("2193.00") == dearer.rate  # the list rate when nothing is negotiated
    assert D("744600.00") == visited.annual
    assert D("710348.40") == visited.net_annual  # after 4,6 % vat refund
    assert dearer.annual == dearer.net_annual  # no refund for this provider
    assert "hoej" == dearer.category and "lav" != visited.category


def test_add_ons_and_monthly_prices_count_in_the_annual_amount(session, offers):
    addons = [
        {"offer_id": offers["dearer"], "name": "Ledsagelse", "price": "1.000,00", "unit": "maaned"},
        {"offer_id": offers["dearer"], "name": "Nattevagt", "price": "10,00", "unit": "dag"},
    ]
    result = _compare(session, _inputs(offers, addons=addons))
    dearer = result.offers[1]
    assert D("15650.00") == dearer.addons_annual  # 12.000 + 3.650
    assert D("816095.00") == dearer.annual  # 2.193,00 × 365 + 15.650
    assert D("2235.88") == dearer.daily


def test_the_ten_percent_rule_against_the_visited_offer(session, offers):
    result = _compare(session, _inputs(offers))
    choice = result.offers[1].free_choice
    assert choice is not None and choice.within  # 2.193 / 2.040: 7,50 % dearer
    assert D("7.50") == choice.percent
    with_addon = _inputs(
        offers,
        addons=[
            {"offer_id": offers["dearer"], "name": "Ekstra", "price": "5.000,00", "unit": "maaned"}
        ],
    )
    assert not _compare(session, with_addon).offers[1].free_choice.within


def test_107_has_no_free_choice(session, offers):
    inputs = _inputs(
        offers, offer_ids=[offers["s107"], offers["dearer"]], visited_id=offers["s107"]
    )
    result = _compare(session, inputs)
    assert "ikke frit valg" in result.free_choice_note
    assert all(o.free_choice is None for o in result.offers)


def test_price_points_and_the_weighing(session, offers):
    scores = {str(offers["visited"]): {"knowledge": "8", "methods": "6,5"}}
    result = _compare(session, _inputs(offers, scores=scores))
    visited, dearer = result.offers
    assert D("10.00") == visited.price_points
    assert D("9.30") == dearer.price_points  # 10 × 744.600 / 800.445
    # 20 × 8 / 100 + 20 × 6,5 / 100 + 25 × 10 / 100
    assert D("5.4") == visited.weighing.total
    assert D("2.325") == dearer.weighing.total


def test_the_table_the_excel_file_and_the_print_show_the_same_figures(session, offers):
    make_contract(
        session,
        session.get(Provider, offers["a"]),
        offer_id=offers["visited"],
        included="Bolig, kost og døgnstøtte",
        notice_days=60,
    )
    add_provider_note(
        session=session,
        data={
            "provider_id": offers["a"],
            "note_date": date(2026, 10, 1),
            "author": "Kim",
            "topic": "forhandling",
            "text": "Villig til at forhandle ved to pladser",
        },
        user=USER,
    )
    result = _compare(session, _inputs(offers))
    frame = comparison_frame(result)
    rows = dict(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))
    assert "744.600,00 kr." == rows["Årsbeløb"]
    assert "Bolig, kost og døgnstøtte" == rows["Prisen indeholder"]
    assert "60 dage" == rows["Opsigelsesvarsel (aktuelle kontrakter)"]
    assert rows["Seneste note"].startswith("01.10.2026 · Forhandling: Villig")
    assert "Visiteret tilbud" == rows["10 %-reglen"]
    assert (
        "+7,50 %: inden for 10 %-grænsen"
        == frame.iloc[-len(frame) :, 2][list(frame.iloc[:, 0]).index("10 %-reglen")]
    )
    page = printable_html(result, "SAG-<1>")
    assert "744.600,00 kr." in page and "SAG-&lt;1&gt;" in page and "<script" not in page


def test_input_is_checked_with_danish_messages(offers):
    cases = [
        ({"offer_ids": [offers["visited"]]}, "offer_ids"),
        ({"offer_ids": [offers["visited"], offers["visited"]]}, "offer_ids"),
        ({"visited_id": offers["s107"]}, "visited_id"),
        ({"weights": {**WEIGHTS, "price": "30"}}, "weights"),
        ({"scores": {str(offers["visited"]): {"methods": "11"}}}, "scores"),
        ({"scores": {str(offers["visited"]): {"price": "5"}}}, "scores"),
        ({"case_ref": "010190-1234"}, "case_ref"),
        ({"reasons": {str(offers["visited"]): {"methods": "Borger 010190-1234"}}}, "reasons"),
    ]
    for changes, field in cases:
        with pytest.raises(InputError) as raised:
            _inputs(offers, **changes)
        assert field in raised.value.fields, (changes, raised.value.fields)


def test_saved_under_a_case_reference_and_reopened(session, offers):
    data = {
        **_inputs(offers).model_dump(),
        "case_ref": "SAG-2026-77",
        "reasons": {str(offers["visited"]): {"methods": "Kendt metode"}},
    }
    with pytest.raises(InputError) as raised:
        save_comparison(session=session, data={**data, "case_ref": ""}, user=USER)
    assert "case_ref" in raised.value.fields
    saved = save_comparison(session=session, data=data, user=USER)
    assert "Vesthuset; Østhuset" == saved.offer_names
    row, reopened = load_comparison(session=session, comparison_id=saved.id)
    assert "SAG-2026-77" == reopened["case_ref"]
    assert check_comparison(reopened) == check_comparison(data)
    event = session.exec(select(AuditEvent).where(AuditEvent.entity == "offercomparison")).one()
    assert (USER, "create") == (event.who, event.action)
    moved = {**reopened, "start_date": date(2027, 6, 1)}
    save_comparison(session=session, data=moved, user=USER, comparison_id=row.id)
    with pytest.raises(ConflictError):
        save_comparison(session=session, data=reopened, user=USER, comparison_id=row.id)
    assert 1 == len(session.exec(select(OfferComparison)).all())


def test_the_offers_to_choose_from_are_labelled_apart(session, offers):
    twin = _offer(session, offers["b"], "Østhuset", list_rate="2.000,00", list_rate_year=2026)
    choices = offer_choices(session=session)
    assert len(set(choices.values())) == len(choices)
    assert choices[twin].startswith("Østhuset · Bo Øst · ")
