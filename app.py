"""LeadStream Desk: the entry point. Sets the page up, registers the pages, draws the sidebar.

Run with `streamlit run app.py`. Every rule lives in `leadstream/`; the pages only draw.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.signin import gate
from ui.state import keep_widget_state, render_connection_sidebar

HERE = Path(__file__).parent

st.set_page_config(
    page_title="LeadStream Desk", page_icon=":material/forward_to_inbox:", layout="wide"
)
keep_widget_state()
# Before any page: off the loopback only with sign-in, and what is sent is recorded as theirs.
gate()

pages = [
    st.Page("pages/post_lead.py", title="Post a lead", icon=":material/person_add:", default=True),
    st.Page("pages/legend.py", title="Custom-field legend", icon=":material/list_alt:"),
]
# The bulk page is written separately; the app works without it.
if (HERE / "pages" / "bulk_upload.py").exists():
    pages.append(
        st.Page("pages/bulk_upload.py", title="Bulk upload", icon=":material/upload_file:")
    )
pages.append(
    st.Page("pages/runs.py", title="Runs", icon=":material/playlist_play:", url_path="runs")
)
pages.append(st.Page("pages/history.py", title="History", icon=":material/history:"))

navigation = st.navigation(pages)
render_connection_sidebar()
navigation.run()
