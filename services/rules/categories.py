"""Price category (SPEC 4.4): the band of a daily rate, and "over visiteret priskategori".

Python for one price; the SQL twins band a stored price and compare categories in a query.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from models.enums import NoCategory, PriceCategory

# The bands from low to high: a later band is a higher category.
CATEGORY_ORDER = [
    PriceCategory.LOW,
    PriceCategory.MEDIUM,
    PriceCategory.HIGH,
    PriceCategory.EXTRAORDINARY,
]


@dataclass(frozen=True)
class CategoryThresholds:
    """One price category set: the daily rates (kr.) from which each higher band starts."""

    middel_from: Decimal
    hoej_from: Decimal
    ekstraordinaer_from: Decimal

    def bands_from_top(self) -> list[tuple[Decimal, PriceCategory]]:
        return [
            (self.ekstraordinaer_from, PriceCategory.EXTRAORDINARY),
            (self.hoej_from, PriceCategory.HIGH),
            (self.middel_from, PriceCategory.MEDIUM),
        ]


def price_category(
    daily_rate: Decimal, thresholds: CategoryThresholds | None
) -> PriceCategory | None:
    """Band of a daily rate; a rate equal to a threshold is in the higher band.

    None means "ingen kategori" (NoCategory.NO_SET): no set exists for the paragraph and year.
    """
    if thresholds is None:
        return None
    for threshold, category in thresholds.bands_from_top():
        if daily_rate >= threshold:
            return category
    return PriceCategory.LOW


def price_category_sql(daily_x365_ore: Any, thresholds: CategoryThresholds | None) -> Any:
    """SQL twin of `price_category` for a daily rate given as øre × 365 (a `dag` price in øre
    × 365, a `maaned` price × 12, an `aar` price as is), so every comparison is exact in
    integers. No set gives NoCategory.NO_SET."""
    if thresholds is None:
        return sa.literal(NoCategory.NO_SET.value)
    return sa.case(
        *(
            (daily_x365_ore >= int(threshold * 100) * 365, category.value)
            for threshold, category in thresholds.bands_from_top()
        ),
        else_=PriceCategory.LOW.value,
    )


def above_visitation(
    current: PriceCategory | str | None, visitation: PriceCategory | str | None
) -> bool:
    """True when the current category is above the one the case was approved in."""
    if current not in CATEGORY_ORDER or visitation not in CATEGORY_ORDER:
        return False
    return CATEGORY_ORDER.index(PriceCategory(current)) > CATEGORY_ORDER.index(
        PriceCategory(visitation)
    )


def category_rank_sql(category: Any) -> Any:
    """SQL: a category's place in CATEGORY_ORDER (NULL for none or an unknown code)."""
    return sa.case(*((category == c.value, i) for i, c in enumerate(CATEGORY_ORDER)))


def above_visitation_sql(current: Any, visitation: Any) -> Any:
    """SQL twin of `above_visitation`: NULL ranks compare as not above."""
    return sa.func.coalesce(category_rank_sql(current) > category_rank_sql(visitation), False)
