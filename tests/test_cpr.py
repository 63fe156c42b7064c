"""The CPR guard (SPEC 3): text holding a CPR-like number is refused, other numbers pass.

Besides the worked cases, two generated corpora measure the guard: CPR-like numbers in every
way they are written, in Danish sentences (hit rate must be 100 %), and numbers that only look
alike (false-alarm rate must be 0 %). `pytest -s` prints both rates.
"""

import calendar
import random
from collections.abc import Callable
from datetime import date, timedelta

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
        "010190 - 1234",
        "01.01.90-1234",
        "01 01 90 1234",
        "010190/1234",
        "010190.1234",
        "010190\u22121234",  # minus sign
        "010190\u00ad1234",  # soft hyphen
        "CPR0101901234",  # glued to the word cpr
        "journal_010190-1234.pdf",  # with a dash it is a CPR number, even in a file name
        "Ordre 250314-0042",  # a date-based order number is refused in free text
        "kontor 0101901234",  # not the word konto
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
        "Sag0101901234 oprettet",  # ten digits glued to a word (was refused before)
        "scan_0103261030.pdf",
        "Filen 0103261030.pdf er vedhæftet",
        "konto 0101234567",
        "reg. 1234 konto 0101234567",
        "Reg.nr. 1234 kontonr. 0101234567",
        "1234-0101234567",
        "010190123456",
        "5790001234567",
        "01.01.1990",
        "320190-1234",
        "011390-1234",
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


# --- Generated corpora -------------------------------------------------------------------------

PER_KIND = 2_000  # texts per way of writing a CPR number, and per kind of look-alike
SEED = 20261122

WORDS = [
    "borgeren",
    "flytter",
    "til",
    "nyt",
    "botilbud",
    "efter",
    "aftale",
    "med",
    "sagsbehandleren",
    "om",
    "takst",
    "og",
    "opfølgning",
    "leverandøren",
    "har",
    "sendt",
    "faktura",
    "for",
    "perioden",
    "se",
    "notat",
    "vedrørende",
    "sagen",
    "møde",
    "på",
    "kontoret",
    "med",
    "pårørende",
    "kommunen",
    "betaler",
    "tillæg",
    "ifølge",
    "kontrakten",
]


def _sentence(rng: random.Random, middle: str) -> str:
    before = " ".join(rng.choices(WORDS, k=rng.randint(0, 6)))
    after = " ".join(rng.choices(WORDS, k=rng.randint(0, 6)))
    text = " ".join(part for part in (before.capitalize(), middle, after) if part)
    return text + rng.choice(("", ".", "!", "\nNæste linje."))


def _birth_date(rng: random.Random) -> date:
    """Any day a CPR number can carry (1858–2057), often 29 February or a century's year."""
    roll = rng.random()
    if roll < 0.15:
        return date(rng.choice([y for y in range(1860, 2058, 4) if calendar.isleap(y)]), 2, 29)
    if roll < 0.25:
        year = rng.choice((1858, 1899, 1900, 1901, 1999, 2000, 2001, 2057))
        return date(year, 1, 1) + timedelta(days=rng.randrange(365))
    return date(1858, 1, 1) + timedelta(
        days=rng.randrange((date(2057, 12, 31) - date(1858, 1, 1)).days)
    )


DASHES = ("-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\u00ad", "\uff0d")
SPACES = (" ", "\u00a0", "\u202f", "\u2009")


def _cpr_forms(rng: random.Random, d: str, m: str, y: str, s: str) -> list[str]:
    """Every way the guard must recognise one CPR number."""
    dash, space = rng.choice(DASHES), rng.choice(SPACES)
    return [
        f"{d}{m}{y}{s}",
        f"{d}{m}{y}-{s}",
        f"{d}{m}{y}{dash}{s}",
        f"{d}{m}{y}{space}{s}",
        f"{d}{m}{y} {dash} {s}",
        f"{d}{m}{y}/{s}",
        f"{d}{m}{y}.{s}",
        f"{d}.{m}.{y}-{s}",
        f"{d}.{m}.{y}{dash}{s}",
        f"{d} {m} {y} {s}",
        f"{d}-{m}-{y}-{s}",
        f"{d}/{m}/{y} {s}",
    ]


def _cpr_texts(rng: random.Random, per_form: int) -> list[str]:
    wrappers = ("{}", "({})", "{},", "CPR: {}", "cpr.nr. {}", "nr.{}", '"{}"', "CPR-nr.: {}")
    texts = []
    for _ in range(per_form):
        born = _birth_date(rng)
        d, m, y = f"{born.day:02d}", f"{born.month:02d}", f"{born.year % 100:02d}"
        for number in _cpr_forms(rng, d, m, y, f"{rng.randrange(10_000):04d}"):
            texts.append(_sentence(rng, rng.choice(wrappers).format(number)))
    return texts


def _ten_digits_on_a_date(rng: random.Random) -> str:
    """Ten digits whose first six are a valid date: the hardest look-alikes."""
    born = _birth_date(rng)
    return f"{born:%d%m}{born.year % 100:02d}{rng.randrange(10_000):04d}"


def _timestamp(rng: random.Random) -> str:
    when = date(2015, 1, 1) + timedelta(days=rng.randrange(5_000))
    stamp = f"{when:%d%m%y}{rng.randrange(24):02d}{rng.randrange(60):02d}"
    return rng.choice(
        (
            f"scan_{stamp}.pdf",
            f"IMG_{stamp}.jpg",
            f"Scan{stamp}.pdf",
            f"{stamp}_scan.pdf",
            f"dok{stamp}.docx",
            f"Filen {stamp}.pdf",
            f"rapport_{stamp}_v2.xlsx",
            f"bilag-{when:%Y%m%d}-{stamp[6:]}.pdf",
        )
    )


def _account(rng: random.Random) -> str:
    reg, konto = f"{rng.randrange(1000, 10_000)}", _ten_digits_on_a_date(rng)
    return rng.choice(
        (
            f"konto {konto}",
            f"kontonr. {konto}",
            f"Kontonummer: {konto}",
            f"bankkonto {konto}",
            f"reg. {reg} konto {konto}",
            f"Reg.nr. {reg} kontonr. {konto}",
            f"reg.nr. {reg}-{konto}",
            f"reg {reg} {konto}",
            f"{reg}-{konto}",
            f"account no. {konto}",
        )
    )


def _phone(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**7, 10**8)}"
    pairs = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return rng.choice(
        (f"tlf. {pairs}", f"+45 {pairs}", f"tlf. {digits}", f"Tlf.: {digits[:4]} {digits[4:]}")
    )


def _amount(rng: random.Random) -> str:
    kroner = rng.randrange(10**9)
    dotted = f"{kroner:,}".replace(",", ".")
    ore = f"{rng.randrange(100):02d}"
    return rng.choice(
        (f"{dotted},{ore}", f"{dotted},{ore} kr.", f"kr. {kroner},{ore}", f"{dotted} kr.")
    )


def _date_alone(rng: random.Random) -> str:
    born = _birth_date(rng)
    return rng.choice(
        (
            f"{born:%d.%m}.{born.year}",
            f"{born:%d-%m}-{born.year}",
            f"{born.year}-{born:%m-%d}",
            f"{born:%d.%m}.{born.year % 100:02d}",
            f"{born:%d%m}{born.year % 100:02d}",
            f"født {born:%d.%m}.{born.year}",
        )
    )


def _invalid_date(rng: random.Random) -> str:
    year = rng.randrange(100)
    day, month = rng.choice(
        (
            (rng.randrange(32, 100), rng.randrange(1, 13)),  # no such day
            (0, rng.randrange(1, 13)),
            (rng.randrange(1, 29), rng.choice((0, *range(13, 100)))),  # no such month
            (31, rng.choice((4, 6, 9, 11))),
            (30, 2),
        )
    )
    if rng.random() < 0.2:  # 29 February of a year that is not a leap year in any century
        day, month, year = 29, 2, rng.choice([y for y in range(100) if y % 4])
    d, m, y = f"{day:02d}", f"{month:02d}", f"{year:02d}"
    return rng.choice(_cpr_forms(rng, d, m, y, f"{rng.randrange(10_000):04d}"))


def _long_run(rng: random.Random) -> str:
    tail = "".join(rng.choices("0123456789", k=rng.choice((1, 2))))
    head = _ten_digits_on_a_date(rng)
    return rng.choice((head + tail, tail + head, f"Nr. {head}{tail}"))


def _ean(rng: random.Random) -> str:
    number = f"57{rng.randrange(10**10, 10**11)}"
    return rng.choice((f"GLN {number}", f"EAN-nr. {number}", number))


def _cvr(rng: random.Random) -> str:
    number = f"{rng.randrange(10**7, 10**8)}"
    return rng.choice((f"CVR {number}", f"CVR-nr. DK{number}", f"DK-{number}"))


def _part_of_longer_number(rng: random.Random) -> str:
    ten = _ten_digits_on_a_date(rng)
    return rng.choice(
        (
            f"{rng.randrange(1, 99)}.{ten}",
            f"{ten},{rng.randrange(100):02d}",
            f"{ten}-{rng.randrange(1, 99)}",
        )
    )


LOOK_ALIKES: tuple[Callable[[random.Random], str], ...] = (
    _timestamp,
    _account,
    _phone,
    _amount,
    _date_alone,
    _invalid_date,
    _long_run,
    _ean,
    _cvr,
    _part_of_longer_number,
)


def _look_alike_texts(rng: random.Random, per_kind: int) -> list[str]:
    return [_sentence(rng, kind(rng)) for _ in range(per_kind) for kind in LOOK_ALIKES]


def _rate(found: int, total: int) -> str:
    return f"{found}/{total} = {100 * found / total:.2f} %"


def test_generated_cpr_numbers_are_all_found():
    texts = _cpr_texts(random.Random(SEED), PER_KIND)
    missed = [t for t in texts if not contains_cpr(t)]
    rate = f"CPR hit rate: {_rate(len(texts) - len(missed), len(texts))}"
    print(f"\n{rate}")
    assert not missed, f"{rate}; missed e.g. {missed[:5]!r}"


def test_generated_look_alikes_raise_no_false_alarm():
    texts = _look_alike_texts(random.Random(SEED + 1), PER_KIND)
    alarms = [t for t in texts if contains_cpr(t)]
    rate = f"CPR false-alarm rate: {_rate(len(alarms), len(texts))}"
    print(f"\n{rate}")
    assert not alarms, f"{rate}; e.g. {alarms[:5]!r}"


def test_vum_themes_are_guarded_like_every_other_text(session):
    from services.settings import get_settings, update_settings

    themes = "Mobilitet\nBorger 010190-1234\nSundhed"
    with pytest.raises(InputError) as raised:
        update_settings(session=session, values={"vum_themes": themes}, user="test")
    assert CPR_MESSAGE == raised.value.fields["vum_themes"]
    assert "Borger" not in "".join(get_settings(session=session).vum_themes)
    saved = update_settings(
        session=session, values={"vum_themes": "Mobilitet\nTema 2026"}, user="t"
    )
    assert ("Mobilitet", "Tema 2026") == saved.vum_themes
