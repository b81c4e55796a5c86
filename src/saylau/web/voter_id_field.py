"""The form field for a voter's identifier, from the election's definition of it (no country in code).

The station console's check-in and the kiosk's both ask for the identifier the election names
(``saylau.election.voter_ids.VoterIdSpec``: the IIN for kz-2022, a citizen number elsewhere): its name
in the page's language, its shape (lengths, digits only) for the input's ``pattern``, ``inputmode``
and ``maxlength``, and a help line saying that shape. The server checks the value with the validator
in any case; the field only spares the commission a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from saylau.election.voter_ids import VoterIdSpec
from saylau.web.rendering import Page

__all__ = ["VoterIdField", "voter_id_field"]


@dataclass(frozen=True)
class VoterIdField:
    """What the template puts on the input (``templates/voter_id_input.html``)."""

    name: str
    """The identifier's name in the page's language (``IIN``, ``ЖСН``, ``citizen number``)."""
    shape: str
    """Its shape in words (``12 digits``)."""
    pattern: str | None
    inputmode: str
    minlength: int
    maxlength: int


def _shape_text(page: Page, spec: VoterIdSpec) -> str:
    shape = spec.shape()
    low, high = shape.min_length, shape.max_length
    if shape.digits_only:
        if low == high:
            return page.ngettext("%(num)s digit", "%(num)s digits", low)
        return page.gettext("%(low)s to %(high)s digits", low=low, high=high)
    if low == high:
        return page.ngettext("%(num)s character", "%(num)s characters", low)
    return page.gettext("%(low)s to %(high)s characters", low=low, high=high)


def voter_id_field(page: Page, spec: VoterIdSpec) -> VoterIdField:
    """The field for ``spec`` in ``page``'s language."""
    shape = spec.shape()
    return VoterIdField(
        name=spec.label(page.lang),
        shape=_shape_text(page, spec),
        pattern=shape.html_pattern,
        inputmode="numeric" if shape.digits_only else "text",
        minlength=shape.min_length,
        maxlength=shape.max_length,
    )
