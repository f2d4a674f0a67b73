"""`leadstream desk` and the installed `leadstream` command: the app found from a checkout and
from a built wheel, served on 127.0.0.1, opened in the browser, stopped cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from leadstream import desk
from leadstream.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(process: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the desk stopped before it served the app"
        try:
            url = f"http://127.0.0.1:{port}/_stcore/health"
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as `kill` or a session manager sends it: the desk passes it on and ends."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def desk_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "LEADSTREAM_HOME": str(tmp_path / "home"), **extra}
    env.pop("LEADSTREAM_KEY", None)
    return env


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A folder that is not the checkout, to start the command from."""
    folder = tmp_path / "somewhere-else"
    folder.mkdir()
    return folder


# ---------------------------------------------------------------------------- finding the app


def test_the_checkout_app_is_found() -> None:
    assert desk.app_path() == ROOT / "app.py"


def test_a_package_without_app_files_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "leadstream").mkdir()
    (tmp_path / "app.py").write_text("")  # an app.py alone is not a checkout
    with pytest.raises(desk.DeskError, match=r"pip install \."):
        desk.app_path(tmp_path / "leadstream", distribution="no-such-distribution-here")


COMMANDS = [
    # port, browser → extra flags after the fixed ones
    (None, True, []),
    (8765, True, ["--server.port", "8765"]),
    (None, False, ["--server.headless", "true"]),
    (9000, False, ["--server.port", "9000", "--server.headless", "true"]),
]


@pytest.mark.parametrize(("port", "browser", "extra"), COMMANDS)
def test_streamlit_command(port: int | None, browser: bool, extra: list[str]) -> None:
    command = desk.streamlit_command(Path("/x/app.py"), port=port, browser=browser, python="py")
    assert command[:5] == ["py", "-m", "streamlit", "run", str(Path("/x/app.py"))]
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1"  # never reachable from another computer
    assert flags["--server.showEmailPrompt"] == "false"
    assert command[-len(extra) :] == extra if extra else "--server.headless" not in flags


ARGUMENTS = [
    (["desk"], None, False),
    (["desk", "--port", "8600", "--no-browser"], 8600, True),
]


@pytest.mark.parametrize(("argv", "port", "no_browser"), ARGUMENTS)
def test_desk_arguments(argv: list[str], port: int | None, no_browser: bool) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.port, args.no_browser) == ("desk", port, no_browser)


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_wrong_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["desk", "--port", port])
    assert stopped.value.code == 2
    assert "not a port number" in capsys.readouterr().err


def test_the_app_config_opens_a_browser_and_stays_on_this_computer() -> None:
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "headless = true" not in config  # people get a browser; tests ask for headless
    assert 'address = "127.0.0.1"' in config
    assert "showEmailPrompt = false" in config


def test_the_app_config_skips_streamlits_full_collection_after_every_run() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False  # 1.4 s a click with 100,000 rows checked


# ---------------------------------------------------------------------------- serving it


def test_desk_serves_the_app_on_loopback_and_stops_cleanly(tmp_path: Path, elsewhere: Path) -> None:
    port = free_port()
    env = desk_env(tmp_path, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "leadstream", "desk", "--no-browser", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_healthy(process, port)
    finally:
        code = stop(process)
    output = process.stdout.read().decode() if process.stdout else ""
    assert code == 0, output
    assert f"http://127.0.0.1:{port}" in output
    with pytest.raises(OSError):  # the server went with it
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg-open is Linux's opener")
def test_desk_opens_the_default_browser(tmp_path: Path, elsewhere: Path) -> None:
    """Without --no-browser, the desktop's opener (xdg-open on Linux) gets the app's address.
    A stand-in xdg-open records it instead of starting a browser."""
    opener = tmp_path / "bin" / "xdg-open"
    opener.parent.mkdir()
    opened = tmp_path / "opened.txt"
    opener.write_text(f'#!/bin/sh\necho "$@" >> {opened}\n')
    opener.chmod(0o755)
    port = free_port()
    env = desk_env(
        tmp_path,
        PYTHONPATH=str(ROOT),
        PATH=f"{opener.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        DISPLAY=":99",  # a display to open on; nothing is drawn
        HOME=str(tmp_path),  # a first start: no Streamlit credentials, so no email prompt
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "leadstream", "desk", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(process, port)
        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert stop(process) == 0
    assert opened.read_text().split() == [f"http://127.0.0.1:{port}"]


# ---------------------------------------------------------------------------- the wheel


def app_files(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


# The installed app.py drawn by AppTest (its ui/ and pages/ come from the same folder).
APP_TEST = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
assert not at.exception, [e.value for e in at.exception]
print(at.title[0].value)
"""
# What a wheel is built from: everything else in the checkout (tests, tools, docs) stays out.
SOURCES = ["pyproject.toml", "README.md", "requirements.txt", "app.py", "leadstream", "pages", "ui"]


@pytest.mark.slow
def test_the_wheel_installs_a_leadstream_command_that_works_anywhere(
    tmp_path: Path, elsewhere: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "secrets.toml")
    for name in [*SOURCES, ".streamlit"]:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=skip)
        else:
            shutil.copy2(path, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", "dist", "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = (source / "dist").glob("leadstream_desk-*.whl")

    # A fresh environment that sees this interpreter's packages (streamlit, pandas…) but holds
    # its own leadstream; --system-site-packages would reach the base interpreter's instead
    # when the tests themselves run in a virtual environment.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    visible = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(site) / "_outer_packages.pth").write_text("\n".join(visible) + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(source)  # the installed copy must stand alone

    env = desk_env(tmp_path)
    env.pop("PYTHONPATH", None)
    leadstream = str(bin_dir / "leadstream")
    helped = subprocess.run(
        [leadstream, "--help"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: leadstream ")
    assert all(command in helped.stdout for command in ("send", "runs", "desk"))
    desk_help = subprocess.run(
        [leadstream, "desk", "--help"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert desk_help.returncode == 0, desk_help.stderr
    assert "--no-browser" in desk_help.stdout

    where = subprocess.run(
        [str(python), "-c", "import leadstream.desk as d; print(d.__file__); print(d.app_path())"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    package, app = Path(where[0]), Path(where[1])
    assert package.is_relative_to(venv)
    assert app.is_relative_to(venv)
    assert app.parent.parts[-2:] == desk.SHARE
    assert (app.parent / ".streamlit" / "config.toml").is_file()
    # Every file of the app's folders travels (pyproject's data-files globs name them).
    for folder in ("pages", "ui"):
        assert app_files(app.parent / folder) == app_files(ROOT / folder), folder
    assert not (Path(site) / "ui").exists()  # no generic top-level package installed
    drawn = subprocess.run(
        [str(python), "-c", APP_TEST, str(app)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert drawn.stdout.split("\n")[-2] == "Post a lead"

    port = free_port()
    process = subprocess.Popen(
        [leadstream, "desk", "--no-browser", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(process, port)
    finally:
        assert stop(process) == 0
