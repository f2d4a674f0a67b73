"""`leadstream desk`: LeadStream Desk as a desktop program, on this computer only.

Owns finding the Streamlit app (app.py, pages/, ui/, .streamlit/config.toml) and starting it as
`python -m streamlit run <app.py>` in a child process bound to 127.0.0.1. Streamlit opens the
person's default browser on it, as `streamlit run app.py` does; `--no-browser` (or tests, tools
and CI) run it headless instead.

Where the app is: in a checkout (or an editable install) it sits beside the `leadstream`
package; an installed wheel carries it as data files under `<prefix>/share/leadstream-desk/`
(see pyproject.toml), found through the installed distribution's own file list, so a virtual
environment, a `--user` install and Windows all work alike. The core never imports streamlit:
the app runs in its own process.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = [
    "ADDRESS",
    "DISTRIBUTION",
    "DeskError",
    "add_parser",
    "app_path",
    "run",
    "streamlit_command",
]

ADDRESS = "127.0.0.1"
DISTRIBUTION = "leadstream-desk"
SHARE = ("share", "leadstream-desk")
PACKAGE_DIR = Path(__file__).resolve().parent


class DeskError(ValueError):
    """The app cannot be started; the message says why and what to do."""


def _checkout_app(package_dir: Path) -> Path | None:
    root = package_dir.parent
    app = root / "app.py"
    # pyproject.toml tells a checkout from a site-packages that happens to hold an app.py.
    if app.is_file() and (root / "pages").is_dir() and (root / "pyproject.toml").is_file():
        return app
    return None


def _installed_app(distribution: str) -> Path | None:
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.parts[-3:] == (*SHARE, "app.py"):
            located = Path(str(file.locate())).resolve()
            if located.is_file():
                return located
    return None


def app_path(package_dir: Path = PACKAGE_DIR, distribution: str = DISTRIBUTION) -> Path:
    """The app.py to run: the checkout's when this `leadstream` comes from one, otherwise the
    one installed with the distribution."""
    app = _checkout_app(package_dir) or _installed_app(distribution)
    if app is None:
        raise DeskError(
            f"The app's files were not found beside {package_dir} nor in the installed "
            f"{distribution} package. Reinstall it with `pip install .` from a checkout."
        )
    return app


def streamlit_command(
    app: Path, *, port: int | None = None, browser: bool = True, python: str = sys.executable
) -> list[str]:
    """The command that serves `app` on loopback only. Without `browser` it runs headless;
    with it, Streamlit decides (it opens the browser unless there is no display to open it on).
    """
    command = [
        python, "-m", "streamlit", "run", str(app),
        "--server.address", ADDRESS,
        "--browser.gatherUsageStats", "false",
        # A first run must not stop to ask for an email address in the terminal.
        "--server.showEmailPrompt", "false",
    ]  # fmt: skip
    if port is not None:
        command += ["--server.port", str(port)]
    if not browser:
        command += ["--server.headless", "true"]
    return command


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1–65535)")
    return port


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """The `desk` subcommand, added to the CLI's subparsers."""
    desk: argparse.ArgumentParser = commands.add_parser(
        "desk",
        allow_abbrev=False,
        help="open the app in your browser",
        description=(
            "Start LeadStream Desk on this computer (127.0.0.1 only) and open it in your "
            "default browser. Ctrl-C stops it."
        ),
    )
    desk.add_argument(
        "--port", type=_port, metavar="N", help="serve on port N (default 8501, or the next free)"
    )
    desk.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser; print the address to open instead",
    )
    return desk


def run(args: argparse.Namespace) -> int:
    """Serve the app until Ctrl-C or a termination signal; the exit status of the server (0
    when it was asked to stop)."""
    command = streamlit_command(app_path(), port=args.port, browser=not args.no_browser)
    child = subprocess.Popen(command)
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                # Ctrl-C reached the child too (same terminal): wait for it to shut down.
                stopping = True
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if stopping and code in (0, -signal.SIGTERM, -signal.SIGINT) else code
