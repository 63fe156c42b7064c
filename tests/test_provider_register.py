"""Queries behind the Leverandører screen, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

from services.invoices import check_invoice
from services.providers import create_offer
from services.queries.providers import (
    ProviderFilter,
    count_provider_contracts,
    count_providers,
    provider_contracts,
    provider_deviations,
    provider_key_figures,
    provider_register,
    provider_spend_by_year,
)
from tests.factories import USER, make_contract, make_provider

TODAY = date(2026, 4, 15)


def _invoice(session, contract, number, month, amount):
    first = date(2026, month, 1)
    last = date(2026, month + 1, 1).replace(day=1)
    last = date.fromordinal(last.toordinal() - 1)
    return check_invoice(
        session=session,
        user=USER,
        data={
            "contract_id": contract.id,
            "invoice_no": number,
            "period_from": first,
            "period_to": last,
            "invoiced": amount,
        },
    )


def _build(session):
    egelund = make_provider(
        session, name="Egelunden", cvr="10000009", city="Silkeborg", framework="rammeaftale"
    )
    make_provider(session, name="Bøgehuset", cvr="20000007", city="Vejle", kind="selvejende")
    make_provider(session, name="Lukket Bosted", cvr="30000005", active=False)
    create_offer(
        session=session,
        user=USER,
        data={"provider_id": egelund.id, "name": "Huset", "paragraph": "SEL108"},
    )
    contract = make_contract(session, egelund)
    make_contract(
        session, egelund, case_ref="SAG-2", status="afsluttet", end_date=date(2025, 12, 31)
    )
    _invoice(session, contract, "F-1", 3, "64504.80")  # as expected
    _invoice(session, contract, "F-2", 2, "60000.00")  # Feb: expected 58.262,40 → flagged
    return egelund


def test_register_counts_offers_contracts_spend_and_deviations(session):
    egelund = _build(session)
    frame = provider_register(session=session, filters=ProviderFilter(), today=TODAY)
    assert ["Bøgehuset", "Egelunden"] == list(frame["name"])
    row = frame[frame["id"] == egelund.id].iloc[0]
    assert (1, 1, 1) == (row["offers"], row["active_contracts"], row["open_deviations"])
    assert Decimal("124504.80") == row["spend_12m"]


def test_register_filters_and_pages(session):
    _build(session)
    assert 3 == count_providers(session=session, filters=ProviderFilter(active_only=False))
    by_city = ProviderFilter(search="VEJLE")
    assert ["Bøgehuset"] == list(
        provider_register(session=session, filters=by_city, today=TODAY)["name"]
    )
    by_cvr = ProviderFilter(search="1000000")
    assert 1 == count_providers(session=session, filters=by_cvr)
    framework = ProviderFilter(frameworks=("rammeaftale",))
    assert ["Egelunden"] == list(
        provider_register(session=session, filters=framework, today=TODAY)["name"]
    )
    kinds = ProviderFilter(kinds=("selvejende",), active_only=False)
    assert 1 == count_providers(session=session, filters=kinds)
    second_page = provider_register(
        session=session, filters=ProviderFilter(active_only=False), today=TODAY, limit=2, offset=2
    )
    assert ["Lukket Bosted"] == list(second_page["name"])


def test_key_figures_spend_by_year_contracts_and_deviations(session):
    egelund = _build(session)
    figures = provider_key_figures(session=session, provider_id=egelund.id, today=TODAY)
    assert (1, 1, 1) == (figures.active_contracts, figures.ended_contracts, figures.offers)
    assert Decimal("124504.80") == figures.spend_this_year
    assert (1, Decimal("1737.60")) == (figures.open_deviations, figures.open_deviation_amount)
    spend = provider_spend_by_year(session=session, provider_id=egelund.id)
    assert [(2026, Decimal("124504.80"), 2)] == list(spend.itertuples(index=False, name=None))
    assert 2 == count_provider_contracts(session=session, provider_id=egelund.id)
    contracts = provider_contracts(session=session, provider_id=egelund.id)
    assert ["aktiv", "afsluttet"] == list(contracts["status"])
    deviations = provider_deviations(session=session, provider_id=egelund.id)
    assert ["F-2"] == list(deviations["invoice_no"])


def test_search_folds_danish_letters(session):
    make_provider(session, name="Østerbo Bosted", cvr="10000009", city="Århus")
    for text in ("østerbo", "ØSTERBO", "århus"):
        assert 1 == count_providers(session=session, filters=ProviderFilter(search=text)), text
