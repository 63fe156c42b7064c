"""Matching a read e-invoice to provider, contract and period (SPEC 4.9, 9; issue 13) on SQLite
and PostgreSQL: by contract reference, by a case reference in the order or buyer reference, by
the only contract in force, else the user picks; the preview gives the same expected amount as
the invoice typed by hand, and nothing is written."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from models import InvoiceCheck
from services.einvoice.batch import BatchFile, BatchLine, Fix, check_batch
from services.einvoice.matching import (
    HOW_BUYER_REFERENCE,
    HOW_CHOSEN,
    HOW_CONTRACT_REFERENCE,
    HOW_ONLY_IN_FORCE,
    HOW_ORDER_REFERENCE,
    NO_PERIOD,
    match_einvoice,
)
from services.einvoice.reader import DocumentKind, EInvoice, read_einvoice
from services.invoices import preview_invoice_check
from tests.factories import make_contract, make_provider

CVR = "10000009"
MARCH_2026 = (date(2026, 3, 1), date(2026, 3, 31))
_PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def _period_xml(period: tuple[date, date] | None) -> str:
    if period is None:
        return ""
    return (
        f"<cac:InvoicePeriod><cbc:StartDate>{period[0]}</cbc:StartDate>"
        f"<cbc:EndDate>{period[1]}</cbc:EndDate></cac:InvoicePeriod>"
    )


def _einvoice(
    *,
    cvr: str = CVR,
    amount: str = "66000.00",
    currency: str = "DKK",
    period: tuple[date, date] | None = MARCH_2026,
    line_period: tuple[date, date] | None = None,
    contract_ref: str | None = None,
    order_ref: str | None = None,
    buyer_ref: str | None = None,
    credit_note: bool = False,
    number: str = "F-1001",
) -> EInvoice:
    """A small Peppol BIS 3 invoice (or credit note) with one line, read by the real reader."""
    root = "CreditNote" if credit_note else "Invoice"
    line = "CreditNoteLine" if credit_note else "InvoiceLine"
    quantity = "CreditedQuantity" if credit_note else "InvoicedQuantity"
    type_code = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit_note
        else "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    buyer = f"<cbc:BuyerReference>{buyer_ref}</cbc:BuyerReference>" if buyer_ref else ""
    order = (
        f"<cac:OrderReference><cbc:ID>{order_ref}</cbc:ID></cac:OrderReference>"
        if order_ref
        else ""
    )
    billing = (
        "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>F-1001</cbc:ID>"
        "</cac:InvoiceDocumentReference></cac:BillingReference>"
        if credit_note
        else ""
    )
    contract = (
        f"<cac:ContractDocumentReference><cbc:ID>{contract_ref}</cbc:ID>"
        "</cac:ContractDocumentReference>"
        if contract_ref
        else ""
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>{_PEPPOL}</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-04-02</cbc:IssueDate>
  {type_code}
  <cbc:DocumentCurrencyCode>{currency}</cbc:DocumentCurrencyCode>
  {buyer}
  {_period_xml(period)}
  {order}
  {billing}
  {contract}
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Bostedet Testlund</cbc:Name></cac:PartyName>
    <cac:PartyLegalEntity>
      <cbc:RegistrationName>Bostedet Testlund ApS</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0184">{cvr}</cbc:CompanyID>
    </cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{currency}">{amount}</cbc:LineExtensionAmount>
    <cbc:PayableAmount currencyID="{currency}">{amount}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:{line}>
    <cbc:ID>1</cbc:ID>
    <cbc:{quantity} unitCode="DAY">31</cbc:{quantity}>
    <cbc:LineExtensionAmount currencyID="{currency}">{amount}</cbc:LineExtensionAmount>
    {_period_xml(line_period)}
    <cac:Item><cbc:Name>Døgntakst</cbc:Name></cac:Item>
  </cac:{line}>
</{root}>
"""
    return read_einvoice(xml.encode("utf-8"))


def _checked(
    session: Session,
    invoice: EInvoice,
    *,
    contract_id: int | None = None,
    period: tuple[date, date] | None = None,
) -> BatchLine:
    """The invoice checked alone, as the E-fakturaer page checks it (with the user's fix)."""
    match = match_einvoice(session=session, invoice=invoice)
    files = [BatchFile(1, "faktura.xml", invoice, match)]
    fixes = {1: Fix(contract_id=contract_id, period=period)}
    (line,) = check_batch(session=session, files=files, fixes=fixes).lines
    return line


@pytest.fixture
def two_in_force(session: Session) -> dict[str, int]:
    """A provider with two contracts in force in March 2026 (the SPEC 4.2 example is the
    first), one ended before it and one draft."""
    provider = make_provider(session)
    first = make_contract(session, provider)
    second = make_contract(
        session,
        provider,
        case_ref="SAG-2025-0002",
        start_date=date(2025, 1, 1),
        price=Decimal("61000.00"),
        price_unit="maaned",
        price_base_date=date(2025, 1, 1),
    )
    ended = make_contract(
        session, provider, case_ref="SAG-2023-0003", start_date=date(2023, 1, 1),
        end_date=date(2025, 12, 31), price_base_date=date(2023, 1, 1),
    )  # fmt: skip
    draft = make_contract(session, provider, case_ref="SAG-2026-0004", status="kladde")
    session.commit()
    return {
        "provider": provider.id or 0,
        "first": first.id or 0,
        "second": second.id or 0,
        "ended": ended.id or 0,
        "draft": draft.id or 0,
    }


def test_matched_by_contract_reference(session: Session, two_in_force: dict[str, int]) -> None:
    match = match_einvoice(session=session, invoice=_einvoice(contract_ref="sag-2025-0002"))

    assert two_in_force["provider"] == match.provider_id
    assert "Bostedet Testlund" == match.provider_name
    assert two_in_force["second"] == match.contract_id
    assert "SAG-2025-0002" == match.case_ref
    assert HOW_CONTRACT_REFERENCE == match.how
    assert MARCH_2026 == match.period
    assert Decimal("66000.00") == match.net_amount
    assert () == match.reasons
    assert match.checkable


@pytest.mark.parametrize(
    ("references", "how"),
    [
        ({"buyer_ref": "SAG-2024-0001"}, HOW_BUYER_REFERENCE),
        ({"buyer_ref": "sag-2024-0001"}, HOW_BUYER_REFERENCE),
        ({"order_ref": "Sag-2024-0001", "buyer_ref": "SAG-2025-0002"}, HOW_ORDER_REFERENCE),
        # A contract reference that is no case reference of the provider falls through.
        ({"contract_ref": "RAMME-17", "buyer_ref": "SAG-2024-0001"}, HOW_BUYER_REFERENCE),
    ],
)
def test_matched_by_case_reference_in_order_or_buyer_reference(
    session: Session, two_in_force: dict[str, int], references: dict[str, str], how: str
) -> None:
    match = match_einvoice(session=session, invoice=_einvoice(**references))

    assert two_in_force["first"] == match.contract_id
    assert how == match.how
    assert () == match.reasons


def test_matched_as_the_only_contract_in_force(session: Session) -> None:
    provider = make_provider(session)
    in_force = make_contract(session, provider)
    make_contract(
        session, provider, case_ref="SAG-2023-0003", start_date=date(2023, 1, 1),
        end_date=date(2025, 12, 31), price_base_date=date(2023, 1, 1),
    )  # fmt: skip
    make_contract(session, provider, case_ref="SAG-2026-0004", status="kladde")
    make_contract(session, provider, case_ref="SAG-2026-0005", start_date=date(2026, 4, 1))
    session.commit()

    match = match_einvoice(session=session, invoice=_einvoice(buyer_ref="PO-4711"))

    assert in_force.id == match.contract_id
    assert HOW_ONLY_IN_FORCE == match.how
    assert match.checkable


def test_two_contracts_in_force_leave_the_choice_to_the_user(
    session: Session, two_in_force: dict[str, int]
) -> None:
    match = match_einvoice(session=session, invoice=_einvoice())

    assert two_in_force["provider"] == match.provider_id
    assert match.contract_id is None
    assert match.how is None
    assert not match.checkable
    assert {two_in_force["first"], two_in_force["second"]} == {
        candidate.id for candidate in match.contract_candidates
    }
    assert 1 == len(match.reasons)
    assert "2 af kontrakterne hos Bostedet Testlund er i kraft" in match.reasons[0]
    assert "vælg" in match.reasons[0]

    chosen = _checked(session, _einvoice(), contract_id=two_in_force["first"])
    assert HOW_CHOSEN == chosen.how
    assert chosen.message is None
    assert Decimal("64504.80") == chosen.expected


def test_unknown_cvr(session: Session, two_in_force: dict[str, int]) -> None:
    match = match_einvoice(session=session, invoice=_einvoice(cvr="DK12345674"))

    assert match.provider_id is None
    assert match.contract_id is None
    assert "12345674" == match.supplier_cvr
    assert any(r.startswith("Ingen leverandør har CVR-nummeret 12345674") for r in match.reasons)
    line = _checked(session, _einvoice(cvr="DK12345674"))
    assert line.message is not None
    assert line.message.startswith("Ingen leverandør har CVR-nummeret 12345674")
    assert line.expected is None


def test_several_providers_with_the_cvr_ask_to_choose(session: Session) -> None:
    first = make_provider(session)
    second = make_provider(session, name="Bostedet Testlund Syd")
    session.commit()

    match = match_einvoice(session=session, invoice=_einvoice())

    assert match.provider_id is None
    assert {first.id, second.id} == {p.id for p in match.provider_candidates}
    assert any("2 leverandører har CVR-nummeret 10000009" in r for r in match.reasons)


def test_no_period_is_asked_for(session: Session, two_in_force: dict[str, int]) -> None:
    match = match_einvoice(
        session=session, invoice=_einvoice(period=None, contract_ref="SAG-2024-0001")
    )

    assert match.period is None
    assert two_in_force["first"] == match.contract_id
    assert NO_PERIOD in match.reasons
    assert not match.checkable
    invoice = _einvoice(period=None, contract_ref="SAG-2024-0001")
    assert NO_PERIOD == _checked(session, invoice).message

    given = _checked(session, invoice, period=MARCH_2026)
    assert given.message is None
    assert Decimal("64504.80") == given.expected


def test_no_period_and_no_reference_lists_the_contracts(
    session: Session, two_in_force: dict[str, int]
) -> None:
    match = match_einvoice(session=session, invoice=_einvoice(period=None))

    assert match.contract_id is None
    assert NO_PERIOD in match.reasons
    assert {two_in_force["first"], two_in_force["second"], two_in_force["ended"]} == {
        candidate.id for candidate in match.contract_candidates
    }


def test_period_from_the_lines_when_the_header_has_none(
    session: Session, two_in_force: dict[str, int]
) -> None:
    lines = (date(2026, 3, 16), date(2026, 3, 31))
    match = match_einvoice(
        session=session,
        invoice=_einvoice(period=None, line_period=lines, buyer_ref="SAG-2024-0001"),
    )

    assert lines == match.period
    assert match.checkable


def test_non_dkk_is_not_checkable(session: Session, two_in_force: dict[str, int]) -> None:
    match = match_einvoice(
        session=session, invoice=_einvoice(currency="EUR", contract_ref="SAG-2024-0001")
    )

    assert "EUR" == match.currency
    assert any(r.startswith("Fakturaen er i EUR, ikke DKK") for r in match.reasons)
    assert not match.checkable
    line = _checked(session, _einvoice(currency="EUR", contract_ref="SAG-2024-0001"))
    assert line.expected is None
    assert line.message is not None and "ikke DKK" in line.message


def test_credit_note_counts_negative(session: Session, two_in_force: dict[str, int]) -> None:
    match = match_einvoice(
        session=session,
        invoice=_einvoice(credit_note=True, amount="2080.80", contract_ref="SAG-2024-0001"),
    )

    assert DocumentKind.CREDIT_NOTE == match.kind
    assert Decimal("-2080.80") == match.net_amount
    assert "F-1001" == match.credited_invoice
    assert two_in_force["first"] == match.contract_id
    alone = _checked(
        session,
        _einvoice(credit_note=True, amount="2080.80", contract_ref="SAG-2024-0001"),
    )
    assert alone.expected is None
    assert alone.message is not None
    assert (
        "Faktura »F-1001« findes ikke for samme kontrakt og periode (den skal være "
        "kontrolleret før eller stå tidligere blandt filerne)" == alone.message
    )


def test_preview_matches_the_invoice_typed_by_hand(
    session: Session, two_in_force: dict[str, int]
) -> None:
    """SPEC 4.2–4.3: 66.000,00 kr. for March 2026 → expected 64.504,80, deviation 1.495,20."""
    match = match_einvoice(session=session, invoice=_einvoice(contract_ref="SAG-2024-0001"))
    typed = preview_invoice_check(
        session=session,
        data={
            "contract_id": two_in_force["first"],
            "invoice_no": "F-1001",
            "period_from": MARCH_2026[0],
            "period_to": MARCH_2026[1],
            "invoiced": Decimal("66000.00"),
        },
    )

    line = _checked(session, _einvoice(contract_ref="SAG-2024-0001"))

    assert match.checkable
    assert line.message is None
    assert typed.expected.total == line.expected == Decimal("64504.80")
    assert typed.deviation.amount == line.deviation == Decimal("1495.20")
    assert typed.deviation.flagged and line.flagged
    assert HOW_CONTRACT_REFERENCE == line.how
    assert 0 == session.exec(select(func.count()).select_from(InvoiceCheck)).one()


def test_preview_gives_reasons_instead_of_raising(
    session: Session, two_in_force: dict[str, int]
) -> None:
    invoice = _einvoice(contract_ref="SAG-2024-0001")
    other = make_contract(session, make_provider(session, name="Bo Nord", cvr="12345674"))
    session.commit()

    outside = _checked(session, invoice, period=(date(2024, 1, 1), date(2024, 1, 31)))
    assert "Perioden ligger uden for kontraktens løbetid" == outside.message

    backwards = _checked(session, invoice, period=(date(2026, 3, 31), date(2026, 3, 1)))
    assert backwards.message is not None
    assert "Perioden skal slutte efter den begynder" in backwards.message

    foreign = _checked(session, invoice, contract_id=other.id)
    assert foreign.message is not None
    assert (
        "Kontrakten SAG-2024-0001 hører til Bo Nord (CVR 12345674), ikke til leverandøren på "
        "fakturaen" == foreign.message
    )

    missing = _checked(session, invoice, contract_id=999_999)
    assert "Den valgte kontrakt findes ikke længere – vælg en anden" == missing.message
    assert missing.expected is None
    assert 0 == session.exec(select(func.count()).select_from(InvoiceCheck)).one()
