"""Every page is drawn through app.py, whatever address a browser asks for first.

Streamlit runs a file of `pages/` on its own, without app.py's page set-up, sign-in gate and
sidebar, while it is still in its legacy `pages/` mode: from the start of the server until some
run of app.py calls `st.navigation`. So a bookmarked `/runs?run=5` or `/bulk_upload`, opened
first after the desk starts, drew that page bare (no connection settings, every row invalid),
and every page opened that way after it too. A page starts with `through_app()`: in that mode
it runs app.py in its place, whose `st.navigation` ends the legacy mode and draws this page,
set up as every page is. (A rerun would do the same but lose the click that started the run.)
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parent.parent / "app.py"

__all__ = ["through_app"]


def through_app() -> None:
    """Draw app.py instead when Streamlit ran this page file on its own."""
    # Streamlit's own switch (checked against 1.61-1.67): app.py's st.navigation sets it to
    # False, process-wide; it is True only before that has happened once (and, under AppTest,
    # at the start of every run).
    if PagesManager.uses_pages_directory:
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
