"""The saylau REST API (FastAPI): roles, election flow, ballots, board, jobs. See docs/api.md."""

from __future__ import annotations

from saylau.api.app import API_PREFIX, create_app
from saylau.api.roles import ENDPOINT_ROLES
from saylau.api.settings import Settings

__all__ = ["API_PREFIX", "ENDPOINT_ROLES", "Settings", "create_app"]
