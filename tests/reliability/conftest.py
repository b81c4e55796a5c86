"""The API tests' application fixture, for the reliability tests."""

from api.conftest import client

__all__ = ["client"]
