"""Where the database is: environment first, then Streamlit secrets, then a local SQLite file."""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///data/takstkompas.db"
ENV_DB_URL = "TAKSTKOMPAS_DB_URL"
ENV_USER = "TAKSTKOMPAS_USER"


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
