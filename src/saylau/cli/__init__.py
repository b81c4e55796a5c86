"""The ``saylau`` command line: one typer application, commands registered by area.

Each area's module exposes ``register(app)`` so that the modules stay small and each
keeps its own imports (the verifier never imports the server).
"""

from __future__ import annotations

import typer

from saylau.cli import admin, audit, core, forensics, ops, server

__all__ = ["app", "main"]

app = typer.Typer(
    name="saylau",
    help="Run a national presidential election end to end and let anyone verify it.",
    no_args_is_help=True,
    add_completion=False,
)

for _area in (core, admin, forensics, server, audit, ops):
    _area.register(app)


def main() -> None:
    """Entry point of the ``saylau`` console script."""
    app()
