"""The app's shell, run on every page view by streamlit_app.py: page config, database,
sign-in, navigation and the sidebar; then the chosen page."""

import streamlit as st
from sqlalchemy.engine import Engine

from pages._auth import check_setup, sign_in_gate, user_panel
from pages._nav import HOME, PAGES
from pages._ui import render_shell, set_engine
from services.config import load_config
from services.rules.roles import NO_ACCESS, may
from services.startup import Startup, prepare_database


@st.cache_resource(show_spinner="Forbereder databasen …")
def _startup(db_url: str) -> Startup:
    """Once per database URL: migrate, and fill a brand-new default database with demo data."""
    from seed import seed_database

    config = load_config()
    return prepare_database(config, seed_demo=lambda engine: seed_database(engine=engine))


def _no_access() -> None:
    st.title(NO_ACCESS)
    st.markdown("Din rolle giver ikke adgang til denne side. Bed en administrator om adgang.")


def run_app() -> None:
    """One page view: everything streamlit_app.py does when a browser asks for a page."""
    st.set_page_config(page_title="Takstkompas", page_icon="🧭", layout="wide")

    config = load_config()
    mode = check_setup(config)  # a shared database without sign-in stops here, untouched
    startup = _startup(config.db_url)
    engine: Engine = startup.engine
    set_engine(engine)
    st.session_state.setdefault("demo_seeded_notice", startup.seeded_demo)
    user = sign_in_gate(mode, engine)  # stops here with a Danish page if nobody may go on

    sections: dict[str, list] = {}
    for spec in PAGES:
        home = spec == HOME
        if not may(user.role, spec.capability):
            # Not in the menu; its address (a bookmark, a shared link) says so and shows nothing.
            sections.setdefault(spec.section, []).append(
                st.Page(
                    _no_access,
                    title=spec.title,
                    icon=spec.icon,
                    url_path=spec.url_path,
                    visibility="hidden",
                )
            )
            continue
        sections.setdefault(spec.section, []).append(
            st.Page(
                spec.path,
                title=spec.title,
                icon=spec.icon,
                url_path="" if home else spec.url_path,  # the first page is served at "/"
                default=home,
            )
        )
    # The first page's own address (/overblik: a bookmark, a shared link) leads to "/" as well,
    # instead of Streamlit's English "Page not found".
    home_page = sections[HOME.section][0]
    home_address = st.Page(
        lambda: st.switch_page(home_page),
        title=HOME.title,
        url_path=HOME.url_path,
        visibility="hidden",
    )
    sections[HOME.section].append(home_address)
    navigation = st.navigation(sections, expanded=True)  # every page listed: no English "View more"
    if navigation is home_address:
        st.switch_page(home_page)  # before the shell: a one-time notice is kept for the page
    render_shell(engine)
    user_panel(user)
    navigation.run()
