"""Takstkompas: entry point. Page config, database, navigation and shared state."""

import streamlit as st
from sqlalchemy.engine import Engine

from pages._nav import HOME, PAGES
from pages._ui import render_shell, set_engine
from services.config import load_config
from services.startup import Startup, prepare_database


@st.cache_resource(show_spinner="Forbereder databasen …")
def _startup(db_url: str) -> Startup:
    """Once per database URL: migrate, and fill a brand-new default database with demo data."""
    from seed import seed_database

    config = load_config()
    return prepare_database(config, seed_demo=lambda engine: seed_database(engine=engine))


st.set_page_config(page_title="Takstkompas", page_icon="🧭", layout="wide")

config = load_config()
startup = _startup(config.db_url)
engine: Engine = startup.engine
set_engine(engine)
st.session_state.setdefault("demo_seeded_notice", startup.seeded_demo)

sections: dict[str, list] = {}
for spec in PAGES:
    home = spec == HOME
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
    lambda: st.switch_page(home_page), title=HOME.title, url_path=HOME.url_path, visibility="hidden"
)
sections[HOME.section].append(home_address)
navigation = st.navigation(sections)
if navigation is home_address:
    st.switch_page(home_page)  # before the shell: a one-time notice is kept for the page
render_shell(engine)
navigation.run()
