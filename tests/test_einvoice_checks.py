"""Synthetic care-place e-invoices read, matched, checked and saved (SPEC 4.2, 4.3, 4.9; issue
13) on SQLite and PostgreSQL. Every expected amount is worked out by hand from SPEC 4.1–4.2:
the contract is 2.000,00 kr./dag from 2024-03-01, regulated 2 % each 1 January (2.040,00 in
2025, 2.080,80 in 2026), unless a test says otherwise."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import DeviationEvent, InvoiceCheck
from services.contracts import add_addon
from services.einvoice.batch import BatchFile, check_batch, save_einvoices
from services.einvoice.matching import match_einvoice
from services.einvoice.reader import EInvoice, read_einvoice
from services.errors import InputError
from services.invoices import ALREADY_CHECKED
from tests.factories import USER, make_contract, make_provider

CVR = "10000009"  # make_provider's
OIOUBL = "OIOUBL-2.1"
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
Line = tuple[str, str, str, tuple[date, date] | None]  # quantity, unit code, amount, period


def _period(element: str, period: tuple[date, date] | None) -> str:
    if period is None:
        return ""
    return (
        f"<cac:{element}><cbc:StartDate>{period[0]}</cbc:StartDate>"
        f"<cbc:EndDate>{period[1]}</cbc:EndDate></cac:{element}>"
    )


def _care_invoice(
    number: str,
    lines: list[Line],
    *,
    period: tuple[date, date] | None = None,
    contract_ref: str = "SAG-2024-0001",
    dialect: str = PEPPOL,
    credits: str | None = None,
) -> EInvoice:
    """An invoice (or, with `credits`, a credit note) of several lines, as a provider's system
    writes it: in OIOUBL 2.1 the CVR carries the DK prefix and TaxExclusiveAmount the VAT."""
    root, line_tag, quantity_tag = (
        ("CreditNote", "CreditNoteLine", "CreditedQuantity")
        if credits
        else ("Invoice", "InvoiceLine", "InvoicedQuantity")
    )
    total = sum((Decimal(amount) for _, _, amount, _ in lines), Decimal(0))
    oioubl = dialect == OIOUBL
    cvr, scheme = (f"DK{CVR}", "DK:CVR") if oioubl else (CVR, "0184")
    body = "".join(
        f"<cac:{line_tag}><cbc:ID>{i}</cbc:ID>"
        f'<cbc:{quantity_tag} unitCode="{unit}">{quantity}</cbc:{quantity_tag}>'
        f'<cbc:LineExtensionAmount currencyID="DKK">{amount}</cbc:LineExtensionAmount>'
        f"{_period('InvoicePeriod', line_period)}"
        f"<cac:Item><cbc:Name>Linje {i}</cbc:Name></cac:Item></cac:{line_tag}>"
        for i, (quantity, unit, amount, line_period) in enumerate(lines, start=1)
    )
    billing = (
        "<cac:BillingReference><cac:InvoiceDocumentReference>"
        f"<cbc:ID>{credits}</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"
        if credits
        else ""
    )
    type_code = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credits
        else "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>{dialect}</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-04-02</cbc:IssueDate>
  {type_code}
  <cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>
  {_period("InvoicePeriod", period)}
  {billing}
  <cac:ContractDocumentReference><cbc:ID>{contract_ref}</cbc:ID></cac:ContractDocumentReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Bostedet Testlund</cbc:Name></cac:PartyName>
    <cac:PartyLegalEntity><cbc:RegistrationName>Bostedet Testlund ApS</cbc:RegistrationName>
      <cbc:CompanyID schemeID="{scheme}">{cvr}</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="DKK">{total}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="DKK">{"0.00" if oioubl else total}</cbc:TaxExclusiveAmount>
    <cbc:PayableAmount currencyID="DKK">{total}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  {body}
</{root}>"""
    return read_einvoice(xml.encode("utf-8"))


def _files(session: Session, *invoices: EInvoice) -> list[BatchFile]:
    return [
        BatchFile(n, f"{n}.xml", invoice, match_einvoice(session=session, invoice=invoice))
        for n, invoice in enumerate(invoices, start=1)
    ]


def _one(session: Session, invoice: EInvoice) -> tuple[Decimal | None, Decimal | None, bool]:
    (line,) = check_batch(session=session, files=_files(session, invoice)).lines
    assert line.message is None, line.message
    return line.expected, line.deviation, line.flagged


MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def contract_id(session: Session) -> int:
    contract = make_contract(session, make_provider(session))
    session.commit()
    return contract.id or 0


def test_daily_lines_with_a_header_period(session: Session, contract_id: int) -> None:
    """31 days × 2.080,80 = 64.504,80 (SPEC 4.2), invoiced as 31 DAY lines' worth."""
    invoice = _care_invoice("F-1", [("31", "DAY", "64504.80", None)], period=MARCH)
    assert (Decimal("64504.80"), Decimal("0.00"), False) == _one(session, invoice)


def test_a_monthly_line_and_an_add_on_line(session: Session, contract_id: int) -> None:
    """With an add-on of 4.500,00 kr./måned from 2026-01-01: 64.504,80 + 4.500,00 = 69.004,80;
    the provider's two lines (daily rate and add-on) add up to the same."""
    add_addon(
        session=session,
        user=USER,
        data={
            "contract_id": contract_id,
            "name": "Ekstra støtte",
            "price": "4.500,00",
            "unit": "maaned",
            "valid_from": date(2026, 1, 1),
        },
    )
    invoice = _care_invoice(
        "F-2",
        [("31", "DAY", "64504.80", MARCH), ("1", "MON", "4500.00", MARCH)],
        dialect=OIOUBL,
    )
    assert invoice.period == MARCH  # from the lines: no header period
    assert Decimal("0.00") == invoice.tax_exclusive_amount  # OIOUBL 2.x: the VAT, not the net
    assert (Decimal("69004.80"), Decimal("0.00"), False) == _one(session, invoice)


def test_half_a_month_of_a_monthly_price(session: Session) -> None:
    """60.000,00 kr./måned from 2026-01-01, 16.–31. March: 60.000 / 31 × 16 = 30.967,74."""
    make_contract(
        session,
        make_provider(session),
        start_date=date(2026, 1, 1),
        price=Decimal("60000.00"),
        price_unit="maaned",
        price_base_date=date(2026, 1, 1),
    )
    session.commit()
    half = (date(2026, 3, 16), date(2026, 3, 31))
    invoice = _care_invoice("F-3", [("16", "DAY", "30967.74", half)])
    assert (Decimal("30967.74"), Decimal("0.00"), False) == _one(session, invoice)


def test_a_period_across_the_regulation_day(session: Session, contract_id: int) -> None:
    """16.12.2025–15.01.2026: 16 days × 2.040,00 + 15 days × 2.080,80 = 32.640,00 + 31.212,00
    = 63.852,00. An invoice at the old rate all through (31 × 2.040,00 = 63.240,00) is 612,00
    under expected; one at the new rate all through (64.504,80) is 652,80 over: flagged."""
    period = (date(2025, 12, 16), date(2026, 1, 15))
    lines: list[Line] = [
        ("16", "DAY", "32640.00", (date(2025, 12, 16), date(2025, 12, 31))),
        ("15", "DAY", "31212.00", (date(2026, 1, 1), date(2026, 1, 15))),
    ]
    assert (Decimal("63852.00"), Decimal("0.00"), False) == _one(
        session, _care_invoice("F-4", lines, period=period)
    )
    old_rate = _care_invoice("F-5", [("31", "DAY", "63240.00", None)], period=period)
    (line,) = check_batch(session=session, files=_files(session, old_rate)).lines
    assert (Decimal("-612.00"), False, True) == (line.deviation, line.flagged, line.under_expected)
    new_rate = _care_invoice("F-6", [("31", "DAY", "64504.80", None)], period=period)
    assert (Decimal("63852.00"), Decimal("652.80"), True) == _one(session, new_rate)


def test_a_credit_note_reduces_its_invoice_and_both_are_saved_together(
    session: Session, contract_id: int
) -> None:
    """SPEC 4.3's example: 66.000,00 for March is 1.495,20 over (flagged); a credit note of
    1.495,20 without a period of its own takes the invoice's contract and period."""
    invoice = _care_invoice("F-7", [("31", "DAY", "66000.00", None)], period=MARCH)
    credit = _care_invoice("K-7", [("1", "MON", "1495.20", None)], credits="F-7")
    assert credit.period is None
    files = _files(session, credit, invoice)  # the credit note first in the upload
    check = save_einvoices(session=session, files=files, user=USER)

    assert ["som faktura F-7", "kontraktreference"] == [line.how for line in check.lines]
    checks = {c.invoice_no: c for c in session.exec(select(InvoiceCheck))}
    assert (Decimal("66000.00"), Decimal("1495.20"), True, "ny") == (
        checks["F-7"].invoiced,
        checks["F-7"].deviation,
        checks["F-7"].flagged,
        checks["F-7"].status,
    )
    assert (Decimal("-1495.20"), checks["F-7"].id) == (
        checks["K-7"].invoiced,
        checks["K-7"].credits_id,
    )
    assert (checks["K-7"].period_from, checks["K-7"].period_to) == MARCH
    events = session.exec(
        select(DeviationEvent).where(DeviationEvent.invoice_check_id == checks["F-7"].id)
    ).all()
    assert any(e.note and "K-7" in e.note for e in events)  # the credit is in its history


def test_the_same_invoice_twice_is_refused_and_nothing_is_written(
    session: Session, contract_id: int
) -> None:
    invoice = _care_invoice("F-8", [("31", "DAY", "64504.80", None)], period=MARCH)
    again = _care_invoice("F-8", [("31", "DAY", "64504.80", None)], period=MARCH)
    files = _files(session, invoice, again)
    check = check_batch(session=session, files=files)
    assert [line.message for line in check.lines] == [
        "Samme faktura (nummer og periode) står også i nr. 2",
        "Samme faktura (nummer og periode) står også i nr. 1",
    ]
    with pytest.raises(InputError):
        save_einvoices(session=session, files=files, user=USER)
    assert [] == session.exec(select(InvoiceCheck)).all()

    save_einvoices(session=session, files=_files(session, invoice), user=USER)
    (line,) = check_batch(session=session, files=_files(session, again)).lines
    assert ALREADY_CHECKED == line.message


def test_a_credit_note_the_user_gave_a_period_keeps_it(session: Session, contract_id: int) -> None:
    """Without a fix a credit note takes its invoice's period; a period the user states for it
    wins (and then it must match an invoice of that period)."""
    from services.einvoice.batch import Fix

    invoice = _care_invoice("F-9", [("31", "DAY", "66000.00", None)], period=MARCH)
    credit = _care_invoice("K-9", [("1", "MON", "100.00", None)], credits="F-9")
    files = _files(session, invoice, credit)
    assert MARCH == check_batch(session=session, files=files).lines[1].period
    april = (date(2026, 4, 1), date(2026, 4, 30))
    fixed = check_batch(session=session, files=files, fixes={2: Fix(period=april)}).lines[1]
    assert april == fixed.period
    assert fixed.message is not None and "Faktura »F-9« findes ikke" in fixed.message
