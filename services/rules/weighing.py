"""Weighing offers for the visitation committee (SPEC 10).

The municipality weighs the parameters the Deloitte/SIMB analysis names (knowledge of the
provider, methods, room to negotiate, transparency of terms, geography and price) with weights
that sum to 100 (defaults: settings). The caseworker scores each offer 0–10 on each parameter;
price is not scored but computed: the cheapest annual amount gets 10 points, the others
10 × cheapest / theirs, to two decimals half-up. An offer's contribution on a parameter is
weight × score / 100, its total the exact sum of them (rounded once, when shown).
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from services.errors import InputError
from services.formatting import format_number

K = TypeVar("K", bound=Hashable)

PRICE = "price"
# The parameters in the order shown, with their Danish names.
PARAMETERS: dict[str, str] = {
    "knowledge": "Kendskab til leverandøren",
    "methods": "Faglige metoder",
    "negotiation": "Forhandlingsrum",
    "transparency": "Gennemsigtige vilkår",
    "geography": "Geografi",
    PRICE: "Pris",
}
WEIGHT_TOTAL = Decimal(100)
SCORE_MAX = Decimal(10)
POINT_PLACES = Decimal("0.01")
PRICE_POINTS_RULE = (
    "Prispoint: det billigste tilbud (årsbeløb) får 10 point, de andre 10 × billigste / eget "
    "årsbeløb."
)


def check_weights(weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The weights of every parameter, each 0–100 and together 100; InputError (Danish, per
    field) otherwise."""
    errors: dict[str, str] = {}
    checked: dict[str, Decimal] = {}
    for key in PARAMETERS:
        value = weights.get(key)
        if value is None:
            errors[key] = "Angiv en vægt"
        elif not Decimal(0) <= value <= WEIGHT_TOTAL:
            errors[key] = "Vægten skal være mellem 0 og 100"
        elif value != value.quantize(Decimal(1)):
            errors[key] = "Vægten skal være et helt tal"
        else:
            checked[key] = value
    if not errors and (total := sum(checked.values(), Decimal(0))) != WEIGHT_TOTAL:
        errors["_weights"] = f"Vægtene skal give 100 tilsammen; de giver nu {format_number(total)}."
    if errors:
        raise InputError(errors)
    return checked


def price_points(annual: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """10 for the cheapest annual amount, 10 × cheapest / own for the others (two decimals)."""
    if not annual:
        return {}
    cheapest = min(annual.values())
    if cheapest <= 0:
        raise ValueError("Price points need positive annual amounts")
    return {
        key: (SCORE_MAX * cheapest / amount).quantize(POINT_PLACES, rounding=ROUND_HALF_UP)
        for key, amount in annual.items()
    }


@dataclass(frozen=True)
class Weighing:
    contributions: dict[str, Decimal]  # per parameter: weight × score / 100 (exact)
    total: Decimal  # their exact sum, 0–10


def weigh(weights: Mapping[str, Decimal], scores: Mapping[str, Decimal]) -> Weighing:
    """One offer's contributions and total from checked weights and its scores (price points
    included under PRICE). A score outside 0–10 is a ValueError: the page bounds its input."""
    contributions: dict[str, Decimal] = {}
    for key in PARAMETERS:
        score = scores.get(key, Decimal(0))
        if not Decimal(0) <= score <= SCORE_MAX:
            raise ValueError(f"score {score} for {key} is outside 0–10")
        contributions[key] = weights[key] * score / WEIGHT_TOTAL
    return Weighing(contributions, sum(contributions.values(), Decimal(0)))
