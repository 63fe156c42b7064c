"""One user action, one transaction.

A write service validates and computes everything first, then adds its row and everything
derived from it (audit events, deviation events, the next follow-up, price periods) to the
session and flushes; it never commits. The outermost action commits once, or rolls back all of
it: a failure halfway leaves nothing behind.

`@action` marks a public write service as a user action. Called from a page (through
pages._ui.call_service), a test or a script, it is the outermost one and commits. Called from
another action (an import that creates many providers), it joins that action's transaction.
`unit_of_work(session)` makes a block of several actions one transaction.
"""

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from services.audit import ACTION_DEPTH, WHO
from services.errors import ConflictError, InputError

P = ParamSpec("P")
R = TypeVar("R")
DEPTH = ACTION_DEPTH  # services.audit records the changes made while it is above 0
WRITE = "takstkompas_write"  # services.db: SQLite begins such a transaction IMMEDIATE
DUPLICATE = "Posten findes allerede eller henviser til noget, der ikke findes."
# The role of the user a page acts for (services.rules.roles.Role, or None: no access). Set by
# the page's seam (pages._ui.call_service); absent for trusted callers (scripts, seed, tests).
ROLE = "takstkompas_role"


def in_action(session: Session) -> bool:
    """True inside a user action: whoever writes must leave committing to it."""
    return bool(session.info.get(DEPTH, 0))


def flush(session: Session, what: str = "posten") -> None:
    """Flush, turning a lost race into the conflict message and a broken constraint into a
    form error (nothing is written: the action rolls back)."""
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(what) from None
    except IntegrityError as exc:
        raise InputError({"_form": DUPLICATE}) from exc


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError() from None
    except IntegrityError as exc:
        session.rollback()
        raise InputError({"_form": DUPLICATE}) from exc


def _refresh(session: Session, result: Any) -> None:
    """Load what a caller may read after the session closes (committed rows expire)."""
    rows = result if isinstance(result, tuple | list) else (result,)
    for row in rows:
        if isinstance(row, SQLModel) and row in session:
            session.refresh(row)


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """The actions inside the block are one transaction: committed together at its end, or
    rolled back together if anything fails."""
    depth = session.info.get(DEPTH, 0)
    session.info[DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            _commit(session)
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[DEPTH] = depth
        if depth == 0:
            session.info.pop(WHO, None)


def action(fn: Callable[P, R]) -> Callable[P, R]:
    """Make a write service one transaction (see the module docstring). It must take the
    session as the keyword argument `session`."""

    from services.rules.roles import check_allowed

    name = f"{fn.__module__}.{fn.__name__}"
    user = inspect.signature(fn).parameters.get("user")
    default_user = None if user is None or user.default is user.empty else user.default

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        session = kwargs["session"]
        assert isinstance(session, Session)
        if ROLE in session.info:  # every action, also one a page wraps in its own function
            check_allowed(name, session.info[ROLE])
        outermost = session.info.get(DEPTH, 0) == 0
        if outermost:
            if session.in_transaction() and not (session.new or session.dirty or session.deleted):
                # End a transaction that only read: its snapshot may be older than the last
                # commit, and SQLite could not turn it into a writer then.
                session.rollback()
            if not session.in_transaction():
                # A fresh transaction that will write: SQLite begins it IMMEDIATE (services.db).
                session.connection(execution_options={WRITE: True})
        try:
            with unit_of_work(session):
                if session.info.get(WHO) is None:
                    # Whom the audit events name: the first action's user (users.sign_in,
                    # which has no `user`, names the person signing in itself).
                    session.info[WHO] = kwargs.get("user", default_user)
                result = fn(*args, **kwargs)
        except IntegrityError as exc:
            # A constraint broken by a write inside the action (a bulk insert racing another
            # user's): rolled back, and the user reads why, as from a flush (services.sql).
            if not outermost:
                raise
            raise InputError({"_form": DUPLICATE}) from exc
        if outermost:
            _refresh(session, result)
        return result

    run.action_name = name  # type: ignore[attr-defined]
    return run
