"""Providers, offers and vidensbank notes through the services."""

from datetime import date

import pytest
from sqlmodel import select

from models import ProviderNote
from services.errors import ConflictError, InputError
from services.providers import (
    add_provider_note,
    create_offer,
    cvr_warning,
    list_provider_notes,
    update_provider,
)
from services.queries.providers import ProviderFilter, provider_register
from tests.factories import USER, make_provider


@pytest.mark.parametrize("cvr", ["1234567", "123456789", "01234567", "1234567a"])
def test_cvr_format_is_enforced(session, cvr):
    with pytest.raises(InputError) as raised:
        make_provider(session, cvr=cvr)
    assert "CVR-nummer skal være 8 cifre" in raised.value.fields["cvr"]


def test_cvr_failing_check_digit_is_saved_with_warning(session):
    provider = make_provider(session, cvr="12345678")
    assert "12345678" == provider.cvr
    assert "modulus 11" in cvr_warning(provider.cvr)
    assert None is cvr_warning("10000009")


def test_vat_refund_defaults_by_kind(session):
    assert make_provider(session, kind="selvejende").vat_refund
    assert not make_provider(session, name="Kommunens hus", kind="kommunal").vat_refund


def test_notes_are_dated_signed_and_cpr_is_refused(session):
    provider = make_provider(session)
    add_provider_note(
        session=session,
        user="Mette",
        data={
            "provider_id": provider.id,
            "topic": "samarbejde",
            "text": "Svarer hurtigt, ring på 12 34 56 78 efter 22.11.2026; takst 2.080,80 kr.",
        },
    )
    for cpr_text in ("Borger 010190-1234 er flyttet", "Ang. 0101901234"):
        with pytest.raises(InputError) as raised:
            add_provider_note(
                session=session, user="Mette", data={"provider_id": provider.id, "text": cpr_text}
            )
        assert "CPR" in raised.value.fields["text"]
    notes = list_provider_notes(session=session, provider_id=provider.id)
    assert [("Mette", date.today())] == [(n.author, n.note_date) for n in notes]
    assert 1 == len(session.exec(select(ProviderNote)).all())


def test_provider_conflict_on_outdated_version(session):
    provider = make_provider(session)
    data = provider.model_dump(exclude={"id", "is_demo"})
    update_provider(
        session=session, provider_id=provider.id, user=USER, data={**data, "city": "Randers"}
    )
    with pytest.raises(ConflictError):
        update_provider(
            session=session, provider_id=provider.id, user=USER, data={**data, "city": "Viborg"}
        )


def test_search_matches_name_cvr_and_city(session):
    make_provider(session, name="Egelunden", cvr="10000009", city="Silkeborg")
    make_provider(session, name="Bøgehuset", cvr="20000007", city="Vejle")

    def names(text):
        found = provider_register(
            session=session, filters=ProviderFilter(search=text), today=date.today()
        )
        return list(found["name"])

    assert ["Egelunden"] == names("silke")
    assert ["Bøgehuset"] == names("2000000")


def test_offer_negotiated_rate_needs_date(session):
    provider = make_provider(session)
    with pytest.raises(InputError) as raised:
        create_offer(
            session=session,
            user=USER,
            data={
                "provider_id": provider.id,
                "name": "Huset",
                "paragraph": "SEL108",
                "negotiated_rate": "1.950,00",
            },
        )
    assert "negotiated_from" in raised.value.fields
