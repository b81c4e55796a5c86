"""Build ElectionGuard 1.4.0's own Python 3.10 environment and run its benchmark script.

electionguard 1.4.0 does not import on Python 3.11 (a mutable dataclass default in its tally module),
so the peer gets its own virtual environment under ``benchmarks/.peer-electionguard/`` (git-ignored),
made with whatever CPython 3.10 the machine has (pyenv, or ``python3.10`` on PATH). Without one the peer
is skipped with a clear message instead of failing the whole benchmark.

Usage: python benchmarks/peer_electionguard/run.py [--ballots N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE.parent / ".peer-electionguard"
VENV = PEER_DIR / "venv"
SCRIPT = HERE / "eg_peer.py"
REQUIREMENTS = ["electionguard==1.4.0", "hypothesis"]  # electionguard_tools imports hypothesis

__all__ = ["ensure_peer_venv", "find_python310", "run_peer"]


def find_python310() -> Path | None:
    """A CPython 3.10 interpreter: pyenv's versions first, then ``python3.10`` on PATH."""
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    for root in roots:
        if not root:
            continue
        versions = Path(root) / "versions"
        if versions.is_dir():
            for v in sorted(versions.glob("3.10*"), reverse=True):
                exe = v / "bin" / "python3.10"
                if exe.exists():
                    return exe
    found = shutil.which("python3.10")
    return Path(found) if found else None


def ensure_peer_venv(quiet: bool = True) -> Path:
    """Create the peer's venv (once) and return its python; raises RuntimeError when no 3.10 exists."""
    py = VENV / "bin" / "python"
    stamp = VENV / ".installed-eg-1.4.0"
    if py.exists() and stamp.exists():
        return py
    base = find_python310()
    if base is None:
        raise RuntimeError("no CPython 3.10 (pyenv or python3.10 on PATH); electionguard 1.4.0 needs it")
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        subprocess.run([str(base), "-m", "venv", str(VENV)], check=True)
    pip = [str(py), "-m", "pip", "install", *(["--quiet"] if quiet else []), *REQUIREMENTS]
    subprocess.run(pip, check=True, stdout=subprocess.DEVNULL if quiet else None)
    stamp.write_text("ok\n")
    return py


def run_peer(ballots: int = 20, as_shipped: bool = False) -> dict[str, Any]:
    """Run the peer benchmark; returns its figures, or ``{"skipped": reason}`` when it cannot run."""
    try:
        py = ensure_peer_venv()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        return {"skipped": f"ElectionGuard peer skipped: {exc}"}
    cmd = [str(py), str(SCRIPT), "--ballots", str(ballots), *(["--as-shipped"] if as_shipped else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"skipped": f"ElectionGuard peer failed (exit {proc.returncode}): {proc.stderr[-2000:]}"}
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    figures: dict[str, Any] = json.loads(last)
    figures["base_interpreter"] = str(find_python310())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=20)
    parser.add_argument("--as-shipped", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run_peer(args.ballots, args.as_shipped), indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
