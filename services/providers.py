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
from models.base import VoidInput
from services.errors import ConfirmationNeeded, InputError, confirmed
from services.markdown import markdown_literal
from services.rules.voiding import not_voided_sql
from services.target_groups import (
    current_target_group_ids,
    set_offer_target_groups,
    target_group_change,
    target_group_errors,
)
from services.unit_of_work import action
from services.validation import insert_row, require, update_row, validate, void_row, without

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


def _same_cvr(session: Session, cvr: str, excluding: int | None) -> list[Provider]:
    query = select(Provider).where(Provider.cvr == cvr)
    if excluding is not None:
        query = query.where(Provider.id != excluding)
    return list(session.exec(query.order_by(col(Provider.name), col(Provider.id)).limit(3)))


def _ask_if_cvr_taken(
    session: Session, data: Mapping[str, Any], cvr: str | None, excluding: int | None = None
) -> None:
    """A CVR number another provider already has is most likely the same provider registered
    twice: ConfirmationNeeded on `cvr`, naming the provider(s), unless the user confirmed it (a
    CVR entity can run several places that are kept apart on purpose)."""
    if not cvr or confirmed(data, "cvr"):
        return
    others = _same_cvr(session, cvr, excluding)
    if not others:
        return
    names = [f"»{markdown_literal(p.name)}«" for p in others[:2]]
    if len(others) > 2:
        names.append("flere")
    named = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " og " + names[-1]
    raise ConfirmationNeeded(
        {
            "cvr": (
                f"CVR-nummeret {cvr} er allerede registreret på {named}. Er det den samme "
                "leverandør, så brug den, der findes, i stedet for at registrere den to gange."
            )
        }
    )


@action
def create_provider(*, session: Session, data: Mapping[str, Any], user: str) -> Provider:
    """Validate and store a new provider; a CVR number another provider has needs the user's
    confirmation (`data["confirmed"]` holds "cvr")."""
    valid = validate(ProviderCreate, _provider_input(data))
    _ask_if_cvr_taken(session, data, valid.cvr)
    return insert_row(session=session, row=Provider(**valid.model_dump()), user=user)


@action
def update_provider(
    *, session: Session, provider_id: int, data: Mapping[str, Any], user: str
) -> Provider:
    """Save an edited provider; ConflictError if someone saved it since it was loaded. Changing
    the CVR number to one another provider has needs the user's confirmation, as on create (a
    provider that already shares its CVR is not asked about it again on every edit)."""
    valid = validate(ProviderUpdate, data)
    row = require(session, Provider, provider_id, "Leverandøren")
    if valid.cvr != row.cvr:
        _ask_if_cvr_taken(session, data, valid.cvr, excluding=row.id)
    return update_row(
        session=session,
        row=row,
        values=without(valid, "version"),
        expected_version=valid.version,
        user=user,
        what="leverandøren",
    )


def get_provider(*, session: Session, provider_id: int) -> Provider:
    return require(session, Provider, provider_id, "Leverandøren")


REPEATED_NOTE = (
    "Din seneste note om leverandøren har præcis den samme tekst, så den er ikke gemt igen."
)


def _same_text(first: str, second: str) -> bool:
    """Two note texts are the same when they differ only in spacing and line breaks."""
    return first.split() == second.split()


@action
def add_provider_note(*, session: Session, data: Mapping[str, Any], user: str) -> ProviderNote:
    """Add a dated, signed vidensbank note. Notes are never edited afterwards, only voided.

    The same text as the user's latest note on the provider is refused (a second click on
    "Gem note" must not store it twice)."""
    values = {"note_date": date.today(), "author": user, **dict(data)}
    valid = validate(ProviderNoteCreate, values)
    require(session, Provider, valid.provider_id, "Leverandøren")
    # Two saves of the same note at the same moment wait for each other here (PostgreSQL; a
    # SQLite write transaction holds the database lock already), so the second one sees the
    # first and is refused.
    session.exec(
        select(Provider.id).where(Provider.id == valid.provider_id).with_for_update()
    ).one()
    latest = session.exec(
        select(ProviderNote.text)
        .where(
            ProviderNote.provider_id == valid.provider_id,
            ProviderNote.author == valid.author,
            not_voided_sql(ProviderNote),
        )
        .order_by(col(ProviderNote.id).desc())
        .limit(1)
    ).first()
    if latest is not None and _same_text(latest, valid.text):
        raise InputError({"text": REPEATED_NOTE})
    return insert_row(session=session, row=ProviderNote(**valid.model_dump()), user=user)


@action
def void_provider_note(
    *, session: Session, note_id: int, data: Mapping[str, Any], user: str
) -> ProviderNote:
    """Void a vidensbank note written by mistake, with a reason: it is kept and shown, marked
    with who voided it, when and why, and left out of every note count and latest-notes list
    (rules.voiding). ConflictError if the note changed since it was loaded."""
    valid = validate(VoidInput, data)
    note = require(session, ProviderNote, note_id, "Noten")
    return void_row(
        session=session,
        row=note,
        reason=valid.reason,
        expected_version=valid.version,
        user=user,
        what="noten",
    )


def list_provider_notes(
    *, session: Session, provider_id: int, limit: int = 50
) -> list[ProviderNote]:
    """The newest notes first, voided ones too (marked by `voided_at`)."""
    query = (
        select(ProviderNote)
        .where(ProviderNote.provider_id == provider_id)
        .order_by(col(ProviderNote.note_date).desc(), col(ProviderNote.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def check_offer(valid: OfferCreate) -> dict[str, str]:
    """What create_offer and update_offer refuse beyond each field's own value (a rate without
    the date or year it applies from), as field → Danish message; the import asks too."""
    errors = {}
    if valid.list_rate is not None and valid.list_rate_year is None:
        errors["list_rate_year"] = "Angiv hvilket år listetaksten gælder"
    if valid.negotiated_rate is not None and valid.negotiated_from is None:
        errors["negotiated_from"] = "Angiv hvornår den forhandlede takst gælder fra"
    return errors


@action
def create_offer(*, session: Session, data: Mapping[str, Any], user: str) -> Offer:
    """Validate and store a new offer under a provider, with the target groups picked for it."""
    valid = validate(OfferCreate, data)
    groups = valid.target_group_ids
    if errors := check_offer(valid) | target_group_errors(session=session, ids=groups):
        raise InputError(errors)
    require(session, Provider, valid.provider_id, "Leverandøren")
    offer = Offer(**without(valid, "target_group_ids"))
    insert_row(session=session, row=offer, user=user)
    set_offer_target_groups(session=session, offer_id=offer.id or 0, ids=groups)
    return offer


@action
def update_offer(*, session: Session, offer_id: int, data: Mapping[str, Any], user: str) -> Offer:
    """Save an edited offer and its target groups (one audit event for both); ConflictError if
    someone saved it since it was loaded."""
    valid = validate(OfferUpdate, data)
    row = require(session, Offer, offer_id, "Tilbuddet")
    groups = valid.target_group_ids
    current = current_target_group_ids(session=session, offer_id=offer_id)
    group_errors = target_group_errors(session=session, ids=groups, current=current)
    if errors := check_offer(valid) | group_errors:
        raise InputError(errors)
    update_row(
        session=session,
        row=row,
        values=without(valid, "version", "target_group_ids"),
        expected_version=valid.version,
        user=user,
        what="tilbuddet",
        extra_changes=target_group_change(session=session, current=current, wanted=groups),
    )
    set_offer_target_groups(session=session, offer_id=offer_id, ids=groups)
    return row


def list_offers(
    *, session: Session, provider_id: int | None = None, active: bool | None = None
) -> list[Offer]:
    query = select(Offer)
    if provider_id is not None:
        query = query.where(Offer.provider_id == provider_id)
    if active is not None:
        query = query.where(Offer.active == active)
    return list(session.exec(query.order_by(Offer.name)))
