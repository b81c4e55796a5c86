"""The public seed: rolls of ten-sided dice in a recorded ceremony, entered by observers.

Following the practice of Arlo and of the Colorado audits, the seed is the string of the digits
rolled (at least 20 rolls, so about 66 bits of entropy), chosen *after* the manifest and the reported
results are published; the record keeps who rolled, who witnessed and when.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saylau.errors import AuditError

__all__ = ["MIN_ROLLS", "DiceCeremony"]

MIN_ROLLS = 20


class DiceCeremony(BaseModel):
    """The rolls (digits 0-9, in order), the observers present and when it took place (ISO 8601)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rolls: str
    observers: tuple[str, ...] = Field(min_length=1)
    held_at: str
    manifest_hash: str = Field(description="the manifest hash published before the rolls")

    @field_validator("rolls")
    @classmethod
    def _digits(cls, v: str) -> str:
        if not v.isdigit() or not v.isascii():
            raise AuditError(f"field 'rolls': dice rolls must be decimal digits 0-9, got {v!r}")
        if len(v) < MIN_ROLLS:
            raise AuditError(f"field 'rolls': at least {MIN_ROLLS} rolls are needed, got {len(v)}")
        return v

    @property
    def seed(self) -> str:
        """The sampler's seed: the digits as rolled."""
        return self.rolls
