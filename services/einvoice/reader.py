"""Read one OIOUBL 2.x, OIOUBL 3 or Peppol BIS 3 invoice or credit note into an `EInvoice`.

The reader is hardened: a size limit before anything is parsed, only ASCII-compatible
encodings, any DOCTYPE (and so any entity or external DTD) refused before parsing and checked
again after, lxml with entities, DTDs and the network switched off, and zip files checked for
entry count, total size and compression ratio before a byte is unpacked. Every amount is a
`Decimal` from the element's text; a supplier identified by CPR is refused without repeating
the number. Nothing here touches the database.
"""

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lxml import etree

from services.cpr import contains_cpr
from services.errors import UserError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ZIP_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100
# A small entry may compress very well without harm; the ratio only counts above this size.
_RATIO_FLOOR_BYTES = 1024 * 1024

_UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_ROOTS = {(_UBL_INVOICE, "Invoice"), (_UBL_CREDIT_NOTE, "CreditNote")}

_UTF8_BOM = b"\xef\xbb\xbf"
_DECLARED_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# All ASCII-compatible, so the byte scan for markup declarations below sees what the parser sees.
_ALLOWED_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "windows-1252"}
_MARKUP_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.I)
_AMOUNT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Identifier schemes: OIOUBL 2.x names ("DK:CVR") and ISO 6523 ICD codes (Peppol, OIOUBL 3).
_SCHEME_LABELS = {
    "DK:CVR": "CVR",
    "0184": "CVR",
    "9902": "CVR",
    "DK:SE": "SE",
    "0198": "SE",
    "9904": "SE",
    "GLN": "GLN",
    "0088": "GLN",
    "DK:P": "P",
    "0096": "P",
}
_CPR_SCHEMES = {"DK:CPR", "0237", "9901"}
_CREDIT_TYPE_CODES = {"381", "81", "83", "396", "532"}

NOT_AN_EINVOICE = "Filen er ikke en e-faktura (OIOUBL eller Peppol BIS 3)."
_NOT_XML = "Filen er ikke gyldig XML og kan ikke læses som en e-faktura."
CPR_SUPPLIER = (
    "Leverandøren er identificeret med et CPR-nummer. Takstkompas må ikke indeholde "
    "CPR-numre, så fakturaen afvises – bed leverandøren om at fakturere med sit CVR-nummer."
)


class EInvoiceError(UserError, ValueError):
    """An e-invoice that cannot be read; the message is Danish and safe to show."""


class Dialect(StrEnum):
    OIOUBL_2 = "OIOUBL 2.x"
    OIOUBL_3 = "OIOUBL 3"
    PEPPOL_BIS_3 = "Peppol BIS 3"


class DocumentKind(StrEnum):
    INVOICE = "faktura"
    CREDIT_NOTE = "kreditnota"


# One identifier of the supplier as written: scheme label ("CVR", "SE", "GLN", "P" or the raw
# schemeID), the value without spaces and the element it came from.
@dataclass(frozen=True, slots=True)
class SupplierIdentifier:
    scheme: str
    value: str
    source: str


# One InvoiceLine or CreditNoteLine.
@dataclass(frozen=True, slots=True)
class EInvoiceLine:
    line_id: str | None
    quantity: Decimal | None
    unit_code: str | None
    line_extension_amount: Decimal
    price_amount: Decimal | None
    item_name: str | None
    item_description: str | None
    period_start: date | None
    period_end: date | None


# The whole document. Amounts are as written: a credit note's are normally positive, and
# `signed_net_amount` turns them negative.
@dataclass(frozen=True, slots=True)
class EInvoice:
    dialect: Dialect
    kind: DocumentKind
    type_code: str | None
    number: str
    issue_date: date
    currency: str
    supplier_name: str | None
    supplier_identifiers: tuple[SupplierIdentifier, ...]
    supplier_cvr: str | None
    buyer_endpoint: str | None
    buyer_reference: str | None
    credited_invoice: str | None
    contract_reference: str | None
    order_reference: str | None
    period_start: date | None
    period_end: date | None
    line_extension_amount: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    # In OIOUBL 2.x this holds the VAT total, not the net: never use it as the net amount.
    tax_exclusive_amount: Decimal | None
    tax_inclusive_amount: Decimal | None
    payable_amount: Decimal | None
    tax_amount: Decimal | None
    lines: tuple[EInvoiceLine, ...]

    @property
    def net_amount(self) -> Decimal:
        """Amount excluding VAT (SPEC 4.9): the lines − allowances + charges at document level."""
        return self.line_extension_amount - self.allowance_total + self.charge_total

    @property
    def signed_net_amount(self) -> Decimal:
        """The net amount, negative for a credit note."""
        return -self.net_amount if self.kind is DocumentKind.CREDIT_NOTE else self.net_amount

    @property
    def period(self) -> tuple[date, date] | None:
        """The header InvoicePeriod, else the span of the line periods, else None (SPEC 4.9)."""
        if self.period_start and self.period_end:
            return self.period_start, self.period_end
        spans = [(line.period_start, line.period_end) for line in self.lines]
        starts = [start for start, end in spans if start and end]
        ends = [end for start, end in spans if start and end]
        if not starts:
            return None
        return min(starts), max(ends)


def read_einvoice(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> EInvoice:
    """Read one e-invoice or credit note from its bytes; raise EInvoiceError when it cannot."""
    root = _parse(data, max_bytes=max_bytes)
    return _Document(root).read()


def read_many(
    files: Iterable[tuple[str, bytes]],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_zip_bytes: int = MAX_ZIP_BYTES,
    max_entries: int = MAX_ZIP_ENTRIES,
    max_total_bytes: int = MAX_ZIP_TOTAL_BYTES,
    max_ratio: int = MAX_ZIP_RATIO,
) -> Iterator[tuple[str, EInvoice | str]]:
    """Read uploaded XML files and zips of them: (file name, EInvoice or a Danish message)."""
    for name, data in files:
        if data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
            yield from _read_zip(
                name,
                data,
                max_bytes=max_bytes,
                max_zip_bytes=max_zip_bytes,
                max_entries=max_entries,
                max_total_bytes=max_total_bytes,
                max_ratio=max_ratio,
            )
            continue
        try:
            yield name, read_einvoice(data, max_bytes=max_bytes)
        except EInvoiceError as error:
            yield name, error.message


def _read_zip(
    name: str,
    data: bytes,
    *,
    max_bytes: int,
    max_zip_bytes: int,
    max_entries: int,
    max_total_bytes: int,
    max_ratio: int,
) -> Iterator[tuple[str, EInvoice | str]]:
    if len(data) > max_zip_bytes:
        yield name, f"Zip-filen er større end {_size_text(max_zip_bytes)} og afvises."
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        yield name, "Filen er ikke en gyldig zip-fil."
        return
    with archive:
        entries = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
        refusal = _zip_refusal(
            entries, max_entries=max_entries, max_total_bytes=max_total_bytes, max_ratio=max_ratio
        )
        if refusal:
            yield name, refusal
            return
        for info in entries:
            entry_name = f"{name}/{info.filename}"
            if info.file_size > max_bytes:
                yield entry_name, _too_large(max_bytes)
                continue
            if info.filename.lower().endswith(".zip"):
                yield entry_name, "En zip-fil inde i zip-filen læses ikke – pak den ud først."
                continue
            try:
                with archive.open(info) as entry:
                    # The declared size bounds what zipfile unpacks; read one byte past the limit
                    # anyway so a lying header cannot make us hold more.
                    content = entry.read(max_bytes + 1)
            except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError):
                yield (
                    entry_name,
                    "Filen i zip-filen kan ikke pakkes ud (beskadiget eller krypteret).",
                )
                continue
            try:
                yield entry_name, read_einvoice(content, max_bytes=max_bytes)
            except EInvoiceError as error:
                yield entry_name, error.message


def _zip_refusal(
    entries: list[zipfile.ZipInfo], *, max_entries: int, max_total_bytes: int, max_ratio: int
) -> str | None:
    if len(entries) > max_entries:
        return f"Zip-filen indeholder mere end {max_entries} filer og afvises."
    if sum(info.file_size for info in entries) > max_total_bytes:
        return f"Zip-filen pakker sig ud til mere end {_size_text(max_total_bytes)} og afvises."
    for info in entries:
        if info.file_size > _RATIO_FLOOR_BYTES and (
            info.file_size > max_ratio * max(info.compress_size, 1)
        ):
            return (
                "Zip-filen afvises: den er pakket usædvanligt tæt (mulig zip-bombe). "
                "Upload XML-filerne enkeltvis eller i en almindelig zip-fil."
            )
    return None


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    return f"{max(size // 1024, 1)} kB"


def _too_large(max_bytes: int) -> str:
    return f"Filen er større end {_size_text(max_bytes)} og afvises."


def _parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse(data: bytes, *, max_bytes: int) -> Any:
    if not isinstance(data, bytes | bytearray):
        raise EInvoiceError(NOT_AN_EINVOICE)
    if len(data) > max_bytes:
        raise EInvoiceError(_too_large(max_bytes))
    data = bytes(data)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    if not data.strip():
        raise EInvoiceError("Filen er tom.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:1024]:
        raise EInvoiceError("Filen skal være kodet som UTF-8 (OIOUBL og Peppol BIS 3 kræver det).")
    if not data.lstrip().startswith(b"<"):
        # Also keeps out encodings libxml2 would sniff on its own (EBCDIC starts "Lo\xa7\x94").
        raise EInvoiceError(_NOT_XML)
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise EInvoiceError("Filen skal være kodet som UTF-8 (OIOUBL og Peppol BIS 3 kræver det).")
    if _MARKUP_DECLARATION.search(data):
        raise EInvoiceError("Filen indeholder en DOCTYPE og afvises.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as error:
        raise EInvoiceError(_NOT_XML) from error
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise EInvoiceError("Filen indeholder en DOCTYPE og afvises.")
    qname = etree.QName(root)
    if (qname.namespace, qname.localname) not in _ROOTS:
        raise EInvoiceError(NOT_AN_EINVOICE)
    return root


def _dialect(customization_id: str | None) -> Dialect:
    if not customization_id:
        raise EInvoiceError(
            NOT_AN_EINVOICE
            + " Den mangler CustomizationID, som fortæller hvilken standard den følger."
        )
    text = customization_id.strip()
    lowered = text.lower()
    if lowered.startswith("oioubl-2"):
        return Dialect.OIOUBL_2
    if "oioubl" in lowered and re.search(r":3(?:\.0)?(?:\b|$)", lowered):
        return Dialect.OIOUBL_3
    if "urn:fdc:peppol.eu:2017:poacc:billing:3.0" in lowered:
        return Dialect.PEPPOL_BIS_3
    raise EInvoiceError(NOT_AN_EINVOICE + " Kun OIOUBL 2.x, OIOUBL 3 og Peppol BIS 3 kan læses.")


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _no_spaces(text: str) -> str:
    return "".join(text.split())


class _Document:
    """Reads the fields of one parsed Invoice or CreditNote element."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.is_credit_note_root = etree.QName(root).localname == "CreditNote"
        self.currency: str | None = None

    # -- small readers -------------------------------------------------------------------------

    def _find(self, element: Any, path: str) -> Any:
        return element.find(path, _NS)

    def _text(self, element: Any, path: str) -> str | None:
        found = self._find(element, path)
        return None if found is None else _clean(found.text)

    def _amount(self, element: Any, path: str) -> Decimal | None:
        found = self._find(element, path)
        if found is None:
            return None
        label = path.split(":")[-1]
        text = _no_spaces(found.text or "")
        if not _AMOUNT.fullmatch(text):
            raise EInvoiceError(f"Værdien i {label} er ikke et tal med punktum som decimaltegn.")
        currency = found.get("currencyID")
        if currency is not None and self.currency and _no_spaces(currency).upper() != self.currency:
            raise EInvoiceError(
                f"Beløbet i {label} er i en anden valuta end fakturaen ({self.currency})."
            )
        return Decimal(text)

    def _date(self, element: Any, path: str) -> date | None:
        text = self._text(element, path)
        if text is None:
            return None
        label = path.split(":")[-1]
        if not _ISO_DATE.fullmatch(text):
            raise EInvoiceError(f"Datoen i {label} er ikke en dato på formen ÅÅÅÅ-MM-DD.")
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise EInvoiceError(f"Datoen i {label} findes ikke.") from error

    def _period(self, element: Any) -> tuple[date | None, date | None]:
        period = self._find(element, "cac:InvoicePeriod")
        if period is None:
            return None, None
        start = self._date(period, "cbc:StartDate")
        end = self._date(period, "cbc:EndDate")
        if start and end and end < start:
            raise EInvoiceError("Fakturaperioden slutter før den begynder.")
        return start, end

    # -- the document ----------------------------------------------------------------------------

    def read(self) -> EInvoice:
        root = self.root
        dialect = _dialect(self._text(root, "cbc:CustomizationID"))
        type_code = self._text(
            root, "cbc:CreditNoteTypeCode" if self.is_credit_note_root else "cbc:InvoiceTypeCode"
        )
        is_credit = self.is_credit_note_root or type_code in _CREDIT_TYPE_CODES
        currency = self._text(root, "cbc:DocumentCurrencyCode")
        if currency is None:
            raise EInvoiceError("Fakturaen mangler DocumentCurrencyCode (valuta).")
        self.currency = _no_spaces(currency).upper()
        number = self._text(root, "cbc:ID")
        if number is None:
            raise EInvoiceError("Fakturaen mangler et fakturanummer (cbc:ID).")
        issue_date = self._date(root, "cbc:IssueDate")
        if issue_date is None:
            raise EInvoiceError("Fakturaen mangler en udstedelsesdato (IssueDate).")

        supplier = self._find(root, "cac:AccountingSupplierParty/cac:Party")
        if supplier is None:
            raise EInvoiceError("Fakturaen mangler leverandøren (AccountingSupplierParty).")
        identifiers = self._supplier_identifiers(supplier)
        supplier_name = self._text(supplier, "cac:PartyName/cbc:Name") or self._text(
            supplier, "cac:PartyLegalEntity/cbc:RegistrationName"
        )

        totals = self._find(root, "cac:LegalMonetaryTotal")
        if totals is None:
            raise EInvoiceError("Fakturaen mangler totalbeløbene (LegalMonetaryTotal).")
        line_extension = self._amount(totals, "cbc:LineExtensionAmount")
        if line_extension is None:
            raise EInvoiceError("Fakturaen mangler LineExtensionAmount (summen af linjerne).")

        period_start, period_end = self._period(root)
        line_tag = "cac:CreditNoteLine" if self.is_credit_note_root else "cac:InvoiceLine"
        quantity_tag = (
            "cbc:CreditedQuantity" if self.is_credit_note_root else "cbc:InvoicedQuantity"
        )
        lines = tuple(self._line(line, quantity_tag) for line in root.iterfind(line_tag, _NS))

        invoice = EInvoice(
            dialect=dialect,
            kind=DocumentKind.CREDIT_NOTE if is_credit else DocumentKind.INVOICE,
            type_code=type_code,
            number=number,
            issue_date=issue_date,
            currency=self.currency,
            supplier_name=supplier_name,
            supplier_identifiers=identifiers,
            supplier_cvr=next((i.value for i in identifiers if i.scheme == "CVR"), None),
            buyer_endpoint=self._text(root, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"),
            buyer_reference=self._text(root, "cbc:BuyerReference"),
            credited_invoice=self._text(
                root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
            ),
            contract_reference=self._text(root, "cac:ContractDocumentReference/cbc:ID"),
            order_reference=self._text(root, "cac:OrderReference/cbc:ID"),
            period_start=period_start,
            period_end=period_end,
            line_extension_amount=line_extension,
            allowance_total=self._amount(totals, "cbc:AllowanceTotalAmount") or Decimal(0),
            charge_total=self._amount(totals, "cbc:ChargeTotalAmount") or Decimal(0),
            tax_exclusive_amount=self._amount(totals, "cbc:TaxExclusiveAmount"),
            tax_inclusive_amount=self._amount(totals, "cbc:TaxInclusiveAmount"),
            payable_amount=self._amount(totals, "cbc:PayableAmount"),
            tax_amount=self._amount(root, "cac:TaxTotal/cbc:TaxAmount"),
            lines=lines,
        )
        _refuse_cpr_in_text(invoice)
        return invoice

    def _supplier_identifiers(self, party: Any) -> tuple[SupplierIdentifier, ...]:
        # Any CPR scheme anywhere in the supplier party refuses the invoice, whatever else it has.
        for element in party.iter():
            scheme = element.get("schemeID")
            if scheme is not None and _no_spaces(scheme).upper() in _CPR_SCHEMES:
                raise EInvoiceError(CPR_SUPPLIER)
        candidates = [
            (
                "PartyLegalEntity/CompanyID",
                party.findall("cac:PartyLegalEntity/cbc:CompanyID", _NS),
            ),
            ("EndpointID", party.findall("cbc:EndpointID", _NS)),
            ("PartyIdentification/ID", party.findall("cac:PartyIdentification/cbc:ID", _NS)),
            ("PartyTaxScheme/CompanyID", party.findall("cac:PartyTaxScheme/cbc:CompanyID", _NS)),
        ]
        identifiers: list[SupplierIdentifier] = []
        for source, elements in candidates:
            for element in elements:
                value = _no_spaces(element.text or "")
                if not value:
                    continue
                if contains_cpr(value):
                    raise EInvoiceError(CPR_SUPPLIER)
                raw_scheme = _no_spaces(element.get("schemeID") or "").upper()
                scheme = _SCHEME_LABELS.get(raw_scheme, raw_scheme)
                if not scheme and source == "PartyTaxScheme/CompanyID":
                    scheme = "VAT"
                if scheme in ("CVR", "SE"):
                    digits = _normalise_cvr(value)
                    if digits is None:
                        scheme = raw_scheme  # a CVR or SE scheme around something that is not one
                    else:
                        value = digits
                identifiers.append(SupplierIdentifier(scheme=scheme, value=value, source=source))
        return tuple(identifiers)

    def _line(self, line: Any, quantity_tag: str) -> EInvoiceLine:
        line_id = self._text(line, "cbc:ID")
        amount = self._amount(line, "cbc:LineExtensionAmount")
        if amount is None:
            where = f" {line_id}" if line_id else ""
            raise EInvoiceError(f"Fakturalinje{where} mangler LineExtensionAmount.")
        quantity_element = self._find(line, quantity_tag)
        unit_code = None
        if quantity_element is not None:
            unit_code = _clean(quantity_element.get("unitCode"))
        start, end = self._period(line)
        return EInvoiceLine(
            line_id=line_id,
            quantity=self._amount(line, quantity_tag),
            unit_code=unit_code.upper() if unit_code else None,
            line_extension_amount=amount,
            price_amount=self._amount(line, "cac:Price/cbc:PriceAmount"),
            item_name=self._text(line, "cac:Item/cbc:Name"),
            item_description=self._text(line, "cac:Item/cbc:Description"),
            period_start=start,
            period_end=end,
        )


def _normalise_cvr(value: str) -> str | None:
    """The 8 digits of a CVR (or SE) number: "12345678", "DK12345678", "DK 1234 5678"."""
    digits = value.upper().removeprefix("DK")
    return digits if re.fullmatch(r"\d{8}", digits) else None


def _refuse_cpr_in_text(invoice: EInvoice) -> None:
    """The tool holds no CPR numbers: a CPR-like number in any text it would keep refuses it."""
    fields = {
        "leverandørens navn": invoice.supplier_name,
        "fakturanummeret": invoice.number,
        "køberens endpoint": invoice.buyer_endpoint,
        "køberens reference (BuyerReference)": invoice.buyer_reference,
        "den krediterede faktura": invoice.credited_invoice,
        "kontraktreferencen": invoice.contract_reference,
        "ordrereferencen": invoice.order_reference,
    }
    for number, line in enumerate(invoice.lines, start=1):
        fields[f"linje {number}s varenavn"] = line.item_name
        fields[f"linje {number}s beskrivelse"] = line.item_description
        fields[f"linje {number}s id"] = line.line_id
    for label, text in fields.items():
        if contains_cpr(text):
            raise EInvoiceError(
                f"Fakturaen indeholder noget, der ligner et CPR-nummer ({label}). Takstkompas må "
                "ikke indeholde CPR-numre, så fakturaen afvises."
            )
