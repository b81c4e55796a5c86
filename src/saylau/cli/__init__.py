"""The ``saylau`` command line: one typer application, commands registered by area.

Each area's module exposes ``register(app)`` so that the modules stay small and each
keeps its own imports (the verifier never imports the server): ``pip install saylau`` runs
``saylau verify``; a command whose extra is missing says which one to install.

:func:`main` is the one place where failures are reported (:mod:`saylau.cli.failures`): a user's
mistake is one line and a non-zero exit, a bug shows its traceback; ``--debug`` or
``SAYLAU_DEBUG=1`` shows the traceback of every error.
"""

from __future__ import annotations

import sys

import typer

from saylau.cli import admin, audit, backup, core, forensics, manifest, ops, server
from saylau.cli.failures import report

__all__ = ["app", "main"]

app = typer.Typer(
    name="saylau",
    help="Run a national presidential election end to end and let anyone verify it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main() reports errors; typer's would print local variables (secrets)
)


@app.callback()
def _options(
    debug: bool = typer.Option(
        False, "--debug", help="print the traceback of every error (also SAYLAU_DEBUG=1)"
    ),
) -> None:
    """Run a national presidential election end to end and let anyone verify it."""
    # ``--debug`` is read from the arguments by main()'s handler (saylau.cli.failures.debug_enabled).


for _area in (core, admin, forensics, server, audit, ops, backup, manifest):
    _area.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``saylau`` console script: run a command, report its failure in one line."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="saylau")
    except (Exception, KeyboardInterrupt) as exc:
        sys.exit(report(exc, args))
