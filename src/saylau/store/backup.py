"""Backup and restore of a saylau database: every table in a versioned, hashed archive.

The archive is a gzip-compressed tar, read and written as a stream (memory does not grow with the
election; each table is spooled to a temporary file once to learn its hash and size):

- ``manifest.json`` first: ``format`` (``saylau-backup``), ``version`` (:data:`BACKUP_VERSION`), the
  schema's Alembic revision, the source backend, the time, the fingerprints of the server's key files
  (given by the caller; never the keys themselves) and, per table, its file, columns, row count and the
  SHA-256 of its file;
- then ``tables/<table>.jsonl``, one JSON array per row in the manifest's column order, tables in the
  order of their foreign keys. Timestamps are ISO 8601 in UTC, dates ISO 8601, JSON columns as JSON,
  binary columns (a ballot entry's compact ``body``, ``store/entry_codec.py``) as base64 strings, hash
  columns (``HexBytes``) as their hex.

A restore reads the archive twice: first it checks the manifest and every table's row count and hash
(nothing is written to a database before the whole archive checks out), then it migrates the target to
the archive's schema revision, inserts every row in one transaction, moves the PostgreSQL sequences past
the restored ids and migrates to the newest schema. The same archive restores on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Engine, MetaData, Table, func, insert, inspect, select, text
from sqlalchemy.types import Date, DateTime, Integer, LargeBinary

from saylau import __version__
from saylau.errors import SaylauError
from saylau.store.migrate import upgrade
from saylau.store.models import Base, Blob, UtcDateTime

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "BackupError",
    "BackupManifest",
    "TableEntry",
    "file_sha256",
    "read_manifest",
    "restore_database",
    "verify_archive",
    "write_backup",
]

BACKUP_FORMAT = "saylau-backup"
BACKUP_VERSION = 1
MANIFEST_NAME = "manifest.json"
INSERT_BATCH = 1000
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class BackupError(SaylauError):
    """A backup archive that cannot be restored (wrong hash, version, shape), or a target that refuses."""


@dataclass(frozen=True)
class TableEntry:
    """One table in the archive: its file, columns, rows and the SHA-256 of the file."""

    name: str
    file: str
    columns: list[str]
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupManifest:
    """The archive's ``manifest.json``."""

    version: int
    schema_revision: str
    source: str
    created_at: str
    saylau_version: str
    keys: dict[str, str]
    tables: list[TableEntry]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written as ``manifest.json``."""
        return {
            "format": BACKUP_FORMAT,
            "version": self.version,
            "schema_revision": self.schema_revision,
            "source": self.source,
            "created_at": self.created_at,
            "saylau_version": self.saylau_version,
            "keys": self.keys,
            "tables": [vars(t) for t in self.tables],
        }

    @classmethod
    def from_dict(cls, doc: Any) -> BackupManifest:
        """Parse ``manifest.json``; a wrong format or version is refused by name."""
        if not isinstance(doc, dict) or doc.get("format") != BACKUP_FORMAT:
            raise BackupError(f"manifest.json: not a saylau backup (format is not {BACKUP_FORMAT!r})")
        if doc.get("version") != BACKUP_VERSION:
            raise BackupError(
                f"manifest.json: backup format version {doc.get('version')!r}; this saylau reads "
                f"version {BACKUP_VERSION}"
            )
        try:
            tables = [
                TableEntry(str(t["name"]), str(t["file"]), [str(c) for c in t["columns"]], int(t["rows"]),
                           str(t["sha256"]))
                for t in doc["tables"]
            ]
            return cls(
                version=BACKUP_VERSION,
                schema_revision=str(doc["schema_revision"]),
                source=str(doc["source"]),
                created_at=str(doc["created_at"]),
                saylau_version=str(doc["saylau_version"]),
                keys={str(k): str(v) for k, v in dict(doc.get("keys") or {}).items()},
                tables=tables,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"manifest.json: malformed ({type(exc).__name__}: {exc})") from None


def _tables() -> list[Table]:
    """Every table of the schema, parents before children (foreign keys)."""
    return list(Base.metadata.sorted_tables)


#: the first revision whose tables the models describe: hashes stored as bytes and read as hex
#: (``HexBytes``), columns 0009 had dropped. A database or archive of an earlier revision is read and
#: written through its own tables, as the database reflects them (every column as stored: text, JSON,
#: base64 bytes), and migrated after the restore.
MODEL_REVISION = "0010"


def _tables_at(conn: Connection, revision: str) -> list[Table]:
    """The tables of a database at ``revision``: the models', or, before 0010, the reflected ones."""
    if revision >= MODEL_REVISION:
        return _tables()
    reflected = MetaData()
    reflected.reflect(conn, only=[t.name for t in _tables() if inspect(conn).has_table(t.name)])
    return list(reflected.sorted_tables)


def _encode_datetime(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, datetime):  # SQLite without the decorator's processing
        value = datetime.fromisoformat(str(value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _encode_date(value: Any) -> Any:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _encode_bytes(value: Any) -> Any:
    return None if value is None else base64.b64encode(bytes(value)).decode("ascii")


def _decode_bytes(value: Any) -> Any:
    return None if value is None else base64.b64decode(value, validate=True)


def _binary(column: Column[Any]) -> bool:
    """Whether a column holds bytes written as base64 (a hash column, ``HexBytes``, reads as hex)."""
    return isinstance(column.type, LargeBinary | Blob)


def _encoder(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How a column's value is written (None: as it is, a JSON value already)."""
    if isinstance(column.type, UtcDateTime | DateTime):
        return _encode_datetime
    if isinstance(column.type, Date):
        return _encode_date
    if _binary(column):
        return _encode_bytes
    return None


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    if isinstance(column.type, UtcDateTime | DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if _binary(column):
        return _decode_bytes
    return lambda v: v


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (None: no saylau schema)."""
    return MigrationContext.configure(connection).get_current_revision()


def _hash_file(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    with path.open("rb") as handle:
        return _hash_file(handle)


def write_backup(
    engine: Engine,
    out: Path,
    keys: dict[str, str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> BackupManifest:
    """Write every table of ``engine``'s database to the archive ``out``; return its manifest.

    The rows are read in one repeatable snapshot on PostgreSQL (one read transaction on SQLite, which
    WAL keeps consistent beside a writer). ``progress(table, rows)`` is called as rows are written.
    """
    entries: list[TableEntry] = []
    with tempfile.TemporaryDirectory(prefix="saylau-backup-") as tmp, engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        revision = schema_revision(conn)
        if revision is None:
            raise BackupError("the database has no saylau schema (give the URL of a saylau database)")
        spooled: list[Path] = []
        for table in _tables_at(conn, revision):
            columns = list(table.columns)
            path = Path(tmp) / f"{table.name}.jsonl"
            digest, rows = hashlib.sha256(), 0
            order = list(table.primary_key.columns) or columns
            special = [(i, f) for i, f in enumerate(_encoder(c) for c in columns) if f is not None]
            with path.open("wb") as handle:
                result = conn.execute(select(*columns).order_by(*order)).yield_per(INSERT_BATCH)
                for row in result:
                    values = list(row)
                    for i, f in special:
                        values[i] = f(values[i])
                    line = dumps(values).encode() + b"\n"
                    handle.write(line)
                    digest.update(line)
                    rows += 1
                    if progress is not None and rows % INSERT_BATCH == 0:
                        progress(table.name, INSERT_BATCH)
            if progress is not None:
                progress(table.name, rows % INSERT_BATCH)
            entries.append(TableEntry(table.name, f"tables/{table.name}.jsonl", [c.name for c in columns],
                                      rows, digest.hexdigest()))
            spooled.append(path)
        manifest = BackupManifest(
            version=BACKUP_VERSION,
            schema_revision=revision,
            source=conn.dialect.name,
            created_at=datetime.now(UTC).isoformat(),
            saylau_version=__version__,
            keys=dict(keys or {}),
            tables=entries,
        )
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            body = json.dumps(manifest.to_dict(), indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
            for entry, path in zip(entries, spooled, strict=True):
                info = tarfile.TarInfo(entry.file)
                info.size, info.mode = path.stat().st_size, 0o600
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
        partial.chmod(0o600)
        partial.replace(out)  # never a half-written archive under the final name
    return manifest


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r|gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path}: not a saylau backup archive ({exc})") from None


def _members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """The archive's members in order, as streams; a truncated or garbled archive is named."""
    tar = _open(path)
    try:
        while True:
            try:
                member = tar.next()
            except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                raise BackupError(f"{path}: truncated or garbled archive ({exc})") from None
            if member is None:
                return
            if not member.isfile():
                raise BackupError(f"{path}: member {member.name!r} is not a file")
            handle = tar.extractfile(member)
            assert handle is not None
            yield member.name, handle
    finally:
        tar.close()


def _read_member(name: str, handle: IO[bytes]) -> bytes:
    try:
        return handle.read()
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{name}: truncated or garbled ({exc})") from None


def read_manifest(path: Path) -> BackupManifest:
    """The archive's manifest (its first member)."""
    for name, handle in _members(path):
        if name != MANIFEST_NAME:
            raise BackupError(f"{path}: first member is {name!r}, not {MANIFEST_NAME}")
        try:
            doc = json.loads(_read_member(name, handle))
        except json.JSONDecodeError as exc:
            raise BackupError(f"{MANIFEST_NAME}: not JSON (line {exc.lineno}: {exc.msg})") from None
        return BackupManifest.from_dict(doc)
    raise BackupError(f"{path}: empty archive")


def _table_lines(name: str, handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    line_no = 0
    while True:
        try:
            line = handle.readline()
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise BackupError(f"{name}: truncated or garbled after line {line_no} ({exc})") from None
        if not line:
            return
        line_no += 1
        yield line_no, line


def verify_archive(path: Path) -> BackupManifest:
    """Check the whole archive against its manifest (every table present, row count and SHA-256)."""
    manifest: BackupManifest | None = None
    expected: dict[str, TableEntry] = {}
    seen: set[str] = set()
    for name, handle in _members(path):
        if manifest is None:
            if name != MANIFEST_NAME:
                raise BackupError(f"{path}: first member is {name!r}, not {MANIFEST_NAME}")
            try:
                manifest = BackupManifest.from_dict(json.loads(_read_member(name, handle)))
            except json.JSONDecodeError as exc:
                raise BackupError(f"{MANIFEST_NAME}: not JSON (line {exc.lineno}: {exc.msg})") from None
            expected = {t.file: t for t in manifest.tables}
            continue
        entry = expected.get(name)
        if entry is None or name in seen:
            raise BackupError(f"{path}: member {name!r} is not listed in the manifest (or repeated)")
        digest, rows = hashlib.sha256(), 0
        for _, line in _table_lines(name, handle):
            digest.update(line)
            rows += 1
        if digest.hexdigest() != entry.sha256:
            raise BackupError(
                f"{name}: SHA-256 {digest.hexdigest()} differs from the manifest's {entry.sha256}"
            )
        if rows != entry.rows:
            raise BackupError(f"{name}: {rows} rows, the manifest says {entry.rows}")
        seen.add(name)
    if manifest is None:
        raise BackupError(f"{path}: empty archive")
    missing = [t.file for t in manifest.tables if t.file not in seen]
    if missing:
        raise BackupError(f"{path}: truncated: {', '.join(missing)} missing")
    known = {t.name for t in _tables()}
    unknown = [t.name for t in manifest.tables if t.name not in known]
    if unknown:
        raise BackupError(f"manifest.json: tables {', '.join(unknown)} are not in this saylau's schema")
    return manifest


def _row_counts(conn: Connection, tables: list[Table]) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}


def _reset_sequences(conn: Connection) -> None:
    """Move PostgreSQL's id sequences past the restored ids (SQLite takes max(rowid) + 1 by itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True and isinstance(column.type, Integer):
                seq = conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                ).scalar_one()
                if seq is not None:
                    conn.execute(
                        text(f"SELECT setval(:s, COALESCE((SELECT max({column.name}) "
                             f"FROM {table.name}), 0) + 1, false)"),
                        {"s": seq},
                    )


def restore_database(
    path: Path,
    engine: Engine,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> BackupManifest:
    """Restore the archive at ``path`` into ``engine``'s database; return its manifest.

    The archive is checked in full first (:func:`verify_archive`). A target that holds any row is
    refused unless ``replace``, which deletes every row in the same transaction as the restore.
    """
    manifest = verify_archive(path)
    try:
        upgrade(engine, manifest.schema_revision)
    except Exception as exc:  # alembic: a revision this saylau does not know, or a newer target
        raise BackupError(
            f"cannot bring the target database to the backup's schema revision {manifest.schema_revision}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    with engine.begin() as conn:
        tables = {t.name: t for t in _tables_at(conn, manifest.schema_revision)}
        if schema_revision(conn) != manifest.schema_revision:
            raise BackupError(
                f"the target database is at schema revision {schema_revision(conn)}, the backup at "
                f"{manifest.schema_revision}: restore into an empty database"
            )
        counts = _row_counts(conn, list(tables.values()))
        filled = {name: n for name, n in counts.items() if n}
        if filled and not replace:
            listed = ", ".join(f"{name} ({n})" for name, n in sorted(filled.items()))
            raise BackupError(f"the target database is not empty: {listed}; give --replace to overwrite it")
        for table in reversed(list(tables.values())):
            conn.execute(table.delete())
        by_file = {t.file: t for t in manifest.tables}
        for name, handle in _members(path):
            entry = by_file.get(name)
            if entry is None:
                continue
            table = tables[entry.name]
            try:
                columns = [table.columns[c] for c in entry.columns]
            except KeyError as exc:
                raise BackupError(f"{name}: column {exc} is not in table {entry.name}") from None
            decoders = [_decoder(c) for c in columns]
            batch: list[dict[str, Any]] = []
            for _, line in _table_lines(name, handle):
                values = json.loads(line)
                batch.append({c.name: d(v) for c, d, v in zip(columns, decoders, values, strict=True)})
                if len(batch) >= INSERT_BATCH:
                    conn.execute(insert(table), batch)
                    if progress is not None:
                        progress(entry.name, len(batch))
                    batch = []
            if batch:
                conn.execute(insert(table), batch)
                if progress is not None:
                    progress(entry.name, len(batch))
        _reset_sequences(conn)
    upgrade(engine)
    return manifest
