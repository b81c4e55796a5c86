"""The public site's routes (no login): the results page; see docs/web.md."""

from __future__ import annotations

from fastapi import APIRouter

from saylau.web import public_results

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(public_results.router)
