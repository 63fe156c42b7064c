"""Offer comparisons (SPEC 10): checking what the caseworker typed, and saving a comparison
under a case reference to reopen it. The figures are computed by services.queries.comparison."""

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from models import ComparisonInput, Offer, OfferComparison
from services.cpr import CPR_MESSAGE, contains_cpr
from services.errors import InputError
from services.rules.weighing import PARAMETERS, PRICE, check_weights
from services.unit_of_work import action
from services.validation import insert_row, require, update_row, validate

SAVED_SHOWN = 200  # saved comparisons listed, newest first


def _texts(value: Any) -> list[str]:
    """Every text inside nested input (add-on names, reasons)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if hasattr(value, "model_dump"):
        return _texts(value.model_dump())
    return []


def check_comparison(data: Mapping[str, Any]) -> ComparisonInput:
    """The caseworker's input, validated: 2–3 different offers, the visited one among them,
    weights summing to 100, scores 0–10 for the parameters that are scored, no CPR-like text
    anywhere. InputError with Danish messages per field otherwise."""
    errors: dict[str, str] = {}
    for key in ("addons", "reasons"):
        if any(contains_cpr(text) for text in _texts(data.get(key))):
            errors[key] = CPR_MESSAGE
    valid = validate(ComparisonInput, data, extra_errors=errors)
    if len(set(valid.offer_ids)) != len(valid.offer_ids):
        errors["offer_ids"] = "Vælg forskellige tilbud"
    if valid.visited_id is not None and valid.visited_id not in valid.offer_ids:
        errors["visited_id"] = "Det visiterede tilbud skal være et af de valgte"
    offers = {str(i) for i in valid.offer_ids}
    scored = set(PARAMETERS) - {PRICE}
    if set(valid.scores) - offers or any(set(s) - scored for s in valid.scores.values()):
        errors["scores"] = "Point kan kun gives til de valgte tilbud og parametre"
    if any(a.offer_id not in valid.offer_ids for a in valid.addons):
        errors["addons"] = "En tillægsydelse hører til et tilbud, der ikke er valgt"
    try:
        check_weights({key: Decimal(value) for key, value in valid.weights.items()})
    except InputError as exc:
        errors["weights"] = next(iter(exc.fields.values()))
    if errors:
        raise InputError(errors)
    return valid


def inputs_json(inputs: ComparisonInput) -> str:
    return inputs.model_dump_json(exclude={"case_ref"})


@action
def save_comparison(
    *, session: Session, data: Mapping[str, Any], user: str, comparison_id: int | None = None
) -> OfferComparison:
    """Save the comparison under its case reference (required here), as a new one or over the
    one reopened (`comparison_id`, with the `version` it was loaded at)."""
    valid = check_comparison(data)
    if not valid.case_ref:
        raise InputError({"case_ref": "Angiv et sagsnummer for at gemme sammenligningen"})
    names = dict(
        session.exec(select(Offer.id, Offer.name).where(col(Offer.id).in_(valid.offer_ids))).all()
    )
    if missing := [i for i in valid.offer_ids if i not in names]:
        raise InputError({"offer_ids": f"Tilbud nr. {missing[0]} findes ikke længere"})
    values: dict[str, Any] = {
        "case_ref": valid.case_ref,
        "start_date": valid.start_date,
        "offer_names": "; ".join(names[i] for i in valid.offer_ids)[:600],
        "visited_id": valid.visited_id,
        "inputs": inputs_json(valid),
    }
    if comparison_id is None:
        return insert_row(session=session, row=OfferComparison(**values), user=user)
    row = require(session, OfferComparison, comparison_id, "Sammenligningen")
    version = data.get("version")
    return update_row(
        session=session,
        row=row,
        values=values,
        expected_version=version if isinstance(version, int) else -1,
        user=user,
        what="sammenligningen",
    )


def saved_comparisons(*, session: Session) -> list[OfferComparison]:
    """The saved comparisons, newest first."""
    return list(
        session.exec(
            select(OfferComparison)
            .order_by(col(OfferComparison.updated_at).desc(), col(OfferComparison.id).desc())
            .limit(SAVED_SHOWN)
        )
    )


def load_comparison(
    *, session: Session, comparison_id: int
) -> tuple[OfferComparison, dict[str, Any]]:
    """A saved comparison and its inputs as the page's data (with case reference and version)."""
    row = require(session, OfferComparison, comparison_id, "Sammenligningen")
    data = json.loads(row.inputs)
    return row, {**data, "case_ref": row.case_ref, "version": row.version}
