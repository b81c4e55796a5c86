"""CLI commands of the server area: ``serve``, ``db upgrade``, ``user add``.

Imports of the server stack happen inside the commands, so the verifier's CLI never loads FastAPI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
user_app = typer.Typer(help="Logins of the server.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    revision: str = typer.Option("head", help="target revision"),
) -> None:
    """Migrate the database to the latest schema."""
    from saylau.store.engine import make_engine
    from saylau.store.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine, revision)
    typer.echo(f"database {engine.url.render_as_string(hide_password=True)} at revision {revision}")
    engine.dispose()


@user_app.command("add")
def user_add(
    username: str = typer.Argument(...),
    role: str = typer.Option(..., help="cec, station, guardian, pollster or observer"),
    election_id: str = typer.Option(None, "--election"),
    station_id: str = typer.Option(None, "--station"),
    guardian_index: int = typer.Option(None, "--guardian-index"),
    database_url: str = typer.Option(None, "--database-url"),
) -> None:
    """Add a login; the password is read from $SAYLAU_PASSWORD or prompted for."""
    from saylau.store.accounts import create_user
    from saylau.store.engine import make_engine, make_sessionmaker
    from saylau.store.migrate import upgrade

    password = os.environ.get("SAYLAU_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    engine = make_engine(database_url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        user = create_user(session, username, password, role, election_id, station_id, guardian_index)
        typer.echo(f"user {user.username} ({user.role}) created")
    engine.dispose()


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    board_key: Annotated[
        Path | None, typer.Option("--board-key", help="Ed25519 key file of the board (created if missing)")
    ] = None,
    revote_key: Annotated[
        Path | None,
        typer.Option(
            "--revote-key", help="secret key of revote tags (made if missing; default: beside the board key)"
        ),
    ] = None,
    workers: int = typer.Option(
        1, help="uvicorn worker processes (1 keeps one board writer; verification has its own pool)"
    ),
    verify_processes: int = typer.Option(
        os.cpu_count() or 1, "--verify-processes", help="processes that verify ballot proofs"
    ),
    job_workers: int = typer.Option(2, "--job-workers", help="job threads per process"),
    checkpoint_every: int = typer.Option(1000, "--checkpoint-every", help="board checkpoint period"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run the saylau web server (FastAPI on uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    from saylau.store.engine import database_url as resolve_url
    from saylau.store.engine import make_engine
    from saylau.store.migrate import upgrade

    url = resolve_url(database_url)
    os.environ["SAYLAU_DATABASE_URL"] = url
    if board_key is not None:
        os.environ["SAYLAU_BOARD_KEY"] = str(board_key)
    if revote_key is not None:
        os.environ["SAYLAU_REVOTE_KEY"] = str(revote_key)
    os.environ["SAYLAU_JOB_WORKERS"] = str(job_workers)
    os.environ["SAYLAU_CHECKPOINT_EVERY"] = str(checkpoint_every)
    os.environ["SAYLAU_VERIFY_PROCESSES"] = str(verify_processes)
    engine = make_engine(url)
    upgrade(engine)  # once, before the worker processes start
    engine.dispose()
    from saylau.board import BoardSigner

    key_file = Path(os.environ.get("SAYLAU_BOARD_KEY", "saylau-board.pem"))
    typer.echo(f"board key {key_file}: public key {BoardSigner.from_file(key_file).public_key_hex}")
    from saylau.api.settings import revote_key_path
    from saylau.api.state import load_revote_key

    revote_file = revote_key_path(None, key_file)
    os.environ["SAYLAU_REVOTE_KEY"] = str(revote_file)  # the worker processes load this one
    load_revote_key(revote_file)  # created once here, before the worker processes start
    typer.echo(f"revote key {revote_file}: loaded (secret; never printed)")
    uvicorn.run(
        "saylau.api.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
