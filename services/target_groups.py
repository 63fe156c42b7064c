"""Target groups (målgrupper): the maintained list the offers pick from, and the offers' links.

One source of truth: an offer's target groups are its OfferTargetGroup rows, never a text on the
offer. A name is unique ignoring case and spacing (`target_group_key`), so "Udviklingshæmning"
and "udviklings hæmning" cannot both be on the list. Renaming a group renames it on every offer;
merging moves the merged group's offers to the kept one; a deactivated group stays on the offers
that have it but cannot be picked again.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import OfferTargetGroup, TargetGroup, TargetGroupCreate, TargetGroupUpdate
from models.base import utcnow
from services.audit import record_change
from services.errors import ConflictError, InputError
from services.markdown import markdown_literal
from services.unit_of_work import action, flush
from services.validation import insert_row, require, update_row, validate

# SQLite allows 32.766 bound parameters; stay far below when listing ids.
_ID_CHUNK = 900
_DANISH_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}"})


def target_group_key(name: str) -> str:
    """A name folded for comparison: case and every kind of spacing ignored."""
    return "".join(name.casefold().split())


def danish_sort_key(text: str) -> str:
    """Alphabetical the Danish way: æ, ø, å after z."""
    return text.casefold().translate(_DANISH_ORDER)


def _clean_name(name: str) -> str:
    """The name as stored: one space between words, none around them."""
    return " ".join(name.split())


def _taken_message(existing: TargetGroup) -> str:
    """Shown as Markdown by the page: the name is escaped."""
    return (
        f"Målgruppen findes allerede som »{markdown_literal(existing.name)}« (store og små "
        "bogstaver og mellemrum tæller ikke). Brug den, eller læg de to sammen."
    )


def _same_key(session: Session, key: str, excluding: int | None = None) -> TargetGroup | None:
    query = select(TargetGroup).where(TargetGroup.name_key == key)
    if excluding is not None:
        query = query.where(TargetGroup.id != excluding)
    return session.exec(query).first()


# --- The list ----------------------------------------------------------------------------------


def list_target_groups(*, session: Session, active: bool | None = None) -> list[TargetGroup]:
    """The list in Danish alphabetical order; `active` narrows it to active or inactive groups."""
    query = select(TargetGroup)
    if active is not None:
        query = query.where(TargetGroup.active == active)
    return sorted(session.exec(query), key=lambda g: danish_sort_key(g.name))


@dataclass(frozen=True)
class TargetGroupRow:
    """One group as the admin list shows it."""

    id: int
    name: str
    active: bool
    offers: int
    version: int


def target_group_overview(*, session: Session) -> list[TargetGroupRow]:
    """Every group with how many offers have it, Danish alphabetical order."""
    counts = dict(
        session.execute(
            sa.select(col(OfferTargetGroup.target_group_id), sa.func.count()).group_by(
                col(OfferTargetGroup.target_group_id)
            )
        ).all()
    )
    return [
        TargetGroupRow(
            id=group.id or 0,
            name=group.name,
            active=group.active,
            offers=int(counts.get(group.id, 0)),
            version=group.version,
        )
        for group in list_target_groups(session=session)
    ]


@action
def create_target_group(*, session: Session, data: Mapping[str, Any], user: str) -> TargetGroup:
    """Add a group to the list; a name already there (ignoring case and spacing) is refused."""
    valid = validate(TargetGroupCreate, data)
    name = _clean_name(valid.name)
    key = target_group_key(name)
    if existing := _same_key(session, key):
        raise InputError({"name": _taken_message(existing)})
    row = TargetGroup(name=name, name_key=key, active=valid.active)
    # Two admins adding the same name at once: the unique index refuses the second.
    return insert_row(session=session, row=row, user=user)


@action
def update_target_group(
    *, session: Session, target_group_id: int, data: Mapping[str, Any], user: str
) -> TargetGroup:
    """Rename or (de)activate a group; the new name shows on every offer that has it."""
    valid = validate(TargetGroupUpdate, data)
    row = require(session, TargetGroup, target_group_id, "Målgruppen")
    name = _clean_name(valid.name)
    key = target_group_key(name)
    if existing := _same_key(session, key, excluding=row.id):
        raise InputError({"name": _taken_message(existing)})
    return update_row(
        session=session,
        row=row,
        values={"name": name, "name_key": key, "active": valid.active},
        expected_version=valid.version,
        user=user,
        what="målgruppen",
    )


@action
def merge_target_groups(
    *, session: Session, data: Mapping[str, Any], user: str
) -> tuple[TargetGroup, int]:
    """Merge one group into another: its offers get the kept group (an offer that has both
    keeps one link), and the merged group leaves the list. One audit event "merge" on the
    merged group names the kept one and how many offers moved. `data`: `merge_id` (the group
    that goes, with its `version` as loaded) and `into_id` (the group that stays)."""
    errors: dict[str, str] = {}
    merge_id, into_id = data.get("merge_id"), data.get("into_id")
    if merge_id is None:
        errors["merge_id"] = "Vælg den målgruppe, der skal lægges sammen med en anden"
    if into_id is None:
        errors["into_id"] = "Vælg den målgruppe, den skal lægges ind i"
    elif merge_id == into_id:
        errors["into_id"] = "Vælg en anden målgruppe end den, der lægges sammen"
    if errors:
        raise InputError(errors)
    merged = require(session, TargetGroup, merge_id, "Målgruppen")
    kept = require(session, TargetGroup, into_id, "Målgruppen")
    if data.get("version") is not None and data.get("version") != merged.version:
        raise ConflictError("målgruppen")
    links = OfferTargetGroup.__table__  # type: ignore[attr-defined]
    offers = session.execute(
        sa.select(sa.func.count()).where(links.c.target_group_id == merged.id)
    ).scalar_one()
    has_kept = sa.select(links.c.offer_id).where(links.c.target_group_id == kept.id)
    session.execute(
        links.delete().where(links.c.target_group_id == merged.id, links.c.offer_id.in_(has_kept))
    )
    session.execute(
        links.update().where(links.c.target_group_id == merged.id).values(target_group_id=kept.id)
    )
    record_change(
        session=session,
        action="merge",
        entity="targetgroup",
        entity_id=merged.id,
        changes={
            "name": (merged.name, None),
            "merged_into": (None, f"{kept.name} (id {kept.id})"),
            "offers": (None, int(offers)),
        },
    )
    kept.updated_by = user
    kept.updated_at = utcnow()  # the kept group changed: a save from before the merge conflicts
    session.add(kept)
    session.delete(merged)
    flush(session, "målgruppen")
    return kept, int(offers)


# --- An offer's target groups -------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def offer_target_groups(
    *, session: Session, offer_ids: Sequence[int]
) -> dict[int, list[TargetGroup]]:
    """Each offer's groups in Danish alphabetical order (offers without any are left out)."""
    result: dict[int, list[TargetGroup]] = defaultdict(list)
    for chunk in _chunks(list(offer_ids)):
        query = (
            select(col(OfferTargetGroup.offer_id), TargetGroup)
            .join(TargetGroup, col(TargetGroup.id) == col(OfferTargetGroup.target_group_id))
            .where(col(OfferTargetGroup.offer_id).in_(chunk))
        )
        for offer_id, group in session.exec(query):
            result[offer_id].append(group)
    return {
        offer_id: sorted(groups, key=lambda g: danish_sort_key(g.name))
        for offer_id, groups in result.items()
    }


def offer_target_group_names(*, session: Session, offer_ids: Sequence[int]) -> dict[int, str]:
    """Each offer's groups as one text, "ADHD, Autisme" (offers without any are left out)."""
    return {
        offer_id: ", ".join(g.name for g in groups)
        for offer_id, groups in offer_target_groups(session=session, offer_ids=offer_ids).items()
    }


@dataclass(frozen=True)
class TargetGroupChoices:
    """What an offer form offers: the active groups plus those the offer already has."""

    options: tuple[int, ...]
    names: Mapping[int, str]
    selected: tuple[int, ...]


def target_group_choices(*, session: Session, offer_id: int | None = None) -> TargetGroupChoices:
    """The groups to pick from for a new offer (`offer_id` None) or an existing one."""
    own = (
        offer_target_groups(session=session, offer_ids=[offer_id]).get(offer_id, [])
        if offer_id is not None
        else []
    )
    own_ids = {g.id for g in own}
    groups = [g for g in list_target_groups(session=session) if g.active or g.id in own_ids]
    return TargetGroupChoices(
        options=tuple(g.id for g in groups if g.id is not None),
        names={g.id: g.name if g.active else f"{g.name} (inaktiv)" for g in groups if g.id},
        selected=tuple(g.id for g in own if g.id is not None),
    )


def target_group_errors(
    *, session: Session, ids: Sequence[int], current: Iterable[int] = ()
) -> dict[str, str]:
    """Why these groups cannot be an offer's (field `target_group_ids`): a group that no longer
    exists (merged away since the form was opened), or an inactive one the offer did not
    already have."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = {
        g.id: g for g in session.exec(select(TargetGroup).where(col(TargetGroup.id).in_(wanted)))
    }
    if len(found) < len(wanted):
        return {
            "target_group_ids": "En valgt målgruppe findes ikke længere (den kan være lagt "
            "sammen med en anden). Vælg målgrupperne igen."
        }
    kept = set(current)
    inactive = sorted(g.name for g in found.values() if not g.active and g.id not in kept)
    if inactive:
        return {
            "target_group_ids": f"Målgruppen »{markdown_literal(inactive[0])}« er ikke længere i "
            "brug og kan ikke vælges. Vælg en anden."
        }
    return {}


def current_target_group_ids(*, session: Session, offer_id: int) -> list[int]:
    """The ids of the offer's groups as stored."""
    return list(
        session.exec(
            select(OfferTargetGroup.target_group_id).where(OfferTargetGroup.offer_id == offer_id)
        )
    )


def target_group_change(
    *, session: Session, current: Iterable[int], wanted: Iterable[int]
) -> dict[str, tuple[object, object]]:
    """The audit entry for changing an offer's groups (names, old → new), or nothing."""
    old, new = set(current), set(wanted)
    if old == new:
        return {}
    rows = session.exec(select(TargetGroup).where(col(TargetGroup.id).in_(old | new)))
    names = {g.id: g.name for g in rows}

    def text(ids: set[int]) -> str:
        return ", ".join(sorted((names.get(i, str(i)) for i in ids), key=danish_sort_key))

    return {"target_groups": (text(old), text(new))}


def set_offer_target_groups(*, session: Session, offer_id: int, ids: Iterable[int]) -> None:
    """Make the offer's links exactly these groups (flushed, not committed)."""
    wanted = set(ids)
    current = set(current_target_group_ids(session=session, offer_id=offer_id))
    links = OfferTargetGroup.__table__  # type: ignore[attr-defined]
    if current - wanted:
        session.execute(
            links.delete().where(
                links.c.offer_id == offer_id, links.c.target_group_id.in_(current - wanted)
            )
        )
    if wanted - current:
        session.execute(
            links.insert(),
            [{"offer_id": offer_id, "target_group_id": i} for i in sorted(wanted - current)],
        )
    flush(session)
