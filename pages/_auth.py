"""Sign-in (SPEC 8): who may in, as whom, with which role; run by the entry point before any page.

With an `[auth]` section in `.streamlit/secrets.toml` everyone signs in through the
municipality's identity provider (`st.login`, OIDC). Each script run records the signed-in
person in the user table (services.users.sign_in) and takes the role they work as from there,
so an admin's decision counts from the next click, not when the 30-day login cookie expires.
Without `[auth]` the app runs in local mode as one local admin, but only where
services.config.sign_in_mode allows it; a shared database without sign-in refuses to start.

A visitor who is not signed in, or whose role gives no access, sees a Danish page and no data.
"""

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import Role, label
from services.config import AppConfig, StartupRefused, sign_in_mode
from services.errors import InputError, UserError
from services.markdown import markdown_literal
from services.rules.roles import DEFAULT_ROLE_CLAIMS, NO_ACCESS
from services.users import User, local_user, sign_in

SIGNED_IN = "_takstkompas_user"  # the User of this script run
MODE = "_takstkompas_sign_in_mode"  # "oidc" or "local", once a run has decided
PLACEHOLDER = "CHANGE-ME"


def _auth_section() -> Mapping[str, Any] | None:
    """The [auth] section of the secrets, if any (no secrets file: none)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return None
    return section if section else None


def _placeholders(section: Mapping[str, Any], path: str = "auth") -> list[str]:
    """The keys of [auth] still holding the example's placeholder."""
    found = []
    for key, value in section.items():
        if isinstance(value, Mapping):
            found += _placeholders(value, f"{path}.{key}")
        elif isinstance(value, str) and PLACEHOLDER in value:
            found.append(f"{path}.{key}")
    return found


def _role_mapping() -> Mapping[str, Role]:
    """The token's role values the municipality uses ([roles] in the secrets: value = role
    code), over the defaults (services.rules.roles.DEFAULT_ROLE_CLAIMS)."""
    try:
        configured = st.secrets.get("roles") or {}
    except Exception:
        configured = {}
    mapping = dict(DEFAULT_ROLE_CLAIMS)
    for claim, code in configured.items():
        if str(code) in {role.value for role in Role}:
            mapping[str(claim)] = Role(str(code))
    return mapping


def _provider(section: Mapping[str, Any]) -> str | None:
    """The named provider to sign in with ([auth.microsoft]: "microsoft"); None when [auth]
    itself holds the provider's settings."""
    named = [key for key, value in section.items() if isinstance(value, Mapping)]
    return named[0] if named else None


def _stop_with(title: str, draw: Callable[[], None]) -> None:
    """End the run on one page of our own, served at every page's address too: a bookmark or
    deep link shows it instead of a page's data or Streamlit's English "Page not found"."""
    from pages._nav import PAGES

    pages = [st.Page(draw, title=title, url_path="velkommen", default=True)]
    for spec in PAGES:
        pages.append(
            st.Page(
                (lambda: draw()),
                title=spec.title,
                url_path=spec.url_path,
                visibility="hidden",
            )
        )
    st.navigation(pages, position="hidden").run()
    st.stop()


def _refuse(message: str) -> None:
    def draw() -> None:
        st.title("Takstkompas")
        st.error(message, icon=":material/block:")

    _stop_with("Takstkompas", draw)


def _sign_in_page(section: Mapping[str, Any]) -> None:
    def draw() -> None:
        st.title("Takstkompas")
        st.markdown(
            "Takstkompas samler kommunens køb af botilbudspladser: takster, kontrakter, "
            "fakturakontrol og opfølgning. Log ind med din kommunale konto for at fortsætte."
        )
        if st.button("Log ind", type="primary", icon=":material/login:", key="_login"):
            provider = _provider(section)
            if provider is None:
                st.login()
            else:
                st.login(provider)

    _stop_with("Log ind", draw)


def _no_access(user: User) -> None:
    def draw() -> None:
        st.title(NO_ACCESS)
        st.markdown(
            f"Du er logget ind som {markdown_literal(user.name or user.email)}, men din bruger "
            "har ingen rolle i Takstkompas. Bed en administrator om adgang."
        )
        if st.button("Log ud", icon=":material/logout:", key="_logout_no_access"):
            st.logout()

    _stop_with(NO_ACCESS, draw)


def check_setup(config: AppConfig) -> str:
    """Before the database is touched: "oidc" or "local", or stop the run with the Danish
    reason the app may not start as configured (services.config.sign_in_mode, placeholders)."""
    section = _auth_section()
    try:
        mode = sign_in_mode(config, auth_configured=section is not None)
        if section is not None and (unfilled := _placeholders(section)):
            raise StartupRefused(
                "Takstkompas starter ikke: login er ikke sat op endnu. Erstat pladsholderne "
                f"({', '.join(unfilled)}) i .streamlit/secrets.toml med kommunens værdier."
            )
    except StartupRefused as refused:
        st.session_state.pop(SIGNED_IN, None)
        _refuse(str(refused))
        raise AssertionError("st.stop") from None  # not reached: st.stop ends the run
    st.session_state[MODE] = mode
    return mode


def sign_in_gate(mode: str, engine: Engine) -> User:
    """Decide who works in this script run (`mode` from check_setup), or stop the run with the
    page that says why. The user is kept for the run's seam (pages._ui.current_user)."""
    if mode == "local":
        user = local_user()
    else:
        section = _auth_section()
        assert section is not None
        if not st.user.is_logged_in:
            st.session_state.pop(SIGNED_IN, None)
            _sign_in_page(section)
        claims = st.user.to_dict()
        try:
            with Session(engine) as session:
                user = sign_in(session=session, claims=claims, mapping=_role_mapping())
        except UserError as refused:
            st.session_state.pop(SIGNED_IN, None)
            fields = refused.fields if isinstance(refused, InputError) else {}
            _refuse(fields.get("_form", refused.message))
            raise AssertionError("st.stop") from None
        if user.role is None:
            st.session_state.pop(SIGNED_IN, None)
            _no_access(user)
    st.session_state[SIGNED_IN] = user
    return user


def signed_in_user() -> User:
    """The user of this run: the one the gate found; before it ran (a page file run on its own)
    the local user only where local mode is allowed, else a user without access."""
    user = st.session_state.get(SIGNED_IN)
    if isinstance(user, User):
        return user
    if st.session_state.get(MODE) == "local":
        return local_user()
    return User(name="", role=None)


def user_panel(user: User) -> None:
    """In the sidebar: who is working, with which role, and the way out."""
    with st.sidebar:
        if st.session_state.get(MODE) == "local":
            st.caption(
                f":material/person: Lokal tilstand uden login: du arbejder som "
                f"{markdown_literal(user.name)} ({label(user.role)})."
            )
            return
        st.caption(f":material/person: {markdown_literal(user.name)} · {label(user.role)}")
        if st.button("Log ud", key="_takstkompas_logout", icon=":material/logout:"):
            st.logout()
