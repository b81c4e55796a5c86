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
    from saylau.store.passwords import check_password

    password = os.environ.get("SAYLAU_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    try:
        check_password(password, username)  # before touching the database
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with make_sessionmaker(engine).begin() as session:
            user = create_user(session, username, password, role, election_id, station_id, guardian_index)
            typer.echo(f"user {user.username} ({user.role}) created")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="directory of the server's key files, created 0700 "
            "(default: $SAYLAU_DATA_DIR, $XDG_DATA_HOME/saylau or ~/.local/share/saylau)",
        ),
    ] = None,
    board_key: Annotated[
        Path | None,
        typer.Option(
            "--board-key", help="Ed25519 key file of the board (made if missing; default: in the data dir)"
        ),
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
    max_cast_requests: int = typer.Option(
        256, "--max-cast-requests", help="cast requests served at once; more are refused (503); 0: none"
    ),
    max_verify_queue: int = typer.Option(
        2048, "--max-verify-queue", help="ballots waiting for verification; more are refused (503); 0: none"
    ),
    skip_integrity_check: bool = typer.Option(
        False,
        "--skip-integrity-check",
        help="start without checking the database first (only when the check takes too long: run "
        "`saylau check` beside the server instead)",
    ),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run the saylau web server (FastAPI on uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    from saylau.store.engine import database_url as resolve_url
    from saylau.store.engine import make_engine
    from saylau.store.migrate import upgrade

    url = resolve_url(database_url)
    os.environ["SAYLAU_DATABASE_URL"] = url
    if data_dir is not None:
        os.environ["SAYLAU_DATA_DIR"] = str(data_dir.resolve())
    if board_key is not None:
        os.environ["SAYLAU_BOARD_KEY"] = str(board_key.resolve())
    if revote_key is not None:
        os.environ["SAYLAU_REVOTE_KEY"] = str(revote_key.resolve())
    _refuse_keys_left_behind()
    os.environ["SAYLAU_JOB_WORKERS"] = str(job_workers)
    os.environ["SAYLAU_CHECKPOINT_EVERY"] = str(checkpoint_every)
    os.environ["SAYLAU_VERIFY_PROCESSES"] = str(verify_processes)
    os.environ["SAYLAU_MAX_CAST_REQUESTS"] = str(max_cast_requests)
    os.environ["SAYLAU_MAX_VERIFY_QUEUE"] = str(max_verify_queue)
    engine = make_engine(url)
    upgrade(engine)  # once, before the worker processes start
    engine.dispose()
    from saylau.api.factory import settings_from_env
    from saylau.api.state import load_board_signer, load_pseudonym_key, load_revote_key
    from saylau.errors import SaylauError

    settings = settings_from_env()
    try:  # every key created once here, before the worker processes start; each refused if not private
        signer = load_board_signer(settings.board_key_path)
        load_revote_key(settings.revote_key_path)
        load_pseudonym_key(settings.pseudonym_key_path)
    except (SaylauError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    os.environ["SAYLAU_BOARD_KEY"] = str(settings.board_key_path.resolve())  # the workers load these
    os.environ["SAYLAU_REVOTE_KEY"] = str(settings.revote_key_path.resolve())
    os.environ["SAYLAU_PSEUDONYM_KEY"] = str(settings.pseudonym_key_path.resolve())
    typer.echo(f"board key {settings.board_key_path}: public key {signer.public_key_hex}")
    if skip_integrity_check:
        typer.echo("integrity check of the database: skipped (--skip-integrity-check)")
    else:
        _startup_check(url, signer.public_key_hex, checkpoint_every)
    typer.echo(f"revote key {settings.revote_key_path}, voter-pseudonym key {settings.pseudonym_key_path}: "
               "loaded (secret; never printed)")
    uvicorn.run(
        "saylau.api.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def _startup_check(url: str, public_key: str, checkpoint_every: int) -> None:
    """Run ``saylau check`` on the database before serving; refuse to start on a broken row (exit 1).

    A server that appended to a tampered board would sign checkpoints over the tampering. The check
    reads every board entry and ballot row once (hashes, no proofs): about 1 s per 10,000 ballots here
    (docs/api.md, "Start-up integrity check").
    """
    import time

    from saylau.store.engine import make_engine, make_sessionmaker
    from saylau.store.integrity import IntegrityError, check_database

    engine = make_engine(url, for_writing=False)
    started = time.perf_counter()
    try:
        with make_sessionmaker(engine)() as session:
            results = check_database(session, public_key, checkpoint_every)
    except IntegrityError as exc:
        typer.echo(
            f"error: the database failed its integrity check, not serving: {exc} (see `saylau check`; "
            "--skip-integrity-check starts anyway)",
            err=True,
        )
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    ballots = sum(r.ballots for r in results)
    entries = sum(r.entries for r in results)
    typer.echo(
        f"integrity check of the database: {len(results)} elections, {entries} board entries, {ballots} "
        f"ballots intact ({time.perf_counter() - started:.2f} s)"
    )


def _refuse_keys_left_behind() -> None:
    """Refuse to start with fresh keys while the old ones sit in the working directory.

    Before the data directory, the server wrote ``saylau-board.pem`` (and ``saylau-revote.key``) into
    whatever directory it started in. Starting such a server now would silently make new keys in the
    data directory: a board signed by another key, and revote tags returning voters do not match.
    """
    from saylau.api.settings import BOARD_KEY_NAME, default_data_dir

    if os.environ.get("SAYLAU_BOARD_KEY"):
        return
    data = default_data_dir()
    old, new = Path.cwd() / BOARD_KEY_NAME, data / BOARD_KEY_NAME
    if old.exists() and not new.exists() and old.resolve() != new.resolve():
        typer.echo(
            f"error: {old} is a board key where earlier versions kept it, and the data directory {data} has "
            f"none: move the key files (saylau-board.pem, saylau-revote.key) into {data} (mode 0600), or "
            f"pass --board-key {old}",
            err=True,
        )
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
