"""Static files served by saylau itself (no CDN), with ETag and Cache-Control."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["STATIC_MAX_AGE", "CachedStaticFiles", "StaticFastPath"]

STATIC_MAX_AGE = 3600
"""An hour: file names are not content-hashed, so a new release must reach browsers within the hour."""


class CachedStaticFiles(StaticFiles):
    """Starlette's static files (ETag, Last-Modified, 304s) plus a public ``Cache-Control``."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, cacheable publicly for ``STATIC_MAX_AGE`` seconds."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
        return response


@dataclass(frozen=True)
class _File:
    stamp: tuple[int, int]  # (mtime_ns, size): a file changed on disk is read again
    body: bytes
    gzip_body: bytes | None
    etag: str
    content_type: bytes
    last_modified: bytes


_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


class StaticFastPath:
    """ASGI middleware: ``/static/…`` from memory (read and gzipped once), ETag, 304, one ``stat`` a request.

    Anything it does not answer (a missing file, a directory, a path outside the static directory, a
    method other than GET) goes on to :class:`CachedStaticFiles`, which answers it as before.
    """

    def __init__(self, app: ASGIApp, directory: Path, prefix: str = "/static/") -> None:
        self.app = app
        self.directory = os.path.realpath(directory)
        self.prefix = prefix
        self.files: dict[str, _File] = {}
        self.paths: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "GET" and path.startswith(self.prefix):
            file = self._file(path[len(self.prefix):])
            if file is not None:
                status, headers, body = _answer(file, dict(scope["headers"]))
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _file(self, relative: str) -> _File | None:
        full = self.paths.get(relative)
        if full is None:
            full = os.path.realpath(os.path.join(self.directory, relative))
            if os.path.commonpath([full, self.directory]) != self.directory:
                return None
        try:
            st = os.stat(full)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        if len(self.paths) < 4096:
            self.paths[relative] = full  # a file found once (the package's files are a few hundred)
        stamp = (st.st_mtime_ns, st.st_size)
        known = self.files.get(full)
        if known is not None and known.stamp == stamp:
            return known
        with open(full, "rb") as f:
            body = f.read()
        kind = mimetypes.guess_type(full)[0] or "text/plain"  # as Starlette's FileResponse
        if kind.startswith("text/"):
            kind += "; charset=utf-8"
        packed = gzip.compress(body, 9, mtime=0) if kind.startswith(_COMPRESSIBLE) else None
        file = _File(stamp, body, packed if packed is not None and len(packed) < len(body) else None,
                     hashlib.sha256(body).hexdigest()[:32], kind.encode(),
                     formatdate(st.st_mtime, usegmt=True).encode())
        self.files[full] = file
        return file


def _answer(file: _File, headers: dict[bytes, bytes]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    zipped = file.gzip_body is not None and b"gzip" in headers.get(b"accept-encoding", b"")
    etag = f'"{file.etag}-gzip"' if zipped else f'"{file.etag}"'
    out = [(b"etag", etag.encode()), (b"last-modified", file.last_modified),
           (b"cache-control", f"public, max-age={STATIC_MAX_AGE}".encode()), (b"vary", b"Accept-Encoding")]
    inm = headers.get(b"if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.decode("latin-1").split(",")}
        if "*" in tags or etag in tags:
            return 304, out, b""
    elif headers.get(b"if-modified-since") == file.last_modified:
        return 304, out, b""
    body = file.gzip_body if zipped and file.gzip_body is not None else file.body
    out.append((b"content-type", file.content_type))
    if zipped:
        out.append((b"content-encoding", b"gzip"))
    out.append((b"content-length", str(len(body)).encode()))
    return 200, out, body
