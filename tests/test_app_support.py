"""Shared set-up for the AppTest files (no tests here): a fresh home, a clean sandbox, and
AppTest running app.py the way `streamlit run` does.

AppTest resets `PagesManager.uses_pages_directory` to None before every run, and PagesManager
then sets it to True because a `pages/` folder exists, so every run after the first would take
the legacy path that runs the page file alone, without app.py and its sidebar. `streamlit run`
sets it once and `st.navigation` turns it off for good; `v2_pages_only` does the same here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

APP = Path(__file__).resolve().parent.parent / "app.py"
SECRET_KEY = "LSK-zq81-SECRET-do-not-show-77"


class _V2PagesManager(PagesManager):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        PagesManager.uses_pages_directory = False


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEADSTREAM_KEY", raising=False)
    return tmp_path / "home"


@pytest.fixture
def app(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """app.py after its first run, with an empty journal and an empty in-process sandbox."""
    monkeypatch.setattr(app_test_module, "PagesManager", _V2PagesManager)
    from ui.state import get_sandbox

    get_sandbox().reset()
    at = AppTest.from_file(str(APP), default_timeout=30)
    return at.run()


def texts(at: AppTest) -> list[str]:
    """Every piece of text the app shows: element values, labels, captions, table cells."""
    found: list[str] = []

    def walk(node: object) -> None:
        for attr in ("value", "label", "body", "help", "placeholder", "message"):
            value = getattr(node, attr, None) if attr != "value" else _safe_value(node)
            if isinstance(value, str):
                found.append(value)
        proto = getattr(node, "proto", None)
        if proto is not None:
            found.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def _safe_value(node: object) -> object:
    try:
        return getattr(node, "value", None)
    except Exception:
        return None


class _Storage(MemoryMediaFileStorage):
    """Media storage that outlives the run, so a test can read what a download button holds."""

    last: _Storage | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Storage.last = self


class _Manager(MediaFileManager):
    """The media manager AppTest makes, kept so that a test can run a deferred download."""

    last: _Manager | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Manager.last = self


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], bytes]:
    """`downloads(button)`: the bytes a download button of the last run would give; a button
    whose `data` is a callable has it called, as a click in the browser would."""
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", _Storage)
    monkeypatch.setattr(app_test_module, "MediaFileManager", _Manager)

    def read(download_button: Any) -> bytes:
        assert _Storage.last is not None
        url = download_button.proto.url
        if download_button.proto.deferred_file_id:
            assert _Manager.last is not None
            url = _Manager.last.execute_deferred(download_button.proto.deferred_file_id)
        filename = url.rsplit("/", 1)[-1]
        return bytes(_Storage.last.get_file(filename).content)

    return read


def button(at: AppTest, label: str) -> Any:
    """The one button labelled `label`."""
    (found,) = [b for b in at.button if b.label == label]
    return found


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]
