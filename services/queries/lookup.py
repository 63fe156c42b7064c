"""Prisopslag (SPEC 5.2): search offers with their rates, contract prices, category and notes.

Filtering, counting and paging happen in SQL. Rules that need Python (regulation of the
negotiated rate and of each contract's price) run only for the offers on the page shown, with
the contracts, their price changes and the index rates loaded in one query each.
"""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractStatus,
    NoCategory,
    Offer,
    PriceCategory,
    PriceCategorySet,
    PriceChange,
    Provider,
    ProviderNote,
    label,
)
from models.enums import RegulationKind
from models.types import round_ore
from services.contracts import terms_of
from services.errors import UserError
from services.reference import index_rates
from services.rules.pricing import (
    MissingIndexRate,
    PriceOutOfRange,
    Regulation,
    daily_equivalent,
    net_after_vat_refund,
    regulate,
    regulated_price,
)
from services.settings import get_settings

# Filter value for offers without a category (no set for the paragraph this year, or no rate).
CATEGORY_FILTER_OPTIONS = [*(c.value for c in PriceCategory), NoCategory.NO_SET.value]
PAGE_SIZE = 25
# SQLite allows 32.766 bound parameters; stay far below when listing ids.
_ID_CHUNK = 900


@dataclass(frozen=True)
class LookupFilters:
    """What the caseworker searched for. Empty tuples mean "all"."""

    text: str = ""
    paragraphs: tuple[str, ...] = ()
    target_group: str | None = None
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
    category: str | None  # a PriceCategory value, or None for "ingen kategori"
    net_after_refund: Decimal | None
    portal_url: str | None
    contracts: ContractRange = field(default_factory=ContractRange)

    @property
    def current_rate(self) -> Decimal | None:
        """The rate the municipality would pay today: negotiated (regulated), else list."""
        return self.negotiated_today if self.negotiated_today is not None else self.list_rate


def _rate_expr() -> Any:
    """The offer's daily rate: negotiated, else list (offers are priced per day)."""
    return sa.func.coalesce(col(Offer.negotiated_rate), col(Offer.list_rate))


def _category_expr(rate: Any) -> Any:
    """SPEC 4.4 in SQL: a rate equal to a threshold belongs to the higher band."""
    pcs = PriceCategorySet
    return sa.case(
        (sa.or_(col(pcs.id).is_(None), rate.is_(None)), sa.null()),
        (rate >= col(pcs.ekstraordinaer_from), PriceCategory.EXTRAORDINARY.value),
        (rate >= col(pcs.hoej_from), PriceCategory.HIGH.value),
        (rate >= col(pcs.middel_from), PriceCategory.MEDIUM.value),
        else_=PriceCategory.LOW.value,
    )


def _search_words(text: str) -> list[str]:
    return [word for word in text.lower().split() if word]


def _base_query(columns: Sequence[Any], filters: LookupFilters, today: date) -> sa.Select:
    """Offers joined to their provider and the paragraph's price category set of this year."""
    rate = _rate_expr()
    category = _category_expr(rate)
    query = (
        sa.select(*columns)
        .select_from(Offer)
        .join(Provider, col(Provider.id) == col(Offer.provider_id))
        .outerjoin(
            PriceCategorySet,
            sa.and_(
                col(PriceCategorySet.paragraph) == col(Offer.paragraph),
                col(PriceCategorySet.year) == today.year,
            ),
        )
    )
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
            )
        )
    if filters.paragraphs:
        query = query.where(col(Offer.paragraph).in_(filters.paragraphs))
    if filters.frameworks:
        query = query.where(col(Provider.framework).in_(filters.frameworks))
    if filters.target_group:
        # target_groups is "A, B, C": compare whole items, not substrings.
        groups = sa.func.replace(col(Offer.target_groups), ", ", ",")
        wrapped = sa.literal(",") + groups + sa.literal(",")
        needle = "," + filters.target_group.strip() + ","
        query = query.where(wrapped.contains(needle, autoescape=True))
    if filters.categories:
        wanted = [c for c in filters.categories if c != NoCategory.NO_SET]
        conditions = []
        if wanted:
            conditions.append(category.in_(wanted))
        if NoCategory.NO_SET in filters.categories:
            conditions.append(category.is_(None))
        query = query.where(sa.or_(*conditions))
    return query


def count_offers(*, session: Session, filters: LookupFilters, today: date) -> int:
    """How many offers match the search."""
    query = _base_query([sa.func.count(col(Offer.id))], filters, today)
    return int(session.connection().execute(query).scalar_one())


def _contract_ranges(
    session: Session, offer_ids: Sequence[int], today: date
) -> dict[int, ContractRange]:
    """Min–median–max of the active contracts' daily rates today, per offer, in three queries."""
    contracts: list[Contract] = []
    for start in range(0, len(offer_ids), _ID_CHUNK):
        chunk = offer_ids[start : start + _ID_CHUNK]
        contracts.extend(
            session.exec(
                select(Contract).where(
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
            .where(col(PriceChange.contract_id).in_(chunk))
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
    limit: int | None = PAGE_SIZE,
    offset: int = 0,
) -> list[OfferPrice]:
    """One page of matching offers, ordered by provider and offer name (limit None: all)."""
    settings = get_settings(session=session)
    rate = _rate_expr()
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
        col(Offer.target_groups),
        col(Offer.places),
        col(Offer.list_rate),
        col(Offer.list_rate_year),
        col(Offer.negotiated_rate),
        col(Offer.negotiated_from),
        sa.func.coalesce(col(Offer.portal_url), col(Provider.portal_url)).label("portal_url"),
        _category_expr(rate).label("category"),
    ]
    query = _base_query(columns, filters, today).order_by(
        col(Provider.name), col(Offer.name), col(Offer.id)
    )
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = session.connection().execute(query).all()
    ranges = _contract_ranges(session, [row.id for row in rows], today)
    regulation = Regulation(kind=RegulationKind.FIXED_PCT, pct=settings.regulation_default_pct)
    result = []
    for row in rows:
        negotiated_today = None
        unpriceable = False
        if row.negotiated_rate is not None:
            base = row.negotiated_from or today
            try:
                negotiated_today = regulate(Decimal(row.negotiated_rate), base, today, regulation)
            except UserError:  # a missing rate, or regulated past any amount: unknown
                unpriceable = True
        current = negotiated_today if negotiated_today is not None else row.list_rate
        if unpriceable:
            current = None  # not the list rate: the negotiated one applies, and it is unknown
        net = None
        if row.vat_refund and current is not None:
            net = net_after_vat_refund(Decimal(current), settings.vat_refund_pct)
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
                target_groups=row.target_groups or "",
                places=row.places,
                list_rate=_money(row.list_rate),
                list_rate_year=row.list_rate_year,
                negotiated_rate=_money(row.negotiated_rate),
                negotiated_from=row.negotiated_from,
                negotiated_today=negotiated_today,
                category=row.category,
                net_after_refund=net,
                portal_url=row.portal_url,
                contracts=ranges.get(row.id, ContractRange()),
            )
        )
    return result


def _money(value: Any) -> Decimal | None:
    return None if value is None else round_ore(Decimal(value))


def target_group_options(*, session: Session) -> list[str]:
    """Every target group named on an offer, alphabetically (Danish letters last)."""
    groups: set[str] = set()
    for text in session.exec(select(Offer.target_groups).distinct()):
        groups.update(part.strip() for part in (text or "").split(",") if part.strip())
    return sorted(groups, key=_danish_sort_key)


_DANISH_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}", "Æ": "{", "Ø": "|", "Å": "}"})


def _danish_sort_key(text: str) -> str:
    return text.lower().translate(_DANISH_ORDER)


def latest_notes(*, session: Session, provider_id: int, limit: int = 3) -> list[ProviderNote]:
    """The provider's newest vidensbank notes."""
    return list(
        session.exec(
            select(ProviderNote)
            .where(ProviderNote.provider_id == provider_id)
            .order_by(col(ProviderNote.note_date).desc(), col(ProviderNote.id).desc())
            .limit(limit)
        )
    )


def category_label(category: str | None) -> str:
    return label(category or NoCategory.NO_SET, "category")


# Column headers of the export, in order; the screen shows SCREEN_COLUMNS of them.
RESULT_COLUMNS = [
    "Leverandør",
    "Tilbud",
    "Priskategori",
    "Listetakst",
    "Listetakst år",
    "Forhandlet takst i dag",
    "Kontrakter",
    "Kontrakt min.",
    "Kontrakt median",
    "Kontrakt maks.",
    "Netto efter momsrefusion",
    "Paragraf",
    "Samarbejde",
    "CVR",
    "By",
    "Målgrupper",
    "Tilbudsportalen",
]
SCREEN_COLUMNS = [c for c in RESULT_COLUMNS if c not in ("CVR", "By", "Målgrupper")]
RESULT_MONEY = [
    "Listetakst",
    "Forhandlet takst i dag",
    "Kontrakt min.",
    "Kontrakt median",
    "Kontrakt maks.",
    "Netto efter momsrefusion",
]
RESULT_INTS = ["Kontrakter"]


def results_frame(offers: Sequence[OfferPrice]) -> pd.DataFrame:
    """The result list with Danish headers and labels; amounts stay numbers for sorting."""
    rows = [
        {
            "Leverandør": o.provider_name,
            "Tilbud": o.offer_name,
            "Priskategori": category_label(o.category),
            "Listetakst": o.list_rate,
            "Listetakst år": str(o.list_rate_year) if o.list_rate_year else "",
            "Forhandlet takst i dag": o.negotiated_today,
            "Kontrakter": o.contracts.count,
            "Kontrakt min.": o.contracts.low,
            "Kontrakt median": o.contracts.median,
            "Kontrakt maks.": o.contracts.high,
            "Netto efter momsrefusion": o.net_after_refund,
            "Paragraf": label(o.paragraph),
            "Samarbejde": label(o.framework, "framework"),
            "CVR": o.cvr or "",
            "By": o.city or "",
            "Målgrupper": o.target_groups,
            "Tilbudsportalen": o.portal_url,
        }
        for o in offers
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def export_frame(*, session: Session, filters: LookupFilters, today: date) -> pd.DataFrame:
    """Every matching offer (not just one page), for Excel/CSV."""
    return results_frame(search_offers(session=session, filters=filters, today=today, limit=None))
