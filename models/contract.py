"""Contracts (one placement with one provider), their add-on services and price history."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, SQLModel

from models.base import Versioned, Voidable, enum_field, money_field
from models.enums import (
    ContractStatus,
    NightCover,
    Paragraph,
    PriceCategory,
    PriceChangeReason,
    PriceUnit,
    RegulationKind,
)
from models.types import (
    INT_MAX,
    REGULATION_PCT_MAX,
    REGULATION_PCT_MIN,
    DateIn,
    NumberIn,
    OptionalDateIn,
    OptionalIntIn,
    OptionalMoneyIn,
    OptionalMultilineTextIn,
    OptionalNumberIn,
    OptionalTextIn,
    PriceIn,
    TextIn,
    field_error,
    price_limit_error,
)

# The eight points of the standard-contract checklist (SPEC 4.6), in order, with Danish text.
CHECKLIST_ITEMS: dict[str, str] = {
    "chk_price_scope": "Månedspris med omfang og priser på tillægsydelser",
    "chk_service_plan": "Ydelsesbeskrivelse og handleplan",
    "chk_own_payment": "Borgerens egenbetaling",
    "chk_data_agreement": "Databehandleraftale, tavshedspligt og oplysningspligt",
    "chk_followup_dates": "Datoer for opfølgning og genforhandling",
    "chk_notice": "Opsigelsesvarsel",
    "chk_termination": "Betingelser for ophør",
    "chk_no_change": "Ingen ændring af vilkår uden genforhandling",
}


# Fields of a contract, shared by input schemas and the table.
class ContractBase(SQLModel):
    case_ref: str = Field(min_length=1, max_length=50, index=True)
    provider_id: int = Field(foreign_key="provider.id", index=True, ge=1, le=INT_MAX)
    offer_id: int | None = Field(
        default=None, foreign_key="offer.id", index=True, ondelete="SET NULL", ge=1, le=INT_MAX
    )
    paragraph: Paragraph = enum_field(Paragraph, length=10)
    start_date: date
    end_date: date | None = None
    price: Decimal = money_field(gt=0)
    price_unit: PriceUnit = enum_field(PriceUnit, default=PriceUnit.DAY, length=10)
    price_base_date: date
    regulation_kind: RegulationKind = enum_field(
        RegulationKind, default=RegulationKind.FIXED_PCT, length=10
    )
    regulation_pct: Decimal = Field(
        default=Decimal("2.00"),
        max_digits=6,
        decimal_places=3,
        ge=REGULATION_PCT_MIN,
        le=REGULATION_PCT_MAX,
    )
    regulation_month: int = Field(default=1, ge=1, le=12)
    regulation_day: int = Field(default=1, ge=1, le=31)
    notice_days: int = Field(default=90, ge=0, le=3650)
    notice_text: str | None = Field(default=None, max_length=1000)
    renegotiation_date: date | None = None
    standard_contract: bool = False
    chk_price_scope: bool = False
    chk_service_plan: bool = False
    chk_own_payment: bool = False
    chk_data_agreement: bool = False
    chk_followup_dates: bool = False
    chk_notice: bool = False
    chk_termination: bool = False
    chk_no_change: bool = False
    visitation_category: PriceCategory | None = enum_field(PriceCategory, default=None, length=20)
    support_hours_per_week: Decimal | None = Field(
        default=None, max_digits=6, decimal_places=1, ge=0, le=168
    )
    night_cover: NightCover | None = enum_field(NightCover, default=None, length=10)
    included: str | None = Field(default=None, max_length=2000)
    excluded: str | None = Field(default=None, max_length=2000)
    status: ContractStatus = enum_field(ContractStatus, default=ContractStatus.ACTIVE, length=12)
    notes: str | None = Field(default=None, max_length=4000)


# Input for creating a contract; accepts what a user types.
class ContractCreate(ContractBase):
    case_ref: TextIn = Field(min_length=1, max_length=50)
    offer_id: OptionalIntIn = Field(default=None, ge=1, le=INT_MAX)
    start_date: DateIn
    end_date: OptionalDateIn = None
    price: PriceIn = Field(gt=0)
    price_base_date: DateIn
    regulation_pct: NumberIn = Field(
        default=Decimal("2.00"),
        max_digits=6,
        decimal_places=3,
        ge=REGULATION_PCT_MIN,
        le=REGULATION_PCT_MAX,
    )
    notice_text: OptionalTextIn = Field(default=None, max_length=1000)
    renegotiation_date: OptionalDateIn = None
    support_hours_per_week: OptionalNumberIn = Field(
        default=None, max_digits=6, decimal_places=1, ge=0, le=168
    )
    included: OptionalMultilineTextIn = Field(default=None, max_length=2000)
    excluded: OptionalMultilineTextIn = Field(default=None, max_length=2000)
    notes: OptionalMultilineTextIn = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _price_within_unit_cap(self) -> "ContractCreate":
        if message := price_limit_error(self.price, self.price_unit):
            raise field_error(type(self).__name__, "price", message, self.price)
        return self


class ContractUpdate(ContractCreate):
    version: int = Field(ge=0, le=INT_MAX)


# Deleting a draft contract: the version the user saw (a draft changed since is not deleted).
class ContractDelete(SQLModel):
    version: int = Field(ge=0, le=INT_MAX)


class Contract(ContractBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Covers the contracts in force on a day with what key figures group them by.
    __table_args__ = (
        sa.Index(
            "ix_contract_in_force", "status", "paragraph", "provider_id", "start_date", "end_date"
        ),
    )


# An agreed extra service with its own price, regulated like the contract.
class ContractAddonBase(SQLModel):
    contract_id: int = Field(
        foreign_key="contract.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    name: str = Field(min_length=2, max_length=200)
    price: Decimal = money_field(gt=0)
    unit: PriceUnit = enum_field(PriceUnit, default=PriceUnit.MONTH, length=10)
    valid_from: date
    valid_to: date | None = None


class ContractAddonCreate(ContractAddonBase):
    name: TextIn = Field(min_length=2, max_length=200)
    price: PriceIn = Field(gt=0)
    valid_from: DateIn
    valid_to: OptionalDateIn = None

    @model_validator(mode="after")
    def _price_within_unit_cap(self) -> "ContractAddonCreate":
        if message := price_limit_error(self.price, self.unit):
            raise field_error(type(self).__name__, "price", message, self.price)
        return self


class ContractAddonUpdate(ContractAddonCreate):
    version: int = Field(ge=0, le=INT_MAX)


class ContractAddon(ContractAddonBase, Voidable, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)


# A change of the contract's price from a date; regulation runs from the latest one.
class PriceChangeBase(SQLModel):
    contract_id: int = Field(
        foreign_key="contract.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    effective_date: date
    new_price: Decimal = money_field(gt=0)
    old_price: Decimal | None = money_field(default=None)
    reason: PriceChangeReason = enum_field(
        PriceChangeReason, default=PriceChangeReason.RENEGOTIATION, length=30
    )
    note: str | None = Field(default=None, max_length=2000)


# The new price's cap by the contract's unit is the service's to check (price_limit_error):
# the schema does not know the unit.
class PriceChangeCreate(PriceChangeBase):
    effective_date: DateIn
    new_price: PriceIn = Field(gt=0)
    old_price: OptionalMoneyIn = None
    note: OptionalMultilineTextIn = Field(default=None, max_length=2000)


class PriceChange(PriceChangeBase, Voidable, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # One price change in force per contract and day, enforced by the database: two
    # renegotiations registered at once cannot both be stored; a voided one makes room for its
    # correction.
    __table_args__ = (
        sa.Index(
            "uq_pricechange_contract_day",
            "contract_id",
            "effective_date",
            unique=True,
            sqlite_where=sa.text("voided_at IS NULL"),
            postgresql_where=sa.text("voided_at IS NULL"),
        ),
    )


# The price of a contract over a stretch of days (derived: rebuilt from the contract, its price
# changes and add-ons, the index rates and the category sets; never edited by hand). Key figures
# sum these in SQL instead of running the pricing rules for every contract on every read.
# Amounts are whole øre in integers, so sums are exact on SQLite too.
class ContractPricePeriod(SQLModel, table=True):
    contract_id: int = Field(foreign_key="contract.id", primary_key=True, ondelete="CASCADE")
    valid_from: date = Field(primary_key=True)
    valid_to: date  # last day, included
    price_ore: int | None = Field(default=None, sa_type=sa.BigInteger)  # base price, own unit
    annual_ore: int | None = Field(default=None, sa_type=sa.BigInteger)  # base + add-ons, a year
    category: PriceCategory | None = enum_field(PriceCategory, default=None, length=20)
    above_visitation: bool = False  # category above the one the case was approved in
    missing_rate: bool = False  # needs an index rate that is not registered: no price
    # Finds a contract's period of a day by its last day, and covers what key figures read.
    __table_args__ = (
        sa.Index(
            "ix_contractpriceperiod_lookup",
            "contract_id",
            "valid_to",
            "valid_from",
            "annual_ore",
            "category",
            "above_visitation",
        ),
        # The few periods above their visitation category, by day: the category alert reads
        # these without a pass over every contract's periods.
        sa.Index(
            "ix_contractpriceperiod_above",
            "valid_from",
            "valid_to",
            "contract_id",
            sqlite_where=sa.text("above_visitation = 1"),
            postgresql_where=sa.text("above_visitation"),
        ),
    )


# When the price periods were last built in full, how far ahead they reach and by which version
# of the pricing rules (one row; none while they are stale).
class PriceTimeline(SQLModel, table=True):
    id: int = Field(default=1, primary_key=True)
    built_on: date
    horizon: date  # periods reach to here; a later day needs a rebuild
    # services.rules.version.PRICE_RULES_VERSION at the build; another version needs a rebuild.
    # 0: built before the version was stored (migration 0004).
    rules_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
