"""Demo e-invoices a newcomer can upload on E-fakturaer while the demo data is in (issue 13).

Made from the database, since the demo's contracts and prices follow the day it was seeded:
last month's invoices for contracts in force all that month, as a zip of XML files.

- `01`–`02`: OIOUBL 2.1 and Peppol BIS 3 invoices for the amount their contract expects, one
  matched by its contract reference, one by the case reference in the order reference;
- `03`: an OIOUBL 2.1 invoice 6 % above the expected amount (flagged);
- `04`: a Peppol BIS 3 credit note for part of it (it reduces invoice `03`);
- `05`: a Peppol BIS 3 invoice from a provider with several contracts in force and no reference
  (the user picks the contract);
- `06`: an OIOUBL 2.1 invoice from a CVR no provider has (it cannot be matched).
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from sqlmodel import Session, select

from models import Provider, ProviderKind
from services.imports.examples import contracts_in_force, expected_for, last_month

OIOUBL_21 = "OIOUBL-2.1"
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
UNKNOWN_CVR = "29403473"  # passes modulus 11; no demo provider has it
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@dataclass(frozen=True)
class Doc:
    file_name: str
    customization: str
    number: str
    supplier_cvr: str
    supplier_name: str
    period: tuple[date, date]
    amount: Decimal
    item: str
    contract_reference: str | None = None
    order_reference: str | None = None
    credits: str | None = None  # a credit note: the invoice it credits


def _money(amount: Decimal) -> str:
    return f'currencyID="DKK">{amount:.2f}'


def xml_of(doc: Doc) -> bytes:
    credit = doc.credits is not None
    root, line, quantity = (
        ("CreditNote", "CreditNoteLine", "CreditedQuantity")
        if credit
        else ("Invoice", "InvoiceLine", "InvoicedQuantity")
    )
    oioubl = doc.customization == OIOUBL_21
    cvr = f"DK{doc.supplier_cvr}" if oioubl else doc.supplier_cvr
    scheme = "DK:CVR" if oioubl else "0184"
    type_code = (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"
        if credit
        else "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>"
    )
    start, end = doc.period
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
        f'xmlns:cac="{_CAC}" xmlns:cbc="{_CBC}">',
        "<cbc:UBLVersionID>2.1</cbc:UBLVersionID>" if oioubl else "",
        f"<cbc:CustomizationID>{escape(doc.customization)}</cbc:CustomizationID>",
        f"<cbc:ID>{escape(doc.number)}</cbc:ID>",
        f"<cbc:IssueDate>{end:%Y-%m-%d}</cbc:IssueDate>",
        type_code,
        "<cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>",
        "<cbc:BuyerReference>Socialforvaltningen</cbc:BuyerReference>",
        f"<cac:InvoicePeriod><cbc:StartDate>{start:%Y-%m-%d}</cbc:StartDate>"
        f"<cbc:EndDate>{end:%Y-%m-%d}</cbc:EndDate></cac:InvoicePeriod>",
    ]
    if doc.order_reference:
        parts.append(
            f"<cac:OrderReference><cbc:ID>{escape(doc.order_reference)}</cbc:ID>"
            "</cac:OrderReference>"
        )
    if doc.credits:
        parts.append(
            "<cac:BillingReference><cac:InvoiceDocumentReference>"
            f"<cbc:ID>{escape(doc.credits)}</cbc:ID>"
            "</cac:InvoiceDocumentReference></cac:BillingReference>"
        )
    if doc.contract_reference:
        parts.append(
            f"<cac:ContractDocumentReference><cbc:ID>{escape(doc.contract_reference)}</cbc:ID>"
            "</cac:ContractDocumentReference>"
        )
    name = escape(doc.supplier_name)
    parts += [
        "<cac:AccountingSupplierParty><cac:Party>",
        f"<cbc:EndpointID schemeID={quoteattr(scheme)}>{cvr}</cbc:EndpointID>",
        f"<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>",
        "<cac:PartyLegalEntity>",
        f"<cbc:RegistrationName>{name}</cbc:RegistrationName>",
        f"<cbc:CompanyID schemeID={quoteattr(scheme)}>{cvr}</cbc:CompanyID>",
        "</cac:PartyLegalEntity>",
        "</cac:Party></cac:AccountingSupplierParty>",
        "<cac:AccountingCustomerParty><cac:Party>",
        '<cbc:EndpointID schemeID="0088">5798000000007</cbc:EndpointID>',
        "<cac:PartyName><cbc:Name>Demo Kommune</cbc:Name></cac:PartyName>",
        "</cac:Party></cac:AccountingCustomerParty>",
        # Social services are exempt from VAT. In OIOUBL 2.x TaxExclusiveAmount holds the VAT
        # total (0,00 here), which is why the net amount is never read from it.
        f"<cac:TaxTotal><cbc:TaxAmount {_money(Decimal(0))}</cbc:TaxAmount></cac:TaxTotal>",
        "<cac:LegalMonetaryTotal>",
        f"<cbc:LineExtensionAmount {_money(doc.amount)}</cbc:LineExtensionAmount>",
        f"<cbc:TaxExclusiveAmount {_money(Decimal(0) if oioubl else doc.amount)}"
        "</cbc:TaxExclusiveAmount>",
        f"<cbc:TaxInclusiveAmount {_money(doc.amount)}</cbc:TaxInclusiveAmount>",
        f"<cbc:PayableAmount {_money(doc.amount)}</cbc:PayableAmount>",
        "</cac:LegalMonetaryTotal>",
        f"<cac:{line}>",
        "<cbc:ID>1</cbc:ID>",
        f'<cbc:{quantity} unitCode="MON">1</cbc:{quantity}>',
        f"<cbc:LineExtensionAmount {_money(doc.amount)}</cbc:LineExtensionAmount>",
        f"<cac:Item><cbc:Name>{escape(doc.item)}</cbc:Name></cac:Item>",
        f"<cac:Price><cbc:PriceAmount {_money(doc.amount)}</cbc:PriceAmount></cac:Price>",
        f"</cac:{line}>",
        f"</{root}>",
    ]
    return "\n".join(p for p in parts if p).encode("utf-8")


def _documents(session: Session, today: date) -> list[Doc]:
    first, last = last_month(today)
    own = set(session.exec(select(Provider.id).where(Provider.kind == ProviderKind.OWN)))
    rows = [
        (c, cvr, name)
        for c, cvr, name in contracts_in_force(session, first, last)
        if cvr and c.provider_id not in own
    ]
    if not rows:
        return []
    by_provider: dict[int, int] = {}
    for contract, _, _ in rows:
        by_provider[contract.provider_id] = by_provider.get(contract.provider_id, 0) + 1
    single = [r for r in rows if by_provider[r[0].provider_id] == 1] or rows
    # The provider with the fewest contracts in force beyond one: a short list to pick from.
    several = sorted(
        (r for r in rows if by_provider[r[0].provider_id] > 1),
        key=lambda r: (by_provider[r[0].provider_id], r[0].provider_id),
    )
    month = f"{first:%Y%m}"
    period = (first, last)
    item = f"Botilbud, {first:%m-%Y}"
    docs: list[Doc] = []

    def invoice(index: int, customization: str, factor: Decimal = Decimal(1), **refs: str) -> Doc:
        contract, cvr, name = single[index % len(single)]
        expected = expected_for(session, contract, first, last)
        return Doc(
            file_name=f"{len(docs) + 1:02d}_faktura.xml",
            customization=customization,
            number=f"E-{month}-{len(docs) + 1:03d}",
            supplier_cvr=cvr,
            supplier_name=name,
            period=period,
            amount=(expected * factor).quantize(Decimal("0.01")),
            item=item,
            **refs,
        )

    docs.append(invoice(0, OIOUBL_21, contract_reference=single[0][0].case_ref))
    docs.append(invoice(1, PEPPOL, order_reference=single[1 % len(single)][0].case_ref))
    flagged = invoice(
        2, OIOUBL_21, Decimal("1.06"), contract_reference=single[2 % len(single)][0].case_ref
    )
    docs.append(flagged)
    contract, cvr, name = single[2 % len(single)]
    excess = flagged.amount - expected_for(session, contract, first, last)
    docs.append(
        Doc(
            file_name="04_kreditnota.xml",
            customization=PEPPOL,
            number=f"K-{month}-001",
            supplier_cvr=cvr,
            supplier_name=name,
            period=period,
            amount=(excess / 2).quantize(Decimal("0.01")),
            item=f"Kreditering af for meget faktureret, {first:%m-%Y}",
            credits=flagged.number,
        )
    )
    if several:
        contract, cvr, name = several[0]
        docs.append(
            Doc(
                file_name="05_faktura_uden_reference.xml",
                customization=PEPPOL,
                number=f"E-{month}-005",
                supplier_cvr=cvr,
                supplier_name=name,
                period=period,
                amount=expected_for(session, contract, first, last),
                item=item,
            )
        )
    docs.append(
        Doc(
            file_name="06_ukendt_leverandoer.xml",
            customization=OIOUBL_21,
            number=f"E-{month}-006",
            supplier_cvr=UNKNOWN_CVR,
            supplier_name="Bofællesskabet Ukendt ApS",
            period=period,
            amount=Decimal("48500.00"),
            item=item,
        )
    )
    return docs


def einvoice_examples(*, session: Session, today: date) -> bytes:
    """A zip of last month's demo e-invoices (see the module docstring)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in _documents(session, today):
            archive.writestr(doc.file_name, xml_of(doc))
    return buffer.getvalue()
