"""Brugere (admin): everyone who has signed in, and an admin's decision about each of them: the
role they work as, or no access at all (SPEC 8). The decision wins over the token from the
user's next click (services.users)."""

from typing import Any

import pandas as pd
import streamlit as st

from models import Role, label
from pages._auth import MODE
from pages._ui import (
    cached_read,
    current_user,
    edit_form,
    export_buttons,
    field_error,
    md,
    show_flash,
    show_table,
)
from services.formatting import local_time
from services.rules.roles import ORDER, effective_role
from services.users import list_users, set_user_access

AS_TOKEN = "token"  # the choice "as the token says" (assigned_role None)
CHOICE = "users_choice"


def _role_text(role: Role | None) -> str:
    return label(role) if role is not None else "Ingen adgang"


def _frame(users: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Navn": [u.name for u in users],
            "E-mail": [u.email for u in users],
            "Rolle nu": [
                _role_text(
                    effective_role(
                        token_role=u.token_role, assigned_role=u.assigned_role, active=u.active
                    )
                )
                for u in users
            ],
            "Rolle fra login": [label(u.token_role) if u.token_role else "–" for u in users],
            "Sat af administrator": [
                label(u.assigned_role) if u.assigned_role else "–" for u in users
            ],
            "Adgang": ["Ja" if u.active else "Spærret" for u in users],
            "Sidst set": [local_time(u.last_seen).strftime("%d.%m.%Y %H:%M") for u in users],
        }
    )


def _access_form(user: Any) -> None:
    form = f"users_access_{user.id}"
    me = current_user().user_id == user.id

    def fields() -> dict[str, Any]:
        choices = [AS_TOKEN, *(role.value for role in ORDER)]
        key = f"{form}_assigned_role"
        assigned = user.assigned_role
        st.session_state.setdefault(key, Role(assigned).value if assigned else AS_TOKEN)
        st.selectbox(
            "Rolle",
            choices,
            key=key,
            format_func=lambda v: (
                f"Som login siger ({_role_text(user.token_role)})" if v == AS_TOKEN else label(v)
            ),
            help="En rolle sat her gælder i stedet for den, login giver, fra brugerens næste klik.",
        )
        field_error(form, "assigned_role")
        st.session_state.setdefault(f"{form}_active", user.active)
        st.checkbox(
            "Må bruge Takstkompas",
            key=f"{form}_active",
            help="Fjern fluebenet for at spærre brugeren, uanset hvad login siger.",
        )
        field_error(form, "active")
        chosen = st.session_state[key]
        return {
            "assigned_role": None if chosen == AS_TOKEN else chosen,
            "active": st.session_state[f"{form}_active"],
        }

    if me:
        st.caption("Det er dig. Du kan ikke fjerne din egen administratoradgang.")
    edit_form(
        form,
        fields,
        set_user_access,
        args={"user_id": user.id, "acting_user_id": current_user().user_id},
        loaded=(user.id, user.version),
        submit="Gem adgang",
        success=f"Adgangen for {md(user.name)} er gemt. Den gælder fra brugerens næste klik.",
    )


st.title("Brugere")
show_flash()
st.caption(
    "Alle, der har logget ind. Rollen kommer fra login (kommunens app-roller); en rolle sat her "
    "gælder i stedet, og en spærret bruger kommer ikke ind, selv om login stadig er gyldigt."
)
local = st.session_state.get(MODE) == "local"
if local:
    st.info(
        "Takstkompas kører i lokal tilstand uden login: du arbejder som lokal administrator, og "
        "der er ingen brugere at styre. Sæt login op i .streamlit/secrets.toml (se README).",
        icon=":material/info:",
    )
users = cached_read(list_users)
if not users:
    if not local:
        st.info("Ingen har logget ind endnu.")
else:
    frame = _frame(users)
    show_table(frame, key="users_table")
    export_buttons(frame, "Brugere", key="users_export")
    by_id = {u.id: u for u in users}
    if st.session_state.get(CHOICE) not in by_id:
        st.session_state[CHOICE] = None
    chosen = st.selectbox(
        "Ret en brugers adgang",
        list(by_id),
        key=CHOICE,
        format_func=lambda i: (
            f"{by_id[i].name} ({by_id[i].email})" if by_id[i].email else by_id[i].name
        ),
        placeholder="Vælg bruger",
    )
    if chosen in by_id:
        _access_form(by_id[chosen])
