"""E-invoices (OIOUBL 2.x, OIOUBL 3, Peppol BIS 3, SPEC 9): a hardened reader (reader.py) and
the matching of a read invoice to its provider, contract and period (matching.py)."""

from services.einvoice.reader import (
    Dialect,
    DocumentKind,
    EInvoice,
    EInvoiceError,
    EInvoiceLine,
    SupplierIdentifier,
    read_einvoice,
    read_many,
)

__all__ = [
    "Dialect",
    "DocumentKind",
    "EInvoice",
    "EInvoiceError",
    "EInvoiceLine",
    "SupplierIdentifier",
    "read_einvoice",
    "read_many",
]
