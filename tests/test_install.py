"""`pip install saylau` gives the verifier without the server's or forensics' packages.

The fast tests run Python with a meta-path hook that refuses every package of the extras (as if they were
not installed): the core modules import, ``saylau --help`` and ``saylau verify`` work, and a command whose
extra is missing says which extra to install, in one line. The slow test builds the wheel and installs it
into a fresh virtual environment from requirements/core.lock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from saylau.record.demo import DemoResult, run_demo
from saylau.sim.pilot import pilot_election

ROOT = Path(__file__).resolve().parents[1]
EXTRAS_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg", "argon2", "multipart",
    "python_multipart", "babel", "httpx", "scipy", "matplotlib", "jinja2",
)
CORE_MODULES = (
    "saylau.crypto", "saylau.crypto.hazmat.group", "saylau.record.verifier", "saylau.record.reader",
    "saylau.record.format", "saylau.election.manifest", "saylau.election.scenario", "saylau.board",
    "saylau.errors", "saylau.cli",
)

# Refuses the extras' packages the way a missing package is refused (ModuleNotFoundError with its name).
BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {EXTRAS_PACKAGES!r}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, Refuse())
"""


def run_blocked(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SAYLAU_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code, *args],
        check=False, capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def run_cli_blocked(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_blocked("import sys; from saylau.cli import main; main(sys.argv[1:])", *argv, cwd=cwd)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("install") / "record"
    pilot = pilot_election(stations=2, ballots=8, seed=3)
    return run_demo(
        out, pilot.manifest, pilot.plan, guardians=3, quorum=2, missing=1, challenge_rate=0.2,
        remote_rate=0.5, revote_rate=0.3, seed=3, workers=1, registered=pilot.registered,
    )


def test_the_blocker_blocks() -> None:
    r = run_blocked("import fastapi")
    assert r.returncode != 0 and "blocked by the test" in r.stderr


def test_core_modules_import_without_the_extras() -> None:
    code = "import importlib, sys\n" + "\n".join(f"importlib.import_module({m!r})" for m in CORE_MODULES)
    code += f"\nloaded = sorted(m for m in sys.modules if m.split('.')[0] in {EXTRAS_PACKAGES!r})"
    code += "\nassert not loaded, loaded\nprint('ok')"
    r = run_blocked(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_help_and_verify_run_without_the_extras(record: DemoResult) -> None:
    r = run_cli_blocked("--help")
    assert r.returncode == 0 and "verify" in r.stdout, r.stderr
    r = run_cli_blocked("verify", str(record.out_dir), "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"record verified; record hash {record.record_hash.hex()}" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["serve"], "server"),
        (["db", "upgrade"], "server"),
        (["user", "add", "bob", "--role", "cec"], "server"),
        (["demo", "--out", "d"], "forensics"),
        (["simulate", "kz-2022", "--paper", "--out", "s"], "forensics"),
        (["forensics", "x.csv", "--out", "f"], "forensics"),
    ],
    ids=["serve", "db-upgrade", "user-add", "demo", "simulate", "forensics"],
)
def test_a_missing_extra_is_named_in_one_line(tmp_path: Path, argv: list[str], extra: str) -> None:
    r = run_cli_blocked(*argv, cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"saylau {argv[0]} needs the {extra} extra")
    assert lines[0].endswith(f"pip install 'saylau[{extra}]'")


def _wheel(tmp_path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
         str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("saylau-*.whl")
    return wheel


@pytest.mark.slow
def test_the_wheel_installs_alone_and_verifies(tmp_path: Path, record: DemoResult) -> None:
    """Build the wheel, install it with the core lock only, run `saylau verify` and `saylau --help`."""
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"saylau/scenarios/kz-2022/scenario.toml", "saylau/scenarios/kz-2022/stations.csv",
            "saylau/scenarios/kz-2022/districts.csv"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[-10:]
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--require-hashes", "-r", str(ROOT / "requirements" / "core.lock")],
                   check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True, check=True)
    installed = {line.split("==")[0].lower() for line in freeze.stdout.splitlines()}
    assert not {"fastapi", "sqlalchemy", "scipy", "matplotlib", "jinja2"} & installed, installed
    saylau = env_dir / "bin" / "saylau"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["COLUMNS"] = "200"

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
        )

    r = run(str(saylau), "--help")
    assert r.returncode == 0 and "verify" in r.stdout, r.stderr
    copy = tmp_path / "record"
    shutil.copytree(record.out_dir, copy)
    r = run(str(saylau), "verify", str(copy), "--quiet")
    assert r.returncode == 0 and "record verified" in r.stdout, r.stdout + r.stderr
    r = run(str(saylau), "serve")
    assert r.returncode == 3 and "pip install 'saylau[server]'" in r.stderr, r.stderr
    where = run(str(py), "-c", "from saylau.election.scenario import resolve_scenario; "
                "print(resolve_scenario('kz-2022'))")
    assert where.returncode == 0 and str(env_dir) in where.stdout, where.stderr
    assert json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
