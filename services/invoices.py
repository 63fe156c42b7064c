"""Invoice checks against the contract and the deviation log (SPEC 4.2–4.3)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models import (
    Contract,
    DeviationEvent,
    DeviationUpdate,
    InvoiceCheck,
    InvoiceCheckCreate,
    InvoiceStatus,
    label,
)
from models.types import EXPECTED_TOO_LARGE_MESSAGE, MONEY_MAX
from services.contracts import load_terms
from services.cpr import contains_cpr
from services.errors import InputError, input_error_from
from services.formatting import format_kr, format_pct
from services.rules.deviations import Deviation, invoice_deviation
from services.rules.pricing import ExpectedAmount, expected_amount
from services.settings import get_settings
from services.unit_of_work import action, flush
from services.validation import insert_row, require, update_row, validate

CLOSED_STATUSES = (InvoiceStatus.RESOLVED, InvoiceStatus.ACCEPTED)

INVOICE_NO_CONFIRM_LABEL = "Fakturanummeret er et fakturanummer, ikke et CPR-nummer"
INVOICE_NO_LOOKS_LIKE_CPR = (
    "Fakturanummeret ligner et CPR-nummer, og Takstkompas må ikke indeholde CPR-numre. Er det "
    f"virkelig fakturanummeret, så sæt flueben ved »{INVOICE_NO_CONFIRM_LABEL}« og prøv igen."
)


@dataclass(frozen=True)
class InvoicePreview:
    """What the check will store, shown to the user before saving."""

    contract: Contract
    expected: ExpectedAmount
    deviation: Deviation


@dataclass(frozen=True)
class CheckVerdict:
    """How a previewed check came out, worded for the user: a headline and what it means."""

    headline: str
    explanation: str


def check_verdict(deviation: Deviation) -> CheckVerdict:
    """The Danish verdict on an invoice before the check is saved (the page picks the colour)."""
    amount = format_kr(abs(deviation.amount))
    pct = f" ({format_pct(abs(deviation.pct))})" if deviation.pct is not None else ""
    if deviation.flagged:
        return CheckVerdict(
            "Afvigelse – over forventet",
            f"fakturaen er {amount}{pct} over det forventede beløb. Gemmer du kontrollen, "
            f"føres fakturaen i afvigelsesloggen med status {label(InvoiceStatus.NEW)}.",
        )
    if deviation.under_expected:
        return CheckVerdict(
            "Under forventet",
            f"fakturaen er {amount}{pct} under det forventede beløb. Det vises her, men tælles "
            "ikke som en afvigelse.",
        )
    return CheckVerdict(
        "Stemmer", "fakturaen svarer til det forventede beløb inden for tolerancen."
    )


def check_status_label(*, flagged: bool, under_expected: bool, status: str | None) -> str:
    """The Danish status of a saved check in a list: a deviation shows its log status."""
    if flagged:
        return label(status) if status else "Afvigelse"
    if under_expected:
        return "Under forventet"
    return "OK"


def _validated_input(data: Mapping[str, Any]) -> InvoiceCheckCreate:
    """The schema and the CPR guard; a CPR-like invoice number passes only when confirmed.

    A date-based invoice number ("250314-0042") looks exactly like a CPR number. It is refused
    with a message that tells the user how to confirm it, and accepted when `invoice_no_confirmed`
    is True; every other field keeps the strict guard of validate().
    """
    invoice_no = data.get("invoice_no")
    if not (isinstance(invoice_no, str) and contains_cpr(invoice_no)):
        return validate(InvoiceCheckCreate, data)
    confirmed = data.get("invoice_no_confirmed") is True
    unconfirmed = {} if confirmed else {"invoice_no": INVOICE_NO_LOOKS_LIKE_CPR}
    # Every other field through the guard and the schema (all errors at once) …
    validate(InvoiceCheckCreate, {**data, "invoice_no": "-"}, extra_errors=unconfirmed)
    try:  # … then the confirmed invoice number through the schema alone.
        return InvoiceCheckCreate.model_validate(dict(data))
    except ValidationError as exc:
        raise input_error_from(exc) from None


def _validated(session: Session, data: Mapping[str, Any]) -> tuple[InvoiceCheckCreate, Contract]:
    valid = _validated_input(data)
    if valid.period_to < valid.period_from:
        raise InputError({"period_to": "Perioden skal slutte efter den begynder"})
    if (valid.period_to - valid.period_from).days > 366:
        raise InputError({"period_to": "En fakturaperiode kan højst være et år"})
    contract = require(session, Contract, valid.contract_id, "Kontrakten")
    if valid.period_to < contract.start_date or (
        contract.end_date is not None and valid.period_from > contract.end_date
    ):
        raise InputError({"period_from": "Perioden ligger uden for kontraktens løbetid"})
    return valid, contract


def preview_invoice_check(*, session: Session, data: Mapping[str, Any]) -> InvoicePreview:
    """Expected amount with its calculation, and the deviation, without saving anything."""
    valid, contract = _validated(session, data)
    terms, addons = load_terms(session=session, contract=contract)
    expected = expected_amount(
        terms=terms,
        period_from=valid.period_from,
        period_to=valid.period_to,
        contract_start=contract.start_date,
        contract_end=contract.end_date,
        addons=addons,
    )
    if abs(expected.total) + valid.invoiced > MONEY_MAX:  # NUMERIC(14,2) could not store it
        raise InputError({"_form": EXPECTED_TOO_LARGE_MESSAGE})
    settings = get_settings(session=session)
    deviation = invoice_deviation(
        invoiced=valid.invoiced,
        expected=expected.total,
        tolerance_kr=settings.tolerance_kr,
        tolerance_pct=settings.tolerance_pct,
    )
    return InvoicePreview(contract, expected, deviation)


@action
def check_invoice(
    *, session: Session, data: Mapping[str, Any], user: str, today: date | None = None
) -> InvoiceCheck:
    """Store an invoice check; a flagged one enters the deviation log with status `ny`."""
    valid, contract = _validated(session, data)
    duplicate = session.exec(
        select(InvoiceCheck.id).where(
            InvoiceCheck.provider_id == contract.provider_id,
            InvoiceCheck.invoice_no == valid.invoice_no,
            InvoiceCheck.period_from == valid.period_from,
            InvoiceCheck.period_to == valid.period_to,
        )
    ).first()
    if duplicate is not None:
        raise InputError({"invoice_no": "Fakturaen er allerede kontrolleret for denne periode"})
    preview = preview_invoice_check(session=session, data=data)
    deviation = preview.deviation
    check = InvoiceCheck(
        contract_id=contract.id,  # type: ignore[arg-type]
        provider_id=contract.provider_id,
        invoice_no=valid.invoice_no,
        period_from=valid.period_from,
        period_to=valid.period_to,
        checked_on=today or date.today(),
        invoiced=valid.invoiced,
        expected=preview.expected.total,
        deviation=deviation.amount,
        deviation_pct=deviation.pct,
        flagged=deviation.flagged,
        under_expected=deviation.under_expected,
        status=InvoiceStatus.NEW if deviation.flagged else None,
        assignee=valid.assignee,
        resolution_note=valid.resolution_note,
    )
    check = insert_row(session=session, row=check, user=user, entity="invoicecheck")
    if check.flagged:
        session.add(
            DeviationEvent(
                invoice_check_id=check.id,  # type: ignore[arg-type]
                by=user,
                new_status=InvoiceStatus.NEW,
                assignee=valid.assignee,
                note=valid.resolution_note,
                created_by=user,
                updated_by=user,
            )
        )
        flush(session)
    return check


@action
def update_deviation(
    *,
    session: Session,
    check_id: int,
    data: Mapping[str, Any],
    user: str,
    today: date | None = None,
) -> InvoiceCheck:
    """Change a deviation's status, assignee or note; every change is kept as an event."""
    valid = validate(DeviationUpdate, data)
    check = require(session, InvoiceCheck, check_id, "Fakturakontrollen")
    if not check.flagged:
        raise InputError({"status": "Kun afvigelser har en status"})
    if valid.status in CLOSED_STATUSES and not (valid.note or check.resolution_note):
        raise InputError({"note": "Skriv hvordan sagen er løst eller hvorfor den accepteres"})
    old_status = check.status
    values: dict[str, Any] = {"status": valid.status, "assignee": valid.assignee}
    if valid.note:
        values["resolution_note"] = valid.note
    if valid.status in CLOSED_STATUSES and old_status not in CLOSED_STATUSES:
        values["resolved_on"] = today or date.today()
    elif valid.status not in CLOSED_STATUSES:
        values["resolved_on"] = None
    check = update_row(
        session=session,
        row=check,
        values=values,
        expected_version=valid.version,
        user=user,
        entity="invoicecheck",
        what="afvigelsen",
    )
    session.add(
        DeviationEvent(
            invoice_check_id=check_id,
            by=user,
            old_status=old_status,
            new_status=valid.status,
            assignee=valid.assignee,
            note=valid.note,
            created_by=user,
            updated_by=user,
        )
    )
    flush(session)
    return check


def deviation_history(*, session: Session, check_id: int) -> list[DeviationEvent]:
    return list(
        session.exec(
            select(DeviationEvent)
            .where(DeviationEvent.invoice_check_id == check_id)
            .order_by(col(DeviationEvent.at), col(DeviationEvent.id))
        )
    )
