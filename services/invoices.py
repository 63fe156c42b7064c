"""Invoice checks against the contract, credit notes, voids and the deviation log (SPEC 4.2–4.3,
4.9, 8).

An invoice check stores the expected amount and the deviation as computed when it was checked;
a flagged one enters the deviation log with status `ny`. A credit note corrects an invoice of
the same contract: it is stored negative, for the invoice's period, and netted against it
(services.rules.deviations). A check registered by mistake is voided with a reason: kept,
marked, and counted nowhere.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from models import (
    Contract,
    CreditNoteCreate,
    DeviationEvent,
    DeviationUpdate,
    InvoiceCheck,
    InvoiceCheckCreate,
    InvoiceKind,
    InvoiceStatus,
    label,
)
from models.base import VoidInput
from models.types import EXPECTED_TOO_LARGE_MESSAGE, INT_MAX, MONEY_MAX
from services.contracts import load_terms
from services.cpr import contains_cpr
from services.errors import ConfirmationNeeded, InputError, confirmed, input_error_from
from services.formatting import format_kr, format_number, format_pct
from services.rules.deviations import (
    CLOSED_INVOICE_STATUSES,
    CreditNote,
    Deviation,
    credit_note_amount,
    credited_amount,
    implausible_invoice,
    invoice_deviation,
    is_credit_note,
    net_deviation,
)
from services.rules.pricing import AddonTerms, ExpectedAmount, PriceTerms, expected_amount
from services.rules.voiding import is_voided, not_voided_sql
from services.settings import AppSettings, get_settings
from services.unit_of_work import action, flush
from services.validation import insert_row, require, update_row, validate, void_row

CLOSED_STATUSES = CLOSED_INVOICE_STATUSES

INVOICE_NO_CONFIRM_LABEL = "Fakturanummeret er et fakturanummer, ikke et CPR-nummer"
INVOICE_NO_LOOKS_LIKE_CPR = (
    "Fakturanummeret ligner et CPR-nummer, og Takstkompas må ikke indeholde CPR-numre. Er det "
    f"virkelig fakturanummeret, så sæt flueben ved »{INVOICE_NO_CONFIRM_LABEL}« og prøv igen."
)
ALREADY_CHECKED = "Fakturaen er allerede kontrolleret for denne periode"
CLOSING_NEEDS_NOTE = "Skriv hvordan sagen er løst eller hvorfor den accepteres"
SAME_NOTE_AGAIN = (
    "Du har lige gemt den samme note på afvigelsen. Skriv en ny note, eller lad feltet stå tomt."
)
VOIDED_CHECK = "Fakturakontrollen er annulleret og kan ikke ændres."

Schema = TypeVar("Schema", bound=BaseModel)


@dataclass(frozen=True)
class InvoicePreview:
    """What the check will store, shown to the user before saving; `implausible`: the invoice
    is so far above the expected amount that saving it asks for a confirmation."""

    contract: Contract
    expected: ExpectedAmount
    deviation: Deviation
    implausible: bool = False
    plausible_factor: Decimal = Decimal(3)


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


def implausible_message(invoiced: Decimal, expected: Decimal, factor: Decimal) -> str:
    """Why an invoice far above the expected amount needs the user's confirmation."""
    decimals = 0 if factor == factor.to_integral_value() else 2
    return (
        f"Fakturaen på {format_kr(invoiced)} er over {format_number(factor, decimals)} gange det "
        f"forventede beløb ({format_kr(expected)}). Er beløbet tastet rigtigt?"
    )


def check_status_label(
    *,
    flagged: bool,
    under_expected: bool,
    status: str | None,
    kind: str | None = None,
    voided: bool = False,
) -> str:
    """The Danish status of a saved check in a list: a deviation shows its log status, a voided
    check says so first."""
    if kind is not None and is_credit_note(kind):
        text = "Kreditnota"
    elif flagged:
        text = label(status) if status else "Afvigelse"
    elif under_expected:
        text = "Under forventet"
    else:
        text = "OK"
    return f"Annulleret ({text})" if voided else text


# --- Validation -------------------------------------------------------------------------------


def _validated_input(schema: type[Schema], data: Mapping[str, Any]) -> Schema:
    """The schema and the CPR guard; a CPR-like invoice number passes only when confirmed.

    A date-based invoice number ("250314-0042") looks exactly like a CPR number. It is refused
    with a message that tells the user how to confirm it, and accepted when `invoice_no_confirmed`
    is True; every other field keeps the strict guard of validate().
    """
    invoice_no = data.get("invoice_no")
    if not (isinstance(invoice_no, str) and contains_cpr(invoice_no)):
        return validate(schema, data)
    is_confirmed = data.get("invoice_no_confirmed") is True
    unconfirmed = {} if is_confirmed else {"invoice_no": INVOICE_NO_LOOKS_LIKE_CPR}
    # Every other field through the guard and the schema (all errors at once) …
    validate(schema, {**data, "invoice_no": "-"}, extra_errors=unconfirmed)
    try:  # … then the confirmed invoice number through the schema alone.
        return schema.model_validate(dict(data))
    except ValidationError as exc:
        raise input_error_from(exc) from None


def period_errors(period_from: date, period_to: date, contract: Contract | None) -> dict[str, str]:
    """What is wrong with an invoice's period, alone and (given) for its contract: field →
    Danish message."""
    if period_to < period_from:
        return {"period_to": "Perioden skal slutte efter den begynder"}
    if (period_to - period_from).days > 366:
        return {"period_to": "En fakturaperiode kan højst være et år"}
    if contract is not None and (
        period_to < contract.start_date
        or (contract.end_date is not None and period_from > contract.end_date)
    ):
        return {"period_from": "Perioden ligger uden for kontraktens løbetid"}
    return {}


def _validated(session: Session, data: Mapping[str, Any]) -> tuple[InvoiceCheckCreate, Contract]:
    valid = _validated_input(InvoiceCheckCreate, data)
    if errors := period_errors(valid.period_from, valid.period_to, None):
        raise InputError(errors)
    contract = require(session, Contract, valid.contract_id, "Kontrakten")
    if errors := period_errors(valid.period_from, valid.period_to, contract):
        raise InputError(errors)
    return valid, contract


def _refuse_duplicate(
    session: Session, *, provider_id: int, invoice_no: str, period_from: date, period_to: date
) -> None:
    """An invoice number is unique per provider and period among the checks in force (SPEC 3;
    the unique index counts only those, so a voided check makes room for its correction)."""
    duplicate = session.exec(
        select(InvoiceCheck.id).where(
            InvoiceCheck.provider_id == provider_id,
            InvoiceCheck.invoice_no == invoice_no,
            InvoiceCheck.period_from == period_from,
            InvoiceCheck.period_to == period_to,
            not_voided_sql(InvoiceCheck),
        )
    ).first()
    if duplicate is not None:
        raise InputError({"invoice_no": ALREADY_CHECKED})


# --- Invoices ---------------------------------------------------------------------------------


def judge_invoice(
    *,
    contract: Contract,
    terms: PriceTerms,
    addons: Sequence[AddonTerms],
    period_from: date,
    period_to: date,
    invoiced: Decimal,
    settings: AppSettings,
) -> InvoicePreview:
    """The expected amount of an invoice by its contract's terms, its deviation and whether it
    is implausible (SPEC 4.2–4.3); InputError when the amounts are beyond what can be stored."""
    expected = expected_amount(
        terms=terms,
        period_from=period_from,
        period_to=period_to,
        contract_start=contract.start_date,
        contract_end=contract.end_date,
        addons=addons,
    )
    if abs(expected.total) + invoiced > MONEY_MAX:  # NUMERIC(14,2) could not store it
        raise InputError({"_form": EXPECTED_TOO_LARGE_MESSAGE})
    deviation = invoice_deviation(
        invoiced=invoiced,
        expected=expected.total,
        tolerance_kr=settings.tolerance_kr,
        tolerance_pct=settings.tolerance_pct,
    )
    factor = settings.plausible_invoice_factor
    implausible = implausible_invoice(invoiced=invoiced, expected=expected.total, factor=factor)
    return InvoicePreview(contract, expected, deviation, implausible, factor)


def preview_invoice_check(*, session: Session, data: Mapping[str, Any]) -> InvoicePreview:
    """Expected amount with its calculation, and the deviation, without saving anything."""
    valid, contract = _validated(session, data)
    terms, addons = load_terms(session=session, contract=contract)
    return judge_invoice(
        contract=contract,
        terms=terms,
        addons=addons,
        period_from=valid.period_from,
        period_to=valid.period_to,
        invoiced=valid.invoiced,
        settings=get_settings(session=session),
    )


def invoice_check_values(
    contract: Contract,
    valid: InvoiceCheckCreate,
    preview: InvoicePreview,
    checked_on: date,
) -> dict[str, Any]:
    """The stored fields of a new invoice check (a flagged one enters the log as `ny`)."""
    deviation = preview.deviation
    return {
        "kind": InvoiceKind.INVOICE,
        "contract_id": contract.id,
        "provider_id": contract.provider_id,
        "invoice_no": valid.invoice_no,
        "period_from": valid.period_from,
        "period_to": valid.period_to,
        "checked_on": checked_on,
        "invoiced": valid.invoiced,
        "expected": preview.expected.total,
        "deviation": deviation.amount,
        "deviation_pct": deviation.pct,
        "flagged": deviation.flagged,
        "under_expected": deviation.under_expected,
        "status": InvoiceStatus.NEW if deviation.flagged else None,
        "assignee": valid.assignee,
        "resolution_note": valid.resolution_note,
    }


def _deviation_event(
    session: Session,
    check: InvoiceCheck,
    *,
    user: str,
    note: str | None,
    old_status: str | None,
    assignee: str | None,
) -> None:
    """One entry in a deviation's history (the status it has after the change)."""
    session.add(
        DeviationEvent(
            invoice_check_id=check.id,  # type: ignore[arg-type]
            by=user,
            old_status=old_status,
            new_status=str(check.status or InvoiceStatus.NEW),
            assignee=assignee,
            note=note,
            created_by=user,
            updated_by=user,
        )
    )


@action
def check_invoice(
    *, session: Session, data: Mapping[str, Any], user: str, today: date | None = None
) -> InvoiceCheck:
    """Store an invoice check; a flagged one enters the deviation log with status `ny`. An
    invoice above the plausible factor × expected needs `invoiced` confirmed."""
    valid, contract = _validated(session, data)
    _refuse_duplicate(
        session,
        provider_id=contract.provider_id,
        invoice_no=valid.invoice_no,
        period_from=valid.period_from,
        period_to=valid.period_to,
    )
    preview = preview_invoice_check(session=session, data=data)
    if preview.implausible and not confirmed(data, "invoiced"):
        raise ConfirmationNeeded(
            {
                "invoiced": implausible_message(
                    valid.invoiced, preview.expected.total, preview.plausible_factor
                )
            }
        )
    check = InvoiceCheck(**invoice_check_values(contract, valid, preview, today or date.today()))
    check = insert_row(session=session, row=check, user=user)
    if check.flagged:
        _deviation_event(
            session,
            check,
            user=user,
            note=valid.resolution_note,
            old_status=None,
            assignee=valid.assignee,
        )
        flush(session)
    return check


# --- Credit notes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditPreview:
    """A credit note before it is saved: the invoice it corrects and what it does to it."""

    invoice: InvoiceCheck
    amount: Decimal  # negative
    credited_before: Decimal  # the invoice's credit notes in force so far (≤ 0)
    net_before: Decimal  # the invoice's net deviation now …
    net_after: Decimal  # … and with this credit note

    @property
    def invoiced_after(self) -> Decimal:
        return self.invoice.invoiced + self.credited_before + self.amount


def _locked(session: Session, check_id: Any) -> None:
    """Lock an invoice check's row for the rest of the action (PostgreSQL; SQLite's write
    transaction already runs alone), so a credit note and a void of its invoice take turns."""
    if isinstance(check_id, int) and not isinstance(check_id, bool) and 1 <= check_id <= INT_MAX:
        session.exec(
            select(InvoiceCheck).where(InvoiceCheck.id == check_id).with_for_update()
        ).first()


def _credit_notes(session: Session, invoice_id: int | None) -> list[InvoiceCheck]:
    return list(
        session.exec(
            select(InvoiceCheck)
            .where(InvoiceCheck.credits_id == invoice_id)
            .order_by(col(InvoiceCheck.id))
        )
    )


def credit_too_large(invoiced: Decimal, credited: Decimal, amount: Decimal) -> str | None:
    """Why a credit note (amount < 0) cannot correct an invoice with these credit notes so far
    (credited ≤ 0): it would take the invoice below zero. None when it fits."""
    left = invoiced + credited
    if left + amount >= 0:
        return None
    return (
        f"Kreditnotaen er større end det, der er tilbage af fakturaen ({format_kr(left)} af "
        f"{format_kr(invoiced)})"
    )


def credit_note_values(
    *,
    contract_id: int,
    provider_id: int,
    invoice_no: str,
    period_from: date,
    period_to: date,
    amount: Decimal,
    checked_on: date,
) -> dict[str, Any]:
    """The stored fields of a credit note (negative amount, its invoice's period; never a
    deviation of its own: it is netted against the invoice)."""
    return {
        "kind": InvoiceKind.CREDIT_NOTE,
        "contract_id": contract_id,
        "provider_id": provider_id,
        "invoice_no": invoice_no,
        "period_from": period_from,
        "period_to": period_to,
        "checked_on": checked_on,
        "invoiced": amount,
        "expected": Decimal("0.00"),
        "deviation": Decimal("0.00"),
        "deviation_pct": None,
        "flagged": False,
        "under_expected": False,
        "status": None,
        "assignee": None,
        "resolution_note": None,
    }


def credited_on(session: Session, invoice_id: int | None) -> Decimal:
    """The sum (≤ 0) of an invoice's credit notes in force."""
    return credited_amount(
        CreditNote(c.invoiced, c.checked_on, c.voided_at)
        for c in _credit_notes(session, invoice_id)
    )


def preview_credit_note(*, session: Session, data: Mapping[str, Any]) -> CreditPreview:
    """Check a credit note against the invoice it corrects, without saving anything."""
    valid = _validated_input(CreditNoteCreate, data)
    contract = require(session, Contract, valid.contract_id, "Kontrakten")
    if valid.credits_id is None:
        raise InputError({"credits_id": "Vælg den faktura, kreditnotaen retter"})
    invoice = require(session, InvoiceCheck, valid.credits_id, "Fakturaen")
    if invoice.contract_id != contract.id:
        raise InputError({"credits_id": "Fakturaen hører ikke til den valgte kontrakt"})
    if is_credit_note(invoice.kind):
        raise InputError({"credits_id": "En kreditnota kan kun rette en faktura"})
    if is_voided(invoice):
        raise InputError({"credits_id": "Fakturakontrollen er annulleret"})
    amount = credit_note_amount(valid.invoiced)
    credited = credited_on(session, invoice.id)
    if message := credit_too_large(invoice.invoiced, credited, amount):
        raise InputError({"invoiced": message})
    return CreditPreview(
        invoice=invoice,
        amount=amount,
        credited_before=credited,
        net_before=net_deviation(invoice.deviation, credited),
        net_after=net_deviation(invoice.deviation, credited + amount),
    )


@action
def register_credit_note(
    *, session: Session, data: Mapping[str, Any], user: str, today: date | None = None
) -> InvoiceCheck:
    """Store a credit note (an invoice check of kind `kreditnota`, negative, for the period of
    the invoice it corrects); a credited deviation gets a line in its history."""
    _locked(session, data.get("credits_id"))
    preview = preview_credit_note(session=session, data=data)
    valid = _validated_input(CreditNoteCreate, data)
    invoice = preview.invoice
    _refuse_duplicate(
        session,
        provider_id=invoice.provider_id,
        invoice_no=valid.invoice_no,
        period_from=invoice.period_from,
        period_to=invoice.period_to,
    )
    note = insert_row(
        session=session,
        row=InvoiceCheck(
            credits_id=invoice.id,
            **credit_note_values(
                contract_id=invoice.contract_id,
                provider_id=invoice.provider_id,
                invoice_no=valid.invoice_no,
                period_from=invoice.period_from,
                period_to=invoice.period_to,
                amount=preview.amount,
                checked_on=today or date.today(),
            ),
        ),
        user=user,
    )
    if invoice.flagged:
        _deviation_event(
            session,
            invoice,
            user=user,
            note=f"Kreditnota {valid.invoice_no} på {format_kr(preview.amount)} registreret. "
            f"Afvigelse efter kreditnotaer: {format_kr(preview.net_after)}",
            old_status=str(invoice.status) if invoice.status else None,
            assignee=invoice.assignee,
        )
        flush(session)
    return note


# --- Voiding ----------------------------------------------------------------------------------


@action
def void_invoice_check(
    *, session: Session, check_id: int, data: Mapping[str, Any], user: str
) -> InvoiceCheck:
    """Void an invoice check or credit note registered by mistake, with a reason: it is kept and
    shown, marked, and counted nowhere (not open, not in any sum). An invoice with credit notes
    in force is voided after them, so no credit is left without its invoice."""
    valid = validate(VoidInput, data)
    _locked(session, check_id)
    check = require(session, InvoiceCheck, check_id, "Fakturakontrollen")
    credits = [c for c in _credit_notes(session, check_id) if not is_voided(c)]
    if credits and not is_voided(check):
        numbers = ", ".join(c.invoice_no for c in credits)
        raise InputError(
            {
                "_form": f"Fakturaen har kreditnotaer, der ikke er annulleret ({numbers}). "
                "Annullér dem først."
            }
        )
    what = "kreditnotaen" if is_credit_note(check.kind) else "fakturakontrollen"
    check = void_row(
        session=session,
        row=check,
        reason=valid.reason,
        expected_version=valid.version,
        user=user,
        what=what,
    )
    if check.flagged:
        _deviation_event(
            session,
            check,
            user=user,
            note=f"Fakturakontrollen er annulleret: {valid.reason}",
            old_status=str(check.status) if check.status else None,
            assignee=check.assignee,
        )
    elif check.credits_id is not None:
        invoice = session.get(InvoiceCheck, check.credits_id)
        if invoice is not None and invoice.flagged:
            net = net_deviation(invoice.deviation, credited_on(session, invoice.id))
            _deviation_event(
                session,
                invoice,
                user=user,
                note=f"Kreditnota {check.invoice_no} er annulleret: {valid.reason}. "
                f"Afvigelse efter kreditnotaer: {format_kr(net)}",
                old_status=str(invoice.status) if invoice.status else None,
                assignee=invoice.assignee,
            )
    flush(session)
    return check


# --- The deviation log ------------------------------------------------------------------------


def _same_text(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and " ".join(a.split()) == " ".join(b.split())


def _latest_note(session: Session, check_id: int) -> DeviationEvent | None:
    """The deviation's most recent history entry with a note."""
    return session.exec(
        select(DeviationEvent)
        .where(DeviationEvent.invoice_check_id == check_id, col(DeviationEvent.note).is_not(None))
        .order_by(col(DeviationEvent.at).desc(), col(DeviationEvent.id).desc())
        .limit(1)
    ).first()


@action
def update_deviation(
    *,
    session: Session,
    check_id: int,
    data: Mapping[str, Any],
    user: str,
    today: date | None = None,
) -> InvoiceCheck:
    """Change a deviation's status, assignee or note; every change is kept as an event.

    Closing a deviation (Løst, Accepteret) needs a note typed for that change: an earlier note
    does not count. The same note twice in a row by the same user is refused."""
    valid = validate(DeviationUpdate, data)
    check = require(session, InvoiceCheck, check_id, "Fakturakontrollen")
    if not check.flagged:
        raise InputError({"status": "Kun afvigelser har en status"})
    if is_voided(check):
        raise InputError({"_form": VOIDED_CHECK})
    old_status = check.status
    closing = valid.status in CLOSED_STATUSES and valid.status != old_status
    if closing and not valid.note:
        raise InputError({"note": CLOSING_NEEDS_NOTE})
    if valid.note:
        latest = _latest_note(session, check_id)
        if latest is not None and latest.by == user and _same_text(latest.note, valid.note):
            raise InputError({"note": SAME_NOTE_AGAIN})
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
        what="afvigelsen",
    )
    _deviation_event(
        session,
        check,
        user=user,
        note=valid.note,
        old_status=old_status,
        assignee=valid.assignee,
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
