"""Takstkompas: entry point.

Streamlit runs this file for every page view (as `__main__`): the shell in pages/_shell.py
sets up the page, the database, sign-in and navigation, and runs the chosen page.

`streamlit run streamlit_app.py` first imports it as a module to find `app` and serves that
(`st.App`): as the server starts, its lifespan imports what the pages need in the background
(pages/_warmup.py), so the first visitor after a start does not wait for those imports.
"""

import streamlit as st

if __name__ == "__main__":
    from pages import _warmup as warmup

    warmup.wait()  # after a start: until the modules are imported (at once otherwise)

    from pages._shell import run_app

    run_app()
else:
    from pages._warmup import warm_up

    app = st.App(__file__, lifespan=warm_up)
