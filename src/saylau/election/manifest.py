"""The election manifest: what is being decided, on which ballots, where.

The manifest is the first thing an election publishes and everything after it is bound to it through
its hash (it feeds the election's base hash, as the ElectionGuard 2.0 manifest hash H_M does, §3.1.3).
It is deliberately independent of how it was produced (a scenario file, an administrator's form): it is
plain frozen data with a canonical form.

Canonical form: the model dumped in JSON mode (``by_alias``, no omitted fields) and serialised with
RFC 8785 (JSON Canonicalization Scheme); the manifest hash is SHA-256 of those bytes.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

import rfc8785
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

from saylau.canonical import plain_json
from saylau.crypto import ContestSpec
from saylau.errors import ScenarioError

__all__ = [
    "LANGUAGE_CODE",
    "MANIFEST_FORMAT",
    "BallotStyle",
    "Contest",
    "District",
    "LocalizedText",
    "Manifest",
    "PollingStation",
    "Region",
    "Selection",
    "StationLocation",
    "canonical_json",
    "plain_language",
]

MANIFEST_FORMAT: Literal["saylau-manifest/1"] = "saylau-manifest/1"

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Identifier = Annotated[str, Field(pattern=_ID)]


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 bytes of a JSON-able value: the only serialisation saylau ever hashes.

    Plain ASCII values (record lines, ballots) by the C encoder (``saylau.canonical``), others by
    ``rfc8785``.
    """
    fast = plain_json(obj)
    return fast if fast is not None else bytes(rfc8785.dumps(obj))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


LANGUAGE_CODE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
"""A BCP 47 language code as scenarios and manifests write it (``kk``, ``ru``, ``en``, ``de``, ``pt-BR``)."""


def plain_language(languages: Sequence[str]) -> str:
    """The language for plain-text output and file headers: English where given, else the first."""
    return "en" if "en" in languages else languages[0]


class LocalizedText(RootModel[dict[str, str]]):
    """A name in each of the election's languages: a mapping language code → non-empty text.

    The JSON form is an object keyed by language code (``{"kk": …, "ru": …, "en": …}``); which
    languages an election uses is data (the scenario's ``languages``), not fixed here.
    """

    model_config = ConfigDict(frozen=True)

    @field_validator("root")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a name needs at least one language")
        for lang, text in value.items():
            if not re.match(LANGUAGE_CODE, lang):
                raise ValueError(f"{lang!r} is not a language code")
            if not text:
                raise ValueError(f"the {lang!r} text is empty")
        return value

    @classmethod
    def of(cls, **texts: str) -> LocalizedText:
        """``LocalizedText.of(kk=…, ru=…, en=…)``."""
        return cls(texts)

    @classmethod
    def same(cls, text: str, languages: Iterable[str] = ("kk", "ru", "en")) -> LocalizedText:
        """The same text in every language (proper names, codes)."""
        return cls(dict.fromkeys(languages, text))

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this text is given in, in the order written."""
        return tuple(self.root)

    def get(self, lang: str) -> str:
        """The text in ``lang``; raises ``KeyError`` naming the language and those the text has."""
        try:
            return self.root[lang]
        except KeyError:
            raise KeyError(
                f"no {lang!r} text (given in {', '.join(self.root)})"
            ) from None

    def missing(self, languages: Iterable[str]) -> list[str]:
        """Those of ``languages`` this text lacks."""
        return [lang for lang in languages if lang not in self.root]


class Selection(_Frozen):
    """One option on a contest: a registered candidate, or 'against all'."""

    selection_id: Identifier
    kind: Literal["candidate", "against_all"]
    name: LocalizedText
    nominated_by: LocalizedText | None = None


class Contest(_Frozen):
    """One question on the ballot; a presidential race is one contest, vote for exactly one."""

    contest_id: Identifier
    name: LocalizedText
    votes_allowed: int = Field(ge=1)
    selections: tuple[Selection, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> Contest:
        ids = [s.selection_id for s in self.selections]
        if len(set(ids)) != len(ids):
            raise ValueError(f"contest {self.contest_id}: duplicate selection ids")
        if self.votes_allowed > len(self.selections):
            raise ValueError(
                f"contest {self.contest_id}: votes_allowed {self.votes_allowed} exceeds "
                f"{len(self.selections)} selections"
            )
        return self


class BallotStyle(_Frozen):
    """Which contests a ballot carries, and where it is used (empty ``region_ids`` = everywhere)."""

    style_id: Identifier
    contest_ids: tuple[Identifier, ...] = Field(min_length=1)
    region_ids: tuple[Identifier, ...] = ()


class PollingStation(_Frozen):
    """A polling station (also a remote-voting 'station' for the devices it runs)."""

    station_id: Identifier
    name: LocalizedText
    time_zone: str
    abroad: bool = False

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class District(_Frozen):
    """An electoral district (territorial commission) and its stations."""

    district_id: Identifier
    name: LocalizedText
    stations: tuple[PollingStation, ...] = Field(min_length=1)


class Region(_Frozen):
    """A region (oblys, city of republican significance, or 'abroad')."""

    region_id: Identifier
    name: LocalizedText
    districts: tuple[District, ...] = Field(min_length=1)


class StationLocation(_Frozen):
    """Where a station sits in the geography, for aggregation."""

    station: PollingStation
    district_id: str
    region_id: str


class Manifest(_Frozen):
    """The whole election definition; ``manifest_hash()`` binds every field."""

    format: Literal["saylau-manifest/1"] = MANIFEST_FORMAT
    election_id: Identifier
    name: LocalizedText
    election_date: date
    voting_opens: datetime
    voting_closes: datetime
    contests: tuple[Contest, ...] = Field(min_length=1)
    ballot_styles: tuple[BallotStyle, ...] = Field(min_length=1)
    regions: tuple[Region, ...] = Field(min_length=1)

    @field_validator("voting_opens", "voting_closes")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("voting times must carry a UTC offset")
        return value

    @property
    def languages(self) -> tuple[str, ...]:
        """The election's languages: those of its name, in the order written (the first is the default)."""
        return self.name.languages

    def names(self) -> Iterator[tuple[str, LocalizedText]]:
        """Every name in the manifest with where it is, for checks."""
        yield "name", self.name
        for c in self.contests:
            yield f"contest {c.contest_id}", c.name
            for sel in c.selections:
                yield f"selection {sel.selection_id}", sel.name
                if sel.nominated_by is not None:
                    yield f"selection {sel.selection_id} nominated_by", sel.nominated_by
        for r in self.regions:
            yield f"region {r.region_id}", r.name
            for d in r.districts:
                yield f"district {d.district_id}", d.name
                for st in d.stations:
                    yield f"station {st.station_id}", st.name

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        for where, text in self.names():
            if lacking := text.missing(self.languages):
                raise ValueError(f"{where}: name lacks the election's language(s) {', '.join(lacking)}")
        if self.voting_opens >= self.voting_closes:
            raise ValueError("voting_opens must be before voting_closes")
        contest_ids = [c.contest_id for c in self.contests]
        if len(set(contest_ids)) != len(contest_ids):
            raise ValueError("duplicate contest ids")
        style_ids = [s.style_id for s in self.ballot_styles]
        if len(set(style_ids)) != len(style_ids):
            raise ValueError("duplicate ballot style ids")
        region_ids = [r.region_id for r in self.regions]
        if len(set(region_ids)) != len(region_ids):
            raise ValueError("duplicate region ids")
        district_ids = [d.district_id for r in self.regions for d in r.districts]
        if len(set(district_ids)) != len(district_ids):
            raise ValueError("duplicate district ids")
        station_ids = [s.station_id for r in self.regions for d in r.districts for s in d.stations]
        if len(set(station_ids)) != len(station_ids):
            dup = next(s for s in station_ids if station_ids.count(s) > 1)
            raise ValueError(f"duplicate polling station id {dup}")
        for style in self.ballot_styles:
            for cid in style.contest_ids:
                if cid not in contest_ids:
                    raise ValueError(f"ballot style {style.style_id}: unknown contest {cid}")
            for rid in style.region_ids:
                if rid not in region_ids:
                    raise ValueError(f"ballot style {style.style_id}: unknown region {rid}")
        return self

    # --- canonical form -------------------------------------------------------------------------

    def to_json_obj(self) -> dict[str, Any]:
        """The JSON value whose RFC 8785 bytes are hashed."""
        return self.model_dump(mode="json")

    def canonical_bytes(self) -> bytes:
        """RFC 8785 serialisation of the manifest."""
        return canonical_json(self.to_json_obj())

    def manifest_hash(self) -> bytes:
        """SHA-256 of the canonical bytes: 32 bytes that bind every field of the manifest."""
        return hashlib.sha256(self.canonical_bytes()).digest()

    @classmethod
    def from_json_obj(cls, obj: Any) -> Manifest:
        """Parse a manifest; raises ``ScenarioError`` naming the bad field."""
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "manifest"
            raise ScenarioError(f"manifest field {where}: {first['msg']}") from exc

    # --- lookups ---------------------------------------------------------------------------------

    def contest(self, contest_id: str) -> Contest:
        """The contest with this id; raises ``KeyError`` naming it."""
        for c in self.contests:
            if c.contest_id == contest_id:
                return c
        raise KeyError(f"manifest {self.election_id} has no contest {contest_id!r}")

    def ballot_style(self, style_id: str) -> BallotStyle:
        """The ballot style with this id; raises ``KeyError`` naming it."""
        for s in self.ballot_styles:
            if s.style_id == style_id:
                return s
        raise KeyError(f"manifest {self.election_id} has no ballot style {style_id!r}")

    def locations(self) -> Iterator[StationLocation]:
        """Every station with its district and region, in manifest order."""
        for r in self.regions:
            for d in r.districts:
                for s in d.stations:
                    yield StationLocation(station=s, district_id=d.district_id, region_id=r.region_id)

    def station_index(self) -> dict[str, StationLocation]:
        """Station id → location, for aggregation."""
        return {loc.station.station_id: loc for loc in self.locations()}

    def style_for_region(self, region_id: str) -> BallotStyle:
        """The first ballot style used in ``region_id`` (a style with no regions applies everywhere)."""
        for s in self.ballot_styles:
            if not s.region_ids or region_id in s.region_ids:
                return s
        raise KeyError(f"manifest {self.election_id}: no ballot style for region {region_id!r}")

    def contest_specs(self) -> tuple[ContestSpec, ...]:
        """The contests as the crypto layer sees them, in manifest order."""
        return tuple(
            ContestSpec(
                contest_id=c.contest_id,
                selection_ids=tuple(s.selection_id for s in c.selections),
                votes_allowed=c.votes_allowed,
            )
            for c in self.contests
        )

