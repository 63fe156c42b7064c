"""The CPR guard (SPEC 3): text holding a CPR-like number is refused, other numbers pass."""

import pytest

from services.cpr import CPR_MESSAGE, contains_cpr, ensure_no_cpr
from services.errors import InputError, UserError


@pytest.mark.parametrize(
    "text",
    [
        "010190-1234",
        "0101901234",
        "010190 1234",
        "Borger 010190-1234 flytter",
        "Borger 0101901234 flytter",
        "Sag0101901234 oprettet",
        "SAG-010190-1234",
        "Se notat (010190-1234).",
        "CPR: 010190-1234, tlf. 12345678",
        "311299-4321",
        "290200-1234",  # 29 February 2000
        "010190-1234\nflere linjer",
        "nr.010190-1234",  # after an abbreviation's dot
        "cpr.nr.0101901234",
        "010190\u20131234",  # en dash, as word processors write it
        "010190\u20111234",  # non-breaking hyphen
        "010190\u00a01234",  # non-breaking space
    ],
)
def test_cpr_like_text_is_detected(text):
    assert contains_cpr(text)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Alt godt",
        "22.11.2026",
        "2026-11-22",
        "Møde 22.11.2026 kl. 10.00",
        "2.080,80",
        "1.234.567,89",
        "1.234.567,89 kr.",
        "+45 12 34 56 78",
        "12345678",
        "20304050",
        "Tlf. 20304050",
        "SAG-2024-00123",
        "K-108-0042",
        "3213901234",  # day 32
        "0113901234",  # month 13
        "290201-1234",  # 29 February 2001 does not exist
        "310490-1234",  # 31 April does not exist
        "01019012345",  # eleven digits: part of a longer number
        "10101901234",
        "1234567890,50",  # an amount, not a CPR number
        "2.0101901234",  # the decimals of a number
        "1,0101901234",
    ],
)
def test_other_numbers_are_not_cpr(text):
    assert not contains_cpr(text)


def test_ensure_no_cpr_names_the_field():
    with pytest.raises(InputError) as excinfo:
        ensure_no_cpr({"case_ref": "SAG-2024-00123", "note": "Borger 010190-1234 flytter"})
    assert {"note"} == set(excinfo.value.fields)
    assert CPR_MESSAGE == excinfo.value.fields["note"]
    assert isinstance(excinfo.value, UserError)


def test_ensure_no_cpr_names_every_field_with_a_cpr_number():
    with pytest.raises(InputError) as excinfo:
        ensure_no_cpr({"case_ref": "0101901234", "note": "ok", "text": "311299-4321"})
    assert {"case_ref", "text"} == set(excinfo.value.fields)


def test_ensure_no_cpr_message_is_danish():
    with pytest.raises(InputError) as excinfo:
        ensure_no_cpr({"note": "010190-1234"})
    assert "CPR-nummer" in excinfo.value.fields["note"]
    assert "CPR-nummer" in excinfo.value.message


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"note": "Møde 22.11.2026", "case_ref": "K-108-0042", "phone": "+45 12 34 56 78"},
        {"amount": 101901234, "places": 4, "empty": None},  # only text is checked
    ],
)
def test_ensure_no_cpr_accepts_clean_values(values):
    assert ensure_no_cpr(values) is None
