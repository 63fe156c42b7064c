"""Invoice checks and the deviation log (SPEC 4.2–4.3) through the services."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from models import AuditEvent, InvoiceCheck
from models.invoice import NEGATIVE_INVOICE_MESSAGE
from services.contracts import add_addon
from services.errors import ConfirmationNeeded, ConflictError, InputError
from services.formatting import format_kr
from services.invoices import (
    ALREADY_CHECKED,
    CLOSING_NEEDS_NOTE,
    INVOICE_NO_CONFIRM_LABEL,
    INVOICE_NO_LOOKS_LIKE_CPR,
    SAME_NOTE_AGAIN,
    VOIDED_CHECK,
    check_invoice,
    deviation_history,
    preview_credit_note,
    preview_invoice_check,
    register_credit_note,
    update_deviation,
    void_invoice_check,
)
from services.queries.deviations import DeviationFilter, deviation_log
from services.settings import update_settings
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


# --- Closing needs a note typed for it; the same note twice in a row is refused ----------------


def _flagged(session, contract, number="F-10", invoiced="66000"):
    return check_invoice(
        session=session,
        user=USER,
        today=date(2026, 4, 10),
        data={"contract_id": contract.id, "invoice_no": number, "invoiced": invoiced, **MARCH},
    )


def _update(session, check, user="karin", **data):
    return update_deviation(
        session=session,
        check_id=check.id,
        user=user,
        data={"assignee": "Karin", "version": check.version, **data},
    )


def test_an_earlier_note_does_not_satisfy_a_status_that_needs_one(session):
    check = _flagged(session, make_contract(session))
    check = _update(session, check, status="undersoeges", note="Ringet til leverandøren")
    for closed in ("loest", "accepteret"):
        with pytest.raises(InputError) as raised:  # the stale note is not the resolution
            _update(session, check, status=closed)
        assert {"note": CLOSING_NEEDS_NOTE} == raised.value.fields
    check = _update(session, check, status="loest", note="Kreditnota modtaget")
    check = _update(session, check, status="loest")  # already closed: only the assignee changes
    assert ("loest", "Kreditnota modtaget") == (check.status, check.resolution_note)
    notes = [e.note for e in deviation_history(session=session, check_id=check.id)]
    assert [None, "Ringet til leverandøren", "Kreditnota modtaget", None] == notes


def test_the_same_note_twice_in_a_row_by_the_same_user_is_refused(session):
    check = _flagged(session, make_contract(session))
    check = _update(session, check, status="undersoeges", note="Ringet til leverandøren")
    with pytest.raises(InputError) as raised:
        _update(session, check, status="leverandoer_kontaktet", note=" Ringet  til leverandøren ")
    assert {"note": SAME_NOTE_AGAIN} == raised.value.fields
    # A colleague may write the same words; after another note the first may come again.
    check = _update(
        session, check, user="ole", status="undersoeges", note="Ringet til leverandøren"
    )
    check = _update(session, check, status="undersoeges", note="Rykket igen")
    check = _update(session, check, status="undersoeges", note="Ringet til leverandøren")
    assert 5 == len(deviation_history(session=session, check_id=check.id))


# --- Plausibility: an invoice far above the expected amount needs a confirmation -------------


@pytest.mark.parametrize(
    ("invoiced", "needs_confirmation"),
    [("193514.40", False), ("193514.41", True), ("999999.00", True)],  # 3 × 64.504,80
)
def test_an_invoice_above_three_times_expected_asks_for_confirmation(
    session, invoiced, needs_confirmation
):
    contract = make_contract(session)
    data = {"contract_id": contract.id, "invoice_no": "F-20", "invoiced": invoiced, **MARCH}
    assert needs_confirmation == preview_invoice_check(session=session, data=data).implausible
    if not needs_confirmation:
        assert check_invoice(session=session, user=USER, data=data).flagged
        return
    with pytest.raises(ConfirmationNeeded) as raised:
        check_invoice(session=session, user=USER, data=data)
    message = raised.value.fields["invoiced"]
    assert "over 3 gange det forventede beløb (64.504,80" in message
    assert [] == session.exec(select(InvoiceCheck)).all()
    check = check_invoice(session=session, user=USER, data={**data, "confirmed": ["invoiced"]})
    assert Decimal(invoiced) == check.invoiced


def test_the_plausibility_factor_is_a_setting(session):
    contract = make_contract(session)
    update_settings(session=session, user=USER, values={"plausible_invoice_factor": "1,5"})
    data = {"contract_id": contract.id, "invoice_no": "F-21", "invoiced": "100000", **MARCH}
    with pytest.raises(ConfirmationNeeded) as raised:
        check_invoice(session=session, user=USER, data=data)
    assert "over 1,50 gange" in raised.value.fields["invoiced"]


def test_a_negative_invoice_points_to_the_credit_note(session):
    contract = make_contract(session)
    data = {"contract_id": contract.id, "invoice_no": "F-22", "invoiced": "-100", **MARCH}
    with pytest.raises(InputError) as raised:
        check_invoice(session=session, user=USER, data=data)
    assert {"invoiced": NEGATIVE_INVOICE_MESSAGE} == raised.value.fields


# --- Credit notes (SPEC 4.9: they count negative against the invoice they reference) ----------


def _credit(session, contract, invoice, amount, number="K-1", on=date(2026, 5, 2)):
    return register_credit_note(
        session=session,
        user=USER,
        today=on,
        data={
            "contract_id": contract.id,
            "credits_id": invoice.id,
            "invoice_no": number,
            "invoiced": amount,
        },
    )


@pytest.mark.parametrize(
    ("typed", "stored", "net_after"),
    [
        ("1.495,20", Decimal("-1495.20"), Decimal("0.00")),  # typed without the minus
        ("-1.495,20", Decimal("-1495.20"), Decimal("0.00")),
        ("-500", Decimal("-500.00"), Decimal("995.20")),
        ("-2.000,00", Decimal("-2000.00"), Decimal("-504.80")),  # now under expected
    ],
)
def test_credit_note_nets_the_deviation_of_the_invoice_it_corrects(
    session, typed, stored, net_after
):
    contract = make_contract(session)
    invoice = _flagged(session, contract)  # SPEC 4.3: 66.000,00 against 64.504,80
    data = {"contract_id": contract.id, "credits_id": invoice.id, "invoice_no": "K-1"}
    preview = preview_credit_note(session=session, data={**data, "invoiced": typed})
    assert (stored, Decimal("1495.20"), net_after) == (
        preview.amount,
        preview.net_before,
        preview.net_after,
    )
    assert Decimal("66000.00") + stored == preview.invoiced_after
    note = _credit(session, contract, invoice, typed)
    assert ("kreditnota", invoice.id, stored) == (note.kind, note.credits_id, note.invoiced)
    assert (invoice.period_from, invoice.period_to) == (note.period_from, note.period_to)
    assert (Decimal("0.00"), Decimal("0.00"), False, None) == (
        note.expected,
        note.deviation,
        note.flagged,
        note.status,
    )
    history = deviation_history(session=session, check_id=invoice.id)
    assert "Kreditnota K-1 på" in history[-1].note
    assert history[-1].note.endswith(f": {format_kr(net_after)}")
    assert "ny" == history[-1].new_status  # the status is the user's to change


def test_several_credit_notes_add_up_and_may_not_exceed_the_invoice(session):
    contract = make_contract(session)
    invoice = _flagged(session, contract)
    _credit(session, contract, invoice, "-1.000,00", "K-1")
    second = preview_credit_note(
        session=session,
        data={
            "contract_id": contract.id,
            "credits_id": invoice.id,
            "invoice_no": "K-2",
            "invoiced": "-495,20",
        },
    )
    assert (Decimal("-1000.00"), Decimal("495.20"), Decimal("0.00")) == (
        second.credited_before,
        second.net_before,
        second.net_after,
    )
    with pytest.raises(InputError) as raised:
        _credit(session, contract, invoice, "-65.000,01", "K-3")
    assert (
        "større end det, der er tilbage af fakturaen (65.000,00" in raised.value.fields["invoiced"]
    )
    _credit(session, contract, invoice, "-65.000,00", "K-3")  # exactly what is left


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"credits_id": None}, "credits_id", "Vælg den faktura, kreditnotaen retter"),
        ({"invoiced": "0"}, "invoiced", "En kreditnota kan ikke være på 0 kr."),
        ({"invoiced": "-100.000.000,01"}, "invoiced", "Må højst være 100.000.000 kr."),
        ({"invoice_no": ""}, "invoice_no", "Skal udfyldes"),
        ({"invoice_no": "010190-1234"}, "invoice_no", INVOICE_NO_LOOKS_LIKE_CPR),
    ],
)
def test_invalid_credit_notes_are_refused_at_the_field(session, change, field, message):
    contract = make_contract(session)
    invoice = _flagged(session, contract)
    data = {
        "contract_id": contract.id,
        "credits_id": invoice.id,
        "invoice_no": "K-1",
        "invoiced": "-100",
        **change,
    }
    with pytest.raises(InputError) as raised:
        register_credit_note(session=session, user=USER, data=data)
    assert message == raised.value.fields[field]
    assert [] == session.exec(select(InvoiceCheck).where(InvoiceCheck.kind == "kreditnota")).all()


def test_a_credit_note_corrects_an_invoice_of_its_own_contract_in_force(session):
    contract = make_contract(session)
    other = make_contract(session, contract_provider(session), case_ref="SAG-2024-0002")
    invoice = _flagged(session, contract)
    credit = _credit(session, contract, invoice, "-100")
    cases = [
        (other.id, invoice.id, "Fakturaen hører ikke til den valgte kontrakt"),
        (contract.id, credit.id, "En kreditnota kan kun rette en faktura"),
    ]
    for contract_id, credits_id, message in cases:
        with pytest.raises(InputError) as raised:
            register_credit_note(
                session=session,
                user=USER,
                data={
                    "contract_id": contract_id,
                    "credits_id": credits_id,
                    "invoice_no": "K-9",
                    "invoiced": "-1",
                },
            )
        assert {"credits_id": message} == raised.value.fields
    with pytest.raises(InputError) as raised:  # the number is unique per provider and period
        _credit(session, contract, invoice, "-100")
    assert {"invoice_no": ALREADY_CHECKED} == raised.value.fields


def contract_provider(session):
    from models import Provider

    return session.exec(select(Provider)).first()


# --- Void with a reason ------------------------------------------------------------------------


def _void(session, check, reason="Registreret på den forkerte kontrakt", version=None):
    return void_invoice_check(
        session=session,
        check_id=check.id,
        user="karin",
        data={"reason": reason, "version": check.version if version is None else version},
    )


def test_a_voided_check_is_kept_marked_audited_and_no_longer_open(session):
    contract = make_contract(session)
    check = _flagged(session, contract)
    version = check.version
    voided = _void(session, check)
    assert ("karin", "Registreret på den forkerte kontrakt") == (
        voided.voided_by,
        voided.void_reason,
    )
    assert voided.voided_at is not None
    assert (version + 1, "ny", True) == (voided.version, voided.status, voided.flagged)
    audit = session.exec(
        select(AuditEvent).where(AuditEvent.entity == "invoicecheck", AuditEvent.action == "void")
    ).one()
    assert "Registreret på den forkerte kontrakt" in audit.changes
    history = deviation_history(session=session, check_id=check.id)
    assert "annulleret: Registreret på den forkerte kontrakt" in history[-1].note
    assert [] == deviation_log(session=session, filters=DeviationFilter(statuses=()), today=TODAY)
    with pytest.raises(InputError) as raised:  # a voided deviation's status is frozen
        _update(session, voided, status="loest", note="Løst")
    assert {"_form": VOIDED_CHECK} == raised.value.fields
    with pytest.raises(InputError) as raised:
        _void(session, voided)
    assert "allerede annulleret" in raised.value.fields["_form"]


def test_voiding_needs_a_reason_and_the_version_the_user_saw(session):
    check = _flagged(session, make_contract(session))
    with pytest.raises(InputError) as raised:
        _void(session, check, reason="x")
    assert "reason" in raised.value.fields
    with pytest.raises(InputError) as raised:
        _void(session, check, reason="Borger 010190-1234")
    assert "CPR" in raised.value.fields["reason"]
    with pytest.raises(ConflictError):
        _void(session, check, version=check.version - 1)
    assert session.get(InvoiceCheck, check.id).voided_at is None


def test_an_invoice_is_voided_after_its_credit_notes(session):
    contract = make_contract(session)
    invoice = _flagged(session, contract)
    credit = _credit(session, contract, invoice, "-500", "K-7")
    with pytest.raises(InputError) as raised:
        _void(session, invoice)
    assert "kreditnotaer, der ikke er annulleret (K-7)" in raised.value.fields["_form"]
    _void(session, credit, reason="Forkert beløb")
    history = deviation_history(session=session, check_id=invoice.id)
    assert "Kreditnota K-7 er annulleret: Forkert beløb" in history[-1].note
    assert history[-1].note.endswith("1.495,20 kr.")  # the deviation is whole again
    invoice = session.get(InvoiceCheck, invoice.id)
    _void(session, invoice)
    with pytest.raises(InputError) as raised:  # nothing to credit any more
        _credit(session, contract, invoice, "-100", "K-8")
    assert {"credits_id": "Fakturakontrollen er annulleret"} == raised.value.fields


def test_a_corrected_check_can_be_registered_after_a_void(session):
    contract = make_contract(session)
    wrong = _flagged(session, contract, number="F-30", invoiced="66000")
    _void(session, wrong, reason="Beløbet var tastet forkert")
    data = {"contract_id": contract.id, "invoice_no": "F-30", "invoiced": "64504.80", **MARCH}
    corrected = check_invoice(session=session, user=USER, data=data)  # same number and period
    assert (False, None) == (corrected.flagged, corrected.voided_at)
    with pytest.raises(InputError) as raised:  # the correction itself is in force
        check_invoice(session=session, user=USER, data=data)
    assert {"invoice_no": ALREADY_CHECKED} == raised.value.fields
