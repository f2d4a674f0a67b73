"""The browser tests' fixtures: `streamlit run app.py` on a free loopback port with a throw-away
LEADSTREAM_HOME, one headless Chromium for the session, and a fresh page (a new Streamlit
session) per test.

Without /usr/bin/chromium the tests are skipped with the reason shown, unless LEADSTREAM_E2E=1
asks for them, in which case they fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from screenshots import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle  # noqa: E402

REQUIRED = os.environ.get("LEADSTREAM_E2E") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed; the browser tests need Debian's chromium."
        if REQUIRED:
            pytest.fail(message + " (LEADSTREAM_E2E=1 requires them.)")
        pytest.skip(message + " Set LEADSTREAM_E2E=1 to make this a failure.")
    return CHROMIUM


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("leadstream-home")) as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A new browser tab on the app, once Streamlit has drawn the first page."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto(app_url)
    wait_idle(tab)
    yield tab
    context.close()
