"""Sign-in in the app (SPEC 8, issue 11): the logged-out page, roles in navigation, a page or a
save the role may not use, local mode and the refusal to run a shared database without
sign-in, through AppTest with a real [auth] section (so the logged-out branch is real)."""

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from models import AppUser, Provider, Role
from services.db import get_engine
from services.users import set_user_access
from tests.pagetest import APP

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "en-lang-tilfaeldig-hemmelighed-til-test",
    "client_id": "takstkompas-test",
    "client_secret": "hemmelig",
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}


def _claims(roles: list[str] | None, sub: str = "anne-1") -> dict:
    user: dict = {
        "is_logged_in": True,
        "iss": "http://127.0.0.1:1",
        "sub": sub,
        "name": "Anne Andersen",
        "email": "anne@kommune.dk",
    }
    if roles is not None:
        user["roles"] = roles
    return user


def _app(url: str, monkeypatch, *, user: dict | None, auth: dict | None = AUTH) -> AppTest:
    monkeypatch.setenv("TAKSTKOMPAS_DB_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title]
    parts += [e.value for e in at.error] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def _pages(at: AppTest) -> dict[str, str | None]:
    """The addresses the last run registered → the page file behind each (None: a page of the
    entry point's own, such as "Du har ikke adgang" standing in for a page the role may not
    use)."""
    return {
        str(info.get("url_pathname")): info.get("script_path")
        for info in at._registered_pages.values()
    }


def _open(at: AppTest, address: str) -> AppTest:
    """Follow a link to the page at `address` (/indstillinger), as the browser would."""
    [page_hash] = [
        h for h, info in at._registered_pages.items() if info.get("url_pathname") == address
    ]
    at._page_hash = page_hash
    return at.run()


def _offered(at: AppTest, address: str) -> bool:
    return bool(_pages(at).get(address))


def test_logged_out_sees_a_danish_sign_in_page_and_no_data(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user={"is_logged_in": False})
    at.run()
    assert not at.exception
    assert "Log ind" == at.button(key="_login").label
    text = _texts(at)
    assert "Log ind med din kommunale konto" in text
    assert not at.metric and not at.dataframe  # no figures, no tables
    assert "Demodata" not in text


def test_logged_out_deep_link_shows_the_sign_in_page(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user={"is_logged_in": False})
    at.run()
    _open(at, "kontrakter")
    assert not at.exception
    assert "Log ind med din kommunale konto" in _texts(at)
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize("roles", [None, ["ukendt"]])
def test_a_token_without_a_known_role_has_no_access(demo_db, monkeypatch, roles):
    at = _app(demo_db, monkeypatch, user=_claims(roles))
    at.run()
    assert not at.exception
    assert "Du har ikke adgang" in _texts(at)
    assert not at.metric and not at.dataframe
    with Session(get_engine(demo_db)) as s:
        assert "Anne Andersen" in [u.name for u in s.exec(select(AppUser))]  # recorded


def test_a_reader_works_but_settings_are_not_offered_nor_reachable(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=_claims(["laeser"]))
    at.run()
    assert not at.exception
    assert at.metric  # Overblik's figures
    assert "Anne Andersen · Læser" in _texts(at)
    assert not _offered(at, "indstillinger") and _offered(at, "kontrakter")
    _open(at, "indstillinger")
    assert not at.exception
    assert "Du har ikke adgang" in _texts(at)
    assert not at.tabs  # none of the settings' tabs


def test_an_admin_is_offered_settings(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=_claims(["admin"]))
    at.run()
    assert _offered(at, "indstillinger")
    _open(at, "indstillinger")
    assert not at.exception
    assert "Du har ikke adgang" not in _texts(at)


def test_a_reader_is_offered_notes_but_not_the_providers_forms(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=_claims(["laeser"]))
    at.run()
    at.switch_page("pages/leverandoerer.py")
    at.run()
    assert not at.exception
    keys = {w.key for w in at.text_input}
    assert "providers_new_name" not in keys  # "Opret leverandør" is not offered
    assert "Kræver rollen Indkøb eller højere. Du er logget ind som Læser." in _texts(at)
    with Session(get_engine(demo_db)) as s:
        provider = s.exec(select(Provider).order_by(Provider.id)).first()
    at.query_params["id"] = str(provider.id)
    at.run()
    assert not at.exception
    assert any(str(w.key).startswith("providers_note") for w in at.text_area), [
        w.key for w in at.text_area
    ]


def test_a_coordinator_checks_invoices_but_a_reader_is_not_offered_it(demo_db, monkeypatch):
    for roles, offered in [(["koordinator"], True), (["laeser"], False)]:
        at = _app(demo_db, monkeypatch, user=_claims(roles, sub=f"check-{roles[0]}"))
        at.run()
        at.switch_page("pages/fakturaafvigelser.py")
        at.run()
        at.session_state["fakturaafvigelser_tab"] = "Kontrollér en faktura"
        at.run()
        assert not at.exception
        assert any("Kontrollér en faktura" in t.label for t in at.tabs)
        shown = "Kræver rollen Koordinator eller højere" in _texts(at)
        assert offered != shown, roles


def test_an_admins_revocation_counts_on_the_users_next_click(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=_claims(["koordinator"], sub="bo-revoked"))
    at.run()
    assert at.metric
    with Session(get_engine(demo_db)) as s:
        row = s.exec(
            select(AppUser).where(AppUser.subject == "http://127.0.0.1:1|bo-revoked")
        ).one()
        set_user_access(
            session=s,
            user_id=row.id,
            data={"assigned_role": None, "active": False, "version": row.version},
            user="Admin",
        )
    at.run()  # the same login cookie, the next click
    assert "Du har ikke adgang" in _texts(at)
    assert not at.metric


def test_local_mode_says_so_in_the_sidebar(demo_db, monkeypatch):
    monkeypatch.setenv("TAKSTKOMPAS_USER", "Lone Lokal")
    at = _app(demo_db, monkeypatch, user=None, auth=None)
    at.run()
    assert not at.exception
    assert "Lokal tilstand uden login: du arbejder som Lone Lokal (Administrator)." in _texts(at)
    assert _offered(at, "indstillinger")


def test_a_shared_database_without_sign_in_refuses_before_touching_it(monkeypatch):
    monkeypatch.delenv("TAKSTKOMPAS_LOCAL_MODE", raising=False)
    # Nothing listens there: the refusal must come before any connection is tried.
    url = "postgresql+psycopg://takst:hemmelig@127.0.0.1:1/takstkompas"
    at = _app(url, monkeypatch, user=None, auth=None)
    at.run()
    assert not at.exception
    text = _texts(at)
    assert "Takstkompas starter ikke" in text and "TAKSTKOMPAS_LOCAL_MODE=1" in text
    assert "hemmelig" not in text


def test_placeholders_from_the_example_refuse_to_start(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=None, auth={**AUTH, "client_secret": "CHANGE-ME"})
    at.run()
    assert not at.exception
    assert "auth.client_secret" in _texts(at)


def test_an_admin_changes_a_users_role_on_the_users_page(demo_db, monkeypatch):
    bo_claims = {**_claims(["laeser"], sub="bo-reader"), "name": "Bo Berg", "email": "bo@k.dk"}
    reader = _app(demo_db, monkeypatch, user=bo_claims)
    reader.run()  # Bo signs in once: now in the user table
    at = _app(demo_db, monkeypatch, user=_claims(["admin"], sub="admin-users"))
    at.run()
    _open(at, "brugere")
    assert not at.exception
    with Session(get_engine(demo_db)) as s:
        bo = s.exec(select(AppUser).where(AppUser.subject == "http://127.0.0.1:1|bo-reader")).one()
    at.selectbox(key="users_choice").select(bo.id)
    at.run()
    form = f"users_access_{bo.id}"

    at.selectbox(key=f"{form}_assigned_role").select("koordinator")
    at.button(key=f"{form}__save").click()
    at.run()
    assert not at.exception
    assert any("er gemt" in s.value for s in at.success)
    reader.run()  # Bo's next click: the admin's role counts
    assert "Bo Berg · Koordinator" in _texts(reader)


def test_an_admin_cannot_lock_themself_out_on_the_users_page(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=_claims(["admin"], sub="admin-self"))
    at.run()
    _open(at, "brugere")
    with Session(get_engine(demo_db)) as s:
        me = s.exec(select(AppUser).where(AppUser.subject == "http://127.0.0.1:1|admin-self")).one()
    at.selectbox(key="users_choice").select(me.id)
    at.run()
    form = f"users_access_{me.id}"
    at.checkbox(key=f"{form}_active").uncheck()
    at.button(key=f"{form}__save").click()
    at.run()
    assert not at.exception
    assert "egen administratoradgang" in _texts(at)
    at.run()
    assert "Du har ikke adgang" not in _texts(at)


def test_the_users_page_in_local_mode_says_there_is_no_sign_in(demo_db, monkeypatch):
    at = _app(demo_db, monkeypatch, user=None, auth=None)
    at.run()
    _open(at, "brugere")
    assert not at.exception
    assert "lokal tilstand uden login" in _texts(at)


# --- Every page for every role ----------------------------------------------------------------

ROLES = ["laeser", "koordinator", "indkoeb", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(demo_db, monkeypatch, role):
    """Each page opens by its address without an exception: its content for a role that may use
    it, "Du har ikke adgang" and no data for one that may not."""
    from pages._nav import PAGES
    from services.rules.roles import may

    at = _app(demo_db, monkeypatch, user=_claims([role], sub=f"matrix-{role}"))
    at.run()
    for spec in PAGES:
        _open(at, spec.url_path)
        assert not at.exception, (role, spec.title, [e.value for e in at.exception])
        refused = "Du har ikke adgang" in _texts(at)
        assert refused != may(Role(role), spec.capability), (role, spec.title)
        if refused:
            assert not at.dataframe and not at.metric, (role, spec.title)
        else:
            assert spec.title in [t.value for t in at.title], (role, spec.title)
