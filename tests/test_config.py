"""Where the app connects and whether it may run without sign-in (SPEC 8: local mode only on
the embedded SQLite database or when TAKSTKOMPAS_LOCAL_MODE=1 is set)."""

import pytest

from services.config import (
    DEFAULT_DB_URL,
    ENV_DB_URL,
    ENV_LOCAL_MODE,
    AppConfig,
    StartupRefused,
    load_config,
    sign_in_mode,
)

SHARED = "postgresql+psycopg://takst:hemmelig@db.kommune.local:5432/takstkompas"


def _config(url: str) -> AppConfig:
    return AppConfig(db_url=url, is_default_db=url == DEFAULT_DB_URL, local_user="lokal")


@pytest.mark.parametrize("url", [DEFAULT_DB_URL, "sqlite:////srv/takstkompas/kopi.db"])
def test_embedded_sqlite_runs_in_local_mode_without_auth(url, monkeypatch):
    monkeypatch.delenv(ENV_LOCAL_MODE, raising=False)
    assert "local" == sign_in_mode(_config(url), auth_configured=False)


def test_a_shared_database_without_auth_refuses_in_danish_without_the_password(monkeypatch):
    monkeypatch.delenv(ENV_LOCAL_MODE, raising=False)
    with pytest.raises(StartupRefused) as refused:
        sign_in_mode(_config(SHARED), auth_configured=False)
    message = str(refused.value)
    assert "»takstkompas« på db.kommune.local" in message
    assert "[auth]" in message and ENV_LOCAL_MODE in message
    assert "hemmelig" not in message


@pytest.mark.parametrize(("value", "mode"), [("1", "local"), (" 1 ", "local")])
def test_local_mode_on_a_shared_database_only_when_asked_for(value, mode, monkeypatch):
    monkeypatch.setenv(ENV_LOCAL_MODE, value)
    assert mode == sign_in_mode(_config(SHARED), auth_configured=False)


@pytest.mark.parametrize("value", ["0", "ja", "true", ""])
def test_anything_but_1_is_not_local_mode(value, monkeypatch):
    monkeypatch.setenv(ENV_LOCAL_MODE, value)
    with pytest.raises(StartupRefused):
        sign_in_mode(_config(SHARED), auth_configured=False)


@pytest.mark.parametrize("url", [DEFAULT_DB_URL, SHARED])
def test_with_auth_configured_everyone_signs_in(url, monkeypatch):
    monkeypatch.setenv(ENV_LOCAL_MODE, "1")
    assert "oidc" == sign_in_mode(_config(url), auth_configured=True)


def test_the_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_DB_URL, "postgresql://u@h/db")
    config = load_config()
    assert ("postgresql+psycopg://u@h/db", False) == (config.db_url, config.is_default_db)
    monkeypatch.delenv(ENV_DB_URL)
    assert DEFAULT_DB_URL == load_config().db_url
