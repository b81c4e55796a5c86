"""The scenario format: one election, everything country-specific, as TOML + CSV data.

A scenario is a directory holding ``scenario.toml`` (country, election, languages, regions, the
voter identifier, options, rules, candidacy rules and applicants, published figures, simulation model) and the
``districts.csv`` / ``stations.csv`` it names. :func:`load_scenario` reads and checks it and
raises :class:`~saylau.errors.ScenarioError` naming the file and the field at fault.

Scenarios are found by name in ``$SAYLAU_SCENARIOS`` (a ``os.pathsep``-separated list of
directories), then in ``./scenarios``, then among the scenarios shipped inside the package
(``saylau/scenarios/``, so an installed wheel runs ``saylau demo``); or given as a path. The
format is documented in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection, Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from saylau.election.manifest import LANGUAGE_CODE, plain_language
from saylau.election.nomination_models import Applicant, CandidacyRules
from saylau.election.rules import ElectoralRules
from saylau.election.territory import (
    LocalizedName,
    Region,
    Territory,
    load_districts_csv,
    load_stations_csv,
    tz_offset,
)
from saylau.election.voter_ids import VoterIdSpec
from saylau.errors import ScenarioError

__all__ = [
    "PACKAGED_SCENARIOS",
    "SCENARIO_FILE",
    "Country",
    "Option",
    "PollsterModel",
    "PublishedExitPoll",
    "PublishedFigures",
    "RegionFigures",
    "RegionModel",
    "Scenario",
    "SimulationModel",
    "TerritorySpec",
    "load_scenario",
    "resolve_scenario",
    "scenario_search_path",
]

SCENARIO_FILE = "scenario.toml"
PACKAGED_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
"""The scenarios shipped inside the package (package data: ``kz-2022``)."""
_STATION_NAME = {
    "kk": "{id} сайлау учаскесі",
    "ru": "Избирательный участок {id}",
    "en": "Polling station {id}",
}
_ID = r"^[A-Za-z0-9_.-]+$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Country(_Model):
    """The country holding the election."""

    code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    name: LocalizedName


class Option(_Model):
    """One line on the ballot: a candidate (with nominator) or 'against all'."""

    id: str = Field(pattern=_ID)
    kind: Literal["candidate", "against_all"] = "candidate"
    name: LocalizedName
    nominator: LocalizedName | None = None


class TerritorySpec(_Model):
    """Regions inline; districts and stations in CSV files relative to the scenario directory."""

    regions: list[Region] = Field(min_length=1)
    districts: str = "districts.csv"
    stations: str = "stations.csv"


class RegionFigures(_Model):
    """Published figures of one region, where the authority published them."""

    registered: int | None = Field(default=None, ge=0)
    took_part: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _took_part_within_registered(self) -> RegionFigures:
        if self.registered is not None and self.took_part is not None and self.took_part > self.registered:
            raise ValueError(f"took_part {self.took_part} > registered {self.registered}")
        return self


class PublishedExitPoll(_Model):
    """An exit poll as published at the close of polls: the pollster and its share for one option."""

    pollster: str = Field(min_length=1)
    option: str
    share: float = Field(gt=0, lt=1)


class PublishedFigures(_Model):
    """The official national figures a simulation must reproduce exactly."""

    registered: int = Field(ge=0)
    took_part: int = Field(ge=0)
    valid: int = Field(ge=0)
    invalid: int = Field(ge=0)
    votes: dict[str, int]
    stations: int = Field(ge=1)
    stations_abroad: int = Field(default=0, ge=0)
    countries_abroad: int = Field(default=0, ge=0)
    regions: dict[str, RegionFigures] = Field(default_factory=dict)
    exit_polls: list[PublishedExitPoll] = Field(default_factory=list)
    exit_poll_runner_up: float | None = Field(
        default=None, gt=0, lt=1, description="the runner-up's share reported by the exit polls"
    )
    registered_at_nomination: int | None = Field(
        default=None, ge=0, description="registered voters the signature threshold was computed from"
    )
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> PublishedFigures:
        if self.valid + self.invalid != self.took_part:
            raise ValueError(f"valid {self.valid} + invalid {self.invalid} != took_part {self.took_part}")
        if sum(self.votes.values()) != self.valid:
            raise ValueError(f"sum of votes {sum(self.votes.values())} != valid {self.valid}")
        if self.took_part > self.registered:
            raise ValueError(f"took_part {self.took_part} > registered {self.registered}")
        return self


class RegionModel(_Model):
    """Simulation parameters of one region (modelled where nothing is published).

    ``voters`` is a relative weight of registered voters; ``stations`` and ``districts`` drive
    the station generator; ``turnout`` is the mean station turnout; ``tilt`` multiplies the
    national vote share of an option in this region before the national totals are imposed.
    """

    voters: float = Field(gt=0)
    stations: int | None = Field(default=None, ge=1)
    districts: int | None = Field(default=None, ge=1)
    turnout: float = Field(gt=0, lt=1)
    tilt: dict[str, float] = Field(default_factory=dict)
    urban: float = Field(default=0.5, ge=0, le=1, description="share of stations in towns")


class PollsterModel(_Model):
    """How a simulated pollster departs from the truth (an illustration; see docs/exit-polls.md).

    ``refusal_winner`` is the refusal rate of the winner's voters; the refusal rate of the others is
    then calibrated so that the expected estimate equals the published one. ``to_winner`` is the share
    of other voters who name the winner instead (social desirability).
    """

    pollster: str = Field(min_length=1)
    refusal_winner: float = Field(ge=0, lt=1)
    to_winner: float = Field(default=0.0, ge=0, lt=1)


class SimulationModel(_Model):
    """The documented model the simulator draws station figures from (see docs/scenario-format.md)."""

    turnout_concentration: float = Field(default=40.0, gt=0, description="Beta κ of station turnout")
    share_concentration: float = Field(default=300.0, gt=0, description="Dirichlet κ of station shares")
    invalid_rate: float = Field(default=0.04, ge=0, lt=1)
    invalid_concentration: float = Field(default=60.0, gt=0)
    day_curve: tuple[float, float] = Field(default=(1.6, 1.4), description="Beta(a, b) of voting times")
    max_station_size: int | None = Field(default=None, ge=1, description="legal maximum of voters a station")
    regions: dict[str, RegionModel]
    pollsters: list[PollsterModel] = Field(default_factory=list)


class Scenario(_Model):
    """One election, validated; ``territory_index`` holds the checked hierarchy."""

    format: Literal[1] = 1
    country: Country
    election_id: str = Field(pattern=_ID)
    date: date
    title: LocalizedName
    languages: list[Annotated[str, Field(pattern=LANGUAGE_CODE)]] = Field(min_length=1)
    station_name: dict[str, str] = Field(
        default_factory=lambda: dict(_STATION_NAME),
        description="per language, the name given to a polling station; {id} is its id",
    )
    territory: TerritorySpec
    voter_id: VoterIdSpec = Field(
        default_factory=VoterIdSpec,
        description="what the roll knows a voter by: name, CSV column, validator (saylau.election.voter_ids)",
    )
    options: list[Option] = Field(min_length=2)
    rules: ElectoralRules = Field(default_factory=ElectoralRules)
    candidacy: CandidacyRules | None = None
    applicants: list[Applicant] = Field(default_factory=list)
    published: PublishedFigures | None = None
    simulation: SimulationModel | None = None

    _territory: Territory | None = PrivateAttr(default=None)
    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages: duplicate in {self.languages}")
        if lacking := [lang for lang in self.languages if lang not in self.station_name]:
            raise ValueError(f"station_name: no name for language(s) {', '.join(lacking)}")
        for where, text in self._names():
            if lacking := text.missing(self.languages):
                raise ValueError(f"{where}: name lacks the scenario's language(s) {', '.join(lacking)}")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"options: duplicate id in {ids}")
        heads = [o.name.get(self.column_language) for o in self.options]
        if len(set(heads)) != len(heads):
            raise ValueError(
                f"options: {self.column_language} names must be unique (they head result columns): {heads}"
            )
        if sum(o.kind == "against_all" for o in self.options) > 1:
            raise ValueError("options: at most one option of kind 'against_all'")
        if not any(o.kind == "candidate" for o in self.options):
            raise ValueError("options: no candidate")
        region_ids = {r.id for r in self.territory.regions}
        if self.published is not None:
            if set(self.published.votes) != set(ids):
                raise ValueError(
                    f"published.votes: keys {sorted(self.published.votes)} != option ids {sorted(ids)}"
                )
            for rid in self.published.regions:
                if rid not in region_ids:
                    raise ValueError(f"published.regions: unknown region {rid!r}")
            for poll in self.published.exit_polls:
                if poll.option not in ids:
                    raise ValueError(
                        f"published.exit_polls: {poll.pollster!r} names unknown option {poll.option!r}"
                    )
        if self.simulation is not None:
            missing = region_ids - set(self.simulation.regions)
            extra = set(self.simulation.regions) - region_ids
            if missing or extra:
                raise ValueError(f"simulation.regions: missing {sorted(missing)}, unknown {sorted(extra)}")
            for rid, rm in self.simulation.regions.items():
                for oid in rm.tilt:
                    if oid not in ids:
                        raise ValueError(f"simulation.regions.{rid}.tilt: unknown option {oid!r}")
            polled = {p.pollster for p in self.published.exit_polls} if self.published else set()
            for pm in self.simulation.pollsters:
                if pm.pollster not in polled:
                    raise ValueError(f"simulation.pollsters: {pm.pollster!r} has no published exit poll")
        return self

    def _names(self) -> Iterator[tuple[str, LocalizedName]]:
        yield "title", self.title
        yield "country.name", self.country.name
        for r in self.territory.regions:
            yield f"territory.regions.{r.id}.name", r.name
        for o in self.options:
            yield f"options.{o.id}.name", o.name
            if o.nominator is not None:
                yield f"options.{o.id}.nominator", o.nominator
        for a in self.applicants:
            yield f"applicants.{a.id}.full_name", a.full_name

    # --- derived ---------------------------------------------------------------------------------

    @property
    def column_language(self) -> str:
        """The language of option names in result-file headers and plain-text output.

        English where the scenario has it (the files stay readable to international observers),
        else the scenario's first language.
        """
        return plain_language(self.languages)

    @property
    def path(self) -> Path:
        """The scenario directory."""
        if self._path is None:
            raise ScenarioError(f"scenario {self.election_id}: not loaded from a directory")
        return self._path

    @property
    def territory_index(self) -> Territory:
        """The checked territory (regions, districts, stations)."""
        if self._territory is None:
            raise ScenarioError(f"scenario {self.election_id}: territory not loaded")
        return self._territory

    @property
    def against_all(self) -> str | None:
        """Id of the 'against all' option, if the ballot has one."""
        return next((o.id for o in self.options if o.kind == "against_all"), None)

    def option(self, option_id: str) -> Option:
        """The option with this id; raises ``ScenarioError`` naming it."""
        for o in self.options:
            if o.id == option_id:
                return o
        raise ScenarioError(f"scenario {self.election_id}: no option {option_id!r}")

    def local_time(self, station_id: str, hhmm: str) -> datetime:
        """An aware datetime for ``hhmm`` local time at a station on election day."""
        return self._at(self.territory_index.time_zone(station_id), hhmm)

    def utc_offset(self, station_id: str) -> timedelta:
        """UTC offset in force at a station on election day."""
        return tz_offset(self.territory_index.time_zone(station_id), self.date)

    def to_manifest(
        self, contest_id: str = "president", station_ids: Collection[str] | None = None
    ) -> Any:
        """The election manifest (:class:`saylau.election.manifest.Manifest`) of this scenario.

        One contest (vote for one), one ballot style used everywhere; voting opens at the earliest
        local opening and closes at the latest local closing over all stations. ``station_ids``
        restricts the geography to those stations (a pilot of encrypted voting in a few stations);
        districts and regions left without a station are dropped.
        """
        from saylau.election import manifest as mf

        def text(n: LocalizedName) -> Any:
            return mf.LocalizedText({lang: n.get(lang) for lang in self.languages})

        terr = self.territory_index
        by_district: dict[str, list[Any]] = {d.id: [] for d in terr.districts}
        wanted = None if station_ids is None else set(station_ids)
        if wanted is not None and (unknown := wanted - {st.id for st in terr.stations}):
            raise ScenarioError(f"to_manifest: unknown station ids {sorted(unknown)[:5]}")
        for st in terr.stations:
            if wanted is None or st.id in wanted:
                by_district[st.district].append(st)
        regions = []
        for r in terr.regions:
            districts = []
            for d in (d for d in terr.districts if d.region == r.id):
                stations = tuple(
                    mf.PollingStation(
                        station_id=s.id,
                        name=mf.LocalizedText(
                            {lang: self.station_name[lang].format(id=s.id) for lang in self.languages}
                        ),
                        time_zone=terr.time_zone(s.id),
                        abroad=r.kind == "abroad",
                    )
                    for s in by_district[d.id]
                )
                if stations:
                    districts.append(mf.District(district_id=d.id, name=text(d.name), stations=stations))
            if districts:
                regions.append(mf.Region(region_id=r.id, name=text(r.name), districts=tuple(districts)))
        zones = {terr.time_zone(s.id) for s in terr.stations}
        opens = min(self._at(z, self.rules.polls_open_local) for z in zones)
        closes = max(self._at(z, self.rules.polls_close_local) for z in zones)
        selections = tuple(
            mf.Selection(
                selection_id=o.id,
                kind=o.kind,
                name=text(o.name),
                nominated_by=text(o.nominator) if o.nominator else None,
            )
            for o in self.options
        )
        contest = mf.Contest(
            contest_id=contest_id, name=text(self.title), votes_allowed=1, selections=selections
        )
        return mf.Manifest(
            election_id=self.election_id,
            name=text(self.title),
            election_date=self.date,
            voting_opens=opens,
            voting_closes=closes,
            contests=(contest,),
            ballot_styles=(mf.BallotStyle(style_id="ballot", contest_ids=(contest_id,)),),
            regions=tuple(regions),
        )

    def _at(self, zone: str, hhmm: str) -> datetime:
        h, m = (int(x) for x in hhmm.split(":"))
        return datetime.combine(self.date, time(h, m), tzinfo=timezone(tz_offset(zone, self.date)))


def scenario_search_path() -> list[Path]:
    """Directories searched for scenarios by name, in order."""
    out: list[Path] = []
    env = os.environ.get("SAYLAU_SCENARIOS")
    if env:
        out.extend(Path(p) for p in env.split(os.pathsep) if p)
    out.append(Path.cwd() / "scenarios")
    out.append(PACKAGED_SCENARIOS)
    return out


def resolve_scenario(ref: str | Path) -> Path:
    """The directory of a scenario given by name (``kz-2022``) or by path."""
    p = Path(ref)
    if p.is_file() and p.suffix == ".toml":
        return p.parent
    if (p / SCENARIO_FILE).is_file():
        return p
    tried = []
    if not p.is_absolute() and len(p.parts) == 1:
        for base in scenario_search_path():
            cand = base / p
            tried.append(str(cand))
            if (cand / SCENARIO_FILE).is_file():
                return cand
    raise ScenarioError(f"scenario {str(ref)!r} not found (tried {', '.join(tried) or str(p)})")


def _field_error(where: Path, exc: ValidationError) -> ScenarioError:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
    return ScenarioError(f"{where}: field {loc!r}: {err['msg']}")


def load_scenario(ref: str | Path) -> Scenario:
    """Read, validate and index a scenario; ``ScenarioError`` names the file and field at fault."""
    directory = resolve_scenario(ref)
    toml_path = directory / SCENARIO_FILE
    try:
        data: dict[str, Any] = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{toml_path}: not valid TOML: {exc}") from exc
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _field_error(toml_path, exc) from exc
    districts = load_districts_csv(directory / scenario.territory.districts)
    for d in districts:
        if lacking := d.name.missing(scenario.languages):
            where = directory / scenario.territory.districts
            raise ScenarioError(f"{where}: district {d.id}: no name in {', '.join(lacking)}")
    stations = load_stations_csv(directory / scenario.territory.stations)
    territory = Territory(list(scenario.territory.regions), districts, stations)
    pub = scenario.published
    if pub is not None:
        if len(stations) != pub.stations:
            raise ScenarioError(f"{directory}: {len(stations)} stations, published.stations = {pub.stations}")
        abroad = [s for s in stations if territory.region_of(s.id).kind == "abroad"]
        if pub.stations_abroad and len(abroad) != pub.stations_abroad:
            raise ScenarioError(
                f"{directory}: {len(abroad)} stations abroad, "
                f"published.stations_abroad = {pub.stations_abroad}"
            )
        countries = {s.district for s in abroad}
        if pub.countries_abroad and len(countries) != pub.countries_abroad:
            raise ScenarioError(
                f"{directory}: stations abroad in {len(countries)} countries, "
                f"published.countries_abroad = {pub.countries_abroad}"
            )
    scenario._territory = territory
    scenario._path = directory
    return scenario
