"""The voter identifier: what the roll, the pollbook and signature sheets know a person by.

Every country has its own: Kazakhstan's 12-digit IIN with a check digit and the birth date in it, a
9-digit number with a Luhn check digit elsewhere, a letters-and-digits card number. A scenario names
it (``[voter_id]`` in ``scenario.toml``, ``docs/scenario-format.md``) and so does an election on the
server (``POST /elections`` ``"voter_id"``); nothing else in saylau assumes one.

:class:`VoterIdSpec` is that parameter: a name people know (``"IIN"``) and that name in each of the
election's languages (``names``: the forms' labels), the CSV column of the roll and of signature sheets,
and a validator from :data:`VALIDATORS`, which also tells a form the identifier's shape
(:class:`InputShape`: lengths, digits only, an HTML pattern):

``kz-iin``
    Kazakhstan's individual identification number (12 digits; digits 1–6 the birth date YYMMDD, digit 7
    century and sex, digit 12 the check digit of Government decree No. 565 of 11 June 2003). The birth
    date it encodes must be the roll's ``date_of_birth``.
``pattern``
    Any identifier that matches ``pattern`` (a regular expression the whole value must match; default:
    1–64 letters, digits and hyphens), optionally of exactly ``length`` characters, optionally with a
    ``check`` digit: ``luhn`` (ISO/IEC 7812-1, the last digit).

A validator's :meth:`~VoterIdValidator.check` raises ``ValueError`` naming the fault (the roll's row
problems quote it) and returns the birth date the identifier encodes, if it encodes one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_LENGTH",
    "VALIDATORS",
    "InputShape",
    "VoterIdSpec",
    "VoterIdValidator",
    "iin_birth_date",
    "iin_check_digit",
    "luhn_valid",
    "make_iin",
    "masked",
    "validate_iin",
]

MAX_LENGTH = 64
"""The longest voter identifier the server stores (its database columns are 64 characters)."""
_DEFAULT_PATTERN = r"[A-Za-z0-9-]{1,64}"


class VoterIdValidator(Protocol):
    """Checks one kind of voter identifier."""

    def check(self, value: str) -> date | None:
        """Raise ``ValueError`` naming the fault, else return the birth date the value encodes (or None)."""
        ...

    def example(self, n: int, born: date) -> str:
        """The ``n``-th made-up valid identifier of a person born on ``born`` (demos, simulations, tests)."""
        ...

    def shape(self) -> InputShape:
        """What a form field for the identifier can check before the server does."""
        ...


@dataclass(frozen=True)
class InputShape:
    """The shape of a valid identifier, for forms: its length range, digits only or not, an HTML pattern.

    ``html_pattern`` is a pattern attribute a browser can apply (digits of the given lengths), or
    None when the validator's regular expression is not one a browser is sure to read the same way
    (the server checks it anyway).
    """

    min_length: int
    max_length: int
    digits_only: bool

    @property
    def html_pattern(self) -> str | None:
        if not self.digits_only:
            return None
        if self.min_length == self.max_length:
            return f"[0-9]{{{self.min_length}}}"
        return f"[0-9]{{{self.min_length},{self.max_length}}}"


class VoterIdSpec(BaseModel):
    """An election's voter identifier: its name, its column in CSV files and its validator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="voter number", min_length=1, max_length=40,
                      description="what people call it, e.g. IIN; in messages (and forms without names)")
    names: dict[str, str] = Field(
        default_factory=dict, description="its name in each of the election's languages, shown in forms",
    )
    validator: str = Field(default="pattern", description="a key of saylau.election.voter_ids.VALIDATORS")
    column: str = Field(default="voter_id", pattern=r"^[a-z][a-z0-9_]{0,39}$",
                        description="the column of the voter roll and signature sheets holding it")
    pattern: str | None = Field(default=None, max_length=200, description="pattern validator: full match")
    length: int | None = Field(default=None, ge=1, le=MAX_LENGTH, description="pattern validator: length")
    check: Literal["none", "luhn"] = Field(default="none", description="pattern validator: check digit")

    @model_validator(mode="after")
    def _known(self) -> VoterIdSpec:
        if self.validator not in VALIDATORS:
            raise ValueError(f"validator {self.validator!r} is not one of {', '.join(sorted(VALIDATORS))}")
        if self.validator != "pattern" and (self.pattern, self.length, self.check) != (None, None, "none"):
            raise ValueError(f"validator {self.validator!r} takes no pattern, length or check")
        for lang, text in self.names.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang) or not 1 <= len(text) <= 40:
                raise ValueError(f"names[{lang!r}]: a language code and a name of 1 to 40 characters")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from None
        return self

    def validator_for(self) -> VoterIdValidator:
        """The validator this spec names, with its parameters."""
        return VALIDATORS[self.validator](self)

    def example(self, n: int, born: date) -> str:
        """A made-up valid identifier (the ``n``-th, born on ``born``) for demos and simulated rolls."""
        return self.validator_for().example(n, born)

    def label(self, lang: str) -> str:
        """Its name in ``lang`` (``names``), else ``name``."""
        return self.names.get(lang, self.name)

    def shape(self) -> InputShape:
        """What a form field for it can check before the server does (its validator's shape)."""
        return self.validator_for().shape()

    def check_value(self, value: str) -> date | None:
        """Check one identifier (``ValueError`` naming the fault); the birth date it encodes, if any."""
        return self.validator_for().check(value)


def masked(voter_id: str) -> str:
    """An identifier shortened for messages: only its last four characters (an IIN's birth date hidden)."""
    return f"voter {'*' * max(len(voter_id) - 4, 4)}{voter_id[-4:]}"


# --- kz-iin --------------------------------------------------------------------------------------

_W1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def iin_check_digit(first11: str) -> int:
    """Check digit of an IIN from its first 11 digits.

    The rule of the Kazakh national identification number registers (Government decree No. 565 of
    11 June 2003, as amended): weights 1..11, sum modulo 11; if that gives 10, weights 3..11,1,2,
    modulo 11; if that gives 10 again the number is never issued (``ValueError``).
    """
    if len(first11) != 11 or not first11.isdigit() or not first11.isascii():
        raise ValueError(f"{first11!r} is not 11 digits")
    digits = [c - 48 for c in first11.encode("ascii")]
    check: int = sum(map(mul, digits, _W1)) % 11
    if check == 10:
        check = sum(map(mul, digits, _W2)) % 11
    if check == 10:
        raise ValueError(f"no check digit exists for {first11!r}: such an IIN is never issued")
    return check


def iin_birth_date(iin: str) -> date:
    """The date of birth encoded in an IIN (YYMMDD plus the century/sex digit 1–6)."""
    century = _CENTURY.get(int(iin[6])) if iin[6].isdigit() else None
    if century is None:
        raise ValueError(f"7th digit {iin[6]!r} is not a century/sex code 1-6")
    try:
        return date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise ValueError(f"digits 1-6 {iin[:6]!r} are not a valid date (YYMMDD)") from None


def validate_iin(iin: str) -> date:
    """Raise ``ValueError`` naming the fault unless ``iin`` is a well-formed IIN; return its birth date."""
    if len(iin) != 12 or not iin.isdigit() or not iin.isascii():
        raise ValueError("not 12 digits")
    born = iin_birth_date(iin)
    expected = iin_check_digit(iin[:11])
    if int(iin[11]) != expected:
        raise ValueError(f"check digit is {iin[11]}, expected {expected}")
    return born


def make_iin(date_of_birth: date, female: bool, serial: int) -> str:
    """A valid IIN for a date of birth, taking the first issuable serial number from ``serial`` on.

    For simulations and tests: serial numbers whose check digit does not exist are skipped.
    """
    base = {1800: 1, 1900: 3, 2000: 5}.get(date_of_birth.year // 100 * 100)
    if base is None:
        raise ValueError(f"IINs encode births in 1800-2099, not {date_of_birth.year}")
    head = f"{date_of_birth:%y%m%d}{base + int(female)}"
    for s in range(serial, 10_000):
        try:
            return f"{head}{s:04d}{iin_check_digit(f'{head}{s:04d}')}"
        except ValueError:
            continue
    raise ValueError(f"no issuable serial from {serial} for {date_of_birth}")


class _KzIin:
    def __init__(self, spec: VoterIdSpec) -> None:
        self.spec = spec

    def check(self, value: str) -> date | None:
        return validate_iin(value)

    def example(self, n: int, born: date) -> str:
        return make_iin(born, n % 2 == 1, 100 + n % 9000)

    def shape(self) -> InputShape:
        return InputShape(12, 12, digits_only=True)


# --- pattern -------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Whether the last digit of ``digits`` is its Luhn check digit (ISO/IEC 7812-1)."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_digit(body: str) -> int:
    """The Luhn check digit that completes ``body``."""
    return next(d for d in range(10) if luhn_valid(f"{body}{d}"))


_DIGITS = re.compile(r"(?:\[0-9\]|\\d)(?:\{(?P<low>\d+)(?:,(?P<high>\d+))?\}|\+)")
"""A pattern of digits only (``[0-9]{9}``, ``\\d{6,10}``, ``[0-9]+``): such a field gets a numeric keypad."""


class _Pattern:
    def __init__(self, spec: VoterIdSpec) -> None:
        self.spec = spec
        self.regex = re.compile(spec.pattern or _DEFAULT_PATTERN)

    def check(self, value: str) -> date | None:
        spec = self.spec
        if not value:
            raise ValueError("empty")
        if len(value) > MAX_LENGTH:
            raise ValueError(f"{len(value)} characters, at most {MAX_LENGTH}")
        if spec.length is not None and len(value) != spec.length:
            raise ValueError(f"{len(value)} characters, a {spec.name} has {spec.length}")
        if self.regex.fullmatch(value) is None:
            raise ValueError(f"not of the form of a {spec.name} ({self.regex.pattern})")
        if spec.check == "luhn":
            if not (value.isascii() and value.isdigit()):
                raise ValueError("a Luhn-checked number has digits only")
            if not luhn_valid(value):
                raise ValueError(f"check digit {value[-1]} fails the Luhn check")
        return None

    def shape(self) -> InputShape:
        spec = self.spec
        low, high = (spec.length, spec.length) if spec.length is not None else (1, MAX_LENGTH)
        digits = spec.check == "luhn" or _DIGITS.fullmatch(self.regex.pattern) is not None
        if digits and spec.length is None and (m := _DIGITS.fullmatch(self.regex.pattern)) and m["low"]:
            low, high = int(m["low"]), min(int(m["high"] or m["low"]), MAX_LENGTH)
        return InputShape(low, high, digits_only=digits)

    def example(self, n: int, born: date) -> str:
        del born  # a number of this kind encodes no birth date
        width = (self.spec.length or 9) - (1 if self.spec.check == "luhn" else 0)
        body = f"{n + 10 ** (width - 1):0{width}d}"[-width:]
        value = body + (str(_luhn_digit(body)) if self.spec.check == "luhn" else "")
        try:
            self.check(value)
        except ValueError as exc:
            raise ValueError(f"cannot make up a {self.spec.name} for {self.regex.pattern!r}: {exc}") from None
        return value


VALIDATORS: dict[str, Callable[[VoterIdSpec], VoterIdValidator]] = {"kz-iin": _KzIin, "pattern": _Pattern}
"""The validators a scenario or an election may name, by key."""
