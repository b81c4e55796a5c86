"""``saylau manifest SCENARIO``: a scenario's election manifest, as ``POST /elections`` takes it.

The manifest (``saylau.election.manifest.Manifest``) is the scenario's geography, ballot and voting
hours; ``--stations`` restricts it to some stations (a pilot), dropping districts and regions left
without one. The JSON goes to ``--out`` or to standard output; a one-line summary to standard error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from saylau.cli.staff import StaffError, write_json

__all__ = ["manifest", "register"]


def manifest(
    scenario: Annotated[
        str, typer.Argument(help="scenario name ($SAYLAU_SCENARIOS, ./scenarios or shipped) or a path")
    ],
    stations: Annotated[
        list[str] | None,
        typer.Option("--stations", help="only these station ids (comma-separated, or the option repeated)"),
    ] = None,
    stations_file: Annotated[
        Path | None, typer.Option("--stations-file", help="only the station ids in this file, one a line")
    ] = None,
    contest_id: Annotated[str, typer.Option("--contest-id", help="the contest's id")] = "president",
    out: Annotated[
        Path | None, typer.Option("--out", help="write the manifest here (default: stdout)")
    ] = None,
) -> None:
    """Write the election manifest of a scenario (all stations, or those named)."""
    from saylau.election.scenario import load_scenario

    wanted: list[str] = [s.strip() for arg in stations or [] for s in arg.split(",") if s.strip()]
    if stations_file is not None:
        wanted += [ln.strip() for ln in stations_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if (stations or stations_file) and not wanted:
        raise StaffError("--stations / --stations-file name no station")
    sc = load_scenario(scenario)
    doc = sc.to_manifest(contest_id, station_ids=wanted or None)
    write_json(out, doc.to_json_obj())
    n = sum(len(d.stations) for r in doc.regions for d in r.districts)
    typer.echo(
        f"manifest of {doc.election_id}: {n} stations in {len(doc.regions)} regions, "
        f"voting {doc.voting_opens.isoformat()} – {doc.voting_closes.isoformat()}"
        + (f" → {out}" if out else ""),
        err=True,
    )


def register(app: typer.Typer) -> None:
    """Add the staff commands to the application: ``manifest``, ``guardian …``, ``protocol …``."""
    from saylau.cli.guardian import guardian_app
    from saylau.cli.protocol_cli import protocol_app

    app.command("manifest")(manifest)
    app.add_typer(guardian_app, name="guardian")
    app.add_typer(protocol_app, name="protocol")
