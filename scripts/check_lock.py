"""Check that the lock files cover pyproject.toml's dependencies: run by `make venv` and the tests.

requirements/dev.lock must pin, with hashes, a version of every dependency of the core and of every extra
(dev included) that satisfies pyproject's specifier; requirements/core.lock the same for the core alone
(what `pip install saylau` brings). A dependency added to pyproject.toml without `make lock` fails here.

Usage: python scripts/check_lock.py [ROOT]   (exit 1 and one line per problem)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;]+)")


def read_lock(path: Path) -> tuple[dict[str, Version], list[str]]:
    """The pinned versions of a lock file, and the names pinned without a hash."""
    pins: dict[str, Version] = {}
    unhashed: list[str] = []
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            if current is not None:
                unhashed.append(current)
            current = canonicalize_name(m.group(1))
            pins[current] = Version(m.group(2))
        elif current is not None and line.strip().startswith("--hash=sha256:"):
            current = None
    if current is not None:
        unhashed.append(current)
    return pins, unhashed


def requirements(project: dict[str, object], extras: list[str]) -> list[Requirement]:
    """The requirements of the core and the given extras, self-references (saylau[...]) expanded."""
    name = canonicalize_name(str(project["name"]))
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})  # type: ignore[assignment]
    out: list[Requirement] = [Requirement(r) for r in project["dependencies"]]  # type: ignore[attr-defined]
    seen: set[str] = set()
    todo = list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for spec in optional[extra]:
            req = Requirement(spec)
            if canonicalize_name(req.name) == name:
                todo.extend(req.extras)
            else:
                out.append(req)
    return out


def problems(root: Path) -> list[str]:
    """Every way the lock files fail to cover pyproject.toml (empty when they do)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    all_extras = list(project.get("optional-dependencies", {}))
    found: list[str] = []
    for lock, extras in (("dev.lock", all_extras), ("core.lock", [])):
        path = root / "requirements" / lock
        if not path.is_file():
            return [f"{path} is missing: run `make lock`"]
        pins, unhashed = read_lock(path)
        found += [f"{path.name}: {n} is pinned without a hash" for n in unhashed]
        for req in requirements(project, extras):
            if req.marker is not None and not req.marker.evaluate({"python_version": "3.11"}):
                continue
            key = canonicalize_name(req.name)
            if key not in pins:
                found.append(f"{path.name}: {req} (pyproject.toml) is not in the lock: run `make lock`")
            elif not req.specifier.contains(pins[key], prereleases=True):
                found.append(f"{path.name}: {key}=={pins[key]} does not satisfy {req}: run `make lock`")
    return found


def main() -> int:
    """Print each problem on a line; exit 1 if there is any."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    found = problems(root)
    for line in found:
        print(f"lock: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
