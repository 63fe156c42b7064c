"""Importing offers (SPEC 9, issue 12) on SQLite and PostgreSQL: a good file imports exactly
what it holds, a re-import updates only when asked, one bad row writes nothing and is named,
duplicates inside the file are errors, a CPR-like cell refuses its row, target groups come from
the maintained list only, and the provider must exist already."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models import AuditEvent, Offer, Provider, TargetGroup
from services.errors import InputError
from services.imports.offers import import_offers, preview_offers
from services.imports.reading import read_csv, read_excel
from services.target_groups import create_target_group, offer_target_group_names
from tests.factories import USER, make_provider

HEADER = (
    "CVR;Tilbud;Paragraf;Målgrupper;Pladser;Listetakst;Takstår;Forhandlet takst;"
    "Forhandlet fra;Tilbudsportalen;Aktiv"
)
GOOD = [
    "10000009;Huset ved Åen;§108;Udviklingshæmning; 12;1.850,00;2026;1.790,50;01-01-2026;"
    "https://tilbudsportalen.dk/1;ja",
    "10000009;Åhuset;SEL107;autisme, UDVIKLINGS HÆMNING;6;2.400,00;2026;;;;nej",
    "12345674;Bo Syd;§105 almen bolig + §85;;;;;;;;",
]


@pytest.fixture
def world(session: Session) -> Session:
    make_provider(session)  # CVR 10000009
    make_provider(session, name="Bo Nord ApS", cvr="12345674")
    for name in ("Udviklingshæmning", "Autisme"):
        create_target_group(session=session, data={"name": name}, user=USER)
    return session


def _table(lines: list[str], header: str = HEADER):
    table, _, _ = read_csv(("\n".join([header, *lines]) + "\n").encode("utf-8"))
    return table


def _preview(session: Session, lines: list[str], header: str = HEADER, **options):
    table = _table(lines, header)
    return preview_offers(session=session, headers=table.headers, rows=table.rows, **options)


def _import(session: Session, lines: list[str], header: str = HEADER, **options):
    table = _table(lines, header)
    return import_offers(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name="tilbud.csv",
        user=USER,
        **options,
    )


def _offers(session: Session) -> dict[str, Offer]:
    return {o.name: o for o in session.exec(select(Offer))}


def _problems(preview) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.value) for e in preview.errors]


def test_a_good_file_imports_exactly_what_it_holds(world):
    session = world
    preview = _preview(session, GOOD)
    assert not preview.errors and preview.ready and 3 == len(preview.new)
    _import(session, GOOD)
    stored = _offers(session)
    assert {"Huset ved Åen", "Åhuset", "Bo Syd"} == set(stored)
    aaen, aahuset, syd = stored["Huset ved Åen"], stored["Åhuset"], stored["Bo Syd"]
    assert ("SEL108", 12, Decimal("1850.00"), 2026) == (
        aaen.paragraph,
        aaen.places,
        aaen.list_rate,
        aaen.list_rate_year,
    )
    assert (Decimal("1790.50"), date(2026, 1, 1), "https://tilbudsportalen.dk/1", True) == (
        aaen.negotiated_rate,
        aaen.negotiated_from,
        aaen.portal_url,
        aaen.active,
    )
    assert ("SEL107", False) == (aahuset.paragraph, aahuset.active)
    assert ("ABL105", True, None) == (syd.paragraph, syd.active, syd.list_rate)
    names = offer_target_group_names(session=session, offer_ids=[aaen.id, aahuset.id, syd.id])
    assert {aaen.id: "Udviklingshæmning", aahuset.id: "Autisme, Udviklingshæmning"} == names
    events = session.exec(select(AuditEvent).where(AuditEvent.entity != "provider")).all()
    assert 3 == sum(e.entity == "offer" and e.action == "create" for e in events)
    (summary,) = [e for e in events if e.entity == "import"]
    assert ("tilbud.csv", USER) == (summary.entity_id, summary.who)
    assert '"created": [null, 3]' in summary.changes
    assert 1 + 3 == len([e for e in events if e.entity != "targetgroup"])


def test_a_re_import_updates_only_when_asked(world):
    session = world
    _import(session, GOOD)
    changed = [GOOD[0].replace("1.850,00", "1.900,00").replace(";ja", ";nej"), *GOOD[1:]]
    changed[1] = changed[1].replace("autisme, ", "")
    preview = _preview(session, changed)
    assert 3 == len(preview.errors)
    assert all(e.message.startswith("Findes allerede (»") for e in preview.errors)
    assert "Opdatér eksisterende" in preview.errors[0].message
    with pytest.raises(InputError, match="3 fejl"):
        _import(session, changed)
    preview = _preview(session, changed, update_existing=True)
    assert (0, 2, 1) == (len(preview.new), len(preview.updates), preview.unchanged)
    first, second = preview.updates
    assert {"Listetakst": ("1.850,00", "1.900,00"), "Aktiv": ("ja", "nej")} == first.changes
    assert {"Målgrupper": ("Autisme, Udviklingshæmning", "Udviklingshæmning")} == second.changes
    before = len(session.exec(select(AuditEvent)).all())
    _import(session, changed, update_existing=True)
    session.expire_all()
    stored = _offers(session)
    assert (Decimal("1900.00"), False) == (
        stored["Huset ved Åen"].list_rate,
        stored["Huset ved Åen"].active,
    )
    assert {stored["Åhuset"].id: "Udviklingshæmning"} == offer_target_group_names(
        session=session, offer_ids=[stored["Åhuset"].id]
    )
    events = session.exec(select(AuditEvent)).all()[before:]
    assert [("offer", "update"), ("offer", "update"), ("import", "import")] == [
        (e.entity, e.action) for e in events
    ]


def test_empty_cells_leave_an_existing_offer_as_it_is(world):
    session = world
    _import(session, GOOD)
    preview = _preview(session, ["10000009;huset ved åen;§108;;;;;;;;"], update_existing=True)
    assert not preview.errors and not preview.updates
    assert 1 == preview.unchanged


def test_one_bad_row_writes_nothing_and_is_named(world):
    session = world
    lines = [*GOOD, "12345674;Bo Vest;§108;;;95.4;2026;;;;"]
    preview = _preview(session, lines)
    assert [(5, "Listetakst", "95.4")] == _problems(preview)
    assert "Mente du 95,4?" in preview.errors[0].message
    with pytest.raises(InputError):
        _import(session, lines)
    assert {} == _offers(session)
    assert not [e for e in session.exec(select(AuditEvent)) if e.entity in ("offer", "import")]


def test_checks_per_cell(world):
    session = world
    lines = [
        "99999999;Ukendt leverandør;§108;;;;;;;;",
        "10000009;Bo Paragraf;§85;;;;;;;;",
        '10000009;Bo Målgruppe;§108;"Autisme; Sindslidelse, Misbrug";;;;;;;',
        "10000009;Bo Takst;§108;;;1.234,56;;;;;",
        "10000009;Bo Dato;§108;;;;;1.700,00;12/31/2026;;",
        "10000009;Bo Pladser;§108;;12,5;;;;;;",
        "10000009;Bo Aktiv;§108;;;;;;;;måske",
        "10000009;Bo Link;§108;;;;;;;www.bo.dk;",
        "1234;Bo CVR;§108;;;;;;;;",
    ]
    by_row = {e.row: (e.column, e.message) for e in _preview(session, lines).errors}
    assert "CVR" == by_row[2][0] and "Ingen leverandør har CVR-nummeret 99999999" in by_row[2][1]
    assert "Ukendt paragraf »§85«" in by_row[3][1]
    assert "Målgrupper" == by_row[4][0]
    assert "Ukendte målgrupper »Sindslidelse«, »Misbrug«" in by_row[4][1]
    assert ("Takstår", "Angiv hvilket år listetaksten gælder") == by_row[5]
    assert ("Forhandlet fra", "»12/31/2026« er ikke en dato i formatet DD-MM-ÅÅÅÅ") == by_row[6]
    assert ("Pladser", "»12,5« er ikke et helt tal") == by_row[7]
    assert "Aktiv" == by_row[8][0]
    assert ("Tilbudsportalen", "Linket skal starte med https://") == by_row[9]
    assert ("CVR", "CVR-nummer skal være 8 cifre og må ikke starte med 0") == by_row[10]
    # Nothing is created on the way: no provider, no target group.
    assert 2 == len(session.exec(select(TargetGroup)).all())
    us = _preview(session, [lines[4]], date_format="MM/DD/ÅÅÅÅ")
    assert not us.errors and date(2026, 12, 31) == us.new[0].data["negotiated_from"]


def test_an_inactive_target_group_is_refused_for_a_new_offer(world):
    session = world
    create_target_group(session=session, data={"name": "Misbrug", "active": False}, user=USER)
    preview = _preview(session, ["10000009;Bo Nyt;§108;Misbrug;;;;;;;"])
    assert [(2, "Målgrupper")] == [(e.row, e.column) for e in preview.errors]
    assert "ikke længere i brug" in preview.errors[0].message


def test_duplicates_inside_the_file_are_errors_on_every_row(world):
    session = world
    lines = [
        "10000009;Huset ved Åen;§108;;;;;;;;",
        "10000009;HUSET  ved åen;§107;;;;;;;;",
        "12345674;Huset ved Åen;§108;;;;;;;;",  # another provider: not a duplicate
    ]
    preview = _preview(session, lines)
    assert [(2, "Tilbud"), (3, "Tilbud")] == [(e.row, e.column) for e in preview.errors]
    assert "står også i række 3" in preview.errors[0].message
    assert "står også i række 2" in preview.errors[1].message
    assert [4] == [p.row for p in preview.new]


def test_a_cpr_like_cell_refuses_its_row(world):
    session = world
    lines = [GOOD[0], "10000009;Bo 010190-1234;§108;;;;;;;;"]
    preview = _preview(session, lines)
    assert [(3, "(rækken)")] == [(e.row, e.column) for e in preview.errors]
    assert "CPR" in preview.errors[0].message


def test_several_providers_with_one_cvr_are_told_apart_by_name(world):
    session = world
    make_provider(session, name="Testlund Vest")  # the same CVR as the first, confirmed
    header = "CVR;Leverandør;Tilbud;Paragraf"
    preview = _preview(session, ["10000009;;Bo Et;§108"], header=header)
    assert [(2, "CVR")] == [(e.row, e.column) for e in preview.errors]
    assert "2 leverandører har CVR-nummeret 10000009" in preview.errors[0].message
    preview = _preview(session, ["10000009;testlund vest;Bo Et;§108"], header=header)
    assert not preview.errors
    assert "Testlund Vest" == session.get(Provider, preview.new[0].data["provider_id"]).name


@pytest.mark.parametrize(
    ("remark", "refused"),
    [(1501901234, True), (101901234, True), (12345678, False), (1234567890, False)],
)
def test_a_cpr_number_typed_as_an_excel_number_refuses_its_row(world, remark, refused):
    data = _xlsx([["CVR", "Tilbud", "Paragraf", "Bemærkning"], [10000009, "Bo", "§108", remark]])
    table = read_excel(data)
    preview = preview_offers(session=world, headers=table.headers, rows=table.rows)
    expected = [(2, "(rækken)")] if refused else []
    assert expected == [(e.row, e.column) for e in preview.errors]
    assert (0 if refused else 1) == len(preview.new)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_with_numbers_serial_dates_and_a_cpr_number(world):
    session = world
    data = _xlsx(
        [
            ["CVR", "Tilbud", "Paragraf", "Listetakst", "Takstår", "Forhandlet takst"],
            [10000009, "Huset ved Åen", "§108", 1850.5, 2026, None],
            [10000009, "Bo Dato", "§108", None, None, 1790],
            [10000009, "Bo CPR", "§108", 101901234, None, None],
        ]
    )
    data_with_dates = _xlsx(
        [
            ["CVR", "Tilbud", "Paragraf", "Forhandlet takst", "Forhandlet fra"],
            [10000009, "Bo Dato", "§108", "1.790,00", 46023],  # Excel's serial of 01.01.2026
            [10000009, "Bo Dato 2", "§108", "1.790,00", date(2026, 2, 1)],
        ]
    )
    table = read_excel(data)
    preview = preview_offers(session=session, headers=table.headers, rows=table.rows)
    by_row = {e.row: (e.column, e.message) for e in preview.errors}
    assert {3, 4} == set(by_row)
    # The file has no such column: the whole row is named.
    assert ("(rækken)", "Angiv hvornår den forhandlede takst gælder fra") == by_row[3]
    assert "(rækken)" == by_row[4][0] and "CPR" in by_row[4][1]
    assert Decimal("1850.50") == preview.new[0].data["list_rate"]
    table = read_excel(data_with_dates)
    preview = preview_offers(session=session, headers=table.headers, rows=table.rows)
    assert not preview.errors
    assert [date(2026, 1, 1), date(2026, 2, 1)] == [p.data["negotiated_from"] for p in preview.new]
