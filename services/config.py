"""Where the database is: environment first, then Streamlit secrets, then a local SQLite file."""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///data/takstkompas.db"
ENV_DB_URL = "TAKSTKOMPAS_DB_URL"
ENV_USER = "TAKSTKOMPAS_USER"
ENV_LOCAL_MODE = "TAKSTKOMPAS_LOCAL_MODE"


@dataclass(frozen=True)
class AppConfig:
    db_url: str
    is_default_db: bool
    local_user: str


def _secret_db_url() -> str | None:
    """`st.secrets["database"]["url"]` when a secrets file provides it."""
    try:
        import streamlit as st  # only to read secrets; services otherwise never touch the UI

        database = st.secrets.get("database")
        url = database.get("url") if database else None
        return str(url) if url else None
    except Exception:  # no secrets file, or not running under Streamlit
        return None


def load_config() -> AppConfig:
    """Resolve the database URL; only the built-in default gets demo data on first start."""
    url = os.environ.get(ENV_DB_URL) or _secret_db_url()
    is_default = not url
    url = url or DEFAULT_DB_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    user = os.environ.get(ENV_USER) or os.environ.get("USER") or "lokal bruger"
    return AppConfig(db_url=url, is_default_db=is_default, local_user=user)


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite database."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


# --- Sign-in or local mode (SPEC 8) ---------------------------------------------------------


class StartupRefused(Exception):
    """The app must not start as configured; the message (Danish) says why and what to do."""


LOCAL_MODE_REFUSED = (
    "Takstkompas starter ikke: databasen {where} er en delt database, men der er ikke sat "
    "login op. Tilføj afsnittet [auth] i .streamlit/secrets.toml (se "
    ".streamlit/secrets.toml.example), eller sæt {env}=1 for bevidst at køre uden login som "
    "én lokal administrator."
)


def is_embedded(url: str) -> bool:
    """An embedded SQLite file (one machine, one user's copy), not a shared database server."""
    return url.startswith("sqlite")


def sign_in_mode(config: AppConfig, *, auth_configured: bool) -> str:
    """ "oidc" when an [auth] section is configured; "local" (one local admin, shown by a banner)
    on an embedded SQLite database or with TAKSTKOMPAS_LOCAL_MODE=1; otherwise a shared database
    would be open to anyone who reaches the server: StartupRefused."""
    if auth_configured:
        return "oidc"
    if is_embedded(config.db_url) or os.environ.get(ENV_LOCAL_MODE, "").strip() == "1":
        return "local"
    from sqlalchemy.engine import make_url

    url = make_url(config.db_url)
    where = f"»{url.database}« på {url.host or 'localhost'}"
    raise StartupRefused(LOCAL_MODE_REFUSED.format(where=where, env=ENV_LOCAL_MODE))
