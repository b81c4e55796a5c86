"""The public site's routes (no login): results, candidates and applicants, the board; docs/web.md."""

from __future__ import annotations

from fastapi import APIRouter

from saylau.web import public_board, public_candidates, public_results

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(public_results.router)
router.include_router(public_candidates.router)
router.include_router(public_board.router)
