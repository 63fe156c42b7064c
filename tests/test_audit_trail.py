"""Revisionsspor (SPEC 8): the audit events filtered and paged in SQL on SQLite and PostgreSQL,
in Danish time and words, and the admin page that shows and exports them."""

import json
from datetime import UTC, date, datetime
from enum import Enum, IntEnum
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col

from models import AuditEvent, InvoiceKind, InvoiceStatus
from services.audit import _plain, created_changes
from services.db import get_engine
from services.providers import update_provider
from services.queries.audit import (
    AuditFilters,
    audit_choices,
    audit_count,
    audit_events,
    changes_text,
    distinct_values,
)
from tests.factories import make_provider
from tests.pagetest import run_page

ROOT = Path(__file__).resolve().parent.parent


def _event(session: Session, at: datetime, who: str, entity: str, entity_id: str, **changes):
    session.add(
        AuditEvent(
            at=at,
            who=who,
            action="update",
            entity=entity,
            entity_id=entity_id,
            changes=json.dumps({k: list(v) for k, v in changes.items()}),
        )
    )
    session.commit()


def test_changes_are_written_in_danish():
    stored = json.dumps({"price": ["2100.00", "2050.00"], "note": [None, "Ny aftale"]})
    assert "Pris: 2.100,00 → 2.050,00; Note: – → Ny aftale" == changes_text(stored)
    assert "Startdato: 01.04.2026 → 02.04.2026" == changes_text(
        json.dumps({"start_date": ["2026-04-01", "2026-04-02"]})
    )
    assert "CVR: – → 12345678" == changes_text(json.dumps({"cvr": [None, "12345678"]}))
    assert "Aktiv: ja → nej" == changes_text(json.dumps({"active": [True, False]}))
    assert "Paragraf: §107 midlertidigt botilbud → §108 længerevarende botilbud" == changes_text(
        json.dumps({"paragraph": ["SEL107", "SEL108"]})
    )
    assert "" == changes_text("")
    assert "ikke json" == changes_text("ikke json")  # an old free-text event shows as it is
    assert changes_text(json.dumps({"text": ["a" * 500, "b"]}), limit=50).endswith("…")


def test_every_audited_table_and_field_has_a_danish_name():
    from sqlmodel import SQLModel

    from services.audit import BOOKKEEPING, NOT_AUDITED
    from services.queries.audit import ENTITY_LABELS, FIELD_LABELS

    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in NOT_AUDITED]
    assert [] == [t.name for t in tables if t.name not in ENTITY_LABELS]
    unnamed = [
        f"{t.name}.{c.name}"
        for t in tables
        for c in t.columns
        if c.name not in BOOKKEEPING and c.name not in FIELD_LABELS
    ]
    assert [] == unnamed


def test_filters_and_newest_first(session):
    _event(session, datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "Anne", "contract", "7", price=(1, 2))
    _event(session, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "Bo", "contract", "8", price=(3, 4))
    _event(
        session, datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "Anne", "provider", "7", name=("A", "B")
    )
    everything = audit_events(session=session, filters=AuditFilters(), limit=10)
    assert ["Leverandør", "Kontrakt", "Kontrakt"] == list(everything["Hvad"])
    assert ["Anne", "Bo", "Anne"] == list(everything["Hvem"])
    assert 2 == audit_count(session=session, filters=AuditFilters(who="Anne"))
    assert 2 == audit_count(session=session, filters=AuditFilters(entity="contract"))
    one = AuditFilters(entity="contract", entity_id=" 7 ")
    assert ["Pris: 1 → 2"] == list(
        audit_events(session=session, filters=one, limit=10)["Ændringer"]
    )
    paged = audit_events(session=session, filters=AuditFilters(), limit=1, offset=1)
    assert ["Bo"] == list(paged["Hvem"])
    assert (("Anne", "Bo"), ("contract", "provider")) == audit_choices(session=session)


def test_stepping_through_the_index_gives_what_distinct_gives(session):
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for who in ["Åse", "anne", "Bo", "Ørsted", "Bo", "Anne", "bo", "Zoe", "Anne"]:
        _event(session, at, who, "provider", "1", name=("a", "b"))
    session.commit()
    for column in (col(AuditEvent.who), col(AuditEvent.entity), col(AuditEvent.entity_id)):
        expected = list(session.execute(sa.select(column).distinct().order_by(column)).scalars())
        assert expected == distinct_values(session, column)
    assert 7 == len(distinct_values(session, col(AuditEvent.who)))
    session.execute(sa.delete(AuditEvent))
    assert [] == distinct_values(session, col(AuditEvent.who))


def test_the_period_is_danish_calendar_days(session):
    # 23:30 UTC on New Year's Eve is 00:30 on 1 January in Denmark.
    _event(
        session, datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Anne", "budget", "1", amount=(1, 2)
    )
    new_year = AuditFilters(first=date(2027, 1, 1), last=date(2027, 1, 1))
    assert 1 == audit_count(session=session, filters=new_year)
    assert 0 == audit_count(session=session, filters=AuditFilters(last=date(2026, 12, 31)))
    shown = audit_events(session=session, filters=new_year, limit=5)
    assert ["01.01.2027 00:30:00"] == list(shown["Tidspunkt"])


def test_a_created_record_shows_what_it_was_created_with(session):
    provider = make_provider(session)
    [created] = list(
        audit_events(
            session=session,
            filters=AuditFilters(entity="provider", entity_id=str(provider.id)),
            limit=5,
        )["Ændringer"]
    )
    assert f"Navn: – → {provider.name}" in created and f"CVR: – → {provider.cvr}" in created
    assert "Version" not in created and "created_by" not in created


def test_a_real_change_is_in_the_trail(session):
    provider = make_provider(session)
    old_name = provider.name
    update_provider(
        session=session,
        provider_id=provider.id,
        data={
            "name": "Bostedet Nyt Navn",
            "cvr": provider.cvr,
            "kind": provider.kind,
            "version": provider.version,
            "confirmed": ["cvr"],
        },
        user="Anne",
    )
    found = audit_events(
        session=session,
        filters=AuditFilters(who="Anne", entity="provider", entity_id=str(provider.id)),
        limit=5,
    )
    assert ["Ændret"] == list(found["Handling"])
    assert f"Navn: {old_name} → Bostedet Nyt Navn" in found["Ændringer"].iloc[0]


def test_the_page_lists_filters_and_exports(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        _event(
            s, datetime(2026, 5, 4, 8, 0, tzinfo=UTC), "Revisor Rie", "offer", "3", name=("X", "Y")
        )
    at = run_page(demo_db, "pages/revisionsspor.py", monkeypatch)
    assert [] == [e.value for e in at.exception]
    at.selectbox(key="audit_who").select("Revisor Rie")
    at.run()
    assert not at.exception
    [table] = at.dataframe
    assert ["Revisor Rie"] == list(table.value["Hvem"].unique())
    assert "Navn: X → Y" in list(table.value["Ændringer"])
    assert any(b.label == "Excel" for b in at.get("download_button"))


def test_a_records_page_links_to_its_history(demo_db, monkeypatch):
    with Session(get_engine(demo_db)) as s:
        _event(s, datetime(2026, 5, 5, 8, 0, tzinfo=UTC), "Rie", "contract", "9999", price=(1, 2))
        _event(s, datetime(2026, 5, 5, 9, 0, tzinfo=UTC), "Rie", "contract", "9998", price=(3, 4))
    at = run_page(demo_db, "pages/kontrakter.py", monkeypatch)
    at.query_params["id"] = "1"
    at.run()
    assert not at.exception
    links = [link for link in at.get("page_link") if "revisionssporet" in link.proto.label]
    assert links and "hvad=contract&id=1" == links[0].proto.query_string
    at = run_page(demo_db, "pages/revisionsspor.py", monkeypatch)
    at.query_params["hvad"] = "contract"
    at.query_params["id"] = "9999"
    at.run()
    assert not at.exception
    [table] = at.dataframe
    assert ["Pris: 1 → 2"] == list(table.value["Ændringer"])
    assert "9999" == at.text_input(key="audit_entity_id").value


# --- PostgreSQL: the app runs as a role that cannot change the trail -------------------------


@pytest.mark.postgresql
def test_the_app_writes_as_a_role_that_cannot_change_the_audit_trail(pg_url):
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from services.providers import add_provider_note, create_provider, void_provider_note

    role = f"tk_app_{uuid.uuid4().hex[:8]}"
    database = make_url(pg_url).database
    script = (ROOT / "docs" / "app_role.sql").read_text(encoding="utf-8")
    script = script.replace("takstkompas_app", role).replace(
        "DATABASE takstkompas ", f'DATABASE "{database}" '
    )
    code = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    statements = [part.strip() for part in code.split(";")]
    owner = get_engine(pg_url)
    with owner.begin() as conn:
        for statement in statements:
            if statement.strip():
                conn.execute(sa.text(statement))
    app = sa.create_engine(make_url(pg_url).set(username=role, password="CHANGE-ME"))
    try:
        with Session(app) as s:
            provider = create_provider(
                session=s,
                data={
                    "name": "Bostedet Rollen",
                    "cvr": "10000009",
                    "kind": "privat",
                    "confirmed": ["cvr"],
                },
                user="Anne",
            )
            note = add_provider_note(
                session=s,
                data={
                    "provider_id": provider.id,
                    "topic": "andet",
                    "text": "Skrevet som app-rolle.",
                },
                user="Anne",
            )
            void_provider_note(
                session=s,
                note_id=note.id,
                data={"reason": "Forkert leverandør", "version": note.version},
                user="Anne",
            )
            assert 3 <= audit_count(session=s, filters=AuditFilters(who="Anne"))
        for forbidden in ("UPDATE auditevent SET who = 'x'", "DELETE FROM auditevent"):
            with (
                pytest.raises(sa.exc.ProgrammingError, match="permission denied"),
                app.begin() as conn,
            ):
                conn.execute(sa.text(forbidden))
    finally:
        app.dispose()
        with owner.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))


class _Number(IntEnum):
    ONE = 1


class _Colour(Enum):
    RED = "rød"


_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.sampled_from([*InvoiceStatus, *InvoiceKind, *_Number, *_Colour]),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "version", "name", 'æ"x', "amount"]), _VALUES))
def test_a_create_events_changes_are_the_json_of_its_filled_in_fields(values):
    # Written directly for speed (an import makes 100.000): the same text as json.dumps with
    # the hook the listener's events are written with.
    expected = json.dumps(
        {
            name: [None, value]
            for name, value in values.items()
            if name not in ("id", "version") and value is not None and value != ""
        },
        ensure_ascii=False,
        default=_plain,
    )
    assert created_changes(values) == expected
