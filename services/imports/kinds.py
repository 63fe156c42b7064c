"""The kinds of file the Import page takes (SPEC 9, issue 12), each with its columns, who may
import it, and its preview and write services. The page offers the kinds a user's role allows
and runs every kind through the same flow."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from services.imports import providers
from services.imports.columns import Column
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
    ),
)


def kind(key: str) -> ImportKind:
    return next(k for k in KINDS if k.key == key)


def kinds_for(allowed: Callable[[Capability], bool]) -> list[ImportKind]:
    """The kinds a user may import (allowed: the user's capability check)."""
    return [k for k in KINDS if allowed(k.capability)]
