"""E-invoices (OIOUBL 2.x, OIOUBL 3, Peppol BIS 3): a hardened reader, no database (SPEC 9)."""

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
