"""Prisopslag (SPEC 5.2): search offers with their rates, contract prices, category and notes.

Filtering, sorting, counting and paging happen in SQL, across every matching offer: the rate
today (the negotiated rate regulated to today by the pricing rule's SQL twin, else the list
rate) and its price category are columns of the query, so "Billigst først" is the cheapest of
all results, not of one page. The contracts' prices need the regulation rule in Python (price
changes, index rates): they run only for the offers on the page shown, with the contracts,
their price changes and the index rates loaded in one query each.
"""

import functools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractStatus,
    NoCategory,
    Offer,
    OfferTargetGroup,
    PriceCategory,
    PriceCategorySet,
    PriceChange,
    Provider,
    ProviderNote,
    TargetGroup,
    label,
)
from models.enums import RegulationKind
from models.types import round_ore
from services.contracts import terms_of
from services.formatting import format_amount, format_kr, format_number
from services.reference import index_rates
from services.rules.categories import (
    CategoryThresholds,
    category_rank_sql,
    price_category_sql,
)
from services.rules.pricing import (
    MissingIndexRate,
    PriceOutOfRange,
    Regulation,
    daily_equivalent,
    net_after_vat_refund,
    regulate_sql,
    regulated_price,
)
from services.rules.voiding import not_voided_sql
from services.settings import AppSettings, get_settings
from services.target_groups import list_target_groups, offer_target_group_names

# Filter value for offers without a category (no set for the paragraph this year, or no rate).
CATEGORY_FILTER_OPTIONS = [*(c.value for c in PriceCategory), NoCategory.NO_SET.value]
PAGE_SIZE = 25
# SQLite allows 32.766 bound parameters; stay far below when listing ids.
_ID_CHUNK = 900


class SortOrder(StrEnum):
    """How the result list is sorted, in SQL across every matching offer."""

    CHEAPEST = "billigst"
    NAME = "navn"
    CATEGORY = "kategori"


SORT_LABELS = {
    SortOrder.CHEAPEST: "Billigst først",
    SortOrder.NAME: "Navn",
    SortOrder.CATEGORY: "Priskategori",
}
# What each order means, for the line that tells the user how the list is sorted.
SORT_EXPLAINED = {
    SortOrder.CHEAPEST: "takst i dag, billigste først",
    SortOrder.NAME: "leverandør og tilbud, alfabetisk",
    SortOrder.CATEGORY: "priskategori fra lav til ekstraordinær, billigste først i hver",
}


@dataclass(frozen=True)
class LookupFilters:
    """What the caseworker searched for. Empty tuples mean "all"; `target_group` is the id of
    a TargetGroup."""

    text: str = ""
    paragraphs: tuple[str, ...] = ()
    target_group: int | None = None
    categories: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    include_inactive: bool = False


@dataclass(frozen=True)
class ContractRange:
    """Daily equivalents of the regulated prices of the active contracts on one offer."""

    count: int = 0
    low: Decimal | None = None
    median: Decimal | None = None
    high: Decimal | None = None
    missing_index: int = 0  # contracts whose price needs an index rate that is not registered


@dataclass(frozen=True)
class OfferPrice:
    """One offer as the price lookup shows it."""

    offer_id: int
    provider_id: int
    provider_name: str
    cvr: str | None
    city: str | None
    provider_kind: str
    framework: str
    offer_name: str
    paragraph: str
    target_groups: str
    places: int | None
    list_rate: Decimal | None
    list_rate_year: int | None
    negotiated_rate: Decimal | None
    negotiated_from: date | None
    negotiated_today: Decimal | None
    # The rate the municipality would pay today: negotiated (regulated), else list. None when
    # there is no rate, or the negotiated one cannot be regulated (then it is not the list rate).
    rate_today: Decimal | None
    category: str | None  # a PriceCategory value, or None for "ingen kategori"
    net_after_refund: Decimal | None
    portal_url: str | None
    contracts: ContractRange = field(default_factory=ContractRange)
    rank: int = 0  # place in the whole sorted result, from 1


@dataclass(frozen=True)
class _Pricing:
    """The SQL pieces of an offer's price today: the regulated negotiated rates to join, the
    rate today in øre and its price category (SPEC 4.4, this year's set of the paragraph)."""

    negotiated: Any  # subquery: key (offer id), price_ore
    rate_ore: Any
    category: Any


def _pricing(session: Session, today: date, settings: AppSettings) -> _Pricing:
    """The price today's SQL pieces for this year's price category sets."""
    sets = session.exec(select(PriceCategorySet).where(PriceCategorySet.year == today.year))
    thresholds = tuple(
        sorted(
            (
                str(s.paragraph),
                CategoryThresholds(s.middel_from, s.hoej_from, s.ekstraordinaer_from),
            )
            for s in sets
        )
    )
    return _pricing_for(today, settings.regulation_default_pct, thresholds)


@functools.lru_cache(maxsize=32)
def _pricing_for(
    today: date, regulation_pct: Decimal, thresholds: tuple[tuple[str, CategoryThresholds], ...]
) -> _Pricing:
    """Built once per day, rate and sets: SQL expressions are immutable and can be shared."""
    source = (
        sa.select(
            col(Offer.id).label("key"),
            col(Offer.negotiated_rate).label("price"),
            sa.func.coalesce(col(Offer.negotiated_from), sa.literal(today, sa.Date)).label(
                "base_date"
            ),
        )
        .where(col(Offer.negotiated_rate).is_not(None))
        .subquery("negotiated_rates")
    )
    regulation = Regulation(kind=RegulationKind.FIXED_PCT, pct=regulation_pct)
    negotiated = regulate_sql(source, today, regulation, name="negotiated_today")
    list_ore = sa.cast(sa.func.round(col(Offer.list_rate) * 100), sa.BigInteger)
    rate_ore = sa.case(
        (col(Offer.negotiated_rate).is_(None), list_ore), else_=negotiated.c.price_ore
    )
    no_set = sa.literal(NoCategory.NO_SET.value)
    by_paragraph = [
        (col(Offer.paragraph) == paragraph, price_category_sql(rate_ore * 365, bands))
        for paragraph, bands in thresholds
    ]
    category = sa.case((rate_ore.is_(None), no_set), *by_paragraph, else_=no_set)
    return _Pricing(negotiated=negotiated, rate_ore=rate_ore, category=category)


def _search_words(text: str) -> list[str]:
    return [word for word in text.lower().split() if word]


def _has_target_group(condition: Any) -> Any:
    """Whether the offer has a target group meeting `condition` (on TargetGroup). Uncorrelated:
    the few matching groups and their offers are found once, not once per offer."""
    groups = sa.select(col(TargetGroup.id)).where(condition)
    offers = sa.select(col(OfferTargetGroup.offer_id)).where(
        col(OfferTargetGroup.target_group_id).in_(groups)
    )
    return col(Offer.id).in_(offers)


def _base_query(
    columns: Sequence[Any], filters: LookupFilters, pricing: _Pricing | None
) -> sa.Select:
    """Offers joined to their provider and (with `pricing`) their negotiated rate regulated to
    today. A category filter needs `pricing`."""
    query = (
        sa.select(*columns)
        .select_from(Offer)
        .join(Provider, col(Provider.id) == col(Offer.provider_id))
    )
    if pricing is not None:
        query = query.outerjoin(pricing.negotiated, pricing.negotiated.c.key == col(Offer.id))
    if not filters.include_inactive:
        query = query.where(col(Offer.active).is_(True), col(Provider.active).is_(True))
    for word in _search_words(filters.text):
        # Every word must match one of the fields, so "aarhus bosted" narrows the list.
        compact = word.removeprefix("dk") if word[2:].isdigit() else word
        query = query.where(
            sa.or_(
                sa.func.lower(col(Provider.name)).contains(word, autoescape=True),
                sa.func.lower(col(Offer.name)).contains(word, autoescape=True),
                sa.func.lower(sa.func.coalesce(col(Provider.city), "")).contains(
                    word, autoescape=True
                ),
                sa.func.coalesce(col(Provider.cvr), "").contains(compact, autoescape=True),
                sa.func.coalesce(col(Provider.postal_code), "") == word,
                _has_target_group(
                    sa.func.lower(col(TargetGroup.name)).contains(word, autoescape=True)
                ),
            )
        )
    if filters.paragraphs:
        query = query.where(col(Offer.paragraph).in_(filters.paragraphs))
    if filters.frameworks:
        query = query.where(col(Provider.framework).in_(filters.frameworks))
    if filters.target_group is not None:
        query = query.where(_has_target_group(col(TargetGroup.id) == filters.target_group))
    if filters.categories:
        assert pricing is not None, "a category filter needs the price today"
        query = query.where(pricing.category.in_(filters.categories))
    return query


def count_offers(*, session: Session, filters: LookupFilters, today: date) -> int:
    """How many offers match the search (the price today only when a category is asked for)."""
    pricing = (
        _pricing(session, today, get_settings(session=session)) if filters.categories else None
    )
    query = _base_query([sa.func.count(col(Offer.id))], filters, pricing)
    return int(session.connection().execute(query).scalar_one())


def _order_by(order: SortOrder, pricing: _Pricing) -> list[Any]:
    names = [col(Provider.name), col(Offer.name), col(Offer.id)]
    cheapest = pricing.rate_ore.asc().nulls_last()
    if order == SortOrder.NAME:
        return names
    if order == SortOrder.CATEGORY:
        return [category_rank_sql(pricing.category).asc().nulls_last(), cheapest, *names]
    return [cheapest, *names]


# What the pricing rules read of a contract and a price change (services.contracts.terms_of):
# the rest of the rows stays in the database.
_PRICE_COLUMNS: tuple[Any, ...] = (
    col(Contract.id),
    col(Contract.offer_id),
    col(Contract.price),
    col(Contract.price_unit),
    col(Contract.price_base_date),
    col(Contract.regulation_kind),
    col(Contract.regulation_pct),
    col(Contract.regulation_month),
    col(Contract.regulation_day),
)
_CHANGE_COLUMNS: tuple[Any, ...] = (
    col(PriceChange.id),
    col(PriceChange.contract_id),
    col(PriceChange.effective_date),
    col(PriceChange.new_price),
    col(PriceChange.voided_at),
)


def contract_ranges(
    session: Session, offer_ids: Sequence[int], today: date
) -> dict[int, ContractRange]:
    """Min–median–max of the active contracts' daily rates today, per offer, in three queries."""
    contracts: list[Contract] = []
    for start in range(0, len(offer_ids), _ID_CHUNK):
        chunk = offer_ids[start : start + _ID_CHUNK]
        contracts.extend(
            session.exec(
                select(Contract)
                .options(load_only(*_PRICE_COLUMNS))
                .where(
                    col(Contract.offer_id).in_(chunk),
                    Contract.status == ContractStatus.ACTIVE,
                )
            )
        )
    if not contracts:
        return {}
    changes: dict[int, list[PriceChange]] = defaultdict(list)
    contract_ids = [c.id for c in contracts if c.id is not None]
    for start in range(0, len(contract_ids), _ID_CHUNK):
        chunk = contract_ids[start : start + _ID_CHUNK]
        for change in session.exec(
            select(PriceChange)
            .options(load_only(*_CHANGE_COLUMNS))
            .where(col(PriceChange.contract_id).in_(chunk), not_voided_sql(PriceChange))
            .order_by(col(PriceChange.effective_date))
        ):
            changes[change.contract_id].append(change)
    rates = (
        index_rates(session=session)
        if any(c.regulation_kind == RegulationKind.INDEX for c in contracts)
        else {}
    )
    daily: dict[int, list[Decimal]] = defaultdict(list)
    missing: dict[int, int] = defaultdict(int)
    for contract in contracts:
        offer_id = contract.offer_id
        assert offer_id is not None
        try:
            price = regulated_price(terms_of(contract, changes[contract.id or 0], rates), today)
        except MissingIndexRate:
            missing[offer_id] += 1
            continue
        except PriceOutOfRange:  # regulated past any amount: left out of the range
            continue
        daily[offer_id].append(daily_equivalent(price, contract.price_unit))
    result = {}
    for offer_id in set(daily) | set(missing):
        values = daily.get(offer_id, [])
        result[offer_id] = contract_range(values, missing=missing.get(offer_id, 0))
    return result


def contract_range(values: Sequence[Decimal], missing: int = 0) -> ContractRange:
    """Min, median (mean of the middle two for an even count) and max, rounded to øre."""
    if not values:
        return ContractRange(missing_index=missing)
    return ContractRange(
        count=len(values),
        low=round_ore(min(values)),
        median=round_ore(Decimal(statistics.median(values))),
        high=round_ore(max(values)),
        missing_index=missing,
    )


def search_offers(
    *,
    session: Session,
    filters: LookupFilters,
    today: date,
    order: SortOrder | str = SortOrder.CHEAPEST,
    limit: int | None = PAGE_SIZE,
    offset: int = 0,
) -> list[OfferPrice]:
    """One page of matching offers in `order`, sorted in SQL across all of them (limit None:
    all). The negotiated rate is regulated to today with the default regulation."""
    settings = get_settings(session=session)
    pricing = _pricing(session, today, settings)
    columns = [
        col(Offer.id),
        col(Offer.provider_id),
        col(Provider.name).label("provider_name"),
        col(Provider.cvr),
        col(Provider.city),
        col(Provider.kind),
        col(Provider.framework),
        col(Provider.vat_refund),
        col(Offer.name).label("offer_name"),
        col(Offer.paragraph),
        col(Offer.places),
        col(Offer.list_rate),
        col(Offer.list_rate_year),
        col(Offer.negotiated_rate),
        col(Offer.negotiated_from),
        pricing.negotiated.c.price_ore.label("negotiated_today_ore"),
        pricing.rate_ore.label("rate_today_ore"),
        sa.func.coalesce(col(Offer.portal_url), col(Provider.portal_url)).label("portal_url"),
        pricing.category.label("category"),
    ]
    query = _base_query(columns, filters, pricing).order_by(*_order_by(SortOrder(order), pricing))
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = session.connection().execute(query).all()
    offer_ids = [row.id for row in rows]
    ranges = contract_ranges(session, offer_ids, today)
    groups = offer_target_group_names(session=session, offer_ids=offer_ids)
    result = []
    for number, row in enumerate(rows, start=offset + 1):
        negotiated_today = None
        if row.negotiated_rate is not None:
            negotiated_today = _from_ore(row.negotiated_today_ore)
        rate_today = _from_ore(row.rate_today_ore)
        net = None
        if row.vat_refund and rate_today is not None:
            net = net_after_vat_refund(rate_today, settings.vat_refund_pct)
        result.append(
            OfferPrice(
                offer_id=row.id,
                provider_id=row.provider_id,
                provider_name=row.provider_name,
                cvr=row.cvr,
                city=row.city,
                provider_kind=str(row.kind),
                framework=str(row.framework),
                offer_name=row.offer_name,
                paragraph=str(row.paragraph),
                target_groups=groups.get(row.id, ""),
                places=row.places,
                list_rate=_money(row.list_rate),
                list_rate_year=row.list_rate_year,
                negotiated_rate=_money(row.negotiated_rate),
                negotiated_from=row.negotiated_from,
                negotiated_today=negotiated_today,
                rate_today=rate_today,
                category=None if row.category == NoCategory.NO_SET else row.category,
                net_after_refund=net,
                portal_url=row.portal_url,
                contracts=ranges.get(row.id, ContractRange()),
                rank=number,
            )
        )
    return result


def _money(value: Any) -> Decimal | None:
    return None if value is None else round_ore(Decimal(value))


def _from_ore(value: Any) -> Decimal | None:
    """Whole øre from SQL as kroner with two decimals, exactly."""
    return None if value is None else Decimal(int(value)).scaleb(-2)


def target_group_options(*, session: Session) -> list[tuple[int, str]]:
    """Every target group on the list as (id, name), Danish alphabetical order; an inactive
    group is marked, as offers may still have it."""
    return [
        (group.id, group.name if group.active else f"{group.name} (inaktiv)")
        for group in list_target_groups(session=session)
        if group.id is not None
    ]


def latest_notes(*, session: Session, provider_id: int, limit: int = 3) -> list[ProviderNote]:
    """The provider's newest vidensbank notes (voided notes left out)."""
    return list(
        session.exec(
            select(ProviderNote)
            .where(ProviderNote.provider_id == provider_id, not_voided_sql(ProviderNote))
            .order_by(col(ProviderNote.note_date).desc(), col(ProviderNote.id).desc())
            .limit(limit)
        )
    )


def category_label(category: str | None) -> str:
    return label(category or NoCategory.NO_SET, "category")


def _kroner(amount: Decimal | None) -> str:
    """An amount in whole kroner, rounded half-up: 1.349,50 → "1.350"."""
    if amount is None:
        return ""
    return format_number(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def contract_range_detail(contracts: ContractRange) -> str:
    """The contracts' daily rates spelled out, for an offer's detail: "1.349,00 – 1.500,00 –
    1.776,00 kr. (min – median – maks, 4 aktive)"."""
    if contracts.count == 0:
        return "ingen aktive"
    if contracts.count == 1:
        return f"{format_kr(contracts.low)} (1 aktiv)"
    return (
        f"{format_amount(contracts.low)} – {format_amount(contracts.median)} – "
        f"{format_kr(contracts.high)} (min – median – maks, {format_number(contracts.count)} "
        "aktive)"
    )


def contract_range_text(contracts: ContractRange) -> str:
    """The contracts' daily rates in one narrow cell: "1.349–1.500–1.776 (4)" (min–median–max in
    whole kroner, and how many); one contract shows its rate alone."""
    if contracts.count == 0:
        return ""
    if contracts.count == 1:
        return f"{_kroner(contracts.low)} (1)"
    return (
        f"{_kroner(contracts.low)}–{_kroner(contracts.median)}–{_kroner(contracts.high)} "
        f"({format_number(contracts.count)})"
    )


# Column headers of the export, in order: every figure in its own column.
RESULT_COLUMNS = [
    "Nr.",
    "Leverandør",
    "Tilbud",
    "Paragraf",
    "Takst i dag",
    "Netto efter momsrefusion",
    "Priskategori",
    "Listetakst",
    "Listetakst år",
    "Forhandlet takst i dag",
    "Kontrakter",
    "Kontrakt min.",
    "Kontrakt median",
    "Kontrakt maks.",
    "Samarbejde",
    "CVR",
    "By",
    "Målgrupper",
    "Tilbudsportalen",
]
RESULT_MONEY = [
    "Takst i dag",
    "Netto efter momsrefusion",
    "Listetakst",
    "Forhandlet takst i dag",
    "Kontrakt min.",
    "Kontrakt median",
    "Kontrakt maks.",
]
RESULT_INTS = ["Nr.", "Kontrakter"]
# On screen: the key columns only, narrow enough to sit beside the detail at 1366 px. The
# contracts' range is one text cell there.
SCREEN_COLUMNS = [
    "Nr.",
    "Tilbud",
    "Leverandør",
    "§",
    "Takst i dag",
    "Netto",
    "Kontrakter i dag",
    "Priskategori",
    "Portal",
]
SCREEN_MONEY = ["Takst i dag", "Netto"]
SCREEN_INTS = ["Nr."]
SCREEN_LINKS = ["Portal"]


def results_frame(offers: Sequence[OfferPrice]) -> pd.DataFrame:
    """The result list with Danish headers and labels; amounts stay numbers for sorting."""
    rows = [
        {
            "Nr.": o.rank,
            "Leverandør": o.provider_name,
            "Tilbud": o.offer_name,
            "Paragraf": label(o.paragraph),
            "Takst i dag": o.rate_today,
            "Netto efter momsrefusion": o.net_after_refund,
            "Priskategori": category_label(o.category),
            "Listetakst": o.list_rate,
            "Listetakst år": str(o.list_rate_year) if o.list_rate_year else "",
            "Forhandlet takst i dag": o.negotiated_today,
            "Kontrakter": o.contracts.count,
            "Kontrakt min.": o.contracts.low,
            "Kontrakt median": o.contracts.median,
            "Kontrakt maks.": o.contracts.high,
            "Samarbejde": label(o.framework, "framework"),
            "CVR": o.cvr or "",
            "By": o.city or "",
            "Målgrupper": o.target_groups,
            "Tilbudsportalen": o.portal_url,
        }
        for o in offers
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def screen_frame(offers: Sequence[OfferPrice]) -> pd.DataFrame:
    """The key columns of the result list as the screen shows them (short paragraph labels,
    the contracts' range as text)."""
    rows = [
        {
            "Nr.": o.rank,
            "Tilbud": o.offer_name,
            "Leverandør": o.provider_name,
            "§": label(o.paragraph, "short"),
            "Takst i dag": o.rate_today,
            "Netto": o.net_after_refund,
            "Kontrakter i dag": contract_range_text(o.contracts),
            "Priskategori": category_label(o.category),
            "Portal": o.portal_url,
        }
        for o in offers
    ]
    return pd.DataFrame(rows, columns=SCREEN_COLUMNS)


def export_frame(
    *,
    session: Session,
    filters: LookupFilters,
    today: date,
    order: SortOrder | str = SortOrder.CHEAPEST,
) -> pd.DataFrame:
    """Every matching offer (not just one page) in the order shown, for Excel/CSV."""
    offers = search_offers(session=session, filters=filters, today=today, order=order, limit=None)
    return results_frame(offers)
