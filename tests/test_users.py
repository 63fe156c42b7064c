"""Users and roles (SPEC 8, issue 11): the role a token gives, what each role may do, and the
user table's rules (sign-in recorded, an admin's decision winning over the token, revoked
users refused, every change audited) on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models import AppUser, AuditEvent, Role
from services.errors import ConflictError, InputError
from services.rules.roles import (
    Capability,
    effective_role,
    highest,
    may,
    roles_from_claims,
)
from services.users import LAST_SEEN_EVERY, list_users, set_user_access, sign_in

ISSUER = "https://login.microsoftonline.com/tenant/v2.0"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _claims(sub: str = "abc-123", roles: object = ("koordinator",), **extra: object) -> dict:
    claims: dict = {"iss": ISSUER, "sub": sub, "name": "Anne Andersen", "email": "anne@k.dk"}
    if roles is not None:
        claims["roles"] = list(roles) if isinstance(roles, tuple) else roles
    return {**claims, **extra}


# --- The role a token gives -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (None, None),  # no roles claim at all
        ([], None),
        (["ukendt"], None),  # a role the tool does not know
        (["laeser"], Role.READER),
        ("indkoeb", Role.PROCUREMENT),  # one role sent as a string
        (["laeser", "admin", "koordinator"], Role.ADMIN),  # several: the highest
        (["Takstkompas.Indkoeb", "ukendt"], Role.PROCUREMENT),  # Entra app-role value, any case
        ([" KOORDINATOR "], Role.COORDINATOR),
        ([1, {"x": 1}, "laeser"], Role.READER),  # values that are not text are ignored
        (42, None),
    ],
)
def test_roles_from_claims(claim, expected):
    claims = {"sub": "x"} if claim is None else {"sub": "x", "roles": claim}
    assert expected == roles_from_claims(claims)


def test_roles_from_claims_with_the_municipalitys_own_mapping():
    mapping = {"BOTILBUD-LÆS": Role.READER, "Botilbud-Indkøb": Role.PROCUREMENT}
    assert Role.PROCUREMENT == roles_from_claims(
        {"roles": ["botilbud-læs", "botilbud-indkøb"]}, mapping
    )
    assert roles_from_claims({"roles": ["admin"]}, mapping) is None  # only the mapping counts


def test_groups_do_not_give_a_role():
    assert roles_from_claims({"groups": ["admin"], "sub": "x"}) is None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (None, set()),
        (Role.READER, {Capability.READ, Capability.WRITE_NOTES, Capability.COMPARE}),
        (
            Role.COORDINATOR,
            {
                Capability.READ,
                Capability.WRITE_NOTES,
                Capability.COMPARE,
                Capability.CHECK_INVOICES,
                Capability.FOLLOW_UP,
            },
        ),
        (Role.PROCUREMENT, set(Capability) - {Capability.ADMINISTER}),
        (Role.ADMIN, set(Capability)),
    ],
)
def test_each_role_may_what_the_roles_below_it_may_and_more(role, allowed):
    assert allowed == {c for c in Capability if may(role, c)}


@pytest.mark.parametrize(
    ("token", "assigned", "active", "expected"),
    [
        (Role.READER, None, True, Role.READER),  # the token decides
        (None, None, True, None),  # no known role: no access
        (Role.ADMIN, Role.READER, True, Role.READER),  # an admin's decision wins, also downward
        (None, Role.COORDINATOR, True, Role.COORDINATOR),
        (Role.ADMIN, Role.ADMIN, False, None),  # revoked: refused whatever the roles
    ],
)
def test_effective_role(token, assigned, active, expected):
    assert expected == effective_role(token_role=token, assigned_role=assigned, active=active)


def test_highest():
    assert highest([]) is None
    assert Role.PROCUREMENT == highest([Role.COORDINATOR, Role.PROCUREMENT, Role.READER])


# --- The user table -------------------------------------------------------------------------


def _events(session: Session) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.entity == "appuser").order_by(col(AuditEvent.id))
    return list(session.exec(query))


def test_first_sign_in_records_the_user_and_audits_it(session):
    user = sign_in(session=session, claims=_claims(), now=NOW)
    assert ("Anne Andersen", Role.COORDINATOR, "anne@k.dk") == (user.name, user.role, user.email)
    row = session.get(AppUser, user.user_id)
    assert f"{ISSUER}|abc-123" == row.subject
    assert (Role.COORDINATOR, None, True) == (row.token_role, row.assigned_role, row.active)
    [event] = _events(session)
    assert ("create", "Anne Andersen", str(row.id)) == (event.action, event.who, event.entity_id)
    assert ["koordinator"] == json.loads(event.changes)["token_role"][1:]


def test_a_repeated_sign_in_writes_nothing_until_last_seen_is_old(session):
    first = sign_in(session=session, claims=_claims(), now=NOW)
    version = session.get(AppUser, first.user_id).version
    again = sign_in(session=session, claims=_claims(), now=NOW + timedelta(minutes=5))
    row = session.get(AppUser, first.user_id)
    assert (first.user_id, version) == (again.user_id, row.version)  # a click is not a write
    later = NOW + LAST_SEEN_EVERY + timedelta(seconds=1)
    sign_in(session=session, claims=_claims(), now=later)
    session.refresh(row)
    assert later.replace(tzinfo=None) == row.last_seen.replace(tzinfo=None)
    assert 1 == len(_events(session))  # "last seen" alone is not audited


def test_a_changed_token_updates_the_user_and_is_audited(session):
    first = sign_in(session=session, claims=_claims(), now=NOW)
    changed = sign_in(
        session=session, claims=_claims(roles=("indkoeb",), name="Anne Berg"), now=NOW
    )
    assert (first.user_id, "Anne Berg", Role.PROCUREMENT) == (
        changed.user_id,
        changed.name,
        changed.role,
    )
    event = _events(session)[-1]
    assert "update" == event.action
    assert {"name": ["Anne Andersen", "Anne Berg"], "token_role": ["koordinator", "indkoeb"]} == (
        json.loads(event.changes)
    )


def test_the_same_sub_from_another_issuer_is_another_person(session):
    one = sign_in(session=session, claims=_claims(), now=NOW)
    other = sign_in(session=session, claims=_claims(iss="https://andet.example"), now=NOW)
    assert one.user_id != other.user_id


def test_a_token_without_a_known_role_signs_in_without_access(session):
    user = sign_in(session=session, claims=_claims(roles=None), now=NOW)
    assert user.role is None
    assert 1 == len(list_users(session=session))  # recorded: an admin can give them a role


def test_a_token_without_sub_is_refused(session):
    with pytest.raises(InputError) as refused:
        sign_in(session=session, claims={"iss": ISSUER, "name": "X"}, now=NOW)
    assert "sub" in refused.value.fields["_form"]
    assert [] == list_users(session=session)


def test_claims_are_bounded_text(session):
    user = sign_in(
        session=session,
        claims=_claims(name="A\n" + "n" * 500, email=["not", "text"]),
        now=NOW,
    )
    row = session.get(AppUser, user.user_id)
    assert 100 == len(row.name) and "\n" not in row.name
    assert "" == row.email


def test_an_admins_role_wins_over_the_token_on_the_next_sign_in(session):
    admin = sign_in(session=session, claims=_claims(sub="admin", roles=("admin",)), now=NOW)
    user = sign_in(session=session, claims=_claims(roles=("admin",)), now=NOW)
    row = session.get(AppUser, user.user_id)
    set_user_access(
        session=session,
        user_id=row.id,
        data={"assigned_role": "laeser", "active": True, "version": row.version},
        user=admin.name,
        acting_user_id=admin.user_id,
    )
    assert Role.READER == sign_in(session=session, claims=_claims(roles=("admin",)), now=NOW).role
    event = _events(session)[-1]
    assert ("update", {"assigned_role": [None, "laeser"]}) == (
        event.action,
        json.loads(event.changes),
    )


def test_a_revoked_user_is_refused_whatever_the_token_says(session):
    admin = sign_in(session=session, claims=_claims(sub="admin", roles=("admin",)), now=NOW)
    user = sign_in(session=session, claims=_claims(), now=NOW)
    row = session.get(AppUser, user.user_id)
    set_user_access(
        session=session,
        user_id=row.id,
        data={"assigned_role": None, "active": False, "version": row.version},
        user=admin.name,
        acting_user_id=admin.user_id,
    )
    assert sign_in(session=session, claims=_claims(roles=("admin",)), now=NOW).role is None


def test_an_admin_cannot_take_their_own_admin_access_away(session):
    admin = sign_in(session=session, claims=_claims(sub="admin", roles=("admin",)), now=NOW)
    row = session.get(AppUser, admin.user_id)
    for data, field in [
        ({"assigned_role": "indkoeb", "active": True}, "assigned_role"),
        ({"assigned_role": None, "active": False}, "active"),
    ]:
        with pytest.raises(InputError) as refused:
            set_user_access(
                session=session,
                user_id=row.id,
                data={**data, "version": row.version},
                user=admin.name,
                acting_user_id=admin.user_id,
            )
        assert "egen administratoradgang" in refused.value.fields[field]
    session.refresh(row)
    assert (None, True) == (row.assigned_role, row.active)


def test_an_outdated_decision_gets_the_conflict(session):
    user = sign_in(session=session, claims=_claims(), now=NOW)
    row = session.get(AppUser, user.user_id)
    stale = row.version
    set_user_access(
        session=session,
        user_id=row.id,
        data={"assigned_role": "indkoeb", "active": True, "version": stale},
        user="Admin",
    )
    with pytest.raises(ConflictError):
        set_user_access(
            session=session,
            user_id=row.id,
            data={"assigned_role": "laeser", "active": True, "version": stale},
            user="Admin",
        )


def test_an_unknown_role_is_refused_in_danish(session):
    user = sign_in(session=session, claims=_claims(), now=NOW)
    row = session.get(AppUser, user.user_id)
    with pytest.raises(InputError) as refused:
        set_user_access(
            session=session,
            user_id=row.id,
            data={"assigned_role": "superbruger", "active": True, "version": row.version},
            user="Admin",
        )
    assert "Input should" not in refused.value.fields["assigned_role"]


def test_users_are_listed_by_name(session):
    for sub, name in [("1", "bo"), ("2", "Anne"), ("3", "Carl")]:
        sign_in(session=session, claims=_claims(sub=sub, name=name), now=NOW)
    assert ["Anne", "bo", "Carl"] == [u.name for u in list_users(session=session)]


# --- Each save checks the role of the user a page acts for ----------------------------------


def _user_actions() -> set[str]:
    import importlib
    import pkgutil

    import services

    names = set()
    for module in pkgutil.walk_packages(services.__path__, "services."):
        for value in vars(importlib.import_module(module.name)).values():
            if name := getattr(value, "action_name", None):
                names.add(name)
    return names


def test_every_user_action_has_the_capability_it_needs():
    from services.rules.roles import WRITE_CAPABILITY

    assert _user_actions() == set(WRITE_CAPABILITY)


@pytest.mark.parametrize(
    ("action", "role", "refused"),
    [
        ("services.providers.add_provider_note", Role.READER, False),
        ("services.providers.add_provider_note", None, True),
        ("services.invoices.check_invoice", Role.READER, True),
        ("services.invoices.check_invoice", Role.COORDINATOR, False),
        ("services.contracts.create_contract", Role.COORDINATOR, True),
        ("services.contracts.create_contract", Role.PROCUREMENT, False),
        ("services.settings.update_settings", Role.PROCUREMENT, True),
        ("services.settings.update_settings", Role.ADMIN, False),
        ("services.users.sign_in", None, False),  # the app's own bookkeeping
        ("services.nowhere.unknown", Role.ADMIN, True),  # an unplaced action is refused
    ],
)
def test_check_allowed(action, role, refused):
    from services.rules.roles import check_allowed

    if refused:
        with pytest.raises(InputError) as error:
            check_allowed(action, role)
        assert error.value.fields["_form"].startswith("Du har ikke adgang")
    else:
        check_allowed(action, role)


def test_a_service_refuses_a_role_that_may_not_and_writes_nothing(session):
    from services.providers import add_provider_note, create_provider
    from services.unit_of_work import ROLE
    from tests.factories import make_provider

    provider = make_provider(session)
    session.info[ROLE] = Role.READER
    with pytest.raises(InputError) as refused:
        create_provider(session=session, data={"name": "Bostedet X", "kind": "privat"}, user="A")
    assert "kræver rollen Indkøb eller højere" in refused.value.fields["_form"]
    note = add_provider_note(
        session=session,
        data={"provider_id": provider.id, "topic": "andet", "text": "God dialog om prisen."},
        user="A",
    )
    assert note.id is not None
