"""CLI commands of operations: ``check`` (the server's integrity check of the database).

Imports of the store happen inside the commands, so the verifier's CLI never loads SQLAlchemy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def check(
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    board_key: Annotated[
        Path | None,
        typer.Option("--board-key", help="the board's key file (default: the server's, in the data dir)"),
    ] = None,
    checkpoint_every: int = typer.Option(
        int(os.environ.get("SAYLAU_CHECKPOINT_EVERY", "1000")), "--checkpoint-every",
        help="the server's board checkpoint period",
    ),
) -> None:
    """Walk every election's board, ballot and device rows; name the first broken row (exit 1)."""
    from saylau.api.settings import Settings
    from saylau.board import BoardSigner
    from saylau.errors import SaylauError
    from saylau.store.engine import make_engine, make_sessionmaker
    from saylau.store.integrity import IntegrityError, check_database

    settings = Settings(board_key_file=board_key)
    path = settings.board_key_path
    if not path.exists():
        typer.echo(f"error: board key {path} not found (give --board-key)", err=True)
        raise typer.Exit(2)
    try:
        public_key = BoardSigner.from_file(path, create=False).public_key_hex
    except (SaylauError, ValueError) as exc:
        typer.echo(f"error: board key {path}: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(database_url, for_writing=False)
    try:
        with make_sessionmaker(engine)() as session:
            results = check_database(session, public_key, checkpoint_every)
    except IntegrityError as exc:
        typer.echo(f"BROKEN: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for r in results:
        typer.echo(
            f"election {r.election_id}: {r.entries} board entries, {r.checkpoints} checkpoints, "
            f"{r.ballots} ballots, {r.devices} devices: intact"
        )
    typer.echo(f"{len(results)} elections checked: intact")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("check")(check)
