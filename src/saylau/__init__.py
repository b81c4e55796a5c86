"""saylau: run a national presidential election end to end and let anyone verify it."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
