"""Target groups as a maintained list (issue 10, item 4): the services on SQLite and
PostgreSQL, the offers' links, the demo data, and the "Målgrupper" tab of Indstillinger."""

import json
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import AuditEvent, Offer, OfferTargetGroup, TargetGroup
from seed import seed_database
from services.db import get_engine, upgrade_schema
from services.demo_data import remove_demo_data
from services.errors import ConflictError, InputError
from services.providers import create_offer, update_offer
from services.target_groups import (
    create_target_group,
    merge_target_groups,
    offer_target_group_names,
    target_group_choices,
    target_group_key,
    target_group_overview,
    update_target_group,
)
from tests.factories import USER, make_provider
from tests.pagetest import run_page, unescaped

PAGE = "pages/indstillinger.py"


def _group(session, name: str) -> TargetGroup:
    return create_target_group(session=session, data={"name": name}, user=USER)


def _offer(session, provider, name: str, groups: list[TargetGroup]) -> Offer:
    return create_offer(
        session=session,
        data={
            "provider_id": provider.id,
            "name": name,
            "paragraph": "SEL108",
            "target_group_ids": [g.id for g in groups],
        },
        user=USER,
    )


def _names(session, offer: Offer) -> str:
    return offer_target_group_names(session=session, offer_ids=[offer.id]).get(offer.id, "")


def _events(session, entity: str, entity_id: object) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(
                AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
            )
        )
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Udviklingshæmning", "udviklingshæmning"),
        ("Voksne med ADHD", "  voksne   med adhd "),
        ("Erhvervet hjerneskade", "Erhvervet  hjerne skade"),
        ("ÆLDRE", "ældre"),
    ],
)
def test_a_name_is_unique_ignoring_case_and_spacing(session, first, second):
    assert target_group_key(first) == target_group_key(second)
    _group(session, first)
    with pytest.raises(InputError) as excinfo:
        _group(session, second)
    assert f"»{' '.join(first.split())}«" in excinfo.value.fields["name"]
    assert 1 == len(session.exec(select(TargetGroup)).all())


def test_a_new_name_is_stored_with_single_spaces(session):
    group = _group(session, "  Psykiatri   og  misbrug ")
    assert ("Psykiatri og misbrug", "psykiatriogmisbrug") == (group.name, group.name_key)
    assert 1 == len(_events(session, "targetgroup", group.id))


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Skal"), ("x", "mindst 2"), ("010190-1234", "CPR"), ("y" * 101, "højst være 100 tegn")],
)
def test_a_bad_name_is_refused_in_danish(session, name, message):
    with pytest.raises(InputError) as excinfo:
        _group(session, name)
    assert message.lower() in excinfo.value.fields["name"].lower()


def test_offers_pick_groups_and_show_them_in_danish_order(session):
    provider = make_provider(session)
    autism, adhd, aeldre = (_group(session, n) for n in ("Autisme", "ADHD", "Ældre"))
    offer = _offer(session, provider, "Huset", [aeldre, autism, adhd])
    assert "ADHD, Autisme, Ældre" == _names(session, offer)
    links = session.exec(select(OfferTargetGroup).where(OfferTargetGroup.offer_id == offer.id))
    assert {autism.id, adhd.id, aeldre.id} == {link.target_group_id for link in links}


def test_changing_an_offers_groups_is_one_audited_change_that_moves_its_version(session):
    provider = make_provider(session)
    autism, adhd = _group(session, "Autisme"), _group(session, "ADHD")
    offer = _offer(session, provider, "Huset", [autism])
    version = offer.version
    update_offer(
        session=session,
        offer_id=offer.id,
        data={
            "provider_id": provider.id,
            "name": "Huset",
            "paragraph": "SEL108",
            "target_group_ids": [autism.id, adhd.id],
            "version": version,
        },
        user=USER,
    )
    assert "ADHD, Autisme" == _names(session, offer)
    updates = [e for e in _events(session, "offer", offer.id) if e.action == "update"]
    assert 1 == len(updates)
    assert {"target_groups": ["Autisme", "ADHD, Autisme"]} == json.loads(updates[0].changes)
    assert version + 1 == session.get(Offer, offer.id).version
    # A save from the version before is a conflict, not a silent overwrite of the groups.
    with pytest.raises(ConflictError):
        update_offer(
            session=session,
            offer_id=offer.id,
            data={
                "provider_id": provider.id,
                "name": "Huset",
                "paragraph": "SEL108",
                "target_group_ids": [],
                "version": version,
            },
            user=USER,
        )
    session.rollback()
    assert "ADHD, Autisme" == _names(session, offer)


def test_a_group_that_is_gone_or_inactive_cannot_be_picked(session):
    provider = make_provider(session)
    old = _group(session, "Hjemløshed")
    offer = _offer(session, provider, "Huset", [old])
    update_target_group(
        session=session,
        target_group_id=old.id,
        data={"name": "Hjemløshed", "active": False, "version": old.version},
        user=USER,
    )
    # The offer keeps its inactive group, and can be saved with it ...
    update_offer(
        session=session,
        offer_id=offer.id,
        data={
            "provider_id": provider.id,
            "name": "Huset 2",
            "paragraph": "SEL108",
            "target_group_ids": [old.id],
            "version": offer.version,
        },
        user=USER,
    )
    assert "Hjemløshed" == _names(session, offer)
    # ... but a new offer cannot pick it, nor a group that does not exist (merged away).
    with pytest.raises(InputError) as inactive:
        _offer(session, provider, "Nyt hus", [old])
    assert "ikke længere i brug" in inactive.value.fields["target_group_ids"]
    with pytest.raises(InputError) as missing:
        create_offer(
            session=session,
            data={
                "provider_id": provider.id,
                "name": "Nyt hus",
                "paragraph": "SEL108",
                "target_group_ids": [old.id + 100],
            },
            user=USER,
        )
    assert "findes ikke længere" in missing.value.fields["target_group_ids"]
    assert 1 == len(session.exec(select(Offer)).all())
    choices = target_group_choices(session=session, offer_id=offer.id)
    assert ((old.id,), "Hjemløshed (inaktiv)") == (choices.selected, choices.names[old.id])
    assert () == target_group_choices(session=session).options


def test_renaming_shows_on_every_offer_and_refuses_a_taken_name(session):
    provider = make_provider(session)
    group, other = _group(session, "Udviklingshaemning"), _group(session, "Autisme")
    offers = [_offer(session, provider, f"Hus {n}", [group]) for n in range(3)]
    update_target_group(
        session=session,
        target_group_id=group.id,
        data={"name": "Udviklingshæmning", "active": True, "version": group.version},
        user=USER,
    )
    assert {"Udviklingshæmning"} == {_names(session, o) for o in offers}
    with pytest.raises(InputError) as excinfo:
        update_target_group(
            session=session,
            target_group_id=group.id,
            data={"name": "AUTISME", "active": True, "version": group.version},
            user=USER,
        )
    assert "»Autisme«" in excinfo.value.fields["name"]
    with pytest.raises(ConflictError):
        update_target_group(
            session=session,
            target_group_id=other.id,
            data={"name": "Autismespektrum", "active": True, "version": other.version - 1},
            user=USER,
        )


def test_merging_moves_the_offers_and_leaves_one_audit_event(session):
    provider = make_provider(session)
    kept, merged, third = (_group(session, n) for n in ("Udviklingshæmning", "Udv. hæmmet", "ADHD"))
    only_merged = _offer(session, provider, "Hus A", [merged])
    both = _offer(session, provider, "Hus B", [kept, merged, third])
    only_kept = _offer(session, provider, "Hus C", [kept])
    kept_group, moved = merge_target_groups(
        session=session,
        data={"merge_id": merged.id, "into_id": kept.id, "version": merged.version},
        user=USER,
    )
    assert (kept.id, 2) == (kept_group.id, moved)
    assert session.get(TargetGroup, merged.id) is None
    assert ["Udviklingshæmning", "ADHD, Udviklingshæmning", "Udviklingshæmning"] == [
        _names(session, o) for o in (only_merged, both, only_kept)
    ]
    [event] = _events(session, "targetgroup", merged.id)[1:]  # after the "create"
    assert ("merge", USER) == (event.action, event.who)
    changes = json.loads(event.changes)
    assert ["Udv. hæmmet", None] == changes["name"]
    assert [None, 2] == changes["offers"]
    overview = {row.name: row.offers for row in target_group_overview(session=session)}
    assert {"ADHD": 1, "Udviklingshæmning": 3} == overview


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"merge_id": None, "into_id": 1}, "merge_id"),
        ({"merge_id": 1, "into_id": None}, "into_id"),
        ({"merge_id": 1, "into_id": 1}, "into_id"),
    ],
)
def test_a_merge_needs_two_different_groups(session, data, field):
    _group(session, "Autisme")
    with pytest.raises(InputError) as excinfo:
        merge_target_groups(session=session, data=data, user=USER)
    assert field in excinfo.value.fields


def test_a_merge_from_an_outdated_version_is_a_conflict(session):
    merged, kept = _group(session, "Autisme"), _group(session, "ADHD")
    with pytest.raises(ConflictError):
        merge_target_groups(
            session=session,
            data={"merge_id": merged.id, "into_id": kept.id, "version": merged.version + 1},
            user=USER,
        )
    session.rollback()
    assert 2 == len(session.exec(select(TargetGroup)).all())


def test_demo_data_has_target_groups_as_rows_and_removing_it_removes_them(engine, session):
    seed_database(engine=engine, size="demo", today=date(2026, 11, 22))
    groups = target_group_overview(session=session)
    assert 9 == len(groups)
    assert sum(g.offers for g in groups) >= 60  # every offer has one to three
    offers_without = session.execute(
        sa.text(
            "SELECT COUNT(*) FROM offer WHERE id NOT IN (SELECT offer_id FROM offertargetgroup)"
        )
    ).scalar_one()
    assert 0 == offers_without
    own = make_provider(session, name="Egen leverandør", cvr="29403473")
    _offer(session, own, "Eget hus", [session.get(TargetGroup, groups[0].id)])
    remove_demo_data(session=session, user=USER)
    assert [groups[0].name] == [g.name for g in target_group_overview(session=session)]


# --- The "Målgrupper" tab --------------------------------------------------------------------


@pytest.fixture
def groups_db(empty_db: str) -> str:
    engine = get_engine(empty_db)
    upgrade_schema(engine)
    with Session(engine) as s:
        provider = make_provider(s)
        autism, variant = _group(s, "Autisme"), _group(s, "Autismespektrum")
        _offer(s, provider, "Hus A", [variant])
        _offer(s, provider, "Hus B", [autism, variant])
    engine.dispose()
    return empty_db


def _success(at) -> str:
    return " ".join(unescaped(m.value) for m in at.success)


def _on_tab(url: str, monkeypatch) -> object:
    at = run_page(url, PAGE, monkeypatch)
    at.session_state["settings_tab"] = "Målgrupper"
    at.run()
    assert not at.exception
    return at


def test_tab_lists_the_groups_and_adds_one(groups_db, monkeypatch):
    at = _on_tab(groups_db, monkeypatch)
    frame = next(d.value for d in at.dataframe if "Målgruppe" in d.value.columns)
    assert [("Autisme", 1), ("Autismespektrum", 2)] == list(
        zip(frame["Målgruppe"], frame["Tilbud"], strict=True)
    )
    at.text_input(key="settings_group_new_name").input("autisme ").run()
    at.button(key="settings_group_new__save").click().run()
    assert not at.exception
    assert any("findes allerede" in e.value for e in at.error)
    assert "autisme " == at.text_input(key="settings_group_new_name").value  # input kept
    at.text_input(key="settings_group_new_name").input("Udviklingshæmning").run()
    at.button(key="settings_group_new__save").click().run()
    assert "»Udviklingshæmning« er tilføjet" in _success(at)
    assert "" == at.text_input(key="settings_group_new_name").value  # emptied after the save
    assert "Målgrupper" == at.session_state["settings_tab"]  # still on the tab


def test_tab_renames_deactivates_and_merges(groups_db, monkeypatch):
    with Session(get_engine(groups_db)) as s:
        ids = {g.name: g.id for g in s.exec(select(TargetGroup))}
    at = _on_tab(groups_db, monkeypatch)
    at.selectbox(key="settings_group_edit_id").set_value(ids["Autisme"]).run()
    edit = f"settings_group_edit_{ids['Autisme']}"
    at.text_input(key=f"{edit}_name").input("Autisme (ASF)").run()
    at.checkbox(key=f"{edit}_active").uncheck().run()
    at.button(key=f"{edit}__save").click().run()
    assert not at.exception
    assert "Målgruppen er gemt" in _success(at)

    merge = "settings_group_merge"
    at.selectbox(key=f"{merge}_merge_id").set_value(ids["Autismespektrum"]).run()
    at.selectbox(key=f"{merge}_into_id").set_value(ids["Autisme"]).run()
    at.button(key=f"{merge}__save").click().run()
    assert not at.exception
    assert "»Autismespektrum« er lagt sammen med »Autisme (ASF) (inaktiv)«" in _success(at)
    with Session(get_engine(groups_db)) as s:
        rows = target_group_overview(session=s)
    assert [("Autisme (ASF)", False, 2)] == [(r.name, r.active, r.offers) for r in rows]


# --- Offers pick from the list (Leverandører → Tilbud) ----------------------------------------


def test_offer_form_picks_target_groups_from_the_list(groups_db, monkeypatch):
    with Session(get_engine(groups_db)) as s:
        provider_id = s.exec(sa.text("SELECT id FROM provider")).one()[0]
        ids = {g.name: g.id for g in s.exec(select(TargetGroup))}
        hus_a = s.exec(select(Offer).where(Offer.name == "Hus A")).one().id
        update_target_group(
            session=s,
            target_group_id=ids["Autisme"],
            data={"name": "Autisme", "active": False, "version": 1},
            user=USER,
        )
    at = run_page(groups_db, "pages/leverandoerer.py", monkeypatch)
    at.session_state["providers_selected_id"] = provider_id
    at.session_state["providers_tab"] = "Tilbud"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Målgrupper" in d.value.columns)
    assert ["Autismespektrum", "Autisme, Autismespektrum"] == list(table["Målgrupper"])

    new = f"providers_offer_new_{provider_id}"
    picker = at.multiselect(key=f"{new}_target_group_ids")
    assert ["Autismespektrum"] == list(picker.options)  # the inactive group cannot be picked
    at.text_input(key=f"{new}_name").input("Hus C")
    picker.select(ids["Autismespektrum"])
    next(b for b in at.button if b.label == "Opret tilbud").click().run()
    assert not at.exception
    with Session(get_engine(groups_db)) as s:
        hus_c = s.exec(select(Offer).where(Offer.name == "Hus C")).one()
        assert "Autismespektrum" == _names(s, hus_c)

    # Editing an offer shows its groups, an inactive one included, and keeps them.
    at.selectbox(key="providers_offer_edit_id").set_value(hus_a).run()
    edit = at.multiselect(key=f"providers_offer_edit_{hus_a}_target_group_ids")
    assert [ids["Autismespektrum"]] == list(edit.value)
    edit.unselect(ids["Autismespektrum"])
    next(b for b in at.button if b.label == "Gem tilbud").click().run()
    assert not at.exception
    with Session(get_engine(groups_db)) as s:
        assert "" == _names(s, s.get(Offer, hus_a))
