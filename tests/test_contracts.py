"""Contracts through the services, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import (
    AuditEvent,
    Contract,
    ContractAddon,
    ContractPricePeriod,
    FollowUp,
    PriceChange,
)
from models.types import parse_decimal
from services.contracts import (
    add_addon,
    annual_effect,
    delete_draft_contract,
    get_contract,
    offer_choices,
    offer_terms,
    price_on,
    register_price_change,
    update_addon,
    update_contract,
    void_addon,
    void_price_change,
)
from services.errors import ConfirmationNeeded, ConflictError, InputError
from services.invoices import check_invoice, preview_invoice_check
from services.price_timeline import ensure_price_timeline
from services.queries.overview import alert_overview, overview, spending
from services.queries.register import RegisterFilters, contract_detail, register_page
from services.reference import create_price_category_set
from services.settings import update_settings
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


# --- Plausible and impossible prices (issue 10) ----------------------------------------------


def _addon_data(contract_id: int, **overrides) -> dict:
    return {
        "contract_id": contract_id,
        "name": "Ekstra 1:1-støtte",
        "price": Decimal("4500.00"),
        "unit": "maaned",
        "valid_from": date(2026, 1, 1),
        **overrides,
    }


@pytest.mark.parametrize(
    ("price", "unit", "asks"),
    [
        ("50.000,00", "dag", False),  # the default limit itself is plausible
        ("50.000,01", "dag", True),
        ("1.500.000,00", "maaned", False),
        ("1.500.000,01", "maaned", True),
        ("18.250.000,00", "aar", False),  # 50.000 × 365
        ("18.250.000,01", "aar", True),
    ],
)
def test_an_unusually_high_contract_price_is_saved_only_when_confirmed(session, price, unit, asks):
    provider = make_provider(session)
    if not asks:
        assert make_contract(session, provider, price=price, price_unit=unit).id
        return
    with pytest.raises(ConfirmationNeeded) as raised:
        make_contract(session, provider, price=price, price_unit=unit)
    assert ["price"] == list(raised.value.fields)
    assert "Usædvanligt høj pris" in raised.value.fields["price"]
    assert 0 == len(session.exec(select(Contract)).all())
    saved = make_contract(session, provider, price=price, price_unit=unit, confirmed=["price"])
    assert parse_decimal(price) == saved.price


def test_the_plausibility_limits_are_settings(session):
    update_settings(
        session=session,
        values={"plausible_daily_rate": "3000", "plausible_monthly_price": "90000"},
        user=USER,
    )
    provider = make_provider(session)
    with pytest.raises(ConfirmationNeeded) as raised:
        make_contract(session, provider, price="3.000,01")
    assert "over 3.000 kr. pr. dag" in raised.value.fields["price"]
    with pytest.raises(ConfirmationNeeded):
        make_contract(session, provider, price="90.000,01", price_unit="maaned")
    with pytest.raises(ConfirmationNeeded):  # a year: the daily limit × 365 = 1.095.000
        make_contract(session, provider, price="1.095.000,01", price_unit="aar")


def test_editing_a_confirmed_high_price_asks_only_when_the_price_changes(session):
    contract = make_contract(session, price="60.000,00", confirmed=["price"])
    edited = update_contract(
        session=session,
        contract_id=contract.id,
        data={**_form(contract), "notes": "Ny note"},
        user=USER,
    )
    assert "Ny note" == edited.notes
    with pytest.raises(ConfirmationNeeded):
        update_contract(
            session=session,
            contract_id=contract.id,
            data={**_form(edited), "price": "61.000,00"},
            user=USER,
        )


def test_a_high_addon_or_renegotiated_price_asks_for_confirmation(session):
    contract = make_contract(session)
    with pytest.raises(ConfirmationNeeded) as raised:
        add_addon(session=session, data=_addon_data(contract.id, price="1.600.000"), user=USER)
    assert "price" in raised.value.fields
    addon = add_addon(
        session=session,
        data={**_addon_data(contract.id, price="1.600.000"), "confirmed": ["price"]},
        user=USER,
    )
    assert Decimal("1600000.00") == addon.price
    renegotiation = {"effective_date": date(2026, 4, 1), "new_price": "75.000,00"}
    with pytest.raises(ConfirmationNeeded) as raised:
        register_price_change(
            session=session, contract_id=contract.id, data=renegotiation, user=USER
        )
    assert ["new_price"] == list(raised.value.fields)
    change = register_price_change(
        session=session,
        contract_id=contract.id,
        data={**renegotiation, "confirmed": ["new_price"]},
        user=USER,
    )
    assert Decimal("75000.00") == change.new_price


ABSURD = "99.999.999.999,99"  # the issue's contract "at 99.999.999.999,99 kr./dag"


def test_the_issues_absurd_daily_rate_gets_a_danish_message_never_an_overflow(session):
    provider = make_provider(session)
    # Confirming does not help: above the hard cap the amount is invalid, not implausible.
    for confirm in ([], ["price"]):
        with pytest.raises(InputError) as raised:
            make_contract(session, provider, price=ABSURD, confirmed=confirm)
        assert not isinstance(raised.value, ConfirmationNeeded)
        assert "må højst være 100.000 kr. pr. dag" in raised.value.fields["price"]
    with pytest.raises(InputError) as raised:  # within the yearly cap, over the daily one
        make_contract(session, provider, price="100.000,01", confirmed=["price"])
    assert "Prisen må højst være 100.000 kr. pr. dag" in raised.value.fields["price"]
    contract = make_contract(session, provider)
    with pytest.raises(InputError) as raised:
        add_addon(
            session=session,
            data={**_addon_data(contract.id, price=ABSURD, unit="dag"), "confirmed": ["price"]},
            user=USER,
        )
    assert "højst være" in raised.value.fields["price"]
    with pytest.raises(InputError) as raised:
        register_price_change(
            session=session,
            contract_id=contract.id,
            data={"effective_date": date(2026, 4, 1), "new_price": ABSURD},
            user=USER,
        )
    assert "højst være" in raised.value.fields["new_price"]
    # Nothing was stored, and the database still answers (no aborted transaction).
    assert [contract.id] == [c.id for c in session.exec(select(Contract)).all()]


# --- Voiding a price change or an add-on (issue 10) -------------------------------------------


def _void(version: int, reason: str = "Registreret på den forkerte kontrakt") -> dict:
    return {"reason": reason, "version": version}


def _key_figures(session, today: date):
    """What Overblik shows of prices (its snapshot) and the alerts counted by kind."""
    shot = overview(session=session, year=today.year, today=today).snapshot
    figures = shot.portfolio
    return (
        figures.annual_spend,
        figures.expected_rest,
        figures.large_cases,
        figures.by_category.to_dict("list"),
        shot.savings_ytd,
        shot.expensive_cases.to_dict("list"),
        alert_overview(session=session, today=today).counts,
        spending(session=session, as_of=today).savings.to_dict("list"),
    )


def test_a_voided_price_change_leaves_price_and_overblik_exactly_as_before(session):
    # SPEC 4.1: 2.000,00 kr./dag from 01.03.2024, 2 % on 1 January → 2.080,80 in 2026.
    today = date(2026, 6, 15)
    contract = make_contract(session, visitation_category="lav")
    for paragraph in ("SEL108",):
        create_price_category_set(
            session=session,
            data={
                "paragraph": paragraph,
                "year": 2026,
                "middel_from": "1.500",
                "hoej_from": "2.500",
                "ekstraordinaer_from": "4.000",
            },
            user=USER,
        )
    before_price = price_on(session=session, contract=contract, on=today)
    before = _key_figures(session, today)
    assert Decimal("2080.80") == before_price

    wrong = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "3.050,00"},
        user=USER,
    )
    assert Decimal("3050.00") == price_on(session=session, contract=contract, on=today)
    assert before != _key_figures(session, today)

    voided = void_price_change(
        session=session, price_change_id=wrong.id, data=_void(wrong.version), user=USER
    )
    assert (USER, "Registreret på den forkerte kontrakt") == (
        voided.voided_by,
        voided.void_reason,
    )
    assert voided.voided_at is not None
    assert before_price == price_on(session=session, contract=contract, on=today)
    assert before == _key_figures(session, today)
    # Kept, and shown in the history as voided, with no annual effect.
    history = contract_detail(session=session, contract_id=contract.id, today=today).price_history
    assert 2 == len(history)
    assert history["voided_at"].iloc[1] is not None and history["annual_effect"].iloc[1] is None

    # The correction on the same day.
    corrected = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    assert Decimal("2080.80") == corrected.old_price
    assert Decimal("2050.00") == price_on(session=session, contract=contract, on=today)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity == "pricechange", AuditEvent.action == "void")
    ).all()
    assert [str(wrong.id)] == [e.entity_id for e in events]
    assert "Registreret på den forkerte kontrakt" in events[0].changes


def test_voiding_a_change_corrects_the_old_price_of_the_next_one(session):
    contract = make_contract(session)
    first = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    later = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 9, 1), "new_price": "2.000,00"},
        user=USER,
    )
    assert Decimal("2050.00") == later.old_price
    void_price_change(
        session=session, price_change_id=first.id, data=_void(first.version), user=USER
    )
    session.refresh(later)
    # Without the voided change the price replaced on 01.09.2026 is the regulated 2.080,80.
    assert Decimal("2080.80") == later.old_price
    assert Decimal("-29492.00") == annual_effect(later, "dag")  # (2.000,00 − 2.080,80) × 365


def test_voiding_needs_a_reason_and_the_version_seen(session):
    contract = make_contract(session)
    change = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    seen = change.version  # the object is refreshed by the saves below: keep what was shown
    with pytest.raises(InputError) as raised:
        void_price_change(
            session=session, price_change_id=change.id, data=_void(seen, "x"), user=USER
        )
    assert "Skal være mindst 3 tegn" == raised.value.fields["reason"]
    with pytest.raises(InputError) as raised:
        void_price_change(
            session=session,
            price_change_id=change.id,
            data=_void(seen, "Sag 010190-1234"),
            user=USER,
        )
    assert "CPR" in raised.value.fields["reason"]
    with pytest.raises(ConflictError):
        void_price_change(
            session=session, price_change_id=change.id, data=_void(seen + 1), user=USER
        )
    voided = void_price_change(
        session=session, price_change_id=change.id, data=_void(seen), user=USER
    )
    with pytest.raises(ConflictError):  # a second click from the same screen
        void_price_change(session=session, price_change_id=change.id, data=_void(seen), user=USER)
    with pytest.raises(InputError) as raised:
        void_price_change(
            session=session, price_change_id=change.id, data=_void(voided.version), user=USER
        )
    assert "allerede annulleret" in raised.value.fields["_form"]


def test_a_voided_addon_counts_in_no_expected_amount_and_cannot_be_edited(session):
    contract = make_contract(session)
    # SPEC 4.2: 2.080,80 kr./dag for March 2026 is 64.504,80; with the add-on 69.004,80.
    period = {
        "contract_id": contract.id,
        "invoice_no": "F-1",
        "period_from": date(2026, 3, 1),
        "period_to": date(2026, 3, 31),
    }
    addon = add_addon(session=session, data=_addon_data(contract.id), user=USER)
    with_addon = preview_invoice_check(session=session, data={**period, "invoiced": "69.004,80"})
    assert Decimal("69004.80") == with_addon.expected.total
    voided = void_addon(session=session, addon_id=addon.id, data=_void(addon.version), user=USER)
    without_addon = preview_invoice_check(session=session, data={**period, "invoiced": "64.504,80"})
    assert Decimal("64504.80") == without_addon.expected.total
    detail = contract_detail(session=session, contract_id=contract.id, today=date(2026, 3, 15))
    assert detail.addons["price_today"].iloc[0] is None
    assert detail.annual_with_addons == detail.annual_today
    with pytest.raises(InputError) as raised:
        update_addon(
            session=session,
            addon_id=addon.id,
            data={**_addon_data(contract.id, price="5.000"), "version": voided.version},
            user=USER,
        )
    assert "annulleret" in raised.value.fields["_form"]


def test_an_addon_is_edited_and_ended_on_its_own_contract_only(session):
    contract = make_contract(session)
    other = make_contract(session, case_ref="SAG-2024-0002")
    addon = add_addon(session=session, data=_addon_data(contract.id), user=USER)
    edited = update_addon(
        session=session,
        addon_id=addon.id,
        data={**_addon_data(contract.id, price="4.800,00"), "version": addon.version},
        user=USER,
    )
    ended = update_addon(
        session=session,
        addon_id=addon.id,
        data={
            **_addon_data(contract.id, price="4.800,00", valid_to=date(2026, 6, 30)),
            "version": edited.version,
        },
        user=USER,
    )
    assert (Decimal("4800.00"), date(2026, 6, 30)) == (ended.price, ended.valid_to)
    with pytest.raises(InputError) as raised:
        update_addon(
            session=session,
            addon_id=addon.id,
            data={**_addon_data(other.id), "version": ended.version},
            user=USER,
        )
    assert "anden kontrakt" in raised.value.fields["_form"]


# --- Deleting a draft (issue 10) --------------------------------------------------------------


def test_a_draft_is_deleted_with_what_hangs_under_it_and_audited(session):
    provider = make_provider(session)
    keep = make_contract(session, provider, case_ref="SAG-AKTIV")
    draft = make_contract(session, provider, case_ref="SAG-KLADDE", status="kladde")
    add_addon(session=session, data=_addon_data(draft.id), user=USER)
    register_price_change(
        session=session,
        contract_id=draft.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    session.add(FollowUp(contract_id=draft.id, due_date=date(2026, 6, 1)))
    session.commit()
    ensure_price_timeline(session=session, day=date(2026, 6, 1))

    with pytest.raises(ConflictError):
        delete_draft_contract(
            session=session, contract_id=draft.id, data={"version": draft.version + 1}, user=USER
        )
    with pytest.raises(InputError) as raised:
        delete_draft_contract(
            session=session, contract_id=keep.id, data={"version": keep.version}, user=USER
        )
    assert "Kun en kontrakt med status Kladde" in raised.value.fields["_form"]

    delete_draft_contract(
        session=session, contract_id=draft.id, data={"version": draft.version}, user=USER
    )
    for table in (Contract, ContractAddon, PriceChange, FollowUp, ContractPricePeriod):
        column = Contract.id if table is Contract else table.contract_id
        assert [] == session.exec(select(table).where(column == draft.id)).all(), table
    assert session.get(Contract, keep.id) is not None
    assert session.exec(
        select(ContractPricePeriod).where(ContractPricePeriod.contract_id == keep.id)
    ).all()
    deleted = session.exec(select(AuditEvent).where(AuditEvent.action == "delete")).all()
    # One event per deleted record, the contract's with what it held.
    assert ["contract", "contractaddon", "followup", "pricechange"] == sorted(
        e.entity for e in deleted
    )
    event = next(e for e in deleted if e.entity == "contract")
    assert (str(draft.id), USER) == (event.entity_id, event.who)
    assert '"case_ref": ["SAG-KLADDE", null]' in event.changes


def test_a_draft_with_invoice_checks_is_not_deleted(session):
    draft = make_contract(session, status="kladde")
    check_invoice(
        session=session,
        data={
            "contract_id": draft.id,
            "invoice_no": "F-1",
            "period_from": date(2026, 3, 1),
            "period_to": date(2026, 3, 31),
            "invoiced": "64.504,80",
        },
        user=USER,
    )
    with pytest.raises(InputError) as raised:
        delete_draft_contract(
            session=session, contract_id=draft.id, data={"version": draft.version}, user=USER
        )
    assert "fakturakontrol" in raised.value.fields["_form"]
    assert session.get(Contract, draft.id) is not None


# --- A new contract from an offer (issue 10) --------------------------------------------------


def test_an_offer_proposes_its_provider_paragraph_and_rate(session):
    from services.providers import create_offer

    provider = make_provider(session)
    negotiated = create_offer(
        session=session,
        data={
            "provider_id": provider.id,
            "name": "Huset ved søen",
            "paragraph": "SEL108",
            "list_rate": "2.400,00",
            "list_rate_year": 2026,
            "negotiated_rate": "2.150,00",
            "negotiated_from": date(2025, 7, 1),
        },
        user=USER,
    )
    listed = create_offer(
        session=session,
        data={
            "provider_id": provider.id,
            "name": "Bofællesskabet",
            "paragraph": "ABL105",
            "list_rate": "1.349,00",
            "list_rate_year": 2026,
        },
        user=USER,
    )
    bare = create_offer(
        session=session,
        data={"provider_id": provider.id, "name": "Uden takst", "paragraph": "SEL107"},
        user=USER,
    )
    terms = offer_terms(session=session, offer_id=negotiated.id)
    assert (provider.id, "SEL108", Decimal("2150.00"), date(2025, 7, 1), True) == (
        terms.provider_id,
        terms.paragraph,
        terms.price,
        terms.price_base_date,
        terms.negotiated,
    )
    terms = offer_terms(session=session, offer_id=listed.id)
    assert ("ABL105", Decimal("1349.00"), date(2026, 1, 1), False) == (
        terms.paragraph,
        terms.price,
        terms.price_base_date,
        terms.negotiated,
    )
    assert (None, None) == (
        offer_terms(session=session, offer_id=bare.id).price,
        offer_terms(session=session, offer_id=bare.id).price_base_date,
    )
    everyone = offer_choices(session=session)
    assert "Huset ved søen – Bostedet Testlund" == everyone[negotiated.id]
    assert (
        "Huset ved søen" == offer_choices(session=session, provider_id=provider.id)[negotiated.id]
    )
    # A list narrowed to the chosen offer's provider keeps its labels (the choice's identity).
    narrowed = offer_choices(session=session, provider_id=provider.id, name_provider=True)
    assert everyone[negotiated.id] == narrowed[negotiated.id]


def test_a_corrected_contract_price_moves_the_old_price_of_its_changes(session):
    contract = make_contract(session)
    change = register_price_change(
        session=session,
        contract_id=contract.id,
        data={"effective_date": date(2026, 4, 1), "new_price": "2.050,00"},
        user=USER,
    )
    assert Decimal("2080.80") == change.old_price
    update_contract(
        session=session,
        contract_id=contract.id,
        data={**_form(contract), "price": "2.100,00"},
        user=USER,
    )
    session.refresh(change)
    assert Decimal("2184.84") == change.old_price  # 2.100,00 × 1,02 × 1,02
