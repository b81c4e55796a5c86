"""saylau.web: the pages the saylau server renders itself (Jinja2 + gettext), and their static files.

``install(app)`` mounts them on the FastAPI application; see docs/web.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from saylau.web.booth import router as booth_router
from saylau.web.console import router as console_router
from saylau.web.console_cec import router as cec_console_router
from saylau.web.console_cec_applications import router as cec_applications_router
from saylau.web.console_cec_keys import router as cec_keys_router
from saylau.web.console_cec_setup import router as cec_setup_router
from saylau.web.console_cec_users import router as cec_users_router
from saylau.web.console_guardian import router as guardian_console_router
from saylau.web.console_observer import router as observer_console_router
from saylau.web.console_pollster import router as pollster_console_router
from saylau.web.console_station import router as station_console_router
from saylau.web.page_cache import PageFastPath, capture, page_cache
from saylau.web.pages import router
from saylau.web.public import router as public_router
from saylau.web.rendering import STATIC_DIR
from saylau.web.static_files import CachedStaticFiles, StaticFastPath

__all__ = ["install", "install_fast_path"]


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static`` (the CSS, the booth's modules and the vendored npm modules)."""
    app.include_router(router)
    app.include_router(booth_router)
    app.include_router(public_router)
    app.include_router(console_router)
    app.include_router(station_console_router)
    app.include_router(cec_setup_router)  # /console/cec/new and /users before /console/cec/{election_id}
    app.include_router(cec_users_router)
    app.include_router(cec_console_router)
    app.include_router(cec_keys_router)
    app.include_router(cec_applications_router)
    app.include_router(observer_console_router)
    app.include_router(pollster_console_router)
    app.include_router(guardian_console_router)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")


def install_fast_path(app: FastAPI, api_prefix: str) -> None:
    """Answer cached public pages and results before anything else (call it after the other middleware).

    Only answers the application made itself are replayed (``saylau.web.page_cache``), so every path
    and query answered has already passed the input guard. The API's public results (the same for any
    anonymous caller) are kept on their way out.
    """
    capture(f"{api_prefix}/elections/{{election_id}}/results")
    app.add_middleware(PageFastPath, cached=lambda: page_cache(app))
    app.add_middleware(StaticFastPath, directory=STATIC_DIR)
