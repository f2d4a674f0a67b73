"""The Bulk upload page's session-state keys and the small helpers every step shares.

Every step of the page (`ui.bulk_file`, `ui.bulk_mapping`, `ui.bulk_preview`, `ui.bulk_send`)
reads and writes the same session state, so its keys live here, once, with the uploaded file
(`StoredFile`), the notices a callback leaves for the next run, and what a new file forgets.
This module imports no other bulk module, so each step can import it without a cycle.

State: plain values under `bulk.*` (the file, the parsed table, the canonical mapping, the
cached preview, the run on screen); widgets whose values must survive a page switch under
`keep.bulk.*` (app.py keeps those).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

__all__ = [
    "CANARY",
    "CARRIED",
    "CM_ID",
    "CONCURRENCY",
    "CONFIRM",
    "DATE_NOTES",
    "DATE_ORDER",
    "DELIMITER",
    "DETECTED",
    "ENCODING",
    "FILE",
    "FILTER",
    "GUARD",
    "INCLUDE_DUPLICATES",
    "LEGEND",
    "MAPPING",
    "MAPPING_FOR",
    "MAP_UPLOAD_VERSION",
    "MAP_VERSION",
    "NOTICES",
    "OTHER_CONSTANTS",
    "PAUSE_AFTER",
    "PREPARED",
    "PREVIEW",
    "RATE",
    "REMEMBERED",
    "RUN",
    "SEND_WARNINGS",
    "SHEET",
    "SHEETS",
    "SIDEBAR_IDS",
    "TABLE",
    "TAGS",
    "UPLOAD_VERSION",
    "USER_ID",
    "StoredFile",
    "bump",
    "forget_downstream",
    "notify",
    "show_notices",
]

state = st.session_state

# Plain values, which Streamlit never cleans up.
K = "bulk."
W = "keep.bulk."
FILE = K + "file"
TABLE = K + "table"
SHEETS = K + "sheets"
UPLOAD_VERSION = K + "upload_version"
MAPPING = K + "mapping"
MAPPING_FOR = K + "mapping_for"
MAP_VERSION = K + "map_version"
MAP_UPLOAD_VERSION = K + "map_upload_version"
OTHER_CONSTANTS = K + "other_constants"
SIDEBAR_IDS = K + "sidebar_ids"
PREPARED = K + "prepared"
PREVIEW = K + "preview"
CONFIRM = K + "confirm"
RUN = K + "run_id"
NOTICES = K + "notices"
DETECTED = K + "detected"
CARRIED = K + "carried"
REMEMBERED = K + "remembered"  # header → choice, over every sheet and file seen
DATE_NOTES = K + "date_notes"  # (prepared key, notes on the date columns, the date columns)
DATE_ORDER = K + "date_order."  # + the column's checksum: how its dates are written
GUARD = K + "guard"  # (prepared key, columns whose values mostly fail their field's check)

# Widgets whose values survive a page switch (app.py keeps every `keep.*` key).
ENCODING = W + "encoding"
DELIMITER = W + "delimiter"
SHEET = W + "sheet"
LEGEND = W + "legend"
CM_ID = W + "cm_id"
USER_ID = W + "user_id"
TAGS = W + "tags"
SEND_WARNINGS = W + "send_warnings"
INCLUDE_DUPLICATES = W + "include_duplicates"
FILTER = W + "filter"
CONCURRENCY = W + "concurrency"
CANARY = W + "canary"
PAUSE_AFTER = W + "pause_after"
RATE = W + "rate"


# ---------------------------------------------------------------------------- small helpers


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The uploaded file, kept in session state so a page switch (which empties the uploader)
    does not lose it."""

    name: str
    data: bytes
    file_id: str

    @property
    def is_workbook(self) -> bool:
        return self.data.startswith(b"PK\x03\x04")


def notify(level: str, text: str) -> None:
    """A message to show once, at the top of the next run (callbacks cannot draw)."""
    state.setdefault(NOTICES, []).append((level, text))


def show_notices() -> None:
    for level, text in state.pop(NOTICES, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(level, st.info)(text)


def bump(name: str) -> int:
    state[name] = state.get(name, 0) + 1
    return state[name]


def forget_downstream() -> None:
    """A new file: the mapping, the preview and any open confirmation start over."""
    # The mapping stays: the next file (often the same one, fixed) keeps the shared columns'.
    for name in (TABLE, SHEETS, MAPPING_FOR, PREPARED, PREVIEW, CONFIRM):
        state.pop(name, None)
    bump(MAP_VERSION)
