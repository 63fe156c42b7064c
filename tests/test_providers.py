"""Providers, offers and vidensbank notes through the services."""

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from models import AuditEvent, Provider, ProviderNote
from services.errors import ConfirmationNeeded, ConflictError, InputError, NotFoundError
from services.providers import (
    REPEATED_NOTE,
    add_provider_note,
    create_offer,
    create_provider,
    cvr_warning,
    list_provider_notes,
    update_provider,
    void_provider_note,
)
from services.queries.providers import ProviderFilter, provider_key_figures, provider_register
from tests.factories import USER, make_provider
from tests.test_concurrency import _race


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


# --- Duplicate CVR numbers ------------------------------------------------------------------


def test_a_cvr_another_provider_has_needs_confirmation_naming_it(session):
    make_provider(session, name="Egelunden", cvr="10000009", confirmed=[])
    data = {"name": "Egelunden Syd", "cvr": "DK 1000 0009", "kind": "privat"}
    with pytest.raises(ConfirmationNeeded) as asked:
        create_provider(session=session, user=USER, data=data)
    assert "»Egelunden«" in asked.value.fields["cvr"]
    assert 1 == len(session.exec(select(Provider)).all())
    stored = create_provider(session=session, user=USER, data={**data, "confirmed": ["cvr"]})
    assert "10000009" == stored.cvr
    assert 2 == len(session.exec(select(Provider).where(Provider.cvr == "10000009")).all())


def test_the_duplicate_cvr_message_shows_the_name_as_typed(session):
    # The message is shown as Markdown (st.warning): the name must not become an image.
    make_provider(session, name="![x](http://evil.example/x.png) & Co", confirmed=[])
    with pytest.raises(ConfirmationNeeded) as asked:
        create_provider(
            session=session, user=USER, data={"name": "Ny", "cvr": "10000009", "kind": "privat"}
        )
    message = asked.value.fields["cvr"]
    assert "![x](" not in message
    assert "»![x](http://evil.example/x.png) & Co«" in re.sub(r"\\(.)", r"\1", message)


def test_editing_asks_only_when_the_cvr_changes_to_another_providers(session):
    make_provider(session, name="Egelunden", cvr="10000009", confirmed=[])
    other = make_provider(session, name="Bøgehuset", cvr="20000007", confirmed=[])
    data = other.model_dump(exclude={"id", "is_demo"})
    with pytest.raises(ConfirmationNeeded) as asked:
        update_provider(
            session=session, provider_id=other.id, user=USER, data={**data, "cvr": "10000009"}
        )
    assert "»Egelunden«" in asked.value.fields["cvr"]
    saved = update_provider(
        session=session,
        provider_id=other.id,
        user=USER,
        data={**data, "cvr": "10000009", "confirmed": ["cvr"]},
    )
    assert "10000009" == saved.cvr
    # Shared on purpose: editing anything else does not ask again.
    again = update_provider(
        session=session,
        provider_id=other.id,
        user=USER,
        data={**saved.model_dump(exclude={"id", "is_demo"}), "city": "Vejle"},
    )
    assert "Vejle" == again.city


def test_a_provider_keeping_its_own_cvr_is_not_asked(session):
    provider = make_provider(session, confirmed=[])
    data = provider.model_dump(exclude={"id", "is_demo"})
    saved = update_provider(
        session=session, provider_id=provider.id, user=USER, data={**data, "city": "Randers"}
    )
    assert "Randers" == saved.city


# --- Vidensbank: the same note twice, voided notes ------------------------------------------


def _note(session, provider, text, user="Mette"):
    return add_provider_note(
        session=session, user=user, data={"provider_id": provider.id, "text": text}
    )


def test_the_same_note_twice_in_a_row_by_the_same_user_is_refused(session):
    provider = make_provider(session)
    _note(session, provider, "Svarer hurtigt på henvendelser.")
    for same in ("Svarer hurtigt på henvendelser.", "  Svarer hurtigt\npå henvendelser. "):
        with pytest.raises(InputError) as refused:
            _note(session, provider, same)
        assert REPEATED_NOTE == refused.value.fields["text"]
    assert 1 == len(session.exec(select(ProviderNote)).all())


@pytest.mark.parametrize("case", ["other user", "other provider", "note in between", "voided"])
def test_the_same_text_is_accepted_when_it_is_not_a_repeat(session, case):
    provider = make_provider(session)
    text = "Svarer hurtigt på henvendelser."
    first = _note(session, provider, text)
    if case == "other user":
        _note(session, provider, text, user="Anne")
    elif case == "other provider":
        _note(session, make_provider(session, name="Bøgehuset"), text)
    elif case == "note in between":
        _note(session, provider, "Ny forstander fra 1. maj.")
        _note(session, provider, text)
    else:
        void_provider_note(
            session=session,
            user="Mette",
            note_id=first.id,
            data={"reason": "Skrevet for tidligt", "version": first.version},
        )
        _note(session, provider, text)
    assert 2 <= len(session.exec(select(ProviderNote).where(ProviderNote.text == text)).all())


def test_void_a_note_keeps_it_marked_audited_and_out_of_the_counts(session):
    provider = make_provider(session)
    kept = _note(session, provider, "God dialog om handleplanen.")
    wrong = _note(session, provider, "Skrevet om den forkerte leverandør.")
    filters = ProviderFilter()
    today = date.today()

    def counts():
        figures = provider_key_figures(session=session, provider_id=provider.id, today=today)
        register = provider_register(session=session, filters=filters, today=today)
        return figures.notes, int(register.loc[register["id"] == provider.id, "notes"].iloc[0])

    assert (2, 2) == counts()
    voided = void_provider_note(
        session=session,
        user="Anne",
        note_id=wrong.id,
        data={"reason": "Hørte til Bøgehuset", "version": wrong.version},
    )
    assert ("Anne", "Hørte til Bøgehuset") == (voided.voided_by, voided.void_reason)
    assert voided.voided_at is not None
    assert (1, 1) == counts()
    notes = list_provider_notes(session=session, provider_id=provider.id)
    assert {kept.id, wrong.id} == {n.id for n in notes}  # kept on record, shown marked
    assert "Skrevet om den forkerte leverandør." == session.get(ProviderNote, wrong.id).text
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "providernote",
            AuditEvent.entity_id == str(wrong.id),
            AuditEvent.action == "void",
        )
    ).all()
    assert 1 == len(events)
    assert "Hørte til Bøgehuset" in events[0].changes


def test_void_needs_a_reason_without_cpr_and_the_version_the_user_saw(session):
    provider = make_provider(session)
    note = _note(session, provider, "Skrevet ved en fejl.")
    for reason, message in (("", "Skal"), ("ab", "mindst 3"), ("Borger 010190-1234", "CPR")):
        with pytest.raises(InputError) as refused:
            void_provider_note(
                session=session,
                user=USER,
                note_id=note.id,
                data={"reason": reason, "version": note.version},
            )
        assert message in refused.value.fields["reason"]
    with pytest.raises(ConflictError):
        void_provider_note(
            session=session,
            user=USER,
            note_id=note.id,
            data={"reason": "Forkert leverandør", "version": note.version + 1},
        )
    void_provider_note(
        session=session,
        user=USER,
        note_id=note.id,
        data={"reason": "Forkert leverandør", "version": note.version},
    )
    stored = session.get(ProviderNote, note.id)
    with pytest.raises(InputError) as again:  # a second void of the same note
        void_provider_note(
            session=session,
            user=USER,
            note_id=note.id,
            data={"reason": "Igen", "version": stored.version},
        )
    assert "allerede annulleret" in again.value.fields["_form"]
    assert "Forkert leverandør" == session.get(ProviderNote, note.id).void_reason


def test_void_an_unknown_note_is_a_danish_message(session):
    with pytest.raises(NotFoundError):
        void_provider_note(
            session=session, user=USER, note_id=999999, data={"reason": "Fejl", "version": 1}
        )


@pytest.mark.parametrize("n", [2, 10])
def test_the_same_note_saved_at_the_same_moment_is_stored_once(engine, n):
    # A double click sends the form twice at once: the second save waits for the first.
    with Session(engine) as setup:
        provider_id = make_provider(setup).id
    text = "Svarer hurtigt på henvendelser."

    def save(session: Session, i: int) -> ProviderNote:
        return add_provider_note(
            session=session, user="Mette", data={"provider_id": provider_id, "text": text}
        )

    results = _race(engine, n, save)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InputError) and "text" in r.fields for r in refused), refused
    assert n - 1 == len(refused)
    with Session(engine) as check:
        assert 1 == len(check.exec(select(ProviderNote)).all())
