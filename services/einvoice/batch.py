"""A batch of uploaded e-invoices: read and matched once, fixed by the user, then checked and
saved as invoice checks in one transaction (SPEC 4.9, 9; issue 13).

Each file keeps its number in the batch (1, 2, …), which the page shows and every message
names. The user may give a file the contract or period the matching could not find, and leave
a file out. A credit note takes the contract and period of the invoice it credits (in the
batch, or checked before), so it reduces that invoice's amount. The check and the write are
the invoice import's (services.imports.invoices.check_invoice_lines): an e-invoice is stored
exactly like an imported or a typed invoice, the same invoice twice is refused, and a flagged
one enters the deviation log with status `ny`.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import Contract, ContractStatus, InvoiceCheck, InvoiceKind, Provider, label
from services.einvoice.matching import (
    HOW_CHOSEN,
    NO_PERIOD,
    ContractCandidate,
    EInvoiceMatch,
    match_einvoice,
)
from services.einvoice.reader import EInvoice, read_many
from services.errors import InputError
from services.imports.invoices import check_invoice_lines
from services.imports.preview import ImportPreview, record_import, require_ready
from services.imports.reading import SourceRow
from services.rules.voiding import not_voided_sql
from services.unit_of_work import action

KIND_NAME = "E-fakturaer"
CHOOSE_CONTRACT = "Vælg den kontrakt, fakturaen gælder"
CONTRACT_GONE = "Den valgte kontrakt findes ikke længere – vælg en anden"
LEFT_OUT = "Ikke medtaget"
NOTHING_TO_SAVE = "Ingen af filerne kan gemmes endnu – se beskederne i tabellen."
NOT_DKK = "Fakturaen er i {currency}, ikke DKK, og kan ikke kontrolleres mod kontrakten"


# One uploaded file (or zip entry): its number in the batch, and the invoice read and matched,
# or the Danish reason it could not be read.
@dataclass(frozen=True, slots=True)
class BatchFile:
    number: int
    name: str
    invoice: EInvoice | None
    match: EInvoiceMatch | None
    error: str | None = None


# What the user changed for one file: the contract and period (None: as matched) and whether
# it is saved with the rest.
@dataclass(frozen=True, slots=True)
class Fix:
    contract_id: int | None = None
    period: tuple[date, date] | None = None
    include: bool = True


# One file's outcome. `message` says why it is not saved (Danish), or is None when it is.
@dataclass(frozen=True, slots=True)
class BatchLine:
    number: int
    name: str
    invoice_no: str | None
    kind: str | None
    provider_name: str | None
    contract_id: int | None
    case_ref: str | None
    how: str | None
    period: tuple[date, date] | None
    net_amount: Decimal | None
    expected: Decimal | None = None
    deviation: Decimal | None = None
    flagged: bool = False
    under_expected: bool = False
    message: str | None = None

    @property
    def saved(self) -> bool:
        return self.message is None


@dataclass(frozen=True, slots=True)
class BatchCheck:
    lines: tuple[BatchLine, ...]
    preview: ImportPreview  # the chosen files' check: counts, figures and errors

    @property
    def ready(self) -> bool:
        """Something to save, and nothing among the chosen files with an error."""
        return self.preview.counted > 0 and not self.preview.error_count


def read_batch(
    *,
    session: Session,
    files: Iterable[tuple[str, bytes]],
    progress: Callable[[int], None] | None = None,
) -> list[BatchFile]:
    """Read and match every uploaded file (zips unpacked); reads only."""
    batch: list[BatchFile] = []
    for number, (name, result) in enumerate(read_many(files), start=1):
        if isinstance(result, str):
            batch.append(BatchFile(number, name, None, None, result))
        else:
            batch.append(
                BatchFile(number, name, result, match_einvoice(session=session, invoice=result))
            )
        if progress is not None and number % 25 == 0:
            progress(number)
    return batch


def contract_options(*, session: Session, match: EInvoiceMatch) -> list[ContractCandidate]:
    """The contracts the user may choose for an invoice: those of every provider with the
    supplier's CVR, the ones in force first."""
    if match.supplier_cvr is None:
        return list(match.contract_candidates)
    rows = session.exec(
        select(Contract)
        .join(Provider, col(Provider.id) == Contract.provider_id)
        .where(Provider.cvr == match.supplier_cvr)
        .order_by(col(Contract.start_date).desc(), col(Contract.id))
    ).all()
    in_force = (ContractStatus.ACTIVE, ContractStatus.TERMINATED)
    ordered = sorted(rows, key=lambda c: c.status not in in_force)
    return [
        ContractCandidate(
            id=c.id or 0,
            case_ref=c.case_ref,
            start_date=c.start_date,
            end_date=c.end_date,
            status=str(c.status),
        )
        for c in ordered
    ]


@dataclass
class _Planned:
    file: BatchFile
    contract_id: int | None
    case_ref: str | None
    cvr: str | None
    period: tuple[date, date] | None
    how: str | None
    message: str | None


def _credited_saved(
    session: Session, files: Sequence[BatchFile]
) -> dict[tuple[int, str], InvoiceCheck]:
    """The checked invoices (in force) the batch's credit notes name, by (provider, number)."""
    wanted = {
        (f.match.provider_id, f.match.credited_invoice)
        for f in files
        if f.match is not None
        and f.match.is_credit_note
        and f.match.provider_id is not None
        and f.match.credited_invoice
    }
    if not wanted:
        return {}
    found = session.exec(
        select(InvoiceCheck).where(
            col(InvoiceCheck.provider_id).in_(sorted({p for p, _ in wanted})),
            col(InvoiceCheck.invoice_no).in_(sorted({n for _, n in wanted})),
            InvoiceCheck.kind == InvoiceKind.INVOICE,
            not_voided_sql(InvoiceCheck),
        )
    ).all()
    return {(c.provider_id, c.invoice_no): c for c in found}


def _plan(session: Session, files: Sequence[BatchFile], fixes: Mapping[int, Fix]) -> list[_Planned]:
    """Each file's contract and period as the user left them; a credit note's from the
    invoice it credits."""
    chosen_ids = {f.contract_id for f in fixes.values() if f.contract_id is not None}
    chosen = {
        c.id: (c, cvr, name)
        for c, cvr, name in session.exec(
            select(Contract, Provider.cvr, Provider.name)
            .join(Provider, col(Provider.id) == Contract.provider_id)
            .where(col(Contract.id).in_(sorted(chosen_ids)))
        ).all()
    }
    planned: list[_Planned] = []
    invoices: dict[tuple[str | None, str], _Planned] = {}  # (supplier CVR, number) → planned
    for file in files:
        match = file.match
        if match is None:
            planned.append(_Planned(file, None, None, None, None, None, file.error))
            continue
        fix = fixes.get(file.number, Fix())
        contract_id, case_ref, how = match.contract_id, match.case_ref, match.how
        refused: str | None = None
        if fix.contract_id is not None:
            if fix.contract_id not in chosen:
                refused = CONTRACT_GONE
            else:
                contract, cvr, name = chosen[fix.contract_id]
                contract_id, case_ref, how = contract.id, contract.case_ref, HOW_CHOSEN
                if match.supplier_cvr is not None and cvr != match.supplier_cvr:
                    refused = (
                        f"Kontrakten {contract.case_ref} hører til {name} (CVR "
                        f"{cvr or 'ukendt'}), ikke til leverandøren på fakturaen"
                    )
        period = fix.period or match.period
        item = _Planned(file, contract_id, case_ref, match.supplier_cvr, period, how, refused)
        planned.append(item)
        if not match.is_credit_note:
            invoices.setdefault((match.supplier_cvr, match.invoice_number), item)

    saved = _credited_saved(session, files)
    for item in planned:
        match = item.file.match
        fix = fixes.get(item.file.number, Fix())
        if match is None or not match.is_credit_note or not match.credited_invoice:
            continue
        if fix.contract_id is not None or fix.period is not None:
            continue  # the user said which contract or period the credit note is for
        in_batch = invoices.get((match.supplier_cvr, match.credited_invoice))
        if in_batch is not None and in_batch.contract_id is not None:
            item.contract_id, item.case_ref = in_batch.contract_id, in_batch.case_ref
            item.period = in_batch.period or item.period
            item.how = f"som faktura {match.credited_invoice}"
            continue
        check = saved.get((match.provider_id or 0, match.credited_invoice))
        if check is not None:
            credited = session.get(Contract, check.contract_id)
            if credited is not None:
                item.contract_id, item.case_ref = credited.id, credited.case_ref
                item.period = (check.period_from, check.period_to)
                item.how = f"som faktura {match.credited_invoice}"

    for item in planned:
        item.message = item.message or _why_not(item, fixes.get(item.file.number, Fix()))
    return planned


def _why_not(item: _Planned, fix: Fix) -> str | None:
    """Why a read file cannot be checked as it stands (None: it can)."""
    match = item.file.match
    assert match is not None
    if not fix.include:
        return LEFT_OUT
    if match.currency != "DKK":
        return NOT_DKK.format(currency=match.currency)
    if match.provider_id is None and not match.provider_candidates:
        return next(iter(match.reasons), CHOOSE_CONTRACT)
    if item.contract_id is None:
        reasons = [r for r in match.reasons if r != NO_PERIOD]
        return reasons[0] if reasons else CHOOSE_CONTRACT
    if item.period is None:
        return NO_PERIOD
    return None


def _row(item: _Planned) -> SourceRow:
    match = item.file.match
    assert match is not None and item.period is not None
    return SourceRow(
        item.file.number,
        (
            item.cvr,
            item.case_ref,
            match.invoice_number,
            item.period[0],
            item.period[1],
            match.net_amount,
            match.credited_invoice if match.is_credit_note else None,
        ),
    )


def _check(
    session: Session,
    files: Sequence[BatchFile],
    fixes: Mapping[int, Fix],
    *,
    user: str | None,
    today: date | None,
    progress: Callable[[int], None] | None,
) -> BatchCheck:
    planned = _plan(session, files, fixes)
    # Invoices before credit notes, so a credit note finds the invoice it reduces.
    chosen = sorted(
        (p for p in planned if p.message is None),
        key=lambda p: (p.file.match is not None and p.file.match.is_credit_note, p.file.number),
    )
    values: dict[int, dict[str, Any]] = {}
    preview = check_invoice_lines(
        session=session,
        rows=[_row(p) for p in chosen],
        user=user,
        today=today,
        progress=progress,
        on_line=lambda number, stored: values.__setitem__(number, stored),
        wording=("nr.", "blandt filerne"),
    )
    errors: dict[int, list[str]] = {}
    for problem in preview.errors:
        errors.setdefault(problem.row, []).append(problem.message)
    lines = []
    for item in planned:
        match = item.file.match
        stored = values.get(item.file.number, {})
        message = item.message or ("; ".join(errors.get(item.file.number, [])) or None)
        invoice = stored.get("kind") == InvoiceKind.INVOICE
        lines.append(
            BatchLine(
                number=item.file.number,
                name=item.file.name,
                invoice_no=match.invoice_number if match else None,
                kind=label(match.kind) if match else None,
                provider_name=match.provider_name if match else None,
                contract_id=item.contract_id,
                case_ref=item.case_ref,
                how=item.how,
                period=item.period,
                net_amount=match.net_amount if match else None,
                expected=stored.get("expected") if invoice else None,
                deviation=stored.get("deviation") if invoice else None,
                flagged=bool(stored.get("flagged")),
                under_expected=bool(stored.get("under_expected")),
                message=message,
            )
        )
    return BatchCheck(tuple(lines), preview)


def check_batch(
    *,
    session: Session,
    files: Sequence[BatchFile],
    fixes: Mapping[int, Fix] | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchCheck:
    """Every file's contract, period, expected amount and deviation as it would be saved, or
    why it is not; writes nothing."""
    return _check(session, files, fixes or {}, user=None, today=today, progress=progress)


@action
def save_einvoices(
    *,
    session: Session,
    files: Sequence[BatchFile],
    user: str,
    fixes: Mapping[int, Fix] | None = None,
    upload_name: str = KIND_NAME,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchCheck:
    """Check the chosen files again and store each as an invoice check, all in this one
    transaction; InputError (nothing stored) when one of them has an error, or none is
    ready."""
    check = _check(session, files, fixes or {}, user=user, today=today, progress=progress)
    require_ready(check.preview)
    if not check.preview.counted:
        raise InputError({"_form": NOTHING_TO_SAVE})
    record_import(
        session,
        kind_name=KIND_NAME,
        file_name=upload_name,
        created=check.preview.counted,
        updated=0,
    )
    return check
