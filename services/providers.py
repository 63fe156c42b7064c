"""Providers, their offers and vidensbank notes."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from stdnum.dk import cvr as stdnum_cvr

from models import (
    Offer,
    OfferCreate,
    OfferUpdate,
    Provider,
    ProviderCreate,
    ProviderKind,
    ProviderNote,
    ProviderNoteCreate,
    ProviderUpdate,
)
from services.errors import InputError
from services.unit_of_work import action
from services.validation import insert_row, require, update_row, validate, without

VAT_REFUND_KINDS = (ProviderKind.PRIVATE, ProviderKind.SELF_GOVERNING)


def cvr_warning(cvr: str | None) -> str | None:
    """A Danish warning when a CVR number fails the modulus-11 check (not a rejection)."""
    if cvr and not stdnum_cvr.is_valid(cvr):
        return (
            "CVR-nummeret består ikke kontrolcifferet (modulus 11). Tjek det i CVR-registret "
            "– det er gemt, da nogle registrerede numre ikke består kontrollen."
        )
    return None


def _provider_input(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "vat_refund" not in values and values.get("kind"):
        values["vat_refund"] = values["kind"] in VAT_REFUND_KINDS
    return values


@action
def create_provider(*, session: Session, data: Mapping[str, Any], user: str) -> Provider:
    """Validate and store a new provider."""
    valid = validate(ProviderCreate, _provider_input(data))
    return insert_row(
        session=session, row=Provider(**valid.model_dump()), user=user, entity="provider"
    )


@action
def update_provider(
    *, session: Session, provider_id: int, data: Mapping[str, Any], user: str
) -> Provider:
    """Save an edited provider; ConflictError if someone saved it since it was loaded."""
    valid = validate(ProviderUpdate, data)
    row = require(session, Provider, provider_id, "Leverandøren")
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        entity="provider",
        what="leverandøren",
    )


def get_provider(*, session: Session, provider_id: int) -> Provider:
    return require(session, Provider, provider_id, "Leverandøren")


@action
def add_provider_note(*, session: Session, data: Mapping[str, Any], user: str) -> ProviderNote:
    """Add a dated, signed vidensbank note. Notes are never edited afterwards."""
    values = {"note_date": date.today(), "author": user, **dict(data)}
    valid = validate(ProviderNoteCreate, values)
    require(session, Provider, valid.provider_id, "Leverandøren")
    return insert_row(
        session=session, row=ProviderNote(**valid.model_dump()), user=user, entity="providernote"
    )


def list_provider_notes(
    *, session: Session, provider_id: int, limit: int = 50
) -> list[ProviderNote]:
    """The newest notes first."""
    query = (
        select(ProviderNote)
        .where(ProviderNote.provider_id == provider_id)
        .order_by(col(ProviderNote.note_date).desc(), col(ProviderNote.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def _check_offer(valid: OfferCreate) -> dict[str, str]:
    errors = {}
    if valid.list_rate is not None and valid.list_rate_year is None:
        errors["list_rate_year"] = "Angiv hvilket år listetaksten gælder"
    if valid.negotiated_rate is not None and valid.negotiated_from is None:
        errors["negotiated_from"] = "Angiv hvornår den forhandlede takst gælder fra"
    return errors


@action
def create_offer(*, session: Session, data: Mapping[str, Any], user: str) -> Offer:
    """Validate and store a new offer under a provider."""
    valid = validate(OfferCreate, data)
    if errors := _check_offer(valid):
        raise InputError(errors)
    require(session, Provider, valid.provider_id, "Leverandøren")
    return insert_row(session=session, row=Offer(**valid.model_dump()), user=user, entity="offer")


@action
def update_offer(*, session: Session, offer_id: int, data: Mapping[str, Any], user: str) -> Offer:
    valid = validate(OfferUpdate, data)
    if errors := _check_offer(valid):
        raise InputError(errors)
    row = require(session, Offer, offer_id, "Tilbuddet")
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        entity="offer",
        what="tilbuddet",
    )


def list_offers(
    *, session: Session, provider_id: int | None = None, active: bool | None = None
) -> list[Offer]:
    query = select(Offer)
    if provider_id is not None:
        query = query.where(Offer.provider_id == provider_id)
    if active is not None:
        query = query.where(Offer.active == active)
    return list(session.exec(query.order_by(Offer.name)))
