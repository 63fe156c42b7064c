"""The hardened e-invoice reader (SPEC 4.9 and 9): OIOUBL 2.x, OIOUBL 3, Peppol BIS 3."""

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from services.einvoice import (
    Dialect,
    DocumentKind,
    EInvoice,
    EInvoiceError,
    read_einvoice,
    read_many,
)
from services.einvoice.reader import _parser

FIXTURES = Path(__file__).parent / "fixtures" / "einvoice"
MONTHLY = "oioubl21_monthly_invoice.xml"
DAILY = "peppol_daily_invoice.xml"
CREDIT_NOTE = "oioubl3_credit_note.xml"
ANNUAL = "oioubl202_annual_invoice.xml"
CPR = "0101901234"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(name: str) -> EInvoice:
    return read_einvoice(fixture(name))


def error_of(data: bytes) -> str:
    with pytest.raises(EInvoiceError) as caught:
        read_einvoice(data)
    return caught.value.message


def minimal(
    *,
    customization: str = "OIOUBL-2.1",
    supplier: str = '<cbc:EndpointID schemeID="DK:CVR">DK12345678</cbc:EndpointID>',
    amount: str = "100.00",
    line: str = "",
    root: str = "Invoice",
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>{customization}</cbc:CustomizationID>
  <cbc:ID>F-1</cbc:ID>
  <cbc:IssueDate>2026-11-01</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>{supplier}
    <cac:PartyName><cbc:Name>Bostedet</cbc:Name></cac:PartyName>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="DKK">{amount}</cbc:LineExtensionAmount>
  </cac:LegalMonetaryTotal>{line}
</{root}>""".encode()


# -- the fixtures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dialect", "kind"),
    [
        (MONTHLY, Dialect.OIOUBL_2, DocumentKind.INVOICE),
        (ANNUAL, Dialect.OIOUBL_2, DocumentKind.INVOICE),
        (DAILY, Dialect.PEPPOL_BIS_3, DocumentKind.INVOICE),
        (CREDIT_NOTE, Dialect.OIOUBL_3, DocumentKind.CREDIT_NOTE),
    ],
)
def test_dialect_and_kind(name: str, dialect: Dialect, kind: DocumentKind) -> None:
    invoice = read(name)
    assert (dialect, kind) == (invoice.dialect, invoice.kind)


def test_oioubl_2_monthly_invoice() -> None:
    invoice = read(MONTHLY)
    assert "2026-1107" == invoice.number
    assert date(2026, 11, 3) == invoice.issue_date
    assert "380" == invoice.type_code
    assert "DKK" == invoice.currency
    assert "Bostedet Lærkereden ApS" == invoice.supplier_name
    assert "12345678" == invoice.supplier_cvr  # "DK 1234 5678" in the legal entity
    assert "5798000000007" == invoice.buyer_endpoint
    assert "KON-2025-118" == invoice.contract_reference
    assert "SAG-2026-0412" == invoice.order_reference
    assert (date(2026, 11, 1), date(2026, 11, 30)) == invoice.period
    assert [("MON", Decimal("1")), ("HUR", Decimal("8"))] == [
        (line.unit_code, line.quantity) for line in invoice.lines
    ]
    monthly = invoice.lines[0]
    assert Decimal("63280.80") == monthly.line_extension_amount
    assert Decimal("63280.80") == monthly.price_amount
    assert "Botilbudsplads, månedstakst" == monthly.item_name
    assert (date(2026, 11, 1), date(2026, 11, 30)) == (monthly.period_start, monthly.period_end)
    assert "Tillæg, ekstra personale" == invoice.lines[1].item_name


def test_net_amount_never_taken_from_tax_exclusive_amount_in_oioubl_2() -> None:
    invoice = read(MONTHLY)
    assert Decimal("300.00") == invoice.tax_exclusive_amount  # the VAT total: the trap
    assert Decimal("300.00") == invoice.tax_amount
    assert Decimal("64480.80") == invoice.net_amount
    assert Decimal("64780.80") == invoice.payable_amount


def test_supplier_identifiers_keep_their_order_and_scheme() -> None:
    invoice = read(MONTHLY)
    assert [
        ("CVR", "12345678", "PartyLegalEntity/CompanyID"),
        ("GLN", "5790000123456", "EndpointID"),
        ("CVR", "12345678", "PartyIdentification/ID"),
        ("SE", "12345678", "PartyTaxScheme/CompanyID"),
    ] == [(i.scheme, i.value, i.source) for i in invoice.supplier_identifiers]


def test_peppol_daily_invoice_with_absence_days_allowance_and_charge() -> None:
    invoice = read(DAILY)
    assert "87654321" == invoice.supplier_cvr  # ICD 0184, "DK" prefix on the endpoint
    assert "SAG-2025-0077" == invoice.buyer_reference
    assert "PO-4711" == invoice.order_reference
    assert [Decimal("30"), Decimal("-2"), Decimal("1")] == [line.quantity for line in invoice.lines]
    assert ["DAY", "DAY", "MON"] == [line.unit_code for line in invoice.lines]
    assert Decimal("-4161.60") == invoice.lines[1].line_extension_amount
    assert (Decimal("500.00"), Decimal("250.00")) == (
        invoice.allowance_total,
        invoice.charge_total,
    )
    assert Decimal("59684.40") == invoice.net_amount  # 59934.40 − 500 + 250
    # No header period: the span of the line periods.
    assert (None, None) == (invoice.period_start, invoice.period_end)
    assert (date(2026, 9, 1), date(2026, 9, 30)) == invoice.period


def test_credit_note_refers_to_its_invoice_and_counts_negative() -> None:
    invoice = read(CREDIT_NOTE)
    assert "381" == invoice.type_code
    assert "2026-1107" == invoice.credited_invoice
    assert "KON-2025-118" == invoice.contract_reference
    assert "12345678" == invoice.supplier_cvr
    assert Decimal("20808.00") == invoice.net_amount
    assert Decimal("-20808.00") == invoice.signed_net_amount
    line = invoice.lines[0]
    assert (Decimal("10"), "DAY") == (line.quantity, line.unit_code)
    assert (date(2026, 11, 21), date(2026, 11, 30)) == invoice.period


def test_legal_cvr_wins_over_endpoint_and_missing_period_is_none() -> None:
    invoice = read(ANNUAL)
    assert "55667788" == invoice.supplier_cvr  # the endpoint says 11223344
    assert "11223344" in [i.value for i in invoice.supplier_identifiers]
    assert invoice.period is None
    assert "ANN" == invoice.lines[0].unit_code
    assert Decimal("0.00") == invoice.tax_exclusive_amount
    assert Decimal("759492.00") == invoice.net_amount


def test_utf8_bom_is_accepted() -> None:
    assert "12345678" == read_einvoice(b"\xef\xbb\xbf" + fixture(MONTHLY)).supplier_cvr


def test_odd_currency_spacing_and_spaces_in_amounts() -> None:
    data = fixture(MONTHLY).replace(b'currencyID="DKK"', b'currencyID=" dkk "')
    data = data.replace(b">64480.80<", b"> 64 480.80\n<")
    assert Decimal("64480.80") == read_einvoice(data).net_amount


@pytest.mark.parametrize(
    ("customization", "dialect"),
    [
        ("OIOUBL-2.01", Dialect.OIOUBL_2),
        ("OIOUBL-2.02", Dialect.OIOUBL_2),
        (" OIOUBL-2.1 ", Dialect.OIOUBL_2),
        ("urn:fdc:oioubl.dk:trns:billing:invoice:3.0", Dialect.OIOUBL_3),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
            Dialect.PEPPOL_BIS_3,
        ),
    ],
)
def test_dialect_from_customization_id(customization: str, dialect: Dialect) -> None:
    assert dialect == read_einvoice(minimal(customization=customization)).dialect


def test_unknown_customization_is_refused() -> None:
    assert "OIOUBL eller Peppol BIS 3" in error_of(minimal(customization="urn:example:other"))


def test_invoice_root_with_credit_type_code_is_a_credit_note() -> None:
    data = minimal().replace(
        b"<cbc:DocumentCurrencyCode>",
        b"<cbc:InvoiceTypeCode>381</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>",
    )
    assert DocumentKind.CREDIT_NOTE == read_einvoice(data).kind


@pytest.mark.parametrize("amount", ["64.480,80", "1e3", "NaN", "Infinity", "1_000", "", "12.-"])
def test_malformed_amount_names_the_element(amount: str) -> None:
    assert "LineExtensionAmount" in error_of(minimal(amount=amount))


def test_amount_in_another_currency_is_refused() -> None:
    data = minimal().replace(b'currencyID="DKK"', b'currencyID="EUR"')
    assert "anden valuta" in error_of(data)


def test_malformed_date_names_the_element() -> None:
    data = minimal().replace(b"2026-11-01", b"01-11-2026")
    assert "IssueDate" in error_of(data)


def test_period_ending_before_it_starts_is_refused() -> None:
    line = """<cac:InvoiceLine><cbc:ID>1</cbc:ID>
      <cbc:InvoicedQuantity unitCode="DAY">1</cbc:InvoicedQuantity>
      <cbc:LineExtensionAmount currencyID="DKK">100.00</cbc:LineExtensionAmount>
      <cac:InvoicePeriod><cbc:StartDate>2026-11-30</cbc:StartDate>
      <cbc:EndDate>2026-11-01</cbc:EndDate></cac:InvoicePeriod></cac:InvoiceLine>"""
    assert "slutter før" in error_of(minimal(line=line))


# -- CPR -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "supplier",
    [
        f'<cbc:EndpointID schemeID="DK:CPR">{CPR}</cbc:EndpointID>',
        f'<cac:PartyIdentification><cbc:ID schemeID="0237">{CPR}</cbc:ID>'
        "</cac:PartyIdentification>",
        f'<cac:PartyLegalEntity><cbc:CompanyID schemeID=" dk:cpr ">{CPR}</cbc:CompanyID>'
        "</cac:PartyLegalEntity>",
        # A CVR legal entity does not save an invoice that also names the supplier by CPR.
        '<cac:PartyLegalEntity><cbc:CompanyID schemeID="DK:CVR">12345678</cbc:CompanyID>'
        f'</cac:PartyLegalEntity><cbc:EndpointID schemeID="DK:CPR">{CPR}</cbc:EndpointID>',
        # No scheme, but the value is a CPR number.
        f"<cac:PartyIdentification><cbc:ID>{CPR[:6]}-{CPR[6:]}</cbc:ID></cac:PartyIdentification>",
    ],
)
def test_supplier_identified_by_cpr_is_refused_without_the_number(supplier: str) -> None:
    message = error_of(minimal(supplier=supplier))
    assert message.startswith("Leverandøren er identificeret med et CPR-nummer")
    assert CPR not in message
    assert CPR[:6] not in message


def test_cpr_number_in_a_line_description_is_refused() -> None:
    line = f"""<cac:InvoiceLine><cbc:ID>1</cbc:ID>
      <cbc:LineExtensionAmount currencyID="DKK">100.00</cbc:LineExtensionAmount>
      <cac:Item><cbc:Description>Borger {CPR[:6]}-{CPR[6:]}</cbc:Description>
      <cbc:Name>Døgntakst</cbc:Name></cac:Item></cac:InvoiceLine>"""
    message = error_of(minimal(line=line))
    assert "CPR-nummer" in message
    assert "linje 1s beskrivelse" in message
    assert CPR[:6] not in message


# -- hostile files -------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&xxe;</cbc:ID>
</Invoice>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice SYSTEM "http://example.invalid/invoice.dtd">
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>"""


@pytest.mark.parametrize(
    "data",
    [
        XXE,
        BILLION_LAUGHS,
        EXTERNAL_DTD,
        b"\xef\xbb\xbf" + XXE,
        XXE.replace(b"<!DOCTYPE", b"<!doctype"),
        # A DOCTYPE after a comment is still before the root.
        XXE.replace(b"<!DOCTYPE", b"<!-- x -->\n<!DOCTYPE"),
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "bom-xxe", "lowercase", "after-comment"],
)
def test_doctype_is_refused(data: bytes) -> None:
    message = error_of(data)
    assert "Filen indeholder en DOCTYPE og afvises." == message
    assert "root:" not in message


def test_parser_itself_neither_reads_files_nor_expands_entities() -> None:
    # The second wall, should the DOCTYPE check ever be bypassed.
    root = etree.fromstring(XXE, parser=_parser())
    assert "root:" not in etree.tostring(root, encoding="unicode")
    try:
        laughs = etree.fromstring(BILLION_LAUGHS, parser=_parser())
    except etree.XMLSyntaxError:
        return
    assert len(etree.tostring(laughs)) < 10_000


def test_utf16_is_refused() -> None:
    data = fixture(ANNUAL).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert "UTF-8" in error_of(data.encode("utf-16"))


def test_file_over_the_size_limit_is_refused_before_parsing() -> None:
    fifty_megabytes = b" " * (50 * 1024 * 1024)  # in memory only; never parsed
    assert "større end 10 MB" in error_of(fifty_megabytes)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"%PDF-1.7 not xml",
        b"<Invoice>",
        b"Faktura 1.234,56 kr.",
        b"PK\x03\x04 a zip given to the single-file reader",
        '<?xml version="1.0"?><Invoice/>'.encode("cp500"),  # EBCDIC, which libxml2 sniffs
    ],
)
def test_not_xml_is_refused(data: bytes) -> None:
    assert error_of(data).startswith("Filen")


@pytest.mark.parametrize(
    "data",
    [
        b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
        b'<Invoice xmlns="urn:example:not-ubl"/>',
        b"<Invoice/>",
        b"<html><body>Faktura</body></html>",
    ],
)
def test_wrong_root_is_refused(data: bytes) -> None:
    assert "Filen er ikke en e-faktura (OIOUBL eller Peppol BIS 3)." == error_of(data)


# -- many files and zips -------------------------------------------------------------------


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_read_many_reads_files_and_zips_and_reports_errors_per_file() -> None:
    archive = zipped({"a/" + DAILY: fixture(DAILY), "noter.txt": b"hej"})
    results = dict(
        read_many(
            [(MONTHLY, fixture(MONTHLY)), ("bilag.zip", archive), ("xxe.xml", XXE)],
        )
    )
    assert [MONTHLY, f"bilag.zip/a/{DAILY}", "bilag.zip/noter.txt", "xxe.xml"] == list(results)
    assert isinstance(results[MONTHLY], EInvoice)
    assert isinstance(results[f"bilag.zip/a/{DAILY}"], EInvoice)
    assert isinstance(results["bilag.zip/noter.txt"], str)
    assert "Filen indeholder en DOCTYPE og afvises." == results["xxe.xml"]


def test_zip_bomb_is_refused_before_unpacking() -> None:
    bomb = zipped({"faktura.xml": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    [(name, result)] = list(read_many([("bombe.zip", bomb)]))
    assert "bombe.zip" == name
    assert isinstance(result, str)
    assert "zip-bombe" in result


def test_zip_with_too_many_entries_or_too_much_content_is_refused() -> None:
    archive = zipped({f"{n}.xml": fixture(ANNUAL) for n in range(4)})
    [(_, too_many)] = list(read_many([("mange.zip", archive)], max_entries=3))
    assert "mere end 3 filer" in str(too_many)
    [(_, too_big)] = list(read_many([("store.zip", archive)], max_total_bytes=10 * 1024))
    assert "pakker sig ud til mere end 10 kB" in str(too_big)


def test_zip_entry_over_the_file_limit_nested_zip_and_broken_zip() -> None:
    archive = zipped({"stor.xml": b" " * 2048, "indre.zip": zipped({"a.xml": b"<a/>"})})
    results = dict(read_many([("ydre.zip", archive)], max_bytes=1024))
    assert "større end" in str(results["ydre.zip/stor.xml"])
    assert "zip-fil inde i zip-filen" in str(results["ydre.zip/indre.zip"])
    [(_, broken)] = list(read_many([("itu.zip", b"PK\x03\x04 broken")]))
    assert "ikke en gyldig zip-fil" in str(broken)
