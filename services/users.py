"""Who is working: the signed-in user, recorded in the user table, with the role they work as.

The pages ask one seam, pages._ui.current_user: the user the entry point signed in for the
script run (pages._auth), or `local_user()` in local mode (SPEC 8). `sign_in` records a
signed-in person from their token's claims and tells the role they work as; `set_user_access`
is an admin's decision about a user, which wins over the token on their next script run.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.base import utcnow
from models.enums import Role
from models.user import AppUser, AppUserUpdate
from services.audit import WHO, apply_changes
from services.config import load_config
from services.errors import InputError
from services.rules.roles import DEFAULT_ROLE_CLAIMS, effective_role, roles_from_claims
from services.unit_of_work import action, flush
from services.validation import require, update_row, validate

# A sign-in is looked up on every script run, but "last seen" is written at most this often:
# a click must not become a write.
LAST_SEEN_EVERY = timedelta(minutes=15)
SUBJECT_MAX = 500
NAME_MAX = 100  # a name is signed into every "who" column (100 characters)
EMAIL_MAX = 254
NO_SUBJECT = "Login-tokenet mangler brugerens id (sub). Kontakt IT."


@dataclass(frozen=True)
class User:
    name: str
    role: Role | None  # None: signed in, but no access
    email: str = ""
    user_id: int | None = None  # the user table's row; None in local mode


def local_user() -> User:
    """Local mode's one user: the machine's user name (TAKSTKOMPAS_USER), as admin."""
    return User(name=load_config().local_user, role=Role.ADMIN)


def _text(value: Any, limit: int) -> str:
    """A claim as bounded, single-line text (a token is input like any other)."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit]


def subject_of(claims: Mapping[str, Any]) -> str:
    """The identity provider's stable id for the person: issuer and `sub` (a `sub` is unique
    only within its issuer)."""
    sub = _text(claims.get("sub"), SUBJECT_MAX)
    if not sub:
        raise InputError({"_form": NO_SUBJECT})
    issuer = _text(claims.get("iss"), SUBJECT_MAX - len(sub) - 1)
    return f"{issuer}|{sub}" if issuer else sub


def _name_and_email(claims: Mapping[str, Any]) -> tuple[str, str]:
    email = _text(claims.get("email") or claims.get("preferred_username"), EMAIL_MAX)
    name = _text(claims.get("name"), NAME_MAX) or email or _text(claims.get("sub"), NAME_MAX)
    return name, email


def _signed_in(row: AppUser) -> User:
    role = effective_role(
        token_role=row.token_role, assigned_role=row.assigned_role, active=row.active
    )
    return User(name=row.name, role=role, email=row.email, user_id=row.id)


@action
def sign_in(
    *,
    session: Session,
    claims: Mapping[str, Any],
    mapping: Mapping[str, Role] = DEFAULT_ROLE_CLAIMS,
    now: datetime | None = None,
) -> User:
    """Record a signed-in person (first time: a new row; later: name, e-mail and the token's
    role kept current) and return the user with the role they work as (None: no access).

    Called on every script run: it writes only when something changed or "last seen" is older
    than LAST_SEEN_EVERY. A new user and a changed name, e-mail or token role are audited
    (who: the user themself); "last seen" alone is not."""
    now = now or utcnow()
    subject = subject_of(claims)
    name, email = _name_and_email(claims)
    session.info[WHO] = name  # the audit events name the person signing in
    token_role = roles_from_claims(claims, mapping)
    row = session.exec(select(AppUser).where(col(AppUser.subject) == subject)).first()
    if row is None:
        row = AppUser(
            subject=subject,
            name=name,
            email=email,
            token_role=token_role,
            first_seen=now,
            last_seen=now,
            created_by=name,
            updated_by=name,
        )
        session.add(row)
        flush(session, "brugeren")
        return _signed_in(row)
    changes = apply_changes(row, {"name": name, "email": email, "token_role": token_role})
    stale = _naive(now) - _naive(row.last_seen) >= LAST_SEEN_EVERY
    if changes:
        row.updated_by = name
        row.updated_at = now
    if changes or stale:
        row.last_seen = now
        session.add(row)
        flush(session, "brugeren")
    return _signed_in(row)


def _naive(moment: datetime) -> datetime:
    """A moment as UTC without a zone: SQLite returns stored moments without one."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


OWN_ADMIN = "Du kan ikke fjerne din egen administratoradgang. Bed en anden administrator om det."


@action
def set_user_access(
    *,
    session: Session,
    user_id: int,
    data: Mapping[str, Any],
    user: str,
    acting_user_id: int | None = None,
) -> AppUser:
    """An admin's decision about a user: the role they work as (None: as their token says) and
    whether they may sign in at all. It wins over the token from the user's next script run.
    The acting admin (`acting_user_id`) cannot take their own admin access away: someone must
    be left who can give it back."""
    valid = validate(AppUserUpdate, data)
    row = require(session, AppUser, user_id, "Brugeren")
    if row.id == acting_user_id:
        after = effective_role(
            token_role=row.token_role, assigned_role=valid.assigned_role, active=valid.active
        )
        if after != Role.ADMIN:
            raise InputError({"assigned_role" if valid.active else "active": OWN_ADMIN})
    return update_row(
        session=session,
        row=row,
        values={"assigned_role": valid.assigned_role, "active": valid.active},
        expected_version=valid.version,
        user=user,
        what="brugeren",
    )


def list_users(*, session: Session) -> list[AppUser]:
    """Everyone who has signed in, by name."""
    query = select(AppUser).order_by(sa.func.lower(col(AppUser.name)), col(AppUser.id))
    return list(session.exec(query))
