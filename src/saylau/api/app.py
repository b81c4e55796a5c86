"""The FastAPI application factory: ``create_app(settings)``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from saylau import __version__, web
from saylau.api import (
    jobs_handlers,
    routes_admin,
    routes_audit,
    routes_ceremony,
    routes_devices,
    routes_polls,
    routes_results,
    routes_stations,
    routes_voting,
)
from saylau.api.cast_batch import CastWriter
from saylau.api.errors import install_error_handlers
from saylau.api.limits import InputGuard, route_limits
from saylau.api.logins import LoginLimiter
from saylau.api.overload import CastAdmission
from saylau.api.schemas import refusals
from saylau.api.schemas_results import HealthOut
from saylau.api.settings import Settings
from saylau.api.state import AppState, load_board_signer, load_pseudonym_key, load_revote_key
from saylau.api.worker import Worker
from saylau.store.accounts import password_hasher
from saylau.store.engine import make_engine, make_sessionmaker
from saylau.store.migrate import upgrade

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
log = logging.getLogger("saylau.api")
_HANDLERS_MODULE = jobs_handlers.__name__  # importing it registers the job handlers


def create_app(settings: Settings | None = None, start_worker: bool = True) -> FastAPI:
    """Build the application: engine, migrations, key files, input guard, routes, error handlers, jobs."""
    settings = settings or Settings()
    # the key files first: one that is not private is refused before any database is touched
    signer = load_board_signer(settings.board_key_path)
    revote_key = load_revote_key(settings.revote_key_path)
    pseudonym_key = load_pseudonym_key(settings.pseudonym_key_path)
    engine = make_engine(settings.database_url, settings.db_schema, settings.pool_size)
    if settings.migrate:
        upgrade(engine)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        signer=signer,
        revote_key=revote_key,
        pseudonym_key=pseudonym_key,
        hasher=password_hasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
    )
    state.casts = CastWriter(state)  # here, not in AppState: the writer imports the route helpers
    state.logins = LoginLimiter(
        settings.login_account_failures,
        settings.login_address_failures,
        settings.login_window.total_seconds(),
    )
    if engine.dialect.name == "sqlite":
        reader = make_engine(settings.database_url, for_writing=False)
        state.read_sessions = make_sessionmaker(reader)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker and settings.job_workers > 0:
            state.worker = Worker(state, settings.job_workers, settings.job_poll_seconds)
            state.worker.start()
        state.committer.start()
        workers = await run_in_threadpool(state.verifier.start)  # no ballot waits for a worker's imports
        log.info("proof verification: %d worker(s) ready", workers)
        log.info("saylau server ready (%s)", engine.url.render_as_string(hide_password=True))
        yield
        if state.worker is not None:
            state.worker.stop()
        state.shutdown()
        engine.dispose()
        if state.read_sessions is not None:
            reader.dispose()

    app = FastAPI(
        title="saylau",
        version=__version__,
        description="Run a national presidential election end to end and let anyone verify it.",
        lifespan=lifespan,
    )
    app.state.saylau = state
    for module in (
        routes_admin,
        routes_ceremony,
        routes_voting,
        routes_devices,
        routes_stations,
        routes_polls,
        routes_results,
        routes_audit,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.get("/health", tags=["meta"], response_model=HealthOut, responses=refusals(None))
    def health() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok", "version": __version__}

    install_error_handlers(app)
    web.install(app)  # the pages and /static (saylau.web)
    # outermost: sizes, hostile text and the bearer check of large uploads come before anything else
    app.add_middleware(
        InputGuard,
        state=state,
        prefix=API_PREFIX,
        limits=route_limits(settings.max_roll_bytes, settings.max_sheet_bytes),
        paths=lambda: app.openapi()["paths"],
    )
    web.install_fast_path(app, API_PREFIX)  # outside the guard: it replays only what the guarded app sent
    # outside even that: past the bound, a cast request is refused (503) before any of it is read
    app.add_middleware(
        CastAdmission,
        prefix=API_PREFIX,
        limit=settings.max_cast_requests,
        retry_after=settings.overload_retry_after,
    )
    return app
