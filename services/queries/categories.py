"""Priskategorier (SPEC 4.4, 5.4): the sets as a table, copying a year forward, and how the
active contracts fall into the bands.

The band distribution counts the active contracts of one paragraph per band in SQL, from
each contract's stored price today (services.price_timeline).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    Contract,
    ContractPricePeriod,
    ContractStatus,
    NoCategory,
    PriceCategory,
    PriceCategorySet,
    label,
)
from models.types import parse_decimal, round_ore
from services.errors import InputError
from services.formatting import format_amount, format_kr
from services.price_timeline import ensure_price_timeline, period_on
from services.reference import copy_price_category_year, list_price_category_sets
from services.rules.categories import (
    CATEGORY_ORDER,
    CategoryThresholds,
    above_visitation_sql,
    price_category_sql,
)
from services.rules.pricing import annual_factor_sql

# Copying a year forward accepts a rate within the same range as the regulation setting.
RATE_RANGE = (Decimal(-10), Decimal(20))

SET_COLUMNS = [
    "Paragraf",
    "År",
    "Middel fra",
    "Høj fra",
    "Ekstraordinær fra",
    "Senest ændret",
    "Ændret af",
]
SET_MONEY = ["Middel fra", "Høj fra", "Ekstraordinær fra"]


def sets_frame(*, session: Session) -> pd.DataFrame:
    """Every price category set, newest year first (thresholds in kr. per day)."""
    rows = [
        {
            "Paragraf": label(row.paragraph),
            "År": str(row.year),
            "Middel fra": row.middel_from,
            "Høj fra": row.hoej_from,
            "Ekstraordinær fra": row.ekstraordinaer_from,
            "Senest ændret": row.updated_at.date() if row.updated_at else None,
            "Ændret af": row.updated_by,
        }
        for row in list_price_category_sets(session=session)
    ]
    return pd.DataFrame(rows, columns=SET_COLUMNS)


@dataclass(frozen=True)
class SetChoice:
    """A set to pick for editing."""

    id: int
    paragraph: str
    year: int
    middel_from: Decimal
    hoej_from: Decimal
    ekstraordinaer_from: Decimal
    version: int

    @property
    def title(self) -> str:
        return f"{label(self.paragraph)} – {self.year}"


def set_choices(*, session: Session) -> list[SetChoice]:
    """The sets with what the edit form needs, newest year first."""
    return [
        SetChoice(
            id=row.id or 0,
            paragraph=str(row.paragraph),
            year=row.year,
            middel_from=row.middel_from,
            hoej_from=row.hoej_from,
            ekstraordinaer_from=row.ekstraordinaer_from,
            version=row.version,
        )
        for row in list_price_category_sets(session=session)
    ]


def set_years(*, session: Session) -> list[int]:
    """Years that have at least one set, newest first."""
    years = session.exec(select(PriceCategorySet.year).distinct())
    return sorted(set(years), reverse=True)


# --- Copy a year forward --------------------------------------------------------------------


def parse_rate(text: str | Decimal | None) -> Decimal:
    """The regulation rate typed for a copy (`2,00`); InputError on `rate_pct` if not usable."""
    try:
        rate = parse_decimal(text)
    except ValueError as exc:
        raise InputError({"rate_pct": str(exc)}) from None
    if rate is None:
        raise InputError({"rate_pct": "Skal udfyldes"})
    low, high = RATE_RANGE
    if not low <= rate <= high:
        raise InputError({"rate_pct": f"Skal være mellem {low} og {high} %"})
    return rate


@dataclass(frozen=True)
class CopyPreview:
    """What copying `from_year` to `to_year` would create, and what stands in the way."""

    rate: Decimal
    frame: pd.DataFrame
    existing: list[str]  # Danish labels of paragraphs that already have a set in to_year

    @property
    def possible(self) -> bool:
        return not self.frame.empty and not self.existing


COPY_COLUMNS = [
    "Paragraf",
    "Middel fra",
    "Ny middel fra",
    "Høj fra",
    "Ny høj fra",
    "Ekstraordinær fra",
    "Ny ekstraordinær fra",
]


def copy_preview(
    *, session: Session, from_year: int, to_year: int, rate_text: str | Decimal | None
) -> CopyPreview:
    """The sets a copy would create (same rounding as the copy itself)."""
    rate = parse_rate(rate_text)
    factor = 1 + rate / 100
    sources = list(session.exec(select(PriceCategorySet).where(PriceCategorySet.year == from_year)))
    targets = set(
        session.exec(select(PriceCategorySet.paragraph).where(PriceCategorySet.year == to_year))
    )
    rows = [
        {
            "Paragraf": label(s.paragraph),
            "Middel fra": s.middel_from,
            "Ny middel fra": round_ore(s.middel_from * factor),
            "Høj fra": s.hoej_from,
            "Ny høj fra": round_ore(s.hoej_from * factor),
            "Ekstraordinær fra": s.ekstraordinaer_from,
            "Ny ekstraordinær fra": round_ore(s.ekstraordinaer_from * factor),
        }
        for s in sorted(sources, key=lambda s: s.paragraph)
    ]
    existing = sorted(label(s.paragraph) for s in sources if s.paragraph in targets)
    return CopyPreview(rate=rate, frame=pd.DataFrame(rows, columns=COPY_COLUMNS), existing=existing)


def copy_year_forward(
    *, session: Session, from_year: int, to_year: int, rate_text: str | Decimal | None, user: str
) -> list[PriceCategorySet]:
    """Validate the typed rate and the years, then copy every paragraph's set."""
    rate = parse_rate(rate_text)
    if to_year == from_year:
        raise InputError({"to_year": "Vælg et andet år end det, der kopieres fra"})
    return copy_price_category_year(
        session=session, from_year=from_year, to_year=to_year, rate_pct=rate, user=user
    )


# --- How the active contracts fall into the bands -------------------------------------------


def band_texts(thresholds: CategoryThresholds | None) -> list[tuple[str, str]]:
    """Each band with its range in Danish amounts, e.g. ("Middel", "1.800,00 – 2.499,99 kr.")."""
    if thresholds is None:
        return []
    cent = Decimal("0.01")
    return [
        (label(PriceCategory.LOW), f"under {format_kr(thresholds.middel_from)}"),
        (
            label(PriceCategory.MEDIUM),
            f"{format_amount(thresholds.middel_from)} – {format_kr(thresholds.hoej_from - cent)}",
        ),
        (
            label(PriceCategory.HIGH),
            f"{format_amount(thresholds.hoej_from)} – "
            f"{format_kr(thresholds.ekstraordinaer_from - cent)}",
        ),
        (label(PriceCategory.EXTRAORDINARY), f"fra {format_kr(thresholds.ekstraordinaer_from)}"),
    ]


@dataclass(frozen=True)
class BandDistribution:
    """Active contracts of one paragraph per band of one year's set, priced today."""

    paragraph: str
    year: int
    thresholds: CategoryThresholds | None
    frame: pd.DataFrame  # Priskategori, Kontrakter, Årlig udgift (one row per band, in order)
    total: int
    over_visitation: int
    missing_index: int  # contracts that need an index rate that is not registered

    @property
    def annual_total(self) -> Decimal:
        return sum(self.frame["Årlig udgift"], Decimal(0)) if not self.frame.empty else Decimal(0)


BAND_COLUMNS = ["Priskategori", "Kontrakter", "Årlig udgift", "Over visiteret priskategori"]


def band_labels() -> list[str]:
    """Band names in order, the "no category" band last."""
    return [label(c) for c in CATEGORY_ORDER] + [label(NoCategory.NO_SET, "category")]


def _thresholds(session: Session, paragraph: str, year: int) -> CategoryThresholds | None:
    row = session.exec(
        select(PriceCategorySet).where(
            PriceCategorySet.paragraph == paragraph, PriceCategorySet.year == year
        )
    ).first()
    if row is None:
        return None
    return CategoryThresholds(row.middel_from, row.hoej_from, row.ekstraordinaer_from)


def _active_of_paragraph(paragraph: str) -> tuple:
    return (Contract.status == ContractStatus.ACTIVE, Contract.paragraph == paragraph)


def band_distribution(
    *, session: Session, paragraph: str, year: int, today: date
) -> BandDistribution:
    """Count, annual spend and "over visiteret priskategori" per band (SPEC 4.4, 4.7).

    The price is each active contract's regulated price today (its stored price period); its
    daily equivalent is put in a band of the chosen year's set. Annual spend includes add-ons
    in force today. Counted in SQL.
    """
    thresholds = _thresholds(session, paragraph, year)
    ensure_price_timeline(session=session, day=today)
    unit = col(Contract.price_unit)
    price = col(ContractPricePeriod.price_ore)
    band = price_category_sql(price * annual_factor_sql(unit), thresholds)
    visitation = sa.type_coerce(Contract.visitation_category, sa.String)
    over = sa.case((above_visitation_sql(band, visitation), 1), else_=0)
    priced = col(ContractPricePeriod.missing_rate).is_(False)
    # Banded per contract in a subquery and grouped outside: PostgreSQL would not take the
    # band expression (with its bound thresholds) in GROUP BY as the one in SELECT.
    banded = (
        sa.select(
            sa.case((priced, band), else_=NoCategory.MISSING_RATE.value).label("band"),
            col(ContractPricePeriod.annual_ore).label("annual_ore"),
            over.label("over"),
        )
        .select_from(Contract)
        .join(ContractPricePeriod, period_on(today))
        .where(*_active_of_paragraph(paragraph))
        .subquery()
    )
    query = sa.select(
        banded.c.band,
        sa.func.count(),
        sa.func.sum(banded.c.annual_ore),
        sa.func.sum(banded.c.over),
    ).group_by(banded.c.band)
    names = {c.value: label(c) for c in CATEGORY_ORDER} | {
        NoCategory.NO_SET.value: label(NoCategory.NO_SET, "category")
    }
    counts: dict[str, int] = {}
    spend: dict[str, Decimal] = {}
    over_count: dict[str, int] = {}
    missing = 0
    for code, count, annual_ore, n_over in session.connection().execute(query):
        if code == NoCategory.MISSING_RATE:
            missing = int(count)
            continue
        band_name = names[code]
        counts[band_name] = int(count)
        spend[band_name] = Decimal(int(annual_ore or 0)) / 100
        over_count[band_name] = int(n_over or 0) if code != NoCategory.NO_SET else 0
    frame = pd.DataFrame(
        [
            {
                "Priskategori": band,
                "Kontrakter": counts.get(band, 0),
                "Årlig udgift": spend.get(band, Decimal("0.00")),
                "Over visiteret priskategori": over_count.get(band, 0),
            }
            for band in band_labels()
        ],
        columns=BAND_COLUMNS,
    )
    return BandDistribution(
        paragraph=paragraph,
        year=year,
        thresholds=thresholds,
        frame=frame,
        total=sum(counts.values()),
        over_visitation=sum(over_count.values()),
        missing_index=missing,
    )


def chart_years(*, session: Session, paragraph: str, today: date) -> list[int]:
    """Years to choose for the chart: those with a set for the paragraph, and this year."""
    years = set(
        session.exec(select(PriceCategorySet.year).where(PriceCategorySet.paragraph == paragraph))
    )
    years.add(today.year)
    return sorted(years, reverse=True)
