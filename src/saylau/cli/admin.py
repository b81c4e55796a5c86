"""CLI commands of the admin area: simulate an election (``cli.simulate``), show results.

``saylau simulate kz-2022 --scale 1.0 --paper --seed 1 --out DIR`` writes a results directory
(see :mod:`saylau.election.results_io`); ``saylau results DIR --json`` prints the national totals
and the rule decision; ``--level region`` prints the regional table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.table import Table

    from saylau.election.results_io import LoadedResults

__all__ = ["register", "results", "results_table"]


def results(
    directory: Annotated[Path, typer.Argument(help="results directory written by `saylau simulate`")],
    as_json: Annotated[bool, typer.Option("--json", help="national totals and decision as JSON")] = False,
    level: Annotated[str, typer.Option(help="country or region")] = "country",
    lang: Annotated[
        str | None, typer.Option(help="a language of the scenario (default: en where given, else its first)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="partial results: only protocols reported by this UTC time")
    ] = None,
) -> None:
    """Show the results of a results directory (re-aggregated from its station files)."""
    from rich.console import Console

    from saylau.election.manifest import plain_language
    from saylau.election.results_io import load_results
    from saylau.errors import SaylauError

    console = Console(width=max(Console().width, 180))
    try:
        res = load_results(directory)
    except SaylauError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    if lang is None:
        lang = plain_language(res.languages)
    elif lang not in res.languages:
        Console(stderr=True).print(
            f"[red]error:[/red] --lang {lang!r}: the election's languages are {', '.join(res.languages)}"
        )
        raise typer.Exit(2)
    if as_of is not None:
        _partial(res, as_of, as_json, lang)
        return
    if as_json:
        typer.echo(json.dumps(res.national_json(), ensure_ascii=False, indent=2))
        return
    if level not in ("country", "region"):
        raise typer.BadParameter(f"--level must be country or region, not {level!r}")
    console.print(results_table(res, level, lang))
    names = res.names(lang)
    for line in res.decision().explain(lang, names):
        console.print(line)


def results_table(res: LoadedResults, level: str = "country", lang: str | None = None) -> Table:
    """The country or regional results table of a loaded results directory."""
    from rich.table import Table

    from saylau.election.aggregation import aggregate
    from saylau.election.manifest import plain_language

    lang = lang or plain_language(res.languages)
    names = res.names(lang)
    order = tuple(r for r in res.region_names if r in set(res.table.region))
    lt = (
        aggregate(res.table, "region", order)
        if level == "region"
        else aggregate(res.table, "country", ("country",))
    )
    table = Table(title=f"{res.summary.get('scenario', {}).get('election_id', '')} — {level}")
    for col in ("unit", "stations", "registered", "took part", "turnout", "invalid"):
        table.add_column(col, justify="left" if col == "unit" else "right", no_wrap=col == "unit")
    for o in res.table.options:
        table.add_column(names[o], justify="right")
    rows = [
        (res.region_names.get(k, {}).get(lang, k) if level == "region" else k, lt, i)
        for i, k in enumerate(lt.keys)
    ]
    if level == "region":
        rows.append(("Σ", aggregate(res.table, "country", ("country",)), 0))
    for label, lt, i in rows:
        valid = int(lt.valid[i])
        table.add_row(
            label,
            f"{int(lt.stations[i]):,}",
            f"{int(lt.registered[i]):,}",
            f"{int(lt.voted[i]):,}",
            f"{int(lt.voted[i]) / max(int(lt.registered[i]), 1):.2%}",
            f"{int(lt.invalid[i]):,}",
            *(f"{int(v) / valid:.2%}" if valid else "-" for v in lt.votes[i]),
        )
    return table


def _partial(res: LoadedResults, as_of: str, as_json: bool, lang: str) -> None:
    """Print the partial results published at ``as_of`` (stations reporting, shares so far)."""
    from datetime import UTC, datetime

    import numpy as np
    from rich.console import Console

    from saylau.election.aggregation import partial_results

    try:
        when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} is not an ISO date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if any(t is None for t in res.reported_at):
        raise typer.BadParameter("this results directory has no report times (stations_meta.csv)")
    mask = np.array([t is not None and t <= when for t in res.reported_at], dtype=np.bool_)
    pr = partial_results(res.table, mask)
    names = res.names(lang)
    data = {
        "as_of": when.isoformat(),
        "stations_reporting": pr.stations_reporting,
        "stations_total": pr.stations_total,
        "took_part_counted": int(pr.national.voted[0]),
        "shares": {names[o]: round(v, 6) for o, v in pr.shares().items()},
        "regions_reporting": {r: list(v) for r, v in pr.regions_reporting.items()},
    }
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(
        f"{pr.stations_reporting:,} of {pr.stations_total:,} stations reported by {when.isoformat()}"
    )
    for name, share in data["shares"].items():  # type: ignore[attr-defined]
        console.print(f"  {name}: {share:.2%}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    from saylau.cli.simulate import simulate

    app.command("simulate")(simulate)
    app.command("results")(results)
