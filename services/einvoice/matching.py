"""Match a read e-invoice to its provider, contract and period (SPEC 9).

The supplier is found by CVR; the contract by `ContractDocumentReference`, else by a case
reference in the order or buyer reference, else as the provider's only contract in force in the
invoice period; otherwise the user picks from the candidates. The period and the net amount
follow SPEC 4.9. The check itself is services.einvoice.batch's (the invoice import's rules).
Nothing here writes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from models import Contract, ContractStatus, Provider
from services.einvoice.reader import DocumentKind, EInvoice
from services.formatting import format_date

HOW_CONTRACT_REFERENCE = "kontraktreference"
HOW_ORDER_REFERENCE = "sagsnummer i ordrereference"
HOW_BUYER_REFERENCE = "sagsnummer i køberreference"
HOW_ONLY_IN_FORCE = "eneste kontrakt i perioden"
HOW_CHOSEN = "valgt af brugeren"

NO_PERIOD = "Fakturaen har ingen periode – angiv den"
_IN_FORCE_STATUSES = (ContractStatus.ACTIVE, ContractStatus.TERMINATED)


# A contract the user may pick when the invoice does not say which one it is for.
@dataclass(frozen=True, slots=True)
class ContractCandidate:
    id: int
    case_ref: str
    start_date: date
    end_date: date | None
    status: str


# A provider the user may pick when several have the supplier's CVR.
@dataclass(frozen=True, slots=True)
class ProviderCandidate:
    id: int
    name: str


# What the invoice was matched to. `reasons` are Danish and say what is missing or refused;
# `net_amount` is signed (a credit note's is negative).
@dataclass(frozen=True, slots=True)
class EInvoiceMatch:
    invoice_number: str
    kind: DocumentKind
    currency: str
    supplier_cvr: str | None
    provider_id: int | None
    provider_name: str | None
    contract_id: int | None
    case_ref: str | None
    how: str | None
    period: tuple[date, date] | None
    net_amount: Decimal
    credited_invoice: str | None
    reasons: tuple[str, ...]
    provider_candidates: tuple[ProviderCandidate, ...] = ()
    contract_candidates: tuple[ContractCandidate, ...] = ()

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def checkable(self) -> bool:
        """Whether the invoice can be checked as it stands: nothing missing, nothing refused."""
        return not self.reasons and self.contract_id is not None and self.period is not None


def _reference_key(text: str | None) -> str:
    """A reference as compared: without spaces, case-insensitive ("sag-2024 0001")."""
    return "".join((text or "").split()).casefold()


def _in_force(contract: Contract, period: tuple[date, date]) -> bool:
    start, end = period
    return (
        contract.status in _IN_FORCE_STATUSES
        and contract.start_date <= end
        and (contract.end_date is None or contract.end_date >= start)
    )


def _candidate(contract: Contract) -> ContractCandidate:
    return ContractCandidate(
        id=contract.id or 0,
        case_ref=contract.case_ref,
        start_date=contract.start_date,
        end_date=contract.end_date,
        status=str(contract.status),
    )


def _period_text(period: tuple[date, date]) -> str:
    return f"{format_date(period[0])}–{format_date(period[1])}"


def _providers(session: Session, cvr: str | None) -> list[Provider]:
    if cvr is None:
        return []
    return list(
        session.exec(select(Provider).where(Provider.cvr == cvr).order_by(col(Provider.id))).all()
    )


def _contracts(session: Session, provider_id: int) -> list[Contract]:
    return list(
        session.exec(
            select(Contract)
            .where(Contract.provider_id == provider_id)
            .order_by(col(Contract.start_date), col(Contract.id))
        ).all()
    )


def _by_reference(
    contracts: Sequence[Contract], reference: str | None, period: tuple[date, date] | None
) -> list[Contract]:
    """The contracts whose case reference is the given reference; several narrowed by period."""
    key = _reference_key(reference)
    if not key:
        return []
    found = [c for c in contracts if _reference_key(c.case_ref) == key]
    if len(found) > 1 and period is not None:
        found = [c for c in found if _in_force(c, period)] or found
    return found


@dataclass
class _ContractChoice:
    contract: Contract | None = None
    how: str | None = None
    reason: str | None = None
    candidates: tuple[ContractCandidate, ...] = ()


def _choose_contract(
    invoice: EInvoice,
    provider: Provider,
    contracts: Sequence[Contract],
    period: tuple[date, date] | None,
) -> _ContractChoice:
    references = (
        (invoice.contract_reference, HOW_CONTRACT_REFERENCE),
        (invoice.order_reference, HOW_ORDER_REFERENCE),
        (invoice.buyer_reference, HOW_BUYER_REFERENCE),
    )
    for reference, how in references:
        found = _by_reference(contracts, reference, period)
        if len(found) == 1:
            return _ContractChoice(contract=found[0], how=how)
        if len(found) > 1:
            return _ContractChoice(
                reason=(
                    f"{len(found)} af kontrakterne hos {provider.name} har sagsnummeret "
                    f"»{found[0].case_ref}« – vælg den, fakturaen gælder"
                ),
                candidates=tuple(_candidate(c) for c in found),
            )
    unmatched = ""
    if invoice.contract_reference:
        unmatched = (
            f" Kontraktreferencen »{invoice.contract_reference}« passer ikke til nogen af "
            "leverandørens sagsnumre."
        )
    if period is None:
        in_force = [c for c in contracts if c.status in _IN_FORCE_STATUSES]
        return _ContractChoice(
            reason=f"Kontrakten kan ikke findes uden periode – vælg den.{unmatched}",
            candidates=tuple(_candidate(c) for c in in_force or contracts),
        )
    in_force = [c for c in contracts if _in_force(c, period)]
    if len(in_force) == 1:
        return _ContractChoice(contract=in_force[0], how=HOW_ONLY_IN_FORCE)
    if in_force:
        return _ContractChoice(
            reason=(
                f"{len(in_force)} af kontrakterne hos {provider.name} er i kraft i perioden "
                f"{_period_text(period)}, og fakturaen siger ikke hvilken – vælg den.{unmatched}"
            ),
            candidates=tuple(_candidate(c) for c in in_force),
        )
    if not contracts:
        return _ContractChoice(
            reason=f"{provider.name} har ingen kontrakter. Opret kontrakten først.{unmatched}"
        )
    return _ContractChoice(
        reason=(
            f"{provider.name} har ingen kontrakt i kraft i perioden {_period_text(period)} – "
            f"vælg kontrakten, eller ret perioden.{unmatched}"
        ),
        candidates=tuple(_candidate(c) for c in contracts),
    )


def match_einvoice(*, session: Session, invoice: EInvoice) -> EInvoiceMatch:
    """The provider (by CVR), contract and period of a read e-invoice, with Danish reasons for
    whatever could not be matched; reads only."""
    reasons: list[str] = []
    if invoice.currency != "DKK":
        reasons.append(
            f"Fakturaen er i {invoice.currency}, ikke DKK, og kan ikke kontrolleres mod kontrakten"
        )
    period = invoice.period
    if period is None:
        reasons.append(NO_PERIOD)

    provider: Provider | None = None
    provider_candidates: tuple[ProviderCandidate, ...] = ()
    providers = _providers(session, invoice.supplier_cvr)
    if invoice.supplier_cvr is None:
        reasons.append(
            "Fakturaen har intet CVR-nummer på leverandøren – vælg leverandør og kontrakt"
        )
    elif not providers:
        reasons.append(
            f"Ingen leverandør har CVR-nummeret {invoice.supplier_cvr}. Opret leverandøren "
            "med dette CVR-nummer, eller ret CVR-nummeret på leverandøren"
        )
    elif len(providers) > 1:
        reasons.append(
            f"{len(providers)} leverandører har CVR-nummeret {invoice.supplier_cvr} – vælg den, "
            "fakturaen er fra"
        )
        provider_candidates = tuple(ProviderCandidate(p.id or 0, p.name) for p in providers)
    else:
        provider = providers[0]

    choice = _ContractChoice()
    if provider is not None and provider.id is not None:
        choice = _choose_contract(invoice, provider, _contracts(session, provider.id), period)
        if choice.reason:
            reasons.append(choice.reason)

    return EInvoiceMatch(
        invoice_number=invoice.number,
        kind=invoice.kind,
        currency=invoice.currency,
        supplier_cvr=invoice.supplier_cvr,
        provider_id=provider.id if provider else None,
        provider_name=provider.name if provider else invoice.supplier_name,
        contract_id=choice.contract.id if choice.contract else None,
        case_ref=choice.contract.case_ref if choice.contract else None,
        how=choice.how,
        period=period,
        net_amount=invoice.signed_net_amount,
        credited_invoice=invoice.credited_invoice,
        reasons=tuple(reasons),
        provider_candidates=provider_candidates,
        contract_candidates=choice.candidates,
    )
