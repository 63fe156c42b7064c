"""The free-choice 10 % rule (SPEC 4.8) and the weighing of offers (SPEC 10), with the worked
examples, and their settings."""

from decimal import Decimal

import pytest

from services.errors import InputError
from services.rules.free_choice import free_choice, has_free_choice
from services.rules.pricing import annual_amount
from services.rules.weighing import PARAMETERS, PRICE, check_weights, price_points, weigh
from services.settings import AppSettings, get_settings, update_settings
from tests.factories import USER

D = Decimal
TEN = D("10")


def _daily(rate: str) -> Decimal:
    return annual_amount(D(rate), "dag")


def test_the_worked_example_exactly_ten_percent_is_within():
    result = free_choice(visited=_daily("2000.00"), chosen=_daily("2200.00"), limit_pct=TEN)
    assert (D("730000.00"), D("803000.00")) == (result.visited, result.chosen)
    assert result.within
    assert D("10.00") == result.percent
    assert "inden for 10 %-grænsen" == result.label


def test_the_worked_example_one_ore_more_is_over():
    result = free_choice(visited=_daily("2000.00"), chosen=_daily("2200.01"), limit_pct=TEN)
    assert not result.within
    assert D("10.00") == result.percent  # 10,0005 % shows as 10,00 % and is still over
    assert "over 10 %-grænsen" == result.label


def test_a_cheaper_offer_is_within_with_a_negative_percentage():
    result = free_choice(visited=_daily("2000.00"), chosen=_daily("1850.00"), limit_pct=TEN)
    assert result.within
    assert D("-7.50") == result.percent


def test_a_monthly_price_is_compared_with_a_daily_one_as_annual_amounts():
    # 66.000 kr./måned = 792.000 kr./år; 2.000 kr./dag = 730.000 kr./år: 8,49 % dearer.
    result = free_choice(
        visited=_daily("2000.00"), chosen=annual_amount(D("66000.00"), "maaned"), limit_pct=TEN
    )
    assert result.within
    assert D("8.49") == result.percent


def test_add_ons_count_in_the_annual_amount():
    # 2.100 kr./dag + an add-on of 3.000 kr./måned: 766.500 + 36.000 = 802.500 (within),
    # 4.000 kr./måned: 814.500 (over).
    visited = _daily("2000.00")
    within = _daily("2100.00") + annual_amount(D("3000.00"), "maaned")
    over = _daily("2100.00") + annual_amount(D("4000.00"), "maaned")
    assert free_choice(visited=visited, chosen=within, limit_pct=TEN).within
    assert not free_choice(visited=visited, chosen=over, limit_pct=TEN).within


def test_the_limit_is_the_setting():
    assert D("10") == AppSettings().free_choice_limit_pct
    result = free_choice(visited=_daily("2000.00"), chosen=_daily("2150.00"), limit_pct=D("5"))
    assert not result.within
    assert "over 5 %-grænsen" == result.label
    half = free_choice(visited=_daily("2000.00"), chosen=_daily("2000.00"), limit_pct=D("7.5"))
    assert "inden for 7,50 %-grænsen" == half.label


def test_only_108_and_abl105_have_free_choice():
    assert has_free_choice("SEL108") and has_free_choice("ABL105")
    assert not has_free_choice("SEL107")


def test_price_points_cheapest_gets_ten_others_proportionally():
    points = price_points({"a": D("730000.00"), "b": D("803000.00"), "c": D("876000.00")})
    assert {"a": D("10.00"), "b": D("9.09"), "c": D("8.33")} == points


def test_weights_must_sum_to_100():
    weights = AppSettings().weights
    assert D(100) == sum(weights.values())
    assert weights == check_weights(weights)
    with pytest.raises(InputError) as raised:
        check_weights({**weights, "geography": D(5)})
    assert "Vægtene skal give 100 tilsammen; de giver nu 95." == raised.value.fields["_weights"]
    with pytest.raises(InputError) as raised:
        check_weights({**weights, "methods": D("20.5")})
    assert "helt tal" in raised.value.fields["methods"]
    with pytest.raises(InputError) as raised:
        check_weights({key: value for key, value in weights.items() if key != PRICE})
    assert "Angiv en vægt" == raised.value.fields[PRICE]


def test_each_contribution_is_weight_times_score_and_the_total_their_exact_sum():
    weights = {key: D(0) for key in PARAMETERS} | {"knowledge": D(30), "methods": D(45)}
    weights[PRICE] = D(25)
    scores = {"knowledge": D(7), "methods": D("8.5"), PRICE: D("9.09")}
    result = weigh(check_weights(weights), scores)
    assert D("2.1") == result.contributions["knowledge"]
    assert D("3.825") == result.contributions["methods"]
    assert D("2.2725") == result.contributions[PRICE]
    assert D("8.1975") == result.total
    with pytest.raises(ValueError):
        weigh(weights, {"knowledge": D(11)})


def test_weights_are_saved_only_when_they_still_sum_to_100(session):
    with pytest.raises(InputError) as raised:
        update_settings(session=session, values={"weight_price": "30"}, user=USER)
    assert "de giver nu 105" in raised.value.fields["_form"]
    update_settings(
        session=session, values={"weight_price": "30", "weight_methods": "15"}, user=USER
    )
    saved = get_settings(session=session)
    assert (30, 15) == (saved.weight_price, saved.weight_methods)
    assert D(100) == sum(saved.weights.values())
