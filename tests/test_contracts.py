"""Contracts through the services, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import AuditEvent, FollowUp
from services.contracts import (
    add_addon,
    annual_effect,
    get_contract,
    price_on,
    register_price_change,
    update_contract,
)
from services.errors import ConflictError, InputError
from services.queries.register import RegisterFilters, register_page
from tests.factories import USER, make_contract, make_provider


def _form(contract) -> dict:
    data = contract.model_dump(
        exclude={"id", "created_at", "created_by", "updated_at", "updated_by"}
    )
    return data


def test_create_contract_stores_decimal_price_and_plans_first_followup(session):
    contract = make_contract(session, price="2.080,80", start_date=date(2024, 1, 31))
    assert Decimal("2080.80") == get_contract(session=session, contract_id=contract.id).price
    followups = session.exec(select(FollowUp).where(FollowUp.contract_id == contract.id)).all()
    assert [date(2024, 4, 30)] == [f.due_date for f in followups]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("end_date", date(2024, 2, 1), "Slutdatoen skal ligge efter startdatoen"),
        ("price", "abc", "Skal være et tal, fx 2.080,80"),
        ("price", "-5", "Skal være større end 0"),
        ("case_ref", "010190-1234", "CPR"),
        ("case_ref", "", "Skal udfyldes"),
        ("notice_days", -1, "Må ikke være mindre end 0"),
        ("regulation_day", 30, "Reguleringsdagen findes ikke"),
    ],
)
def test_invalid_contract_names_the_field_in_danish(session, field, value, message):
    provider = make_provider(session)
    overrides = {field: value}
    if field == "regulation_day":
        overrides["regulation_month"] = 2
    with pytest.raises(InputError) as raised:
        make_contract(session, provider, **overrides)
    assert field in raised.value.fields
    assert message in raised.value.fields[field]


def test_all_field_errors_are_reported_together(session):
    provider = make_provider(session)
    with pytest.raises(InputError) as raised:
        make_contract(session, provider, price="abc", case_ref="0101901234", notes="ok")
    assert {"price", "case_ref"} <= set(raised.value.fields)


def test_second_save_from_same_version_gets_conflict_and_first_change_is_kept(engine):
    with Session(engine) as setup:
        contract = make_contract(setup)
        contract_id, loaded = contract.id, _form(contract)
    first = {**loaded, "notice_days": 30}
    second = {**loaded, "notice_days": 180}
    with Session(engine) as alice, Session(engine) as bob:
        update_contract(session=alice, contract_id=contract_id, data=first, user="alice")
        with pytest.raises(ConflictError) as raised:
            update_contract(session=bob, contract_id=contract_id, data=second, user="bob")
    assert "En anden har gemt kontrakten" in raised.value.message
    with Session(engine) as check:
        saved = get_contract(session=check, contract_id=contract_id)
        assert (30, 2, "alice") == (saved.notice_days, saved.version, saved.updated_by)


def test_update_writes_audit_event_with_old_and_new(session):
    contract = make_contract(session)
    update_contract(
        session=session,
        contract_id=contract.id,
        data={**_form(contract), "price": "2.100,00"},
        user=USER,
    )
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity == "contract", AuditEvent.action == "update")
    ).all()
    assert 1 == len(events)
    assert '"price": ["2000.00", "2100.00"]' in events[0].changes


def test_offer_must_belong_to_provider(session):
    from services.providers import create_offer

    other = make_provider(session, name="Anden leverandør", cvr="20000007")
    offer = create_offer(
        session=session,
        data={"provider_id": other.id, "name": "Huset", "paragraph": "SEL108"},
        user=USER,
    )
    with pytest.raises(InputError) as raised:
        make_contract(session, offer_id=offer.id)
    assert "offer_id" in raised.value.fields


def test_renegotiation_records_old_price_in_force_and_annual_effect(session):
    contract = make_contract(session)
    change = register_price_change(
        session=session,
        contract_id=contract.id,
        data={
            "effective_date": date(2026, 4, 1),
            "new_price": "2.050,00",
            "reason": "genforhandling",
        },
        user=USER,
    )
    assert Decimal("2080.80") == change.old_price
    assert Decimal("-11242.00") == annual_effect(change, "dag")  # (2050 − 2080.80) × 365
    assert Decimal("2050.00") == price_on(session=session, contract=contract, on=date(2026, 6, 15))
    assert Decimal("2091.00") == price_on(session=session, contract=contract, on=date(2027, 1, 1))


def test_price_change_outside_contract_is_refused(session):
    contract = make_contract(session, end_date=date(2025, 12, 31))
    with pytest.raises(InputError) as raised:
        register_price_change(
            session=session,
            contract_id=contract.id,
            data={"effective_date": date(2026, 1, 1), "new_price": 100},
            user=USER,
        )
    assert "effective_date" in raised.value.fields


def test_addon_validates_dates(session):
    contract = make_contract(session)
    with pytest.raises(InputError) as raised:
        add_addon(
            session=session,
            data={
                "contract_id": contract.id,
                "name": "1:1 støtte",
                "price": "4.500,00",
                "unit": "maaned",
                "valid_from": date(2026, 2, 1),
                "valid_to": date(2026, 1, 1),
            },
            user=USER,
        )
    assert "valid_to" in raised.value.fields


def test_list_contracts_filters_by_status_and_paragraph(session):
    provider = make_provider(session)
    make_contract(session, provider, case_ref="A", paragraph="SEL107")
    make_contract(session, provider, case_ref="B", status="afsluttet", end_date=date(2025, 1, 1))

    def case_refs(filters):
        rows = register_page(session=session, filters=filters, today=date(2026, 11, 22)).rows
        return list(rows["case_ref"])

    active = case_refs(RegisterFilters(statuses=("aktiv",)))
    assert ["A"] == active
    assert ["B"] == case_refs(RegisterFilters(paragraphs=("SEL108",)))


def test_date_order_is_reported_together_with_field_errors(session):
    provider = make_provider(session)
    with pytest.raises(InputError) as raised:
        make_contract(
            session,
            provider,
            price="abc",
            case_ref="010190-1234",
            start_date="01.03.2026",
            end_date="01.02.2026",
        )
    assert {"price", "case_ref", "end_date"} <= set(raised.value.fields)


def test_ending_an_addon_and_a_stale_edit_conflicts(session):
    from services.contracts import update_addon

    contract = make_contract(session)
    addon = add_addon(
        session=session,
        user=USER,
        data={
            "contract_id": contract.id,
            "name": "1:1 støtte",
            "price": "4.500,00",
            "unit": "maaned",
            "valid_from": date(2026, 1, 1),
        },
    )
    loaded = addon.model_dump(
        exclude={"id", "created_at", "created_by", "updated_at", "updated_by"}
    )
    ended = update_addon(
        session=session,
        addon_id=addon.id,
        user=USER,
        data={**loaded, "valid_to": date(2026, 6, 30)},
    )
    assert (date(2026, 6, 30), 2) == (ended.valid_to, ended.version)
    with pytest.raises(ConflictError):
        update_addon(
            session=session, addon_id=addon.id, user=USER, data={**loaded, "price": "5.000,00"}
        )
