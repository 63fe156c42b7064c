"""The served app's start: what the first page needs is imported while the server starts.

`streamlit run streamlit_app.py` serves the app through `st.App` (streamlit_app.py), whose
lifespan calls `warm_up` as the server starts. It imports, in a background thread, the app's
shell and what the start page imports (pandas, Altair, SQLAlchemy, the models, the services):
about 0,8 s that the first visitor would otherwise wait for after the browser has loaded. The
server answers at once; the first page view waits for the thread (`wait`) instead of importing
the same modules beside it. The page scripts themselves are not run: their imports are read
from their source.
"""

import ast
import importlib
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHELL = "pages._shell"

_started = threading.Event()
_done = threading.Event()
_log = logging.getLogger(__name__)


def page_imports(path: Path) -> Iterator[str]:
    """The modules a page script imports, read from its source (the script is not run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def modules_to_warm() -> list[str]:
    """The shell (every page view needs it), then what the start page imports; the other pages
    import theirs when first opened, as before."""
    from pages._nav import HOME

    names = [SHELL]
    names.extend(n for n in page_imports(ROOT / HOME.path) if n not in names)
    return names


def _import_all() -> None:
    try:
        for name in modules_to_warm():
            try:
                importlib.import_module(name)
            except Exception:  # the page view imports it again and shows what is wrong
                _log.exception("Could not import %s ahead of the first page", name)
    finally:
        _done.set()


def start() -> None:
    """Import in the background (once)."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_import_all, name="takstkompas-warm-up", daemon=True).start()


def wait(timeout: float = 60.0) -> None:
    """Until the background imports are done, if they were started; at once otherwise."""
    if _started.is_set():
        _done.wait(timeout)


@asynccontextmanager
async def warm_up(_app: Any) -> AsyncIterator[None]:
    """st.App's lifespan: start the imports and let the server answer meanwhile."""
    start()
    yield
