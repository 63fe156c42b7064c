"""Importing a month of invoice lines (SPEC 4.2–4.3, 9; issue 12): every line is checked
against its contract like a typed invoice check, and confirming stores all of them (flagged
ones enter the deviation log with status `ny`), or none.

A line names its contract by case reference (and, to be sure, the provider's CVR). A negative
amount is a credit note: it corrects the one invoice of the same contract and period, saved
before or earlier in the file. The same invoice twice (in the file, or checked before) is an
error; so is an invoice so far above the expected amount that a typed one would ask "Er beløbet
tastet rigtigt?" — that one is checked by hand under Fakturaafvigelser.

Rows are streamed in chunks: a chunk's contracts, its earlier checks and (on confirm) its
inserts are one query each, so 100.000 lines are checked and written in seconds and memory
does not grow with the rows (only a small key per invoice, for duplicates and credit notes).
A large file is checked by two processes, while this one writes: see `_prechecked_shared`.
The rules are those of services.invoices (judge_invoice, period_errors, invoice_check_values):
an imported check is stored exactly as a typed one would be.
"""

import gc
import logging
import multiprocessing
import queue
import subprocess
import sys
import threading
import traceback
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import chain, islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractAddon,
    DeviationEvent,
    InvoiceCheck,
    InvoiceCheckCreate,
    InvoiceKind,
    InvoiceStatus,
    PriceChange,
    Provider,
    label,
)
from models.base import utcnow
from services.audit import created_changes, write_created
from services.contracts import addon_terms_of, terms_of
from services.db import get_engine, has_written
from services.errors import InputError, UserError
from services.formatting import format_kr, format_number
from services.imports.columns import Column, ColumnMatch, match_columns
from services.imports.parsing import DEFAULT_DATE_FORMAT, parse_amount, parse_cell_date
from services.imports.preview import (
    CPR_ROW,
    ROW,
    ImportPreview,
    RowProblem,
    cells,
    has_cpr,
    header_of,
    read_cells,
    record_import,
    require_ready,
    shown,
    whole_number_text,
)
from services.imports.reading import SourceRow
from services.invoices import (
    ALREADY_CHECKED,
    credit_note_values,
    credit_too_large,
    implausible_message,
    invoice_check_values,
    judge_invoice,
    period_errors,
)
from services.reference import index_rates
from services.rules.deviations import credit_note_amount
from services.rules.pricing import AddonTerms, PriceTerms
from services.rules.voiding import not_voided_sql
from services.settings import AppSettings, get_settings
from services.sql import bulk_insert, reserve_ids
from services.unit_of_work import DEPTH, action
from services.validation import validate

logger = logging.getLogger(__name__)

KIND_NAME = "Fakturalinjer"
CHUNK = 2_000
# A file of at least this many chunks is checked in two processes while this one writes.
# Starting the second costs about a second (a fresh interpreter imports the app's modules):
# measured, 10.000 lines took 1,6 s in one process and 2,1 s in two, 20.000 lines 3,2 s
# and 2,6 s.
PARALLEL_FROM = 8
MAX_LISTED = 1_000  # errors listed in the preview; the rest are counted
NOTHING = Decimal("0.00")  # one object for every invoice not credited (100.000 of them)

COLUMNS: tuple[Column, ...] = (
    Column(
        "cvr",
        "CVR",
        "Leverandørens CVR-nummer. Kontrollerer, at sagsnummeret hører til leverandøren.",
        "12345674",
        aliases=("CVR-nummer", "Leverandør CVR", "Kreditor CVR"),
    ),
    Column(
        "case_ref",
        "Sagsnummer",
        "Kontraktens sagsnummer (sagsreference), som det står i kontraktregistret.",
        "27.12.04-G01-1-24",
        required=True,
        aliases=("Sagsreference", "Sag", "Sagsnr", "Kontrakt"),
    ),
    Column(
        "invoice_no",
        "Fakturanummer",
        "Fakturaens nummer hos leverandøren.",
        "F-2026-0142",
        required=True,
        aliases=("Fakturanr", "Bilagsnummer", "Faktura"),
    ),
    Column(
        "period_from",
        "Periode fra",
        "Første dag, fakturaen dækker, i det datoformat, du vælger ved importen.",
        "01-03-2026",
        required=True,
        aliases=("Fra", "Fra dato", "Periode start"),
    ),
    Column(
        "period_to",
        "Periode til",
        "Sidste dag, fakturaen dækker.",
        "31-03-2026",
        required=True,
        aliases=("Til", "Til dato", "Periode slut"),
    ),
    Column(
        "invoiced",
        "Beløb",
        "Fakturaens beløb i kr. på dansk (1.234,56). En kreditnota skrives med minus og "
        "retter fakturaen for samme kontrakt og periode.",
        "45.678,90",
        required=True,
        aliases=("Fakturabeløb", "Beløb i kr", "Beløb kr"),
    ),
    Column(
        "credits",
        "Krediterer faktura",
        "Kun for en kreditnota: nummeret på den faktura, den retter (samme kontrakt og "
        "periode). Kan udelades, når perioden kun har den ene faktura.",
        None,
        aliases=("Krediterer", "Kreditnota til", "Vedrører faktura"),
    ),
)
HEADERS = tuple(c.header for c in COLUMNS)
# A schema field → the column its error belongs to.
FIELD_COLUMN = {"contract_id": "case_ref"}


@dataclass
class _Contract:
    """What a line needs of its contract, loaded once per import."""

    row: Contract
    provider_cvr: str | None
    provider_name: str
    terms: PriceTerms
    addons: list[AddonTerms]


@dataclass(slots=True)
class _Invoice:
    """An invoice a credit note may correct: saved before, or earlier in this file."""

    invoice_no: str
    invoiced: Decimal
    credited: Decimal  # its credit notes so far (≤ 0)
    id: int | None = None  # None: in this file, not yet written
    row: int | None = None  # its row in this file
    flagged: bool = False
    status: str | None = None
    assignee: str | None = None


@dataclass
class _Line:
    row: int
    values: dict[str, Any]  # the invoice check's stored fields
    credits: _Invoice | None = None  # a credit note: the invoice it corrects
    changes: str | None = None  # its create event's changes, when made while checking it


# A problem found in a line: its row, column key, value and Danish message (as _Run.problem).
Problem = tuple[int, str, Any, str]


@dataclass(frozen=True)
class _Credit:
    """A credit note's line checked on its own: what finding the invoice it corrects needs."""

    contract_id: int
    provider_id: int
    invoice_no: str
    period_from: date
    period_to: date
    amount: Decimal  # as typed, without its sign
    credits: str | None  # the number of the invoice it corrects, when the file gives it


@dataclass
class _Pending:
    """A line checked on its own: its contract, the schema, the period and the pricing rule.
    What depends on the lines before it (the same invoice twice, a credit note's invoice) is
    settled in file order by `_settle_line`."""

    row: int
    problems: list[Problem]  # with a key: reported only when the line is no duplicate
    key: tuple[int, str, date, date] | None = None  # provider, invoice number, period
    before: bool = False  # the invoice was checked before (a check in force)
    values: dict[str, Any] | None = None  # an invoice's stored fields
    changes: str | None = None  # and its create event's changes (services.audit)
    credit: _Credit | None = None


@dataclass
class _Prechecked:
    """A chunk's lines checked on their own, in file order, after the problems met reading
    its rows."""

    rows: int
    problems: list[Problem]
    lines: list[_Pending]


@dataclass
class _Run:
    """The state of one pass over the file."""

    session: Session
    match: ColumnMatch
    headers: Sequence[str]
    date_format: str
    today: date
    settings: AppSettings
    rates: dict[int, Decimal]
    contracts: dict[str, list[_Contract]] = field(default_factory=dict)  # by case reference
    seen: dict[int, int] = field(default_factory=dict)  # an invoice's key → its first row
    reported: set[int] = field(default_factory=set)  # first rows already named as duplicates
    invoices: dict[int, list[_Invoice]] = field(default_factory=lambda: defaultdict(list))
    loaded: set[int] = field(default_factory=set)  # contracts whose saved invoices are in
    # The keys of this file's lines taken so far: written with their chunk, they are in the
    # database when a later chunk loads a contract's saved invoices, and are not saved ones.
    taken: set[int] = field(default_factory=set)
    rows: int = 0
    checked: int = 0
    credit_notes: int = 0
    flagged: int = 0
    under: int = 0
    deviations: Decimal = Decimal("0.00")
    errors: list[RowProblem] = field(default_factory=list)
    more_errors: int = 0
    # How the messages name a line and the whole (a file's rows; e-invoices' numbers).
    row_word: str = "række"
    in_file: str = "i filen"

    def problem(self, row: int, key: str, value: Any, message: str) -> None:
        if len(self.errors) >= MAX_LISTED:
            self.more_errors += 1
            return
        column = ROW if key == ROW else header_of(self.match, key, self.headers)
        self.errors.append(RowProblem(row, column, shown(value), message))


def _chunks(rows: Iterable[SourceRow]) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _text(raw: Any) -> Any:
    value = whole_number_text(raw)
    return value if value is None or isinstance(value, str) else str(value)


def _readers(date_format: str) -> dict[str, Callable[[Any], Any]]:
    return {
        "cvr": _text,
        "case_ref": _text,
        "invoice_no": _text,
        "period_from": lambda v: parse_cell_date(v, date_format),
        "period_to": lambda v: parse_cell_date(v, date_format),
        "invoiced": parse_amount,
        "credits": _text,
    }


def _load_contracts(run: _Run, case_refs: set[str]) -> None:
    """The contracts of case references not met before, with their terms (one query each)."""
    wanted = sorted(r for r in case_refs if r not in run.contracts)
    if not wanted:
        return
    for ref in wanted:
        run.contracts[ref] = []
    rows = list(
        run.session.exec(
            select(Contract, Provider.cvr, Provider.name)
            .join(Provider, col(Provider.id) == Contract.provider_id)
            .where(col(Contract.case_ref).in_(wanted))
        )
    )
    ids = [c.id for c, _, _ in rows]
    changes: dict[int, list[PriceChange]] = defaultdict(list)
    for change in run.session.exec(
        select(PriceChange)
        .where(col(PriceChange.contract_id).in_(ids))
        .order_by(col(PriceChange.effective_date))
    ):
        changes[change.contract_id].append(change)
    addons: dict[int, list[ContractAddon]] = defaultdict(list)
    for addon in run.session.exec(
        select(ContractAddon).where(col(ContractAddon.contract_id).in_(ids))
    ):
        addons[addon.contract_id].append(addon)
    for contract, cvr, name in rows:
        run.contracts[contract.case_ref].append(
            _Contract(
                contract,
                cvr,
                name,
                terms_of(contract, changes[contract.id or 0], run.rates),
                addon_terms_of(addons[contract.id or 0]),
            )
        )


def _invoice_key(provider_id: int, invoice_no: str, period_from: date, period_to: date) -> int:
    return hash((provider_id, invoice_no, period_from, period_to))


def _period_key(contract_id: int, period_from: date, period_to: date) -> int:
    return hash((contract_id, period_from, period_to))


# An invoice check's key among the checks in force: the unique index's columns, in its order.
_INVOICE_KEY = (
    col(InvoiceCheck.provider_id),
    col(InvoiceCheck.invoice_no),
    col(InvoiceCheck.period_from),
    col(InvoiceCheck.period_to),
)


def _checked_before(run: _Run, lines: Sequence[tuple[int, str]]) -> set[int]:
    """The keys of the chunk's invoices (provider, number) that were checked before (checks in
    force); by provider and number, the unique index's own order."""
    query = sa.select(*_INVOICE_KEY).where(not_voided_sql(InvoiceCheck))
    connection = run.session.connection()
    return {
        _invoice_key(provider_id, number, period_from, period_to)
        for batch in _with_invoice_numbers(query, lines, connection)
        for provider_id, number, period_from, period_to in run.session.execute(batch)
    }


def _with_invoice_numbers(
    query: Any, pairs: Sequence[tuple[int, str]], connection: sa.Connection
) -> Iterator[Any]:
    """`query` over the invoice checks narrowed to the (provider, invoice number) `pairs`, in
    batches; each row's key is to be looked up among the pairs, as the SQLite form may give
    more (every number of every provider in the batch).

    PostgreSQL joins the pairs as two arrays, one index lookup each: with `provider IN (…) AND
    number IN (…)` it read the whole table (a parallel sequential scan, 20–30 ms per batch of
    500 on 200.000 checks). SQLite uses the index for the IN lists.
    """
    pairs = sorted(set(pairs))
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        for start in range(0, len(pairs), 10_000):
            batch = pairs[start : start + 10_000]
            keys = (
                sa.func.unnest(
                    sa.cast([p for p, _ in batch], ARRAY(sa.Integer)),
                    sa.cast([n for _, n in batch], ARRAY(sa.String)),
                )
                .table_valued("provider_id", "invoice_no")
                .render_derived(name="wanted")
            )
            yield query.join(
                keys,
                sa.and_(
                    col(InvoiceCheck.provider_id) == keys.c.provider_id,
                    col(InvoiceCheck.invoice_no) == keys.c.invoice_no,
                ),
            )
        return
    providers = sorted({p for p, _ in pairs})
    numbers = sorted({n for _, n in pairs})
    for start in range(0, len(numbers), 500):
        yield query.where(
            col(InvoiceCheck.provider_id).in_(providers),
            col(InvoiceCheck.invoice_no).in_(numbers[start : start + 500]),
        )


def _load_saved_invoices(run: _Run, contract_ids: set[int]) -> None:
    """The saved invoices (in force, with their credit notes) of contracts a credit note in
    this chunk names and that were not loaded before."""
    wanted = sorted(contract_ids - run.loaded)
    if not wanted:
        return
    run.loaded.update(wanted)
    saved = [
        check
        for check in run.session.exec(
            select(InvoiceCheck).where(
                col(InvoiceCheck.contract_id).in_(wanted), not_voided_sql(InvoiceCheck)
            )
        )
        if _invoice_key(check.provider_id, check.invoice_no, check.period_from, check.period_to)
        not in run.taken
    ]
    credited: dict[int, Decimal] = defaultdict(Decimal)
    for check in saved:
        if check.kind == InvoiceKind.CREDIT_NOTE and check.credits_id is not None:
            credited[check.credits_id] += check.invoiced
    for check in saved:
        if check.kind == InvoiceKind.INVOICE:
            run.invoices[_period_key(check.contract_id, check.period_from, check.period_to)].append(
                _Invoice(
                    check.invoice_no,
                    check.invoiced,
                    credited[check.id or 0],
                    id=check.id,
                    flagged=check.flagged,
                    status=str(check.status) if check.status else None,
                    assignee=check.assignee,
                )
            )


def _contract_for(
    run: _Run, number: int, data: dict[str, Any], problems: list[Problem]
) -> _Contract | None:
    case_ref = data.get("case_ref")
    if case_ref is None:
        problems.append((number, "case_ref", None, "Skriv kontraktens sagsnummer"))
        return None
    found = run.contracts.get(case_ref, [])
    if not found:
        problems.append(
            (
                number,
                "case_ref",
                case_ref,
                f"Ingen kontrakt har sagsnummeret »{shown(case_ref)}«. Opret kontrakten først, "
                "eller ret sagsnummeret.",
            )
        )
        return None
    cvr = data.get("cvr")
    if cvr is not None:
        same = [c for c in found if c.provider_cvr == cvr]
        if not same:
            c = found[0]
            problems.append(
                (
                    number,
                    "cvr",
                    cvr,
                    f"Sagsnummeret hører til {c.provider_name} (CVR {c.provider_cvr or 'ukendt'}"
                    "), ikke til dette CVR-nummer",
                )
            )
            return None
        found = same
    period_from, period_to = data.get("period_from"), data.get("period_to")
    if len(found) > 1 and period_from and period_to:
        found = [c for c in found if not period_errors(period_from, period_to, c.row)] or found
    if len(found) > 1:
        problems.append(
            (
                number,
                "case_ref",
                case_ref,
                f"{len(found)} kontrakter har sagsnummeret »{shown(case_ref)}« og dækker "
                "perioden. Kontrollér fakturaen enkeltvis under Fakturaafvigelser.",
            )
        )
        return None
    return found[0]


def _precheck_line(run: _Run, number: int, data: dict[str, Any], before: set[int]) -> _Pending:
    """One line checked on its own against its contract (the schema, the period, the pricing
    rule); what depends on the lines before it is left to `_settle_line`."""
    problems: list[Problem] = []
    pending = _Pending(number, problems)
    contract = _contract_for(run, number, data, problems)
    if contract is None:
        return pending
    amount = data.get("invoiced")
    credit = isinstance(amount, Decimal) and amount < 0
    try:
        valid = validate(
            InvoiceCheckCreate,
            {
                "contract_id": contract.row.id,
                "invoice_no": data.get("invoice_no"),
                "period_from": data.get("period_from"),
                "period_to": data.get("period_to"),
                "invoiced": -amount if credit and amount is not None else amount,
            },
        )
    except InputError as exc:
        for name, message in exc.fields.items():
            column = FIELD_COLUMN.get(name, name)
            problems.append((number, column, data.get(column), message))
        return pending
    if errors := period_errors(valid.period_from, valid.period_to, contract.row):
        for name, message in errors.items():
            problems.append((number, name, data.get(name), message))
        return pending
    provider_id = contract.row.provider_id
    pending.key = (provider_id, valid.invoice_no, valid.period_from, valid.period_to)
    pending.before = _invoice_key(*pending.key) in before
    if credit:
        pending.credit = _Credit(
            contract.row.id or 0,
            provider_id,
            valid.invoice_no,
            valid.period_from,
            valid.period_to,
            valid.invoiced,
            data.get("credits"),
        )
        return pending
    try:
        judged = judge_invoice(
            contract=contract.row,
            terms=contract.terms,
            addons=contract.addons,
            period_from=valid.period_from,
            period_to=valid.period_to,
            invoiced=valid.invoiced,
            settings=run.settings,
        )
    except InputError as exc:
        problems.append((number, "invoiced", data.get("invoiced"), " ".join(exc.fields.values())))
        return pending
    except UserError as exc:  # the contract cannot be priced for the period (index rate, range)
        problems.append((number, "period_from", data.get("period_from"), exc.message))
        return pending
    if judged.implausible:
        message = implausible_message(
            valid.invoiced, judged.expected.total, judged.plausible_factor
        )
        problems.append(
            (
                number,
                "invoiced",
                data.get("invoiced"),
                f"{message} Kontrollér fakturaen enkeltvis under Fakturaafvigelser.",
            )
        )
        return pending
    pending.values = invoice_check_values(contract.row, valid, judged, run.today)
    pending.changes = created_changes(pending.values)
    return pending


def _settle_line(run: _Run, pending: _Pending) -> _Line | None:
    """A line checked on its own, against the lines before it: the check to store, or None
    (errors noted). The same invoice twice is reported before anything else about it."""
    number = pending.row
    if pending.key is None:
        for problem in pending.problems:
            run.problem(*problem)
        return None
    key = _invoice_key(*pending.key)
    invoice_no = pending.key[1]
    first = run.seen.get(key)
    if first is not None:
        run.problem(
            number,
            "invoice_no",
            invoice_no,
            f"Samme faktura (nummer og periode) står også i {run.row_word} {first}",
        )
        if first not in run.reported:
            run.reported.add(first)
            run.problem(
                first,
                "invoice_no",
                invoice_no,
                f"Samme faktura (nummer og periode) står også i {run.row_word} {number}",
            )
        return None
    run.seen[key] = number
    if pending.before:
        run.problem(number, "invoice_no", invoice_no, ALREADY_CHECKED)
        return None
    if pending.credit is not None:
        return _credit_line(run, number, pending.credit)
    if pending.problems or pending.values is None:
        for problem in pending.problems:
            run.problem(*problem)
        return None
    values = pending.values
    invoice = _Invoice(
        values["invoice_no"], values["invoiced"], NOTHING, row=number, flagged=values["flagged"]
    )
    period = _period_key(values["contract_id"], values["period_from"], values["period_to"])
    run.invoices[period].append(invoice)
    run.checked += 1
    if values["flagged"]:
        run.flagged += 1
        run.deviations += values["deviation"]
    elif values["under_expected"]:
        run.under += 1
    return _Line(number, values, invoice, pending.changes)


def _credit_line(run: _Run, number: int, credit: _Credit) -> _Line | None:
    """A credit note: the invoice it corrects (of its contract and period; by its number when
    the file gives it, else the only one) and what is left of it."""
    invoices = run.invoices.get(
        _period_key(credit.contract_id, credit.period_from, credit.period_to), []
    )
    if credit.credits is not None:
        invoices = [i for i in invoices if i.invoice_no == credit.credits]
        if not invoices:
            run.problem(
                number,
                "credits",
                credit.credits,
                f"Faktura »{shown(credit.credits)}« findes ikke for samme kontrakt og periode "
                f"(den skal være kontrolleret før eller stå tidligere {run.in_file})",
            )
            return None
    if len(invoices) != 1:
        message = (
            "Der er ingen faktura for samme kontrakt og periode, som kreditnotaen kan rette "
            f"(fakturaen skal være kontrolleret før eller stå tidligere {run.in_file})"
            if not invoices
            else f"{len(invoices)} fakturaer har samme kontrakt og periode. Skriv nummeret på "
            "den, kreditnotaen retter, i kolonnen »Krediterer faktura«."
        )
        run.problem(number, "invoiced", -credit.amount, message)
        return None
    invoice = invoices[0]
    amount = credit_note_amount(credit.amount)
    if too_large := credit_too_large(invoice.invoiced, invoice.credited, amount):
        run.problem(number, "invoiced", amount, too_large)
        return None
    invoice.credited += amount
    run.credit_notes += 1
    values = credit_note_values(
        contract_id=credit.contract_id,
        provider_id=credit.provider_id,
        invoice_no=credit.invoice_no,
        period_from=credit.period_from,
        period_to=credit.period_to,
        amount=amount,
        checked_on=run.today,
    )
    return _Line(number, values, invoice)


def _precheck(run: _Run, chunk: Sequence[SourceRow]) -> _Prechecked:
    """A chunk's lines read and checked each on its own (phase one: in either process)."""
    readers = _readers(run.date_format)
    problems: list[Problem] = []
    read: list[tuple[int, dict[str, Any]]] = []
    for source in chunk:
        if has_cpr(source):
            problems.append((source.number, ROW, "", CPR_ROW))
            continue
        raw = cells(source, run.match)
        data, errors = read_cells(raw, readers)
        for key, message in errors.items():
            problems.append((source.number, key, raw.get(key), message))
        if not errors:
            read.append((source.number, data))
    _load_contracts(run, {d["case_ref"] for _, d in read if d.get("case_ref")})
    before = _checked_before(
        run,
        [
            (c.row.provider_id, str(d["invoice_no"]))
            for _, d in read
            if d.get("invoice_no")
            for c in run.contracts.get(d.get("case_ref") or "", [])
        ],
    )
    lines = [_precheck_line(run, number, data, before) for number, data in read]
    return _Prechecked(len(chunk), problems, lines)


def _settle(run: _Run, checked: _Prechecked) -> list[_Line]:
    """A chunk checked on its own, settled against the lines before it (phase two: in this
    process, in file order): its lines to store; the run's figures and errors follow."""
    run.rows += checked.rows
    for problem in checked.problems:
        run.problem(*problem)
    _load_saved_invoices(run, {p.credit.contract_id for p in checked.lines if p.credit})
    lines = []
    for pending in checked.lines:
        if (line := _settle_line(run, pending)) is not None:
            lines.append(line)
            run.taken.add(_invoice_key(*pending.key))  # type: ignore[misc]
    return lines


# --- Checking in two processes ----------------------------------------------------------------
#
# Checking a line on its own (reading it, the schema, the pricing rule) and writing it (the
# check, its history and its audit event) cost about the same. For a large file a second process
# checks chunks on their own too, ahead of the one this process settles and writes, so the
# import uses both cores (in one process a thread would only take turns with it for the GIL).
# Whichever process checks a chunk, this one settles the chunks in file order, so the lines,
# errors and figures are the same as in one process.
#
# The second process reads the database on its own connection and sees it as it was before
# the import: this transaction's writes are not committed (SQLite's WAL and PostgreSQL's read
# committed both hide them), and on SQLite this transaction holds the write lock from its
# first read, so nobody else commits in between. Where this process sees more (the invoices it
# has written itself, among the earlier checks), it makes no difference: such a line is
# reported as the same invoice twice in the file before it is settled as checked before.

AHEAD = 8  # chunks read ahead of the one settled: the second process's work and this one's
SENT = 3  # chunks with the second process at a time (one it checks, two waiting)


@dataclass(frozen=True)
class _Setup:
    """What the second process needs to check a chunk as this one would."""

    url: str
    headers: tuple[str, ...]
    date_format: str
    today: date
    settings: AppSettings
    rates: dict[int, Decimal]


def _reader_url(session: Session) -> str | None:
    """The URL a second process can read this import's starting state from: a database in a
    file or on a server, when this outermost action has changed nothing before the import."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    if session.info.get(DEPTH, 0) != 1 or session.new or session.dirty or session.deleted:
        return None
    if has_written(session.connection()):
        return None
    return url.render_as_string(hide_password=False)


def serve_checks(fd: int) -> None:
    """The second process (`python -c`, see _Checker): check each chunk it is sent on the
    connection `fd` on its own, until None; a failure is sent back as its traceback."""
    connection = Connection(fd)
    outgoing: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def send() -> None:  # while the next chunk is checked
        while (item := outgoing.get()) is not None:
            connection.send(item)

    sender = threading.Thread(target=send, name="takstkompas-import-send", daemon=True)
    sender.start()
    try:
        # Its own objects are freed as each chunk is sent; the cycle collector only costs time.
        gc.disable()
        setup: _Setup = connection.recv()
        engine = get_engine(setup.url)
        with Session(engine) as session:
            run = _Run(
                session=session,
                match=match_columns(setup.headers, COLUMNS),
                headers=setup.headers,
                date_format=setup.date_format,
                today=setup.today,
                settings=setup.settings,
                rates=setup.rates,
            )
            while (item := connection.recv()) is not None:
                index, rows = item
                chunk = [SourceRow(number, values) for number, values in rows]
                outgoing.put((index, _packed(_precheck(run, chunk))))
        engine.dispose()
    except EOFError:  # the importing process has gone
        pass
    except BaseException:
        outgoing.put(traceback.format_exc())
    finally:
        outgoing.put(None)
        sender.join()
        connection.close()


def _packed(checked: _Prechecked) -> tuple[Any, ...]:
    """A checked chunk as the second process sends it: plain tuples, an invoice's fields
    without their names (the same for every invoice). It unpickles in a quarter of the time."""
    keys = next((tuple(p.values) for p in checked.lines if p.values is not None), ())
    lines = [
        (
            p.row,
            p.problems,
            p.key,
            p.before,
            p.values if p.values is None or tuple(p.values) != keys else tuple(p.values.values()),
            p.changes,
            p.credit,
        )
        for p in checked.lines
    ]
    return checked.rows, checked.problems, keys, lines


def _unpacked(packed: tuple[Any, ...]) -> _Prechecked:
    rows, problems, keys, lines = packed
    return _Prechecked(
        rows,
        problems,
        [
            _Pending(
                row,
                line_problems,
                key,
                before,
                dict(zip(keys, values, strict=True)) if isinstance(values, tuple) else values,
                changes,
                credit,
            )
            for row, line_problems, key, before, values, changes, credit in lines
        ],
    )


class _Checker:
    """The second process, a fresh interpreter (`python -c`): multiprocessing would run the
    importing process's main script in it first, which under Streamlit is the page itself.
    Chunks go to it through a thread, so that neither process waits on a full pipe."""

    def __init__(self, setup: _Setup) -> None:
        ours, theirs = multiprocessing.Pipe()
        self.connection = ours
        fd = theirs.fileno()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from services.imports.invoices import serve_checks; serve_checks({fd})",
            ],
            cwd=ROOT,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.outgoing: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._send, name="takstkompas-import-feed")
        self.sender.daemon = True
        self.sender.start()
        self.send(setup)

    def _send(self) -> None:
        try:
            while (item := self.outgoing.get()) is not _STOP:
                self.connection.send(item)
        except OSError:  # the process has stopped (result() says so), or close() was called
            pass

    def send(self, item: Any) -> None:
        self.outgoing.put(item)

    def result(self, *, wait: bool) -> tuple[int, _Prechecked] | None:
        """A chunk the process has checked (its number, the lines), or None when none is ready
        and `wait` is false; RuntimeError when the process failed."""
        while not self.connection.poll(1 if wait else 0):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The import's checking process stopped (exit code {self.process.returncode})"
                )
            if not wait:
                return None
        try:
            result = self.connection.recv()
        except EOFError:
            raise RuntimeError("The import's checking process stopped") from None
        if isinstance(result, str):
            raise RuntimeError(f"Checking the import failed in its process:\n{result}")
        number, packed = result
        return number, _unpacked(packed)

    def close(self, *, done: bool) -> None:
        """Let the process finish (`done`: every chunk sent) or stop it; wait for it."""
        if done:
            self.send(None)
        self.outgoing.put(_STOP)
        if done:
            self.sender.join(timeout=5)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.connection.close()
        self.sender.join(timeout=5)


_STOP = object()  # the end of what _Checker's thread sends
ROOT = Path(__file__).resolve().parents[2]  # where `services` is imported from


def _prechecked(
    run: _Run, rows: Iterable[SourceRow], url: str | None
) -> Generator[_Prechecked, None, None]:
    """Each chunk checked on its own, in file order: here, or shared with a second process
    for a large file (`url`: where it reads the database)."""
    chunks = _chunks(rows)
    ahead = list(islice(chunks, PARALLEL_FROM)) if url is not None else []
    if url is None or len(ahead) < PARALLEL_FROM:
        for chunk in chain(ahead, chunks):
            yield _precheck(run, chunk)
        return
    yield from _prechecked_shared(run, chain(ahead, chunks), url)


def _prechecked_shared(
    run: _Run, chunks: Iterator[list[SourceRow]], url: str
) -> Iterator[_Prechecked]:
    """The chunks checked by this process and a second one, in file order. The second one is
    kept busy with the chunks after the next in line; this one checks the next in line when the
    second has not got it (while that one starts, say), and one further ahead while it waits.
    Should the second process fail, this one checks its chunks again itself: it costs time,
    not the import."""
    setup = _Setup(url, tuple(run.headers), run.date_format, run.today, run.settings, run.rates)
    checker: _Checker | None = _Checker(setup)
    unchecked: dict[int, list[SourceRow]] = {}  # by chunk number
    sent: dict[int, list[SourceRow]] = {}  # with the second process
    done: dict[int, _Prechecked] = {}
    read = head = 0
    last: int | None = None  # the number of chunks, once all are read
    finished = False
    try:
        while last is None or head < last:
            while last is None and len(unchecked) + len(sent) + len(done) < AHEAD:
                chunk = next(chunks, None)
                if chunk is None:
                    last = read
                else:
                    unchecked[read] = chunk
                    read += 1
            try:
                # Take in what the second process has checked, so that it is sent the next
                # chunks at once; wait for it only when this one has nothing else to check.
                wait = head not in done and head not in unchecked and not unchecked
                while checker is not None and sent:
                    if (result := checker.result(wait=wait)) is None:
                        break
                    number, checked = result
                    del sent[number]
                    done[number] = checked
                    wait = False
            except RuntimeError:
                logger.warning("The import goes on in one process", exc_info=True)
                if checker is not None:
                    checker.close(done=False)
                checker = None
                unchecked.update(sent)
                sent.clear()
                continue
            while checker is not None and len(sent) < SENT and len(unchecked) > (head in unchecked):
                number = min(n for n in unchecked if n != head)
                sent[number] = unchecked.pop(number)
                checker.send((number, [(row.number, row.values) for row in sent[number]]))
            if head in done:
                yield done.pop(head)
                head += 1
            elif head in unchecked:
                done[head] = _precheck(run, unchecked.pop(head))
            elif unchecked:  # its turn is with the second process: check one further meanwhile
                number = min(unchecked)
                done[number] = _precheck(run, unchecked.pop(number))
        finished = True
    finally:
        if checker is not None:
            checker.close(done=finished)


def _write_chunk(run: _Run, lines: list[_Line], user: str) -> None:
    """Insert the chunk's invoices, then its credit notes, each with its create event; a
    flagged invoice's first line in its history; a credited flagged one's note."""
    if run.errors or run.more_errors or not lines:
        return  # with errors the import is refused at the end: nothing more to write
    now = utcnow()
    stamp = {"created_at": now, "updated_at": now, "created_by": user, "updated_by": user}
    table = InvoiceCheck.__table__  # type: ignore[attr-defined]
    connection = run.session.connection()
    # Each line's id before it is written: a credit note names its invoice by it.
    ids = reserve_ids(connection, table, len(lines))
    for line, new_id in zip(lines, ids, strict=True):
        if line.values["kind"] == InvoiceKind.INVOICE and line.credits is not None:
            line.credits.id = new_id
            line.credits.status = InvoiceStatus.NEW if line.values["flagged"] else None
    events: list[dict[str, Any]] = []
    for kind in (InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE):
        batch = [
            (line, i) for line, i in zip(lines, ids, strict=True) if line.values["kind"] == kind
        ]
        if not batch:
            continue
        rows = []
        changes = []
        for line, new_id in batch:
            values = line.values
            if kind == InvoiceKind.CREDIT_NOTE and line.credits is not None:
                values = {"credits_id": line.credits.id, **values}
            rows.append({**values, **stamp, "version": 1, "id": new_id})
            changes.append(line.changes or created_changes(values))
        bulk_insert(connection, table, rows)
        for (line, _), row in zip(batch, rows, strict=True):
            credited = line.credits
            if kind == InvoiceKind.INVOICE and row["flagged"]:
                events.append(_history(row["id"], user, None, InvoiceStatus.NEW, None, None, now))
            if kind == InvoiceKind.CREDIT_NOTE and credited is not None and credited.flagged:
                note = (
                    f"Kreditnota {row['invoice_no']} på {format_kr(row['invoiced'])} "
                    f"registreret ved import."
                )
                events.append(
                    _history(
                        credited.id or 0,
                        user,
                        credited.status,
                        credited.status or InvoiceStatus.NEW,
                        credited.assignee,
                        note,
                        now,
                    )
                )
        write_created(run.session, table, rows, changes)
    bulk_insert(connection, DeviationEvent.__table__, events)  # type: ignore[attr-defined]


def _history(
    check_id: int,
    user: str,
    old: str | None,
    new: str,
    assignee: str | None,
    note: str | None,
    now: Any,
) -> dict[str, Any]:
    return {
        "invoice_check_id": check_id,
        "by": user,
        "old_status": old,
        "new_status": str(new),
        "assignee": assignee,
        "note": note,
        "at": now,
        "created_at": now,
        "updated_at": now,
        "created_by": user,
        "updated_by": user,
    }


class _Collector:
    """How often Python's cycle collector runs, while imports run (see _fewer_collections)."""

    lock = threading.Lock()
    imports = 0
    threshold = gc.get_threshold()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector runs each time 700 more objects have been made than freed, and
    walks the young ones; an import makes millions, nearly all freed at once by reference
    counting, and spent a sixth of its time there. While imports run it runs a hundredth as
    often (process-wide: the import takes seconds, and nothing else relies on it)."""
    with _Collector.lock:
        if _Collector.imports == 0:
            _Collector.threshold = gc.get_threshold()
            first, *older = _Collector.threshold
            gc.set_threshold(first * 100, *older)
        _Collector.imports += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.imports -= 1
            if _Collector.imports == 0:
                gc.set_threshold(*_Collector.threshold)


def _run(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str,
    today: date | None,
    user: str | None,
    progress: Callable[[int], None] | None,
    on_line: Callable[[int, dict[str, Any]], None] | None = None,
    wording: tuple[str, str] = ("række", "i filen"),
) -> ImportPreview:
    match = match_columns(headers, COLUMNS)
    run = _Run(
        session=session,
        match=match,
        headers=headers,
        date_format=date_format,
        today=today or date.today(),
        settings=get_settings(session=session),
        rates=index_rates(session=session),
        row_word=wording[0],
        in_file=wording[1],
    )
    if not match.missing:
        # Only an import that writes and reports nothing per line gains by a second process.
        url = _reader_url(session) if user is not None and on_line is None else None
        with _fewer_collections(), closing(_prechecked(run, rows, url)) as prechecked:
            for checked in prechecked:
                lines = _settle(run, checked)
                if on_line is not None:
                    for line in lines:
                        on_line(line.row, line.values)
                if user is not None:
                    _write_chunk(run, lines, user)
                if progress is not None:
                    progress(run.rows)
    figures: tuple[tuple[str, str], ...] = (
        ("Kontrolleret", format_number(run.checked)),
        ("Afvigelser", format_number(run.flagged)),
        ("Under forventet", format_number(run.under)),
        ("Kreditnotaer", format_number(run.credit_notes)),
    )
    summary = (
        f"Afvigelser i alt: {format_kr(run.deviations)} over det forventede på "
        f"{format_number(run.flagged)} {'faktura' if run.flagged == 1 else 'fakturaer'}. "
        "De føres i afvigelsesloggen med status "
        f"{label(InvoiceStatus.NEW)}, når de gemmes."
        if run.flagged
        else None
    )
    return ImportPreview(
        columns=match,
        rows=run.rows,
        new=[],
        updates=[],
        unchanged=0,
        errors=sorted(run.errors, key=lambda e: e.row),
        warnings=[],
        figures=figures,
        summary=summary,
        counted=run.checked + run.credit_notes,
        more_errors=run.more_errors,
    )


def check_invoice_lines(
    *,
    session: Session,
    rows: Iterable[SourceRow],
    user: str | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    on_line: Callable[[int, dict[str, Any]], None] | None = None,
    wording: tuple[str, str] = ("række", "i filen"),
) -> ImportPreview:
    """Lines already read (one value per COLUMNS, in their order: dates as dates, amounts as
    Decimal) checked exactly as a file's lines are, and written in the caller's transaction
    when a user is given; `on_line` gets each good line's row number and stored fields.
    E-invoices are saved through this, so they are checked and stored like imported lines."""
    return _run(
        session=session,
        headers=HEADERS,
        rows=rows,
        date_format=DEFAULT_DATE_FORMAT,
        today=today,
        user=user,
        progress=progress,
        on_line=on_line,
        wording=wording,
    )


def preview_invoices(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportPreview:
    """Check every line against its contract; writes nothing. (Invoice checks are never
    updated by an import: `update_existing` is ignored.)"""
    return _run(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        today=today,
        user=None,
        progress=progress,
    )


@action
def import_invoices(
    *,
    session: Session,
    headers: Sequence[str],
    rows: Iterable[SourceRow],
    file_name: str,
    user: str,
    date_format: str = DEFAULT_DATE_FORMAT,
    update_existing: bool = False,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportPreview:
    """Check every line again and store each as an invoice check, in this one transaction;
    InputError (nothing stored) when any line has an error."""
    preview = _run(
        session=session,
        headers=headers,
        rows=rows,
        date_format=date_format,
        today=today,
        user=user,
        progress=progress,
    )
    require_ready(preview)
    record_import(
        session, kind_name=KIND_NAME, file_name=file_name, created=preview.counted, updated=0
    )
    return preview
