"""The package's shape: import-linter's contracts from pyproject.toml, and an honest `__all__`."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import leadstream

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]


def _module_exists(package_root: Path, module: str) -> bool:
    """Whether `module` (dotted, e.g. leadstream.deliver.client) is a file or a package under
    the root."""
    path = package_root.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _missing_modules(package_root: Path) -> list[str]:
    return [
        module
        for contract in CONTRACTS["contracts"]
        for key in ("source_modules", "forbidden_modules")
        for module in contract.get(key, [])
        if module.startswith("leadstream") and not _module_exists(package_root, module)
    ]


def _config_for(package_root: Path, directory: Path) -> Path:
    """pyproject.toml's contracts as a config file, leaving out modules not written yet (nothing
    can import a module that does not exist, so those parts of a contract hold trivially)."""
    lines = [
        "[tool.importlinter]",
        f"root_package = {json.dumps(CONTRACTS['root_package'])}",
        # `streamlit` is a forbidden module outside the package; import-linter needs this to
        # follow imports into it.
        "include_external_packages = true",
    ]
    for contract in CONTRACTS["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        for key, value in contract.items():
            if key in ("source_modules", "forbidden_modules"):
                value = [
                    module
                    for module in value
                    if not module.startswith("leadstream") or _module_exists(package_root, module)
                ]
            lines.append(f"{key} = {json.dumps(value)}")
    config = directory / "importlinter.toml"
    config.write_text("\n".join(lines) + "\n", "utf-8")
    return config


def _lint_imports(config: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("lint-imports")
    if executable is None:
        pytest.fail("lint-imports is missing: pip install -r requirements-dev.txt")
    args = [executable, "--no-logo", "--no-cache"]
    if config is not None:
        args.append(str(config))
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_pyproject_declares_both_contracts() -> None:
    contracts = {contract["name"]: contract for contract in CONTRACTS["contracts"]}
    assert contracts["The core never imports streamlit"]["forbidden_modules"] == ["streamlit"]
    pure = contracts["Pure modules never import the I/O modules"]
    assert {"leadstream.protocol", "leadstream.prepare"} <= set(pure["source_modules"])
    assert {"leadstream.deliver.client", "leadstream.sandbox", "leadstream.deliver.journal"} <= set(
        pure["forbidden_modules"]
    )
    layers = contracts["Layers: the faces over deliver over prepare over protocol"]
    # `words` (what the app says to people) sits under everything and imports nothing.
    assert layers["layers"][-3:] == ["prepare", "protocol", "words"]


def test_the_package_keeps_its_contracts(tmp_path: Path) -> None:
    run = _lint_imports(_config_for(ROOT, tmp_path), ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_lint_imports_runs_as_ci_runs_it() -> None:
    missing = _missing_modules(ROOT)
    if missing:
        pytest.skip(f"the contracts name modules not written yet: {', '.join(missing)}")
    run = _lint_imports(None, ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("protocol/query.py", "import streamlit", "The core never imports streamlit"),
        ("protocol/response.py", "from leadstream.deliver import client", "Pure modules never"),
        ("prepare/legend.py", "from leadstream.deliver import engine", "Layers: the faces"),
        ("deliver/runner.py", "from leadstream.sandbox import rules", "Layers: the faces"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    # A copy of the package with one bad import shows the contracts can fail.
    copy = tmp_path / "leadstream"
    shutil.copytree(ROOT / "leadstream", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text("utf-8") + f"\n{line}  # noqa\n", "utf-8")
    run = _lint_imports(_config_for(tmp_path, tmp_path), tmp_path)
    assert run.returncode != 0
    assert re.search(rf"{re.escape(contract)}.* BROKEN", run.stdout), run.stdout


def _ruff_sort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize(
    "module",
    [
        "leadstream",
        "leadstream.protocol.lead",
        "leadstream.protocol.query",
        "leadstream.protocol.response",
    ],
)
def test_all_is_sorted_and_importable(module: str) -> None:
    imported = importlib.import_module(module)
    names = imported.__all__
    assert names == sorted(names, key=_ruff_sort_key)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(imported, name), f"{module}.{name} is in __all__ but not importable"


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from leadstream import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(
        leadstream.__all__
    )


def test_the_core_does_not_load_streamlit() -> None:
    # The contracts read the source; this checks what importing the package really loads.
    code = "import sys, leadstream, leadstream.protocol.query, leadstream.protocol.response; "
    code += "print('streamlit' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.stdout.strip() == "False", run.stderr
