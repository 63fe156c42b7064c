"""Price category sets, budgets, index rates and settings through the services."""

from decimal import Decimal

import pytest

from services.errors import InputError
from services.reference import (
    copy_price_category_year,
    create_price_category_set,
    index_rates,
    save_budget,
    save_regulation_rate,
)
from services.settings import ensure_default_settings, get_settings, update_settings
from tests.factories import USER

SET_2026 = {
    "paragraph": "SEL108",
    "year": 2026,
    "middel_from": "2.200",
    "hoej_from": "3.200",
    "ekstraordinaer_from": "4.500",
}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"hoej_from": "2.200"}, "hoej_from"),
        ({"ekstraordinaer_from": "3.000"}, "ekstraordinaer_from"),
        ({"middel_from": "abc"}, "middel_from"),
    ],
)
def test_thresholds_must_increase(session, overrides, field):
    with pytest.raises(InputError) as raised:
        create_price_category_set(session=session, user=USER, data={**SET_2026, **overrides})
    assert field in raised.value.fields


def test_copy_year_forward_regulates_and_refuses_existing(session):
    create_price_category_set(session=session, user=USER, data=SET_2026)
    [copied] = copy_price_category_year(
        session=session, from_year=2026, to_year=2027, rate_pct=Decimal("2.00"), user=USER
    )
    assert (Decimal("2244.00"), Decimal("3264.00"), Decimal("4590.00")) == (
        copied.middel_from,
        copied.hoej_from,
        copied.ekstraordinaer_from,
    )
    with pytest.raises(InputError):
        copy_price_category_year(
            session=session, from_year=2026, to_year=2027, rate_pct=Decimal("2.00"), user=USER
        )


def test_budget_and_rate_are_replaced_not_duplicated(session):
    save_budget(
        session=session,
        user=USER,
        data={"year": 2026, "paragraph": "SEL108", "amount": "1.000.000"},
    )
    budget = save_budget(
        session=session,
        user=USER,
        data={"year": 2026, "paragraph": "SEL108", "amount": "1.200.000"},
    )
    assert Decimal("1200000.00") == budget.amount
    save_regulation_rate(session=session, user=USER, data={"year": 2026, "percent": "2,6"})
    assert {2026: Decimal("2.600")} == index_rates(session=session)


def test_settings_defaults_and_validation(session):
    ensure_default_settings(session=session)
    assert Decimal("2.00") == get_settings(session=session).regulation_default_pct
    updated = update_settings(
        session=session, user=USER, values={"tolerance_kr": "5,00", "followup_sel107_months": "4"}
    )
    assert (Decimal("5.00"), 4) == (updated.tolerance_kr, updated.followup_sel107_months)
    with pytest.raises(InputError) as raised:
        update_settings(
            session=session,
            user=USER,
            values={"followup_sel108_months": "abc", "vat_refund_pct": "90"},
        )
    assert {"followup_sel108_months", "vat_refund_pct"} == set(raised.value.fields)
