"""Providers, their offers and the vidensbank notes about them."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.base import Versioned, Voidable, enum_field, money_field
from models.enums import FrameworkAgreement, NoteTopic, Paragraph, ProviderKind
from models.types import (
    INT_MAX,
    DateIn,
    MultilineTextIn,
    OptionalDailyRateIn,
    OptionalDateIn,
    OptionalIntIn,
    OptionalMultilineTextIn,
    OptionalTextIn,
    TextIn,
)

TARGET_GROUP_NAME_MAX = 100
# An id picked from the target group list.
TargetGroupId = Annotated[int, Field(ge=1, le=INT_MAX)]


# Fields of a provider, shared by input schemas and the table.
class ProviderBase(SQLModel):
    name: str = Field(min_length=2, max_length=200, index=True)
    cvr: str | None = Field(default=None, max_length=8, index=True)
    kind: ProviderKind = enum_field(ProviderKind, default=ProviderKind.PRIVATE, length=20)
    postal_code: str | None = Field(default=None, max_length=4)
    city: str | None = Field(default=None, max_length=100)
    portal_url: str | None = Field(default=None, max_length=500)
    contact: str | None = Field(default=None, max_length=300)
    framework: FrameworkAgreement = enum_field(
        FrameworkAgreement, default=FrameworkAgreement.NONE, length=20
    )
    framework_valid_to: date | None = None
    quality_rating: int | None = Field(default=None, ge=1, le=5)
    assessment: str | None = Field(default=None, max_length=4000)
    vat_refund: bool = True
    active: bool = True


# Input for creating or editing a provider; accepts what a user types.
class ProviderCreate(ProviderBase):
    name: TextIn = Field(min_length=2, max_length=200)
    cvr: OptionalTextIn = Field(default=None, max_length=20)
    postal_code: OptionalTextIn = Field(default=None, max_length=10)
    city: OptionalTextIn = Field(default=None, max_length=100)
    portal_url: OptionalTextIn = Field(default=None, max_length=500)
    contact: OptionalTextIn = Field(default=None, max_length=300)
    framework_valid_to: OptionalDateIn = None
    quality_rating: OptionalIntIn = Field(default=None, ge=1, le=5)
    assessment: OptionalMultilineTextIn = Field(default=None, max_length=4000)

    @field_validator("cvr")
    @classmethod
    def _cvr_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace(" ", "").replace("-", "")
        if digits.upper().startswith("DK"):
            digits = digits[2:]
        if len(digits) != 8 or not digits.isdigit() or digits[0] == "0":
            raise ValueError("CVR-nummer skal være 8 cifre og må ikke starte med 0")
        return digits

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 4 or not value.isdigit()):
            raise ValueError("Postnummer skal være 4 cifre")
        return value

    @field_validator("portal_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError("Linket skal starte med https://")
        return value


class ProviderUpdate(ProviderCreate):
    version: int = Field(ge=0, le=INT_MAX)


# A provider (CVR entity) delivering places.
class Provider(ProviderBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    is_demo: bool = Field(default=False, nullable=False)


# A dated, signed note in the vidensbank; never edited after it is written.
class ProviderNoteBase(SQLModel):
    provider_id: int = Field(
        foreign_key="provider.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    note_date: date
    author: str = Field(min_length=1, max_length=100)
    topic: NoteTopic = enum_field(NoteTopic, default=NoteTopic.OTHER, length=20)
    text: str = Field(min_length=1, max_length=4000)


class ProviderNoteCreate(ProviderNoteBase):
    note_date: DateIn
    author: TextIn = Field(min_length=1, max_length=100)
    text: MultilineTextIn = Field(min_length=3, max_length=4000)


class ProviderNote(ProviderNoteBase, Voidable, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)


# A concrete offer (a house, a unit) of a provider under one paragraph.
class OfferBase(SQLModel):
    provider_id: int = Field(
        foreign_key="provider.id", index=True, ondelete="CASCADE", ge=1, le=INT_MAX
    )
    name: str = Field(min_length=2, max_length=200, index=True)
    paragraph: Paragraph = enum_field(Paragraph, length=10)
    places: int | None = Field(default=None, ge=0, le=10000)
    list_rate: Decimal | None = money_field(default=None, gt=0)
    list_rate_year: int | None = Field(default=None, ge=2000, le=2100)
    negotiated_rate: Decimal | None = money_field(default=None, gt=0)
    negotiated_from: date | None = None
    portal_url: str | None = Field(default=None, max_length=500)
    active: bool = True


class OfferCreate(OfferBase):
    name: TextIn = Field(min_length=2, max_length=200)
    # Picked from the maintained list (TargetGroup); stored as OfferTargetGroup links.
    target_group_ids: list[TargetGroupId] = Field(default_factory=list, max_length=50)
    places: OptionalIntIn = Field(default=None, ge=0, le=10000)
    list_rate: OptionalDailyRateIn = Field(default=None, gt=0)
    list_rate_year: OptionalIntIn = Field(default=None, ge=2000, le=2100)
    negotiated_rate: OptionalDailyRateIn = Field(default=None, gt=0)
    negotiated_from: OptionalDateIn = None
    portal_url: OptionalTextIn = Field(default=None, max_length=500)

    @field_validator("portal_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError("Linket skal starte med https://")
        return value


class OfferUpdate(OfferCreate):
    version: int = Field(ge=0, le=INT_MAX)


class Offer(OfferBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    __table_args__ = (sa.Index("ix_offer_paragraph_active", "paragraph", "active"),)


# A target group (målgruppe) on the maintained list the offers pick from. Unique ignoring case
# and spacing: `name_key` is the name folded by services.target_groups.target_group_key.
class TargetGroupBase(SQLModel):
    name: str = Field(min_length=2, max_length=TARGET_GROUP_NAME_MAX)
    active: bool = True


class TargetGroupCreate(TargetGroupBase):
    name: TextIn = Field(min_length=2, max_length=TARGET_GROUP_NAME_MAX)


class TargetGroupUpdate(TargetGroupCreate):
    version: int = Field(ge=0, le=INT_MAX)


class TargetGroup(TargetGroupBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name_key: str = Field(max_length=400)
    __table_args__ = (sa.Index("uq_targetgroup_name_key", "name_key", unique=True),)


# Which target groups an offer is for: the one place this is stored.
class OfferTargetGroup(SQLModel, table=True):
    offer_id: int = Field(foreign_key="offer.id", primary_key=True, ondelete="CASCADE")
    target_group_id: int = Field(foreign_key="targetgroup.id", primary_key=True, index=True)
