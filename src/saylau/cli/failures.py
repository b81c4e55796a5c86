"""How the command line reports a failure: one line for a user's mistake, a traceback for a bug.

A user's mistake (a missing file, a scenario that does not exist, a short password, an existing user, a
database that cannot be reached, an extra that is not installed) ends the command with a one-line
``error: …`` on stderr and a non-zero exit code, never a Python traceback. Anything else is a bug in
saylau: its traceback is printed, followed by a line saying so. ``--debug`` (or ``SAYLAU_DEBUG=1``)
prints the traceback of a user's mistake too.

Exit codes: 1 for a refused or failed operation, 2 for a usage error (click's), 3 for a missing extra,
70 for a bug (``EX_SOFTWARE``), 130 for Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import traceback

__all__ = ["EXTRA_OF_COMMAND", "EXTRA_OF_MODULE", "debug_enabled", "describe", "missing_extra", "report"]

EXTRA_OF_MODULE: dict[str, str] = {
    **dict.fromkeys(
        ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg", "argon2",
         "multipart", "python_multipart", "babel"),
        "server",
    ),
    **dict.fromkeys(("scipy", "matplotlib", "jinja2"), "forensics"),
    **dict.fromkeys(("distributed", "dask"), "scale"),
    "httpx": "staff",
}
"""Top-level modules an optional extra brings (pyproject's ``[project.optional-dependencies]``)."""

EXTRA_OF_COMMAND: dict[str, str] = {
    **dict.fromkeys(("serve", "db", "user", "check", "backup", "restore"), "server"),
    **dict.fromkeys(("demo", "simulate", "results", "forensics", "exitpoll", "audit"), "forensics"),
    **dict.fromkeys(("guardian", "protocol"), "staff"),
}
"""The extra each command needs beyond the verifier's core (``verify`` needs none)."""

EXIT_FAILED, EXIT_MISSING_EXTRA, EXIT_BUG, EXIT_INTERRUPTED = 1, 3, 70, 130


def debug_enabled(argv: list[str]) -> bool:
    """Whether tracebacks of user mistakes are wanted (``--debug`` or ``SAYLAU_DEBUG=1``)."""
    return "--debug" in argv or os.environ.get("SAYLAU_DEBUG", "") not in ("", "0")


def _command(argv: list[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "")


def missing_extra(exc: ModuleNotFoundError, argv: list[str]) -> str | None:
    """The one-line message for a command whose extra is not installed, or None if not an extra's module."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    command = _command(argv)
    if extra != "scale":  # a Dask option asks for the scale extra, whatever the command
        extra = EXTRA_OF_COMMAND.get(command, extra)
    what = f"saylau {command}" if command else "saylau"
    return f"{what} needs the {extra} extra ({top} is not installed): pip install 'saylau[{extra}]'"


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _database_error(exc: BaseException) -> str | None:
    """A message for SQLAlchemy's errors of a database that cannot be reached or a bad URL."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return None
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return f"cannot use the database: {_first_line(str(exc.orig)) or _first_line(str(exc))}"
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return f"bad database URL: {_first_line(str(exc))}"
    return None


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or _first_line(str(exc)) or type(exc).__name__
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return reason


def describe(exc: BaseException, argv: list[str]) -> tuple[str, int] | None:
    """The one-line message and exit code of a user's mistake, or None for a bug."""
    from saylau.errors import SaylauError

    if isinstance(exc, ModuleNotFoundError):
        message = missing_extra(exc, argv)
        return (message, EXIT_MISSING_EXTRA) if message else None
    database = _database_error(exc)
    if database is not None:
        return f"error: {database}", EXIT_FAILED
    if isinstance(exc, SaylauError):
        return f"error: {_first_line(str(exc))}", EXIT_FAILED
    if isinstance(exc, OSError):
        return f"error: {_os_error(exc)}", EXIT_FAILED
    if isinstance(exc, ValueError):  # validation of the user's input (pydantic's ValidationError too)
        return f"error: {_first_line(str(exc))}", EXIT_FAILED
    return None


def report(exc: BaseException, argv: list[str]) -> int:
    """Print ``exc`` the way the command line does, and return the exit code."""
    if isinstance(exc, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    known = describe(exc, argv)
    if known is None:
        traceback.print_exception(exc)
        print(
            f"saylau: internal error ({type(exc).__name__}): this is a bug in saylau, not a mistake of "
            "yours; please report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_BUG
    message, code = known
    if debug_enabled(argv):
        traceback.print_exception(exc)
    print(message, file=sys.stderr)
    return code
