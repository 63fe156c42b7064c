"""Importing contracts with an add-on (SPEC 9, issue 12) on SQLite and PostgreSQL: a good file
imports exactly what it holds, a re-import updates only when asked, one bad row writes nothing
and is named, duplicates inside the file are errors, a CPR-like cell refuses its row, and a
price the form would ask about is a row error, never a traceback."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from models import AuditEvent, Contract, ContractAddon, Offer, Provider
from services.errors import InputError
from services.imports.contracts import import_contracts, preview_contracts
from services.imports.reading import read_csv, read_excel
from services.providers import create_offer
from tests.factories import USER, make_contract, make_provider

HEADER = (
    "Sagsnummer;CVR;Tilbud;Paragraf;Startdato;Slutdato;Pris;Prisenhed;Prisdato;Regulering;"
    "Reguleringsprocent;Opsigelsesvarsel (dage);Status;Priskategori ved visitation;Tillæg;"
    "Tillæg pris;Tillæg enhed;Tillæg gælder fra;Tillæg gælder til"
)
GOOD = [
    "SAG-2026-0001;10000009;Huset ved Åen;;01-03-2026;;2.080,80;dag;;;;;;Middel;"
    "Ekstra støtte;4.500,00;måned;;",
    "SAG-2026-0002;12345674;;§107;01-01-2026;31-12-2026;60.000,00;måned;01-01-2026;Indeks;;60;"
    "Kladde;;;;;;",
    "SAG-2026-0003;10000009;;§105;15-02-2026;;1.234,56;pr. dag;01-01-2026;Ingen;;30;Aktiv;Høj;"
    "Ledsagelse;200,00;dag;01-03-2026;30-06-2026",
]


@pytest.fixture
def world(session: Session) -> Session:
    provider = make_provider(session)  # CVR 10000009
    make_provider(session, name="Bo Nord ApS", cvr="12345674")
    create_offer(
        session=session,
        data={"provider_id": provider.id, "name": "Huset ved Åen", "paragraph": "SEL108"},
        user=USER,
    )
    return session


def _table(lines: list[str], header: str = HEADER):
    table, _, _ = read_csv(("\n".join([header, *lines]) + "\n").encode("utf-8"))
    return table


def _preview(session: Session, lines: list[str], header: str = HEADER, **options):
    table = _table(lines, header)
    return preview_contracts(session=session, headers=table.headers, rows=table.rows, **options)


def _import(session: Session, lines: list[str], header: str = HEADER, **options):
    table = _table(lines, header)
    return import_contracts(
        session=session,
        headers=table.headers,
        rows=table.rows,
        file_name="kontrakter.csv",
        user=USER,
        **options,
    )


def _contracts(session: Session) -> dict[str, Contract]:
    return {c.case_ref: c for c in session.exec(select(Contract))}


def _addons(session: Session, contract: Contract) -> list[ContractAddon]:
    return list(session.exec(select(ContractAddon).where(ContractAddon.contract_id == contract.id)))


def _events(session: Session, after: int = 0) -> list[tuple[str, str]]:
    events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    return [(e.entity, e.action) for e in events if e.id > after]


def _last_event(session: Session) -> int:
    return max((e.id for e in session.exec(select(AuditEvent))), default=0)


def test_a_good_file_imports_exactly_what_it_holds(world):
    session = world
    before = _last_event(session)
    preview = _preview(session, GOOD)
    assert not preview.errors and preview.ready and 3 == len(preview.new)
    _import(session, GOOD)
    stored = _contracts(session)
    assert {"SAG-2026-0001", "SAG-2026-0002", "SAG-2026-0003"} == set(stored)
    first, second, third = (stored[f"SAG-2026-000{n}"] for n in (1, 2, 3))
    offer = session.exec(select(Offer)).one()
    assert (offer.id, "SEL108", date(2026, 3, 1), None) == (
        first.offer_id,
        first.paragraph,
        first.start_date,
        first.end_date,
    )
    assert (Decimal("2080.80"), "dag", date(2026, 3, 1), "fast_pct", Decimal("2.00")) == (
        first.price,
        first.price_unit,
        first.price_base_date,  # empty: the start date
        first.regulation_kind,
        first.regulation_pct,  # empty: the default of Indstillinger
    )
    assert (90, "aktiv", "middel") == (
        first.notice_days,
        first.status,
        first.visitation_category,
    )
    assert ("SEL107", date(2026, 12, 31), Decimal("60000.00"), "maaned", "indeks") == (
        second.paragraph,
        second.end_date,
        second.price,
        second.price_unit,
        second.regulation_kind,
    )
    assert (60, "kladde", None, None) == (
        second.notice_days,
        second.status,
        second.offer_id,
        second.visitation_category,
    )
    assert ("ABL105", "ingen", 30, "hoej", Decimal("1234.56")) == (
        third.paragraph,
        third.regulation_kind,
        third.notice_days,
        third.visitation_category,
        third.price,
    )
    (support,) = _addons(session, first)
    assert ("Ekstra støtte", Decimal("4500.00"), "maaned", date(2026, 3, 1), None) == (
        support.name,
        support.price,
        support.unit,
        support.valid_from,  # empty: the contract's start
        support.valid_to,
    )
    (escort,) = _addons(session, third)
    assert (Decimal("200.00"), "dag", date(2026, 3, 1), date(2026, 6, 30)) == (
        escort.price,
        escort.unit,
        escort.valid_from,
        escort.valid_to,
    )
    assert [] == _addons(session, second)
    events = _events(session, before)
    assert 3 == events.count(("contract", "create"))
    assert 2 == events.count(("contractaddon", "create"))
    assert 2 == events.count(("followup", "create"))  # the active ones' first follow-up
    assert [("import", "import")] == [e for e in events if e[0] == "import"]
    assert 3 + 2 + 2 + 1 == len(events)
    (summary,) = session.exec(select(AuditEvent).where(AuditEvent.entity == "import")).all()
    assert ("kontrakter.csv", USER) == (summary.entity_id, summary.who)
    assert '"created": [null, 3]' in summary.changes


def test_a_re_import_updates_only_when_asked(world):
    session = world
    _import(session, GOOD)
    changed = [
        GOOD[0].replace("2.080,80", "2.100,00"),
        GOOD[1],
        GOOD[2].replace("200,00", "250,00"),
    ]
    preview = _preview(session, changed)
    assert [(2, "Sagsnummer"), (3, "Sagsnummer"), (4, "Sagsnummer")] == [
        (e.row, e.column) for e in preview.errors
    ]
    assert all(e.message.startswith("Findes allerede (") for e in preview.errors)
    assert "Opdatér eksisterende" in preview.errors[0].message
    with pytest.raises(InputError, match="3 fejl"):
        _import(session, changed)
    preview = _preview(session, changed, update_existing=True)
    assert (0, 2, 1) == (len(preview.new), len(preview.updates), preview.unchanged)
    first, third = preview.updates
    assert {"Pris": ("2.080,80", "2.100,00")} == first.changes
    assert {"Tillæg pris": ("200,00", "250,00")} == third.changes
    before = _last_event(session)
    _import(session, changed, update_existing=True)
    session.expire_all()
    stored = _contracts(session)
    assert Decimal("2100.00") == stored["SAG-2026-0001"].price
    (escort,) = _addons(session, stored["SAG-2026-0003"])
    assert Decimal("250.00") == escort.price
    assert [("contract", "update"), ("contractaddon", "update"), ("import", "import")] == (
        _events(session, before)
    )


def test_a_re_import_adds_an_add_on_of_another_name(world):
    session = world
    _import(session, GOOD)
    again = [GOOD[0].replace("Ekstra støtte;4.500,00", "Ledsagelse;1.200,00"), GOOD[1]]
    preview = _preview(session, [again[0].replace("sag-", "SAG-")], update_existing=True)
    assert {"Tillæg": ("–", "Ledsagelse")} == preview.updates[0].changes
    _import(session, [again[0]], update_existing=True)
    first = _contracts(session)["SAG-2026-0001"]
    assert {"Ekstra støtte", "Ledsagelse"} == {a.name for a in _addons(session, first)}
    # The case reference matches ignoring case and spacing; the stored one stays.
    lower = GOOD[0].replace("SAG-2026-0001", "sag - 2026-0001")
    preview = _preview(session, [lower], update_existing=True)
    assert not preview.errors and 1 == preview.unchanged


def test_one_bad_row_writes_nothing_and_is_named(world):
    session = world
    before = _last_event(session)
    lines = [*GOOD, "SAG-2026-0004;10000009;;§108;01-03-2026;;2080.80;dag;;;;;;;;;;;"]
    preview = _preview(session, lines)
    assert [(5, "Pris", "2080.80")] == [(e.row, e.column, e.value) for e in preview.errors]
    assert "Mente du 2.080,8?" in preview.errors[0].message
    with pytest.raises(InputError):
        _import(session, lines)
    assert {} == _contracts(session)
    assert [] == _events(session, before)


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (
            "SAG-1;99999999;;§108;01-03-2026;;2.000,00;dag;;;;;;;;;;;",
            "CVR",
            "Ingen leverandør har CVR-nummeret 99999999",
        ),
        (
            "SAG-1;12345674;Huset ved Åen;§108;01-03-2026;;2.000,00;dag;;;;;;;;;;;",
            "Tilbud",
            "Leverandøren har intet tilbud, der hedder »Huset ved Åen«",
        ),
        (
            "SAG-1;10000009;huset ved åen;§107;01-03-2026;;2.000,00;dag;;;;;;;;;;;",
            "Tilbud",
            "Tilbuddet er under en anden paragraf end kontrakten",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;28-02-2026;2.000,00;dag;;;;;;;;;;;",
            "Slutdato",
            "Slutdatoen skal ligge efter startdatoen",
        ),
        ("SAG-1;10000009;;§108;01-03-2026;;2.000,00;uge;;;;;;;;;;;", "Prisenhed", "Ukendt"),
        (
            "SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;2.5%;;;;;;;;",
            "Reguleringsprocent",
            "Mente du 2,5?",
        ),
        ("SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;;;Pause;;;;;;", "Status", "Ukendt"),
        ("SAG-1;10000009;;§108;;;2.000,00;dag;;;;;;;;;;;", "Startdato", "Skal udfyldes"),
        (
            "SAG-1;10000009;;§108;01-03-2026;;60.000,00;dag;;;;;;;;;;;",
            "Pris",
            "Usædvanligt høj pris: over 50.000 kr. pr. dag. Tjek beløbet og prisenheden. Er "
            "beløbet rigtigt, så gem det under Kontrakter, hvor du kan bekræfte det.",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;;200.000,00;dag;;;;;;;;;;;",
            "Pris",
            "Prisen må højst være 100.000 kr. pr. dag",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;;;;;;500,00;;;",
            "Tillæg",
            "Skriv tillæggets navn",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;;;;;Ledsagelse;500,00;;;01-01-2026",
            "Tillæg gælder til",
            "Slutdatoen skal ligge efter startdatoen",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;;;;;Ledsagelse;;;;",
            "Tillæg pris",
            "Skal udfyldes",
        ),
        (
            "SAG-1;10000009;;§108;01-03-2026;;2.000,00;dag;;;;;;;Ledsagelse;2.000.000,00;;;",
            "Tillæg pris",
            "Usædvanligt høj pris: over 1.500.000 kr. pr. måned",
        ),
    ],
)
def test_checks_per_cell(world, line, column, message):
    preview = _preview(world, [line])
    assert [(2, column)] == [(e.row, e.column) for e in preview.errors]
    assert message in preview.errors[0].message
    assert not preview.new


def test_dates_in_the_chosen_format(world):
    line = "SAG-1;10000009;;§108;12/31/2026;;2.000,00;dag;;;;;;;;;;;"
    preview = _preview(world, [line])
    assert "»12/31/2026« er ikke en dato i formatet DD-MM-ÅÅÅÅ" == preview.errors[0].message
    preview = _preview(world, [line], date_format="MM/DD/ÅÅÅÅ")
    assert not preview.errors
    assert date(2026, 12, 31) == preview.new[0].data["contract"]["start_date"]


def test_duplicates_inside_the_file_are_errors_on_every_row(world):
    lines = [GOOD[0], GOOD[1].replace("SAG-2026-0002", "sag-2026-0001"), GOOD[2]]
    preview = _preview(world, lines)
    assert [(2, "Sagsnummer"), (3, "Sagsnummer")] == [(e.row, e.column) for e in preview.errors]
    assert "står også i række 3" in preview.errors[0].message
    assert "står også i række 2" in preview.errors[1].message
    assert [4] == [p.row for p in preview.new]


def test_several_contracts_with_the_case_reference_are_not_guessed_at(world):
    session = world
    provider = session.exec(select(Provider).where(Provider.cvr == "12345674")).one()
    make_contract(session, provider, case_ref="SAG-2026-0001")
    make_contract(session, provider, case_ref="SAG-2026-0001", start_date=date(2025, 1, 1))
    preview = _preview(session, GOOD[:1], update_existing=True)
    assert [(2, "Sagsnummer")] == [(e.row, e.column) for e in preview.errors]
    assert "2 kontrakter har allerede dette sagsnummer" in preview.errors[0].message


def test_a_cpr_like_cell_refuses_its_row(world):
    lines = [GOOD[0], GOOD[1].replace("SAG-2026-0002", "010190-1234")]
    preview = _preview(world, lines)
    assert [(3, "(rækken)", "")] == [(e.row, e.column, e.value) for e in preview.errors]
    assert "CPR" in preview.errors[0].message


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_with_serial_dates_numbers_and_a_cpr_number(world):
    session = world
    data = _xlsx(
        [
            ["Sagsnummer", "CVR", "Paragraf", "Startdato", "Pris", "Tillæg", "Tillæg pris"],
            ["SAG-X1", 10000009, "§108", 46082, 2080.8, "Ekstra støtte", 4500],  # 01.03.2026
            ["SAG-X2", 10000009, "§108", date(2026, 4, 1), "2.080,80", None, None],
            [101901234, 10000009, "§108", date(2026, 4, 1), "2.080,80", None, None],
        ]
    )
    table = read_excel(data)
    preview = preview_contracts(session=session, headers=table.headers, rows=table.rows)
    assert [(4, "(rækken)")] == [(e.row, e.column) for e in preview.errors]
    first, second = (p.data for p in preview.new)
    assert (date(2026, 3, 1), Decimal("2080.80")) == (
        first["contract"]["start_date"],
        first["contract"]["price"],
    )
    assert Decimal("4500.00") == first["addon"]["price"]
    assert date(2026, 4, 1) == second["contract"]["start_date"] and second["addon"] is None
    table = read_excel(data)
    with pytest.raises(InputError, match="1 fejl"):
        import_contracts(
            session=session,
            headers=table.headers,
            rows=table.rows,
            file_name="kontrakter.xlsx",
            user=USER,
        )
    assert {} == _contracts(session)


@pytest.mark.parametrize(
    ("case_ref", "refused"),
    [
        (101901234, True),  # 010190-1234 typed as a number: the leading zero is lost
        (1501901234, True),  # a case reference of 10 digits that reads as a CPR number
        ("1501901234", True),
        (12345678, False),  # 8 digits, as a CVR number: never a CPR number
        (1234567890, False),  # 10 digits, but 12.34.56 is no date
    ],
)
def test_a_case_reference_that_looks_like_a_cpr_number_refuses_its_row(world, case_ref, refused):
    data = _xlsx(
        [
            ["Sagsnummer", "CVR", "Paragraf", "Startdato", "Pris"],
            [case_ref, 10000009, "§108", date(2026, 4, 1), "2.080,80"],
        ]
    )
    table = read_excel(data)
    preview = preview_contracts(session=world, headers=table.headers, rows=table.rows)
    if refused:
        assert [(2, "(rækken)")] == [(e.row, e.column) for e in preview.errors]
        assert "CPR" in preview.errors[0].message
    else:
        assert not preview.errors
        assert str(case_ref) == preview.new[0].data["contract"]["case_ref"]


def test_a_missing_required_column_is_named(world):
    table = _table(["SAG-1;10000009;2.000,00"], header="Sagsnummer;CVR;Pris")
    preview = preview_contracts(session=world, headers=table.headers, rows=table.rows)
    assert ("Startdato",) == preview.columns.missing and not preview.ready
