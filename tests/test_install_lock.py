"""The lock files cover pyproject.toml: every dependency pinned with hashes (`make lock` regenerates them).

A dependency added to pyproject.toml without regenerating the lock fails here (and in `make venv`).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_lock = _checker()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def test_the_committed_lock_covers_pyproject() -> None:
    assert check_lock.problems(ROOT) == []


def _add_after(project: Path, line: str, new: str) -> None:
    toml = project / "pyproject.toml"
    text = toml.read_text(encoding="utf-8")
    assert f"    {line}\n" in text
    toml.write_text(text.replace(f"    {line}\n", f"    {line}\n    {new}\n", 1), "utf-8")


def test_a_new_dependency_without_a_new_lock_fails(project: Path) -> None:
    _add_after(project, '"numpy>=1.26",', '"left-pad>=1",')
    found = check_lock.problems(project)
    assert any("dev.lock: left-pad>=1" in p and "make lock" in p for p in found), found
    assert any("core.lock: left-pad>=1" in p for p in found), found


def test_a_new_dev_tool_without_a_new_lock_fails(project: Path) -> None:
    _add_after(project, '"pytest>=8",', '"tox>=4",')
    found = check_lock.problems(project)
    assert found == ["dev.lock: tox>=4 (pyproject.toml) is not in the lock: run `make lock`"]


def test_a_pin_outside_the_specifier_or_without_hash_fails(project: Path) -> None:
    lock = project / "requirements" / "dev.lock"
    text = lock.read_text(encoding="utf-8")
    text = re.sub(r"^ruff==\S+", "ruff==0.0.1", text, count=1, flags=re.M)
    hashes = r"^(mypy==\S+) \\\n(    --hash=\S+ \\\n)*    --hash=\S+\n"
    text = re.sub(hashes, r"\1\n", text, count=1, flags=re.M)
    lock.write_text(text, encoding="utf-8")
    found = check_lock.problems(project)
    assert any("ruff==0.0.1 does not satisfy ruff==" in p for p in found), found
    assert "dev.lock: mypy is pinned without a hash" in found, found


def test_linters_are_pinned_exactly_in_pyproject() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]["dev"]
    pins = {r.split("==")[0] for r in dev if "==" in r}
    assert {"ruff", "mypy", "import-linter"} <= pins, dev


def test_the_core_lock_has_no_server_or_forensics_package() -> None:
    pins, unhashed = check_lock.read_lock(ROOT / "requirements" / "core.lock")
    assert unhashed == []
    assert not {"fastapi", "sqlalchemy", "uvicorn", "scipy", "matplotlib", "jinja2", "babel"} & set(pins)
    assert {"coincurve", "rfc8785", "pydantic", "typer", "rich", "cryptography", "numpy"} <= set(pins)
