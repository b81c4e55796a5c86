"""The application as uvicorn starts it in each worker process, configured from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from saylau.api.app import create_app
from saylau.api.settings import Settings, default_data_dir
from saylau.store.engine import database_url

__all__ = ["app_from_env", "settings_from_env"]


def settings_from_env() -> Settings:
    """``Settings`` from ``SAYLAU_*`` variables (database, data directory and keys, threads, verifiers)."""
    board_key = os.environ.get("SAYLAU_BOARD_KEY")
    return Settings(
        database_url=database_url(),
        data_dir=default_data_dir(),
        board_key_file=Path(board_key) if board_key else None,
        job_workers=int(os.environ.get("SAYLAU_JOB_WORKERS", "2")),
        checkpoint_every=int(os.environ.get("SAYLAU_CHECKPOINT_EVERY", "1000")),
        verify_processes=int(os.environ.get("SAYLAU_VERIFY_PROCESSES", str(os.cpu_count() or 1))),
        commit_batch=int(os.environ.get("SAYLAU_COMMIT_BATCH", "256")),
        commit_linger_ms=float(os.environ.get("SAYLAU_COMMIT_LINGER_MS", "2")),
        max_cast_requests=int(os.environ.get("SAYLAU_MAX_CAST_REQUESTS", "256")),
        max_verify_queue=int(os.environ.get("SAYLAU_MAX_VERIFY_QUEUE", "2048")),
        overload_retry_after=int(os.environ.get("SAYLAU_OVERLOAD_RETRY_AFTER", "1")),
        migrate=False,
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(settings_from_env())
