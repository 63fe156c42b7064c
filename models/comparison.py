"""A comparison of offers for the visitation committee (SPEC 10): what the caseworker chose and
typed, bounded here so that the page, a saved comparison and a reopened one get the same limits.
No names and no CPR numbers: a case reference is optional and CPR-guarded like every text."""

from datetime import date
from typing import Annotated

from pydantic import Field as PydanticField
from pydantic import model_validator
from sqlmodel import Field, SQLModel

from models.base import Versioned
from models.enums import PriceUnit
from models.types import (
    INT_MAX,
    DateIn,
    NumberIn,
    OptionalTextIn,
    PriceIn,
    TextIn,
    field_error,
    price_limit_error,
)

MIN_OFFERS, MAX_OFFERS = 2, 3
MAX_ADDONS = 5  # per offer
REASON_MAX = 200  # characters of a score's reason
OfferId = Annotated[int, PydanticField(ge=1, le=INT_MAX)]
Score = Annotated[NumberIn, PydanticField(ge=0, le=10, max_digits=4, decimal_places=2)]
Weight = Annotated[NumberIn, PydanticField(ge=0, le=100, max_digits=3, decimal_places=0)]
Reason = Annotated[OptionalTextIn, PydanticField(max_length=REASON_MAX)]


class ComparisonAddon(SQLModel):
    """An add-on the caseworker expects to buy with an offer."""

    offer_id: OfferId
    name: TextIn = Field(min_length=2, max_length=200)
    price: PriceIn = Field(gt=0)
    unit: PriceUnit = PriceUnit.MONTH

    @model_validator(mode="after")
    def _price_within_unit_cap(self) -> "ComparisonAddon":
        if message := price_limit_error(self.price, self.unit):
            raise field_error(type(self).__name__, "price", message, self.price)
        return self


class ComparisonInput(SQLModel):
    """Everything a comparison is made of. Scores and reasons are per offer and parameter
    (services.rules.weighing.PARAMETERS; price is computed, not scored)."""

    offer_ids: list[OfferId] = Field(min_length=MIN_OFFERS, max_length=MAX_OFFERS)
    start_date: DateIn
    visited_id: OfferId | None = None
    addons: list[ComparisonAddon] = Field(default_factory=list, max_length=MAX_ADDONS * MAX_OFFERS)
    weights: dict[str, Weight] = Field(default_factory=dict, max_length=10)
    scores: dict[str, dict[str, Score]] = Field(default_factory=dict, max_length=MAX_OFFERS)
    reasons: dict[str, dict[str, Reason]] = Field(default_factory=dict, max_length=MAX_OFFERS)
    case_ref: OptionalTextIn = Field(default=None, max_length=50)


# A saved comparison, reopened by its case reference.
class OfferComparison(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=50, index=True)
    start_date: date
    offer_names: str = Field(max_length=600)  # the offers, for the list of saved ones
    visited_id: int | None = Field(default=None, ge=1, le=INT_MAX)
    inputs: str = Field(max_length=20000)  # ComparisonInput as JSON


__all__ = [
    "MAX_ADDONS",
    "MAX_OFFERS",
    "MIN_OFFERS",
    "REASON_MAX",
    "ComparisonAddon",
    "ComparisonInput",
    "OfferComparison",
]
