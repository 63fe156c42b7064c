"""Everyone who has signed in (SPEC 8), and what an admin decided about them.

The role a user works with is decided here, on the server, on every script run: the login cookie
lives 30 days, so a role taken away by an admin must not wait for it to expire
(services.rules.roles.effective_role).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import Versioned, enum_field, utcnow
from models.enums import Role
from models.types import INT_MAX


class AppUser(Versioned, table=True):
    """One person who has signed in. `subject` is the identity provider's stable id for them
    (issuer and `sub`), never their name or e-mail, which may change."""

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=500)
    name: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254)
    # The role the token gave at the last sign-in (None: it named no known role).
    token_role: Role | None = enum_field(Role, default=None, nullable=True, length=20)
    # An admin's decision, which wins over the token (None: the token decides).
    assigned_role: Role | None = enum_field(Role, default=None, nullable=True, length=20)
    # False: revoked by an admin; refused whatever the token says.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    __table_args__ = (sa.Index("uq_appuser_subject", "subject", unique=True),)


class AppUserUpdate(SQLModel):
    """An admin's decision about a user: the role to work with (None: as the token says) and
    whether they may sign in at all; `version` is the row as the admin saw it."""

    assigned_role: Role | None = None
    active: bool = True
    version: int = Field(ge=0, le=INT_MAX)
