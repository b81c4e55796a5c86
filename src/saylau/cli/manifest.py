"""``saylau manifest SCENARIO``: a scenario's election manifest, as ``POST /elections`` takes it.

The manifest (``saylau.election.manifest.Manifest``) is the scenario's geography, ballot and voting
hours; ``--stations`` restricts it to some stations (a pilot), dropping districts and regions left
without one. With ``--guardians N --quorum K`` the output is instead the whole ``POST /elections``
request: the manifest, the ceremony's size and what else of the election the scenario holds (its voter
identifier, ``[voter_id]``; its electoral rules, ``[rules]``; its candidacy rules and the registered
voters they count from), built by ``saylau.election.election_request`` as the CEC console's "new
election" form builds it. The JSON goes to ``--out`` or to standard output; a one-line summary to
standard error.
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
    guardians: Annotated[
        int | None, typer.Option("--guardians", help="write the POST /elections request, with n guardians")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option("--quorum", help="… of whom k decrypt (with --guardians)")
    ] = None,
) -> None:
    """Write the election manifest of a scenario (all stations, or those named)."""
    from saylau.election.election_request import election_request
    from saylau.election.scenario import load_scenario

    wanted: list[str] = [s.strip() for arg in stations or [] for s in arg.split(",") if s.strip()]
    if stations_file is not None:
        wanted += [ln.strip() for ln in stations_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if (stations or stations_file) and not wanted:
        raise StaffError("--stations / --stations-file name no station")
    if (guardians is None) != (quorum is None):
        raise StaffError("give --guardians and --quorum together (the election request), or neither")
    if guardians is not None and quorum is not None and not 1 <= quorum <= guardians:
        raise StaffError(f"--quorum {quorum}: must be between 1 and --guardians {guardians}")
    sc = load_scenario(scenario)
    doc = sc.to_manifest(contest_id, station_ids=wanted or None)
    if guardians is None or quorum is None:
        write_json(out, doc.to_json_obj())
    else:
        write_json(out, election_request(sc, guardians, quorum, wanted or None, contest_id))
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
