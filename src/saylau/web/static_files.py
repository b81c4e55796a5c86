"""Static files served by saylau itself (no CDN), with ETag and Cache-Control."""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_MAX_AGE", "CachedStaticFiles"]

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
