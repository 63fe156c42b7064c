"""Sign-in end to end (SPEC 8, issue 11): Chromium, the app with an [auth] section, and a real
OIDC provider on 127.0.0.1 (the oidc-provider-mock package). Sign in, see the role's
navigation, act, sign out; a user whose access an admin revoked is refused on the next click."""

import re
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from models import AppUser
from services.db import get_engine
from services.users import set_user_access
from tests.serving import free_port, served
from tests.test_browser import (
    CHROMIUM_ARGS,
    _chromium_or_skip,
    _click,
    _expect_text,
    _settle,
    _tab,
    _type,
)

pytest.importorskip("oidc_provider_mock")

PASSWORD_FREE = "tests-only-cookie-secret-0123456789abcdef"
USERS = {
    "laeser-lise": {"name": "Lise Læser", "email": "lise@kommune.dk", "roles": ["laeser"]},
    "admin-anders": {"name": "Anders Admin", "email": "anders@kommune.dk", "roles": ["admin"]},
}


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_in_app(demo_db: str, oidc_provider: str, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on the demo database with sign-in through the OIDC provider."""
    port = free_port()
    secrets = tmp_path_factory.mktemp("auth") / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{PASSWORD_FREE}"\n'
        'client_id = "takstkompas"\n'
        'client_secret = "takstkompas-test"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    with served(
        env={"TAKSTKOMPAS_DB_URL": demo_db},
        log=secrets.parent / "streamlit.log",
        port=port,
        host="localhost",
        options=["--secrets.files", str(secrets)],
    ) as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_or_skip(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _sign_in(page, app: str, sub: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app)
    _settle(page)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(app)}"))
    _settle(page)


def _menu(page) -> list[str]:  # type: ignore[no-untyped-def]
    nav = page.locator("[data-testid='stSidebarNav'] a")
    return [t.strip().splitlines()[-1] for t in nav.all_inner_texts()]  # after the icon's name


def test_sign_in_act_sign_out_and_a_revoked_user_is_refused(signed_in_app, demo_db, chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    # Not signed in: the sign-in page, no data, also at a page's own address.
    page.goto(f"{signed_in_app}/kontrakter")
    _settle(page)
    page.get_by_role("button", name="Log ind").wait_for()
    assert 0 == page.locator("[data-testid='stDataFrame']").count()

    # A reader: the menu leaves the admin pages out; their address says no access.
    _sign_in(page, signed_in_app, "laeser-lise")
    page.get_by_text("Lise Læser · Læser").wait_for()
    menu = _menu(page)
    assert "Overblik" in menu and "Indstillinger" not in menu and "Brugere" not in menu
    page.goto(f"{signed_in_app}/indstillinger")
    _settle(page)
    page.get_by_text("Du har ikke adgang").first.wait_for()

    # Acts: a note in the vidensbank is signed with the signed-in name.
    page.goto(f"{signed_in_app}/leverandoerer?id=1")
    _settle(page)
    _tab(page, "Vidensbank")
    _expect_text(page, "underskrives af Lise Læser")
    _type(page, "Note", "Svarer hurtigt på henvendelser om pladser.", "note", multiline=True)
    _click(page, "Gem note")
    _expect_text(page, "Noten er gemt i vidensbanken.")
    _expect_text(page, "Lise Læser")

    # Sign out: the app forgets the login and hands over to the provider's end of session.
    page.goto(signed_in_app)
    _settle(page)
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url(re.compile(r"/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    page.goto(signed_in_app)
    _settle(page)
    page.get_by_role("button", name="Log ind").wait_for()

    # An admin sees the admin pages.
    _sign_in(page, signed_in_app, "admin-anders")
    page.get_by_text("Anders Admin · Administrator").wait_for()
    assert {"Indstillinger", "Brugere", "Revisionsspor"} <= set(_menu(page))

    # The admin is revoked (by another admin) while signed in: refused on the next click.
    with Session(get_engine(demo_db)) as s:
        row = s.exec(select(AppUser).where(AppUser.name == "Anders Admin")).one()
        set_user_access(
            session=s,
            user_id=row.id,
            data={"assigned_role": None, "active": False, "version": row.version},
            user="En anden administrator",
        )
    page.goto(f"{signed_in_app}/overblik")
    _settle(page)
    page.get_by_text("Du har ikke adgang").first.wait_for()
    assert 0 == page.locator("[data-testid='stMetric']").count()
    context.close()


def test_a_shared_database_without_sign_in_refuses_to_start(chromium, tmp_path):  # type: ignore[no-untyped-def]
    """The real server, configured with a PostgreSQL database and no [auth]: every address shows
    the Danish refusal, before any connection is tried (nothing listens on port 1)."""
    with served(
        env={"TAKSTKOMPAS_DB_URL": "postgresql://takst:hemmelig@127.0.0.1:1/takstkompas"},
        unset=["TAKSTKOMPAS_LOCAL_MODE"],
        log=tmp_path / "streamlit.log",
    ) as base:
        page = chromium.new_page()
        for address in ("", "/kontrakter"):
            page.goto(f"{base}{address}")
            _settle(page)
            page.get_by_text("Takstkompas starter ikke").wait_for()
            text = page.inner_text("body")
            assert "TAKSTKOMPAS_LOCAL_MODE=1" in text and "hemmelig" not in text
            assert 0 == page.locator("[data-testid='stDataFrame']").count()
        page.close()
