"""CLI commands ``backup`` and ``restore`` (docs/operations.md).

``saylau backup`` writes every table to a versioned, hashed archive (``saylau.store.backup``) and its
SHA-256 beside it (``FILE.sha256``). The server's key files are *not* in the archive: they are secrets,
backed up separately by the operator; the archive records their fingerprints, and ``saylau restore``
refuses to restore beside keys that do not match them (a board signed by another key, revote tags and
voter pseudonyms that no longer match the restored voters). After a restore, ``saylau check`` runs.

Imports of the store happen inside the commands, so the verifier's CLI never loads SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from saylau.api.settings import Settings

__all__ = ["key_fingerprints", "register"]

FINGERPRINT_TAG = b"saylau backup key fingerprint\x00"

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="the server's key directory (default: as `saylau serve` finds it)"),
]
BoardKey = Annotated[Path | None, typer.Option("--board-key", help="the board's key file")]
RevoteKey = Annotated[Path | None, typer.Option("--revote-key", help="the revote key file")]
PseudonymKey = Annotated[Path | None, typer.Option("--pseudonym-key", help="the voter-pseudonym key file")]


def _settings(
    data_dir: Path | None, board: Path | None, revote: Path | None, pseudonym: Path | None
) -> Settings:
    from saylau.api.settings import Settings, default_data_dir

    return Settings(
        data_dir=data_dir if data_dir is not None else default_data_dir(),
        board_key_file=board,
        revote_key_file=revote,
        pseudonym_key_file=pseudonym,
    )


def _secret_fingerprint(name: str, key: bytes) -> str:
    return hashlib.sha256(FINGERPRINT_TAG + name.encode() + b"\x00" + key).hexdigest()


def key_fingerprints(settings: Settings, required: bool) -> dict[str, str]:
    """Fingerprints of the key files that exist: the board's public key, SHA-256 of the two secrets.

    ``required``: a missing key file is an error (restore); otherwise it is left out (backup).
    """
    from saylau.api.state import load_pseudonym_key, load_revote_key
    from saylau.board import BoardSigner
    from saylau.errors import SaylauError

    found: dict[str, str] = {}
    board = settings.board_key_path
    if board.exists() or required:
        if not board.exists():
            raise SaylauError(f"board key file {board}: does not exist")
        try:
            found["board_public_key"] = BoardSigner.from_file(board, create=False).public_key_hex
        except ValueError as exc:
            raise SaylauError(f"board key file {board}: {exc}") from None
    for name, path, load in (
        ("revote_key", settings.revote_key_path, load_revote_key),
        ("pseudonym_key", settings.pseudonym_key_path, load_pseudonym_key),
    ):
        if path.exists() or required:
            found[name] = _secret_fingerprint(name, load(path, create=False))
    return found


def backup(
    out: Annotated[Path, typer.Option("--out", help="the archive to write (a .tar.gz)")],
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    data_dir: DataDir = None,
    board_key: BoardKey = None,
    revote_key: RevoteKey = None,
    pseudonym_key: PseudonymKey = None,
) -> None:
    """Write every table of the database to a hashed archive (key files: back them up separately)."""
    from rich.console import Console
    from rich.progress import Progress

    from saylau.store.backup import file_sha256, write_backup
    from saylau.store.engine import make_engine

    console = Console(stderr=True)
    keys = key_fingerprints(_settings(data_dir, board_key, revote_key, pseudonym_key), required=False)
    engine = make_engine(database_url, for_writing=False)
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("backing up", total=None)
            manifest = write_backup(
                engine, out, keys,
                progress=lambda table, n: bar.update(task, advance=n, description=f"backing up {table}"),
            )
    finally:
        engine.dispose()
    digest = file_sha256(out)
    sidecar = out.with_name(out.name + ".sha256")
    sidecar.write_text(f"{digest}  {out.name}\n", encoding="ascii")
    rows = sum(t.rows for t in manifest.tables)
    typer.echo(f"{out}: {len(manifest.tables)} tables, {rows} rows, schema {manifest.schema_revision}")
    typer.echo(f"sha256 {digest} (also in {sidecar.name})")
    missing = {"board_public_key", "revote_key", "pseudonym_key"} - keys.keys()
    if missing:
        typer.echo(f"warning: no key file found for {', '.join(sorted(missing))}; give --data-dir", err=True)
    typer.echo("the key files are not in the archive: keep a copy of the data directory's keys apart")


def _expected_sha256(archive: Path, given: str | None) -> str | None:
    from saylau.store.backup import BackupError

    if given is not None:
        return given.strip().lower()
    sidecar = archive.with_name(archive.name + ".sha256")
    if not sidecar.exists():
        return None
    fields = sidecar.read_text(encoding="ascii", errors="replace").split()
    if not fields:
        raise BackupError(f"{sidecar}: empty")
    return fields[0].lower()


def restore(
    archive: Annotated[Path, typer.Argument(help="an archive written by `saylau backup`")],
    database_url: str = typer.Option(None, "--database-url", help="default: $SAYLAU_DATABASE_URL or sqlite"),
    replace: bool = typer.Option(False, "--replace", help="delete what the target database holds first"),
    sha256: str = typer.Option(None, "--sha256", help="the archive's SHA-256 (default: from FILE.sha256)"),
    data_dir: DataDir = None,
    board_key: BoardKey = None,
    revote_key: RevoteKey = None,
    pseudonym_key: PseudonymKey = None,
    checkpoint_every: int = typer.Option(
        int(os.environ.get("SAYLAU_CHECKPOINT_EVERY", "1000")), "--checkpoint-every",
        help="the server's board checkpoint period (for the check after the restore)",
    ),
) -> None:
    """Restore a backup into an empty database, beside the matching key files; then run `saylau check`."""
    from rich.console import Console
    from rich.progress import Progress

    from saylau.cli.ops import check
    from saylau.store.backup import BackupError, file_sha256, read_manifest, restore_database
    from saylau.store.engine import make_engine

    console = Console(stderr=True)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    expected = _expected_sha256(archive, sha256)
    if expected is not None:
        actual = file_sha256(archive)
        if actual != expected:
            raise BackupError(f"{archive}: SHA-256 {actual} differs from the expected {expected}")
    else:
        typer.echo(
            f"warning: no {archive.name}.sha256 and no --sha256: only the manifest's hashes are checked",
            err=True,
        )
    manifest = read_manifest(archive)
    settings = _settings(data_dir, board_key, revote_key, pseudonym_key)
    if manifest.keys:
        present = key_fingerprints(settings, required=True)
        wrong = sorted(k for k, v in manifest.keys.items() if present.get(k) != v)
        if wrong:
            raise BackupError(
                f"the key files do not match the backup's ({', '.join(wrong)}): restore the data directory's "
                "keys from their own backup, or give --data-dir / --board-key of the backed-up server"
            )
    engine = make_engine(database_url)
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("restoring", total=sum(t.rows for t in manifest.tables))
            restore_database(
                archive, engine, replace=replace,
                progress=lambda table, n: bar.update(task, advance=n, description=f"restoring {table}"),
            )
        url = engine.url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
    rows = sum(t.rows for t in manifest.tables)
    typer.echo(f"restored {rows} rows of {len(manifest.tables)} tables (schema {manifest.schema_revision})")
    check(database_url=url, board_key=settings.board_key_path, checkpoint_every=checkpoint_every)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("backup")(backup)
    app.command("restore")(restore)
