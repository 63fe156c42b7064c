"""Invoice checks and the deviation log (SPEC 4.2–4.3) through the services."""

from datetime import date
from decimal import Decimal

import pytest

from services.contracts import add_addon
from services.errors import ConflictError, InputError
from services.invoices import (
    INVOICE_NO_CONFIRM_LABEL,
    check_invoice,
    deviation_history,
    preview_invoice_check,
    update_deviation,
)
from services.queries.deviations import DeviationFilter, deviation_log
from tests.factories import USER, make_contract

TODAY = date(2026, 11, 22)
MARCH = {"period_from": date(2026, 3, 1), "period_to": date(2026, 3, 31)}


def test_spec_example_invoice_is_flagged_with_expected_amount(session):
    contract = make_contract(session)
    check = check_invoice(
        session=session,
        user=USER,
        today=date(2026, 4, 10),
        data={"contract_id": contract.id, "invoice_no": "F-1001", "invoiced": "66.000,00", **MARCH},
    )
    assert (Decimal("64504.80"), Decimal("1495.20")) == (check.expected, check.deviation)
    assert Decimal("2.3180") == check.deviation_pct
    assert (True, "ny") == (check.flagged, check.status)
    assert ["ny"] == [e.new_status for e in deviation_history(session=session, check_id=check.id)]


def test_preview_shows_calculation_with_addon(session):
    contract = make_contract(session)
    add_addon(
        session=session,
        user=USER,
        data={
            "contract_id": contract.id,
            "name": "Ekstra støtte",
            "price": "4.500,00",
            "unit": "maaned",
            "valid_from": date(2026, 1, 1),
        },
    )
    preview = preview_invoice_check(
        session=session,
        data={"contract_id": contract.id, "invoice_no": "F-1", "invoiced": "69.004,80", **MARCH},
    )
    assert Decimal("69004.80") == preview.expected.total
    assert {"Grundtakst", "Tillæg"} == {line.what for line in preview.expected.lines}
    assert not preview.deviation.flagged


def test_invoice_on_expected_amount_is_not_logged(session):
    contract = make_contract(session)
    check_invoice(
        session=session,
        user=USER,
        data={"contract_id": contract.id, "invoice_no": "F-2", "invoiced": "64504.80", **MARCH},
    )
    assert [] == deviation_log(session=session, filters=DeviationFilter(statuses=()), today=TODAY)


def test_same_invoice_number_and_period_is_refused(session):
    contract = make_contract(session)
    data = {"contract_id": contract.id, "invoice_no": "F-3", "invoiced": "1000", **MARCH}
    check_invoice(session=session, user=USER, data=data)
    with pytest.raises(InputError) as raised:
        check_invoice(session=session, user=USER, data=data)
    assert "invoice_no" in raised.value.fields


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"invoiced": "abc"}, "invoiced"),
        ({"period_to": date(2026, 2, 1)}, "period_to"),
        ({"invoice_no": "010190-1234"}, "invoice_no"),
        ({"period_from": date(2020, 1, 1), "period_to": date(2020, 1, 31)}, "period_from"),
    ],
)
def test_invalid_invoice_check_is_refused_with_field(session, data, field):
    contract = make_contract(session)
    with pytest.raises(InputError) as raised:
        check_invoice(
            session=session,
            user=USER,
            data={
                "contract_id": contract.id,
                "invoice_no": "F-4",
                "invoiced": "1000",
                **MARCH,
                **data,
            },
        )
    assert field in raised.value.fields


def _order_number_check(contract_id: int, **data: object) -> dict[str, object]:
    """A date-based invoice number: 250314-0042 has the shape of a CPR number."""
    return {
        "contract_id": contract_id,
        "invoice_no": "250314-0042",
        "invoiced": "1000",
        **MARCH,
        **data,
    }


def test_cpr_like_invoice_number_is_refused_with_how_to_confirm_it(session):
    contract = make_contract(session)
    for call in (preview_invoice_check, check_invoice):
        kwargs = {"user": USER} if call is check_invoice else {}
        with pytest.raises(InputError) as raised:
            call(session=session, data=_order_number_check(contract.id), **kwargs)
        message = raised.value.fields["invoice_no"]
        assert "ligner et CPR-nummer" in message
        assert INVOICE_NO_CONFIRM_LABEL in message
    with pytest.raises(InputError):  # only an explicit True confirms
        check_invoice(
            session=session,
            user=USER,
            data=_order_number_check(contract.id, invoice_no_confirmed="ja"),
        )
    assert [] == deviation_log(session=session, filters=DeviationFilter(statuses=()), today=TODAY)


def test_confirmed_cpr_like_invoice_number_is_saved(session):
    contract = make_contract(session)
    data = _order_number_check(contract.id, invoice_no_confirmed=True, invoiced="66000")
    assert preview_invoice_check(session=session, data=data).deviation.flagged
    check = check_invoice(session=session, user=USER, data=data)
    assert ("250314-0042", True) == (check.invoice_no, check.flagged)
    with pytest.raises(InputError) as raised:  # the duplicate check still applies
        check_invoice(session=session, user=USER, data=data)
    assert "allerede kontrolleret" in raised.value.fields["invoice_no"]


def test_confirming_the_invoice_number_leaves_the_other_fields_guarded(session):
    contract = make_contract(session)
    cpr_note = {"assignee": "Karin", "resolution_note": "Borger 010190-1234", "invoiced": "abc"}
    with pytest.raises(InputError) as raised:
        check_invoice(
            session=session,
            user=USER,
            data=_order_number_check(contract.id, invoice_no_confirmed=True, **cpr_note),
        )
    assert {"resolution_note", "invoiced"} == set(raised.value.fields)
    assert "CPR-nummer" in raised.value.fields["resolution_note"]
    with pytest.raises(InputError) as raised:  # unconfirmed: every error at once
        check_invoice(session=session, user=USER, data=_order_number_check(contract.id, **cpr_note))
    assert {"invoice_no", "resolution_note", "invoiced"} == set(raised.value.fields)
    with pytest.raises(InputError) as raised:  # a confirmed number still meets the schema
        check_invoice(
            session=session,
            user=USER,
            data=_order_number_check(
                contract.id, invoice_no_confirmed=True, invoice_no="250314-0042" + "x" * 50
            ),
        )
    assert "Må højst være 50 tegn" == raised.value.fields["invoice_no"]


def test_status_changes_are_kept_as_history_and_closing_needs_a_note(session):
    contract = make_contract(session)
    check = check_invoice(
        session=session,
        user=USER,
        data={"contract_id": contract.id, "invoice_no": "F-5", "invoiced": "66000", **MARCH},
    )
    check = update_deviation(
        session=session,
        check_id=check.id,
        user="karin",
        data={"status": "undersoeges", "assignee": "Karin", "version": check.version},
    )
    with pytest.raises(InputError) as raised:
        update_deviation(
            session=session,
            check_id=check.id,
            user="karin",
            data={"status": "loest", "assignee": "Karin", "version": check.version},
        )
    assert "note" in raised.value.fields
    check = update_deviation(
        session=session,
        check_id=check.id,
        user="karin",
        today=date(2026, 5, 2),
        data={
            "status": "loest",
            "assignee": "Karin",
            "note": "Kreditnota modtaget",
            "version": check.version,
        },
    )
    assert ("loest", date(2026, 5, 2)) == (check.status, check.resolved_on)
    history = deviation_history(session=session, check_id=check.id)
    assert [(None, "ny"), ("ny", "undersoeges"), ("undersoeges", "loest")] == [
        (e.old_status, e.new_status) for e in history
    ]
    assert [] == deviation_log(session=session, filters=DeviationFilter(), today=TODAY)
    with pytest.raises(ConflictError):
        update_deviation(
            session=session,
            check_id=check.id,
            user="ole",
            data={"status": "ny", "version": check.version - 1},
        )
