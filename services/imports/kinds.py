"""The kinds of file the Import page takes (SPEC 9, issue 12), each with its columns, who may
import it, and its preview and write services. The page offers the kinds a user's role allows
and runs every kind through the same flow."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlmodel import Session

from services.imports import contracts, examples, invoices, offers, providers
from services.imports.columns import Column, match_columns
from services.imports.preview import ImportPreview
from services.imports.reading import SourceRow
from services.rules.roles import Capability


class PreviewService(Protocol):
    def __call__(
        self,
        *,
        session: Session,
        headers: Sequence[str],
        rows: Iterable[SourceRow],
        date_format: str = ...,
        update_existing: bool = ...,
    ) -> ImportPreview: ...


@dataclass(frozen=True)
class ImportKind:
    key: str  # in file names and the page's state
    name: str  # the Danish name of what is imported, plural ("Leverandører")
    columns: tuple[Column, ...]
    capability: Capability
    preview: PreviewService
    write: Callable[..., ImportPreview]  # preview's arguments + file_name and user
    # What "Opdatér eksisterende" means for this kind; None: the kind never updates.
    update_help: str | None
    noun: str  # in the confirmation, lower case plural ("leverandører")
    # Counts its rows instead of listing them and reports progress (preview and write take
    # `progress`, called with the rows done).
    streams: bool = False
    # An example file to try while the demo data is in: (file name, what it shows, its bytes).
    example: Callable[[Session, date], tuple[str, str, bytes]] | None = None


KINDS: tuple[ImportKind, ...] = (
    ImportKind(
        key="leverandoerer",
        name=providers.KIND_NAME,
        columns=providers.COLUMNS,
        capability=Capability.PROCURE,
        preview=providers.preview_providers,
        write=providers.import_providers,
        update_help="En leverandør, der findes i forvejen (samme CVR-nummer), opdateres med "
        "filens værdier. Uden flueben er den en fejl.",
        noun="leverandører",
        example=lambda _s, _today: (
            "leverandoerliste.xlsx",
            "en leverandørliste med de fejl, rigtige lister har",
            examples.PROVIDER_EXAMPLE.read_bytes(),
        ),
    ),
    ImportKind(
        key="tilbud",
        name=offers.KIND_NAME,
        columns=offers.COLUMNS,
        capability=Capability.PROCURE,
        preview=offers.preview_offers,
        write=offers.import_offers,
        update_help="Et tilbud, der findes i forvejen (samme leverandør og navn), opdateres med "
        "filens værdier; tomme celler ændrer intet. Uden flueben er det en fejl.",
        noun="tilbud",
    ),
    ImportKind(
        key="kontrakter",
        name=contracts.KIND_NAME,
        columns=contracts.COLUMNS,
        capability=Capability.PROCURE,
        preview=contracts.preview_contracts,
        write=contracts.import_contracts,
        update_help="En kontrakt, der findes i forvejen (samme sagsnummer), opdateres med "
        "filens værdier; tomme celler ændrer intet. Et tillæg med samme navn på kontrakten "
        "opdateres, ellers tilføjes det. Uden flueben er det en fejl.",
        noun="kontrakter",
    ),
    ImportKind(
        key="fakturalinjer",
        name=invoices.KIND_NAME,
        columns=invoices.COLUMNS,
        capability=Capability.CHECK_INVOICES,
        preview=invoices.preview_invoices,
        write=invoices.import_invoices,
        update_help=None,
        noun="fakturakontroller",
        streams=True,
        example=lambda s, today: (
            f"fakturalinjer_{examples.last_month(today)[0]:%Y-%m}.csv",
            "sidste måneds fakturaer for demo-kontrakterne",
            examples.invoice_example(session=s, today=today),
        ),
    ),
)


def header_test(kind: ImportKind) -> Callable[[Sequence[str]], bool]:
    """Whether a row of a file is the kind's header row: it names at least two of the kind's
    columns (a title row above it names none)."""

    def is_header(values: Sequence[str]) -> bool:
        return len(match_columns(values, kind.columns).by_index) >= 2

    return is_header


def kind(key: str) -> ImportKind:
    return next(k for k in KINDS if k.key == key)


def example_file(*, session: Session, key: str, today: date) -> tuple[str, str, bytes] | None:
    """The example file of the kind with this key (file name, what it shows, its bytes), or
    None; a module-level read, so a page can cache it."""
    found = kind(key).example
    return None if found is None else found(session, today)


def kinds_for(allowed: Callable[[Capability], bool]) -> list[ImportKind]:
    """The kinds a user may import (allowed: the user's capability check)."""
    return [k for k in KINDS if allowed(k.capability)]
