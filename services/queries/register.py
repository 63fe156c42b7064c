"""The contract register (SPEC 5.5): filtered, paginated list with alerts, and one contract's page.

Filtering, counting and paging happen in SQL so the register stays fast with thousands of
contracts and hundreds of thousands of invoice checks. Rules that need Python (the regulated
price today, the price category) are computed only for the rows that are returned.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    AlertKind,
    Contract,
    ContractStatus,
    InvoiceCheck,
    Offer,
    PriceChange,
    Provider,
)
from services.contracts import (
    annual_effect,
    category_on,
    list_addons,
    list_price_changes,
    terms_of,
)
from services.errors import UserError
from services.followups import list_followups, list_goals
from services.price_timeline import ensure_price_timeline
from services.reference import category_thresholds, index_rates
from services.rules.alerts import (
    LIVE,
    Alert,
    AlertHorizons,
    ContractFacts,
    FactColumns,
    alert_conditions_sql,
    contract_alerts,
    facts_from_row,
    join_facts,
    urgency_sql,
)
from services.rules.cadence import is_overdue
from services.rules.categories import above_visitation
from services.rules.checklist import checked_count, checklist_completeness, checklist_of
from services.rules.deviations import open_deviation_sql
from services.rules.notice import notice_deadline
from services.rules.pricing import PriceTerms, annual_amount, daily_equivalent, regulated_price
from services.rules.voiding import is_voided
from services.sql import date_of
from services.validation import require

# Ways to sort the register, the one Kontrakter opens with first.
SORT_ORDERS: dict[str, str] = {
    "advarsel": "Mest presserende advarsel først",
    "nyeste": "Nyeste start først",
    "sagsnummer": "Sagsnummer",
    "leverandoer": "Leverandør",
    "genforhandling": "Genforhandlingsdato",
    "slutdato": "Slutdato",
}

EXPORT_CAP = 10_000
_CHUNK = 500  # ids per IN (...) list when batch-loading price changes


@dataclass(frozen=True)
class RegisterFilters:
    """What the user narrowed the register to; empty means no restriction."""

    statuses: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()
    provider_id: int | None = None
    alert: str | None = None
    search: str = ""
    sort: str = "nyeste"


# What Kontrakter opens on: the live contracts (services.rules.alerts.LIVE: the citizen still
# lives there), most urgent alert first.
OPENING_FILTERS = RegisterFilters(
    statuses=tuple(status.value for status in ContractStatus if status in LIVE), sort="advarsel"
)


@dataclass(frozen=True)
class RegisterCounts:
    """How many contracts match the filters, and how many of them have each alert."""

    total: int
    matching: int  # after the alert filter, if any
    by_alert: dict[AlertKind, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterPage:
    rows: pd.DataFrame
    counts: RegisterCounts


REGISTER_COLUMNS = [
    "id",
    "case_ref",
    "provider_id",
    "provider_name",
    "paragraph",
    "status",
    "start_date",
    "end_date",
    "price",
    "price_unit",
    "price_today",
    "category",
    "visitation_category",
    "renegotiation_date",
    "notice_deadline",
    "checked",
    "overdue_followups",
    "open_deviations",
    "alerts",
]


# --- SQL building blocks --------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    base: Any  # contracts with their providers
    facts: FactColumns
    flags: dict[AlertKind, sa.ColumnElement[bool]]
    joins: Any
    where: list[sa.ColumnElement[bool]]
    urgency: tuple[Any, Any]


def _parts(filters: RegisterFilters, today: date, horizons: AlertHorizons) -> _Parts:
    """The joined tables, the alert facts and conditions (services.rules.alerts) and the base
    filters."""
    base = sa.join(Contract, Provider, col(Contract.provider_id) == col(Provider.id))
    joins, facts = join_facts(base, today)
    flags = alert_conditions_sql(facts, today, horizons)
    where: list[sa.ColumnElement[bool]] = []
    if filters.statuses:
        where.append(col(Contract.status).in_(list(filters.statuses)))
    if filters.paragraphs:
        where.append(col(Contract.paragraph).in_(list(filters.paragraphs)))
    if filters.provider_id is not None:
        where.append(col(Contract.provider_id) == filters.provider_id)
    search = filters.search.strip().lower()
    if search:
        where.append(sa.func.lower(Contract.case_ref).contains(search, autoescape=True))
    if filters.alert:
        where.append(flags[AlertKind(filters.alert)])
    return _Parts(base, facts, flags, joins, where, urgency_sql(facts, flags))


def _order_by(sort: str, parts: _Parts) -> list[Any]:
    newest = [col(Contract.start_date).desc(), col(Contract.id).desc()]
    if sort == "sagsnummer":
        return [col(Contract.case_ref), col(Contract.id)]
    if sort == "leverandoer":
        return [col(Provider.name), col(Contract.case_ref), col(Contract.id)]
    if sort == "genforhandling":
        return [
            col(Contract.renegotiation_date).is_(None),
            col(Contract.renegotiation_date),
            col(Contract.id),
        ]
    if sort == "slutdato":
        return [col(Contract.end_date).is_(None), col(Contract.end_date), col(Contract.id)]
    if sort == "advarsel":
        rank, due = parts.urgency
        return [rank, due, col(Contract.case_ref), col(Contract.id)]
    return newest


def _filtered_query(filters: RegisterFilters, parts: _Parts) -> Any:
    """The contracts (with provider names) matching the filters, in the chosen order. The
    alert facts are joined only when the filter or the order needs them: a page of rows gets
    its facts afterwards, for its own ids (_facts_of)."""
    needs_facts = bool(filters.alert) or filters.sort == "advarsel"
    return (
        sa.select(Contract, col(Provider.name))
        .select_from(parts.joins if needs_facts else parts.base)
        .where(*parts.where)
        .order_by(*_order_by(filters.sort, parts))
    )


def _facts_of(session: Session, parts: _Parts, ids: Sequence[int]) -> dict[int, Any]:
    """The alert fact columns of the given contracts, by id."""
    if not ids:
        return {}
    query = (
        sa.select(col(Contract.id), *parts.facts.labelled())
        .select_from(parts.joins)
        .where(col(Contract.id).in_(list(ids)))
    )
    return {row.id: row for row in session.execute(query)}


# --- The register ---------------------------------------------------------------------------


def register_counts(
    *,
    session: Session,
    filters: RegisterFilters = RegisterFilters(),
    today: date | None = None,
    horizons: AlertHorizons = AlertHorizons(),
) -> RegisterCounts:
    """Contracts matching the filters (the alert filter aside), and per alert kind, counted in
    one SQL query by the alert table's conditions."""
    today = today or date.today()
    ensure_price_timeline(session=session, day=today)
    parts = _parts(replace(filters, alert=None), today, horizons)
    columns = [sa.func.count().label("total")] + [
        sa.func.coalesce(sa.func.sum(sa.case((flag, 1), else_=0)), 0).label(kind.value)
        for kind, flag in parts.flags.items()
    ]
    row = session.execute(sa.select(*columns).select_from(parts.joins).where(*parts.where)).one()
    by_alert = {kind: int(row._mapping[kind.value]) for kind in parts.flags}
    total = int(row._mapping["total"])
    matching = by_alert[AlertKind(filters.alert)] if filters.alert else total
    return RegisterCounts(total=total, matching=matching, by_alert=by_alert)


def _changes_by_contract(session: Session, ids: Sequence[int]) -> dict[int, list[PriceChange]]:
    changes: dict[int, list[PriceChange]] = {i: [] for i in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        query = (
            select(PriceChange)
            .where(col(PriceChange.contract_id).in_(chunk))
            .order_by(col(PriceChange.contract_id), col(PriceChange.effective_date))
        )
        for change in session.exec(query):
            changes[change.contract_id].append(change)
    return changes


def _enrich(
    session: Session,
    rows: Iterable[Any],
    parts: _Parts,
    today: date,
    horizons: AlertHorizons,
) -> pd.DataFrame:
    """Register rows with price today, category, notice deadline and alerts (these rows only)."""
    rows = list(rows)
    ids = [row[0].id for row in rows]
    fact_rows = _facts_of(session, parts, ids)
    changes = _changes_by_contract(session, ids)
    rates = index_rates(session=session) if rows else {}
    thresholds = category_thresholds(session=session) if rows else {}
    records = []
    for row in rows:
        contract, provider_name = row[0], row[1]
        try:
            price_today: Decimal | None = regulated_price(
                terms_of(contract, changes[contract.id], rates), today
            )
        # An index rate is missing, or the price is regulated past any amount (rules.pricing):
        # shown as unknown, never guessed.
        except UserError:
            price_today = None
        category = (
            category_on(price_today, contract.price_unit, contract.paragraph, today, thresholds)
            if price_today is not None
            else None
        )
        facts = facts_from_row(
            fact_rows[contract.id],
            over_visitation=above_visitation(category, contract.visitation_category),
        )
        alerts = contract_alerts(facts, today, horizons)
        records.append(
            {
                "id": contract.id,
                "case_ref": contract.case_ref,
                "provider_id": contract.provider_id,
                "provider_name": provider_name,
                "paragraph": str(contract.paragraph),
                "status": str(contract.status),
                "start_date": contract.start_date,
                "end_date": contract.end_date,
                "price": contract.price,
                "price_unit": str(contract.price_unit),
                "price_today": price_today,
                "category": str(category) if category else None,
                "visitation_category": (
                    str(contract.visitation_category) if contract.visitation_category else None
                ),
                "renegotiation_date": contract.renegotiation_date,
                "notice_deadline": notice_deadline(contract.end_date, contract.notice_days),
                "checked": facts.checklist_checked,
                "overdue_followups": facts.overdue_followups,
                "open_deviations": facts.open_deviations,
                "alerts": tuple(alert.kind for alert in alerts),
            }
        )
    return pd.DataFrame(records, columns=REGISTER_COLUMNS)


def register_rows(
    *,
    session: Session,
    filters: RegisterFilters = RegisterFilters(),
    today: date | None = None,
    horizons: AlertHorizons = AlertHorizons(),
    limit: int = 50,
    offset: int = 0,
) -> pd.DataFrame:
    """One page of the filtered register; rules (price today, alerts) for these rows only."""
    today = today or date.today()
    ensure_price_timeline(session=session, day=today)
    parts = _parts(filters, today, horizons)
    query = _filtered_query(filters, parts).limit(limit).offset(offset)
    return _enrich(session, session.execute(query), parts, today, horizons)


def register_page(
    *,
    session: Session,
    filters: RegisterFilters = RegisterFilters(),
    today: date | None = None,
    horizons: AlertHorizons = AlertHorizons(),
    limit: int = 50,
    offset: int = 0,
) -> RegisterPage:
    """One page of the filtered register with its counts."""
    today = today or date.today()
    counts = register_counts(session=session, filters=filters, today=today, horizons=horizons)
    rows = register_rows(
        session=session,
        filters=filters,
        today=today,
        horizons=horizons,
        limit=limit,
        offset=offset,
    )
    return RegisterPage(rows=rows, counts=counts)


EXPORT_COLUMNS = [
    "id",
    "case_ref",
    "provider_name",
    "paragraph",
    "status",
    "start_date",
    "end_date",
    "price",
    "price_unit",
    "visitation_category",
    "renegotiation_date",
    "notice_days",
    "notice_deadline",
    "checked",
    "overdue_followups",
    "open_deviations",
    "alerts",
]


def register_export(
    *,
    session: Session,
    filters: RegisterFilters = RegisterFilters(),
    today: date | None = None,
    horizons: AlertHorizons = AlertHorizons(),
    cap: int = EXPORT_CAP,
) -> pd.DataFrame:
    """The whole filtered register (at most `cap` rows) for export, computed in SQL.

    Holds the agreed price; the regulated price today is computed only for rows on screen.
    """
    today = today or date.today()
    ensure_price_timeline(session=session, day=today)
    parts = _parts(filters, today, horizons)
    query = (
        sa.select(
            col(Contract.id),
            col(Contract.case_ref),
            col(Provider.name),
            col(Contract.paragraph),
            col(Contract.start_date),
            col(Contract.price),
            col(Contract.price_unit),
            col(Contract.visitation_category),
            *parts.facts.labelled(),
            *[sa.case((flag, 1), else_=0).label(f"flag_{k}") for k, flag in parts.flags.items()],
        )
        .select_from(parts.joins)
        .where(*parts.where)
        .order_by(*_order_by(filters.sort, parts))
        .limit(cap)
    )
    records = []
    for row in session.execute(query):
        values = row._mapping
        records.append(
            {
                "id": row.id,
                "case_ref": row.case_ref,
                "provider_name": row.name,
                "paragraph": _plain(row.paragraph),
                "status": _plain(row.status),
                "start_date": row.start_date,
                "end_date": row.end_date,
                "price": row.price,
                "price_unit": _plain(row.price_unit),
                "visitation_category": _plain(row.visitation_category),
                "renegotiation_date": row.renegotiation_date,
                "notice_days": row.notice_days,
                "notice_deadline": notice_deadline(row.end_date, row.notice_days),
                "checked": int(row.checked),
                "overdue_followups": int(row.overdue),
                "open_deviations": int(row.open_dev),
                "alerts": tuple(k for k in parts.flags if values[f"flag_{k}"]),
            }
        )
    return pd.DataFrame(records, columns=EXPORT_COLUMNS)


# --- One contract ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractDetail:
    """Everything the contract page shows about one contract, computed for `today`."""

    contract: dict[str, Any]
    provider_name: str
    offer_name: str | None
    price_today: Decimal | None
    price_error: str | None
    daily_today: Decimal | None
    annual_today: Decimal | None
    annual_with_addons: Decimal | None
    category: str | None
    over_visitation: bool
    notice_deadline: date | None
    checked: int
    completeness: Decimal
    overdue_followups: int
    open_deviations: int
    invoice_checks: int
    alerts: list[Alert]
    price_history: pd.DataFrame
    addons: pd.DataFrame
    followups: pd.DataFrame
    goals: pd.DataFrame


def _price_history(contract: Contract, changes: Sequence[PriceChange]) -> pd.DataFrame:
    """The base price followed by each price change with old/new price and annual effect; a
    voided change is listed with who voided it, when and why, and no annual effect."""
    columns = [
        "id",
        "version",
        "effective_date",
        "old_price",
        "new_price",
        "reason",
        "annual_effect",
        "note",
        "voided_at",
        "voided_by",
        "void_reason",
    ]
    rows: list[dict[str, Any]] = [
        {
            "id": None,
            "version": None,
            "effective_date": contract.price_base_date,
            "old_price": None,
            "new_price": contract.price,
            "reason": "grundpris",
            "annual_effect": None,
            "note": None,
            "voided_at": None,
            "voided_by": None,
            "void_reason": None,
        }
    ]
    for change in changes:
        rows.append(
            {
                "id": change.id,
                "version": change.version,
                "effective_date": change.effective_date,
                "old_price": change.old_price,
                "new_price": change.new_price,
                "reason": str(change.reason),
                "annual_effect": None
                if is_voided(change)
                else annual_effect(change, contract.price_unit),
                "note": change.note,
                "voided_at": change.voided_at,
                "voided_by": change.voided_by,
                "void_reason": change.void_reason,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _addons_frame(addons: Sequence[Any], terms: PriceTerms, today: date) -> pd.DataFrame:
    """Add-ons with their price regulated to today (None when not in force today or voided)."""
    records = []
    for addon in addons:
        price_today = None
        in_force_today = addon.valid_from <= today and (
            addon.valid_to is None or today <= addon.valid_to
        )
        if in_force_today and not is_voided(addon):
            try:
                price_today = regulated_price(
                    PriceTerms(addon.price, addon.unit, addon.valid_from, terms.regulation), today
                )
            except UserError:  # a missing rate, or regulated past any amount
                price_today = None
        records.append(
            {
                "id": addon.id,
                "name": addon.name,
                "price": addon.price,
                "unit": str(addon.unit),
                "valid_from": addon.valid_from,
                "valid_to": addon.valid_to,
                "price_today": price_today,
                "version": addon.version,
                "voided_at": addon.voided_at,
                "voided_by": addon.voided_by,
                "void_reason": addon.void_reason,
            }
        )
    columns = [
        "id",
        "name",
        "price",
        "unit",
        "valid_from",
        "valid_to",
        "price_today",
        "version",
        "voided_at",
        "voided_by",
        "void_reason",
    ]
    return pd.DataFrame(records, columns=columns)


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one())


def contract_detail(
    *,
    session: Session,
    contract_id: int,
    today: date | None = None,
    horizons: AlertHorizons = AlertHorizons(),
) -> ContractDetail:
    """One contract with its price today, category, alerts, history, add-ons and follow-ups."""
    today = today or date.today()
    contract = require(session, Contract, contract_id, "Kontrakten")
    provider = session.get(Provider, contract.provider_id)
    offer = session.get(Offer, contract.offer_id) if contract.offer_id else None
    changes = list_price_changes(session=session, contract_id=contract_id)
    addons = list_addons(session=session, contract_id=contract_id)
    terms: PriceTerms = terms_of(contract, changes, index_rates(session=session))

    addons_frame = _addons_frame(addons, terms, today)
    price_today: Decimal | None = None
    price_error: str | None = None
    daily = annual = annual_addons = None
    category = None
    try:
        price_today = regulated_price(terms, today)
        daily = daily_equivalent(price_today, contract.price_unit)
        annual = annual_amount(price_today, contract.price_unit)
        annual_addons = annual + sum(
            (
                annual_amount(row.price_today, row.unit)
                for row in addons_frame.itertuples()
                if row.price_today is not None
            ),
            Decimal(0),
        )
        category = category_on(
            price_today,
            contract.price_unit,
            contract.paragraph,
            today,
            category_thresholds(session=session),
        )
    except UserError as exc:
        price_error = exc.message

    followups = list_followups(session=session, contract_id=contract_id)
    goals = list_goals(session=session, contract_id=contract_id)
    overdue_dues = [f.due_date for f in followups if is_overdue(f.due_date, f.done_date, today)]
    open_dev, oldest_open = session.execute(
        sa.select(sa.func.count(), sa.func.min(InvoiceCheck.checked_on)).where(
            col(InvoiceCheck.contract_id) == contract_id, open_deviation_sql()
        )
    ).one()
    checks = _count(
        session,
        select(sa.func.count())
        .select_from(InvoiceCheck)
        .where(InvoiceCheck.contract_id == contract_id),
    )
    checklist = checklist_of(contract)
    checked = checked_count(checklist)
    over = above_visitation(category, contract.visitation_category)
    facts = ContractFacts(
        status=contract.status,
        renegotiation_date=contract.renegotiation_date,
        end_date=contract.end_date,
        notice_days=contract.notice_days,
        checklist_checked=checked,
        overdue_followups=len(overdue_dues),
        oldest_overdue=min(overdue_dues, default=None),
        open_deviations=int(open_dev),
        oldest_open_deviation=date_of(oldest_open),
        over_visitation_category=over,
    )
    return ContractDetail(
        contract=contract.model_dump(),
        provider_name=provider.name if provider else "",
        offer_name=offer.name if offer else None,
        price_today=price_today,
        price_error=price_error,
        daily_today=daily,
        annual_today=annual,
        annual_with_addons=annual_addons,
        category=str(category) if category else None,
        over_visitation=over,
        notice_deadline=notice_deadline(contract.end_date, contract.notice_days),
        checked=checked,
        completeness=checklist_completeness(checklist),
        overdue_followups=facts.overdue_followups,
        open_deviations=facts.open_deviations,
        invoice_checks=checks,
        alerts=contract_alerts(facts, today, horizons),
        price_history=_price_history(contract, changes),
        addons=addons_frame,
        followups=_frame(
            followups,
            [
                "id",
                "due_date",
                "kind",
                "done_date",
                "done_by",
                "progression",
                "support_need_change",
                "action",
                "note",
                "assignee",
            ],
            overdue_before=today,
        ),
        goals=_frame(goals, ["id", "theme", "goal_type", "text", "measure", "deadline", "status"]),
    )


def _frame(
    rows: Sequence[Any], columns: Sequence[str], overdue_before: date | None = None
) -> pd.DataFrame:
    records = []
    for row in rows:
        record = {c: _plain(getattr(row, c)) for c in columns}
        if overdue_before is not None:
            record["overdue"] = is_overdue(row.due_date, row.done_date, overdue_before)
        records.append(record)
    extra = ["overdue"] if overdue_before is not None else []
    return pd.DataFrame(records, columns=[*columns, *extra])


def _plain(value: Any) -> Any:
    """Enum members as their stored code, so cached frames hold plain values."""
    if isinstance(value, str):
        return str(value)
    return value


def contract_invoice_checks(
    *, session: Session, contract_id: int, limit: int = 25, offset: int = 0
) -> pd.DataFrame:
    """One page of a contract's invoice checks and credit notes, newest period first; voided
    ones are listed too, with who voided them, when and why."""
    query = (
        select(InvoiceCheck)
        .where(InvoiceCheck.contract_id == contract_id)
        .order_by(col(InvoiceCheck.period_from).desc(), col(InvoiceCheck.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return _frame(
        list(session.exec(query)),
        [
            "id",
            "invoice_no",
            "period_from",
            "period_to",
            "checked_on",
            "invoiced",
            "expected",
            "deviation",
            "deviation_pct",
            "flagged",
            "under_expected",
            "status",
            "assignee",
            "kind",
            "credits_id",
            "voided_at",
            "voided_by",
            "void_reason",
        ],
    )
