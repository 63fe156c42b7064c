"""The columns of an import kind: the Danish header of the template, the other names a
municipality's own file may use, and matching a file's headers to them (case, accents and
punctuation ignored, services.imports.parsing.header_key)."""

from collections.abc import Sequence
from dataclasses import dataclass

from services.imports.parsing import header_key


@dataclass(frozen=True)
class Column:
    key: str  # the input schema's field
    header: str  # the template's Danish header
    explanation: str  # for the template's explanation sheet
    example: object = None  # the template's example row
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers that mean the same


@dataclass(frozen=True)
class ColumnMatch:
    by_index: dict[int, Column]  # the file's column index → the kind's column
    unknown: tuple[str, ...]  # the file's headers no column has (ignored)
    missing: tuple[str, ...]  # required columns the file lacks
    repeated: tuple[str, ...]  # columns the file has twice (the first is used)


def match_columns(headers: Sequence[str], columns: Sequence[Column]) -> ColumnMatch:
    """Which of the file's columns is which."""
    names = {header_key(name): c for c in columns for name in (c.header, *c.aliases)}
    by_index: dict[int, Column] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, header in enumerate(headers):
        column = names.get(header_key(header))
        if column is None:
            if header.strip():
                unknown.append(header)
        elif column in by_index.values():
            repeated.append(header)
        else:
            by_index[index] = column
    found = set(by_index.values())
    missing = tuple(c.header for c in columns if c.required and c not in found)
    return ColumnMatch(by_index, tuple(unknown), missing, tuple(repeated))
