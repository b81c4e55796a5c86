"""``saylau simulate``: the paper election (``--paper``) or the whole encrypted election, streamed.

``saylau simulate kz-2022 --scale 0.01 --out DIR`` runs the encrypted election (``saylau.sim.national``)
into ``DIR/record`` (verified at the end), ``DIR/summary.json``, and ``DIR/work`` while it runs: run
the same command again after an interruption and it continues from the last completed station.
``--workers N`` local processes (default: the machine's cores), ``--scheduler ADDRESS`` a Dask
cluster, ``--local-cluster`` a Dask LocalCluster here. ``--paper`` writes the paper protocols only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.console import Console

    from saylau.sim.national import NationalResult

__all__ = ["simulate"]


def _paper(scenario: str, out: Path, scale: float, seed: int, plots: bool, console: Console) -> None:
    from rich.progress import Progress

    from saylau.sim.run import STEPS, run_paper

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=STEPS)
        run = run_paper(
            scenario,
            out,
            scale=scale,
            seed=seed,
            progress=lambda step: progress.update(task, advance=1, description=step),
        )
    t, decision = run.sim.table, run.decision
    if plots:
        from saylau.sim.plots import plot_reporting, plot_turnout_day

        summary = json.loads((out / "results.json").read_text(encoding="utf-8"))
        plot_turnout_day(summary, out / "turnout.png")
        plot_reporting(summary, out / "reporting.png")
    console.print(
        f"{len(t)} stations, {int(t.registered.sum()):,} registered, {int(t.voted.sum()):,} took part "
        f"→ {out}  ({decision.outcome}{': ' + decision.winner if decision.winner else ''})"
    )


def _national_report(result: NationalResult, console: Console) -> None:
    from rich.table import Table

    cast = result.states["cast"]
    table = Table(title=f"encrypted election: {result.stations:,} stations, {cast:,} ballots counted")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("ballots/s", justify="right")
    for phase, seconds in result.timings.items():
        table.add_row(phase, f"{seconds:,.1f}", f"{cast / seconds:,.0f}" if seconds > 0 else "-")
    console.print(table)
    totals = Table(title="national totals: decrypted by the guardians = the votes cast")
    totals.add_column("option")
    totals.add_column("votes cast", justify="right")
    totals.add_column("decrypted", justify="right")
    for option, n in sorted(result.generated.items(), key=lambda kv: -kv[1]):
        totals.add_row(option, f"{n:,}", f"{result.decrypted.get(option, 0):,}")
    console.print(totals)
    s = result.states
    console.print(
        f"ballots: {s['cast']:,} cast, {s['challenged']:,} challenged, {s['superseded']:,} superseded; "
        f"{result.encryptions:,} encryptions; record {result.record_bytes / 1e6:,.1f} MB "
        f"({result.record_bytes / max(cast, 1):,.0f} bytes per counted ballot); peak memory "
        f"{result.peak_rss_mb['main']:,.0f} MB (main), {result.peak_rss_mb['largest_worker']:,.0f} MB "
        f"(largest worker); executor: {result.executor}"
        + (f"; resumed {result.resumed_stations:,} stations" if result.resumed_stations else "")
    )
    verified = "independent verification" in result.timings
    done = "written and verified" if verified else "written (not verified)"
    console.print(
        f"[green]record {done}[/green]: {result.out / 'record'}; record hash {result.record_hash.hex()}"
    )


def simulate(
    scenario: Annotated[
        str, typer.Argument(help="scenario name ($SAYLAU_SCENARIOS, ./scenarios or shipped) or a path")
    ],
    out: Annotated[Path, typer.Option("--out", help="directory to write (results, or record/ and work/)")],
    scale: Annotated[float, typer.Option(help="fraction of voters (and stations) to simulate")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same results (and record)")] = 1,
    paper: Annotated[bool, typer.Option("--paper", help="paper protocols only, no encryption")] = False,
    plots: Annotated[bool, typer.Option("--plots", help="--paper: also write the .png plots")] = False,
    workers: Annotated[
        int | None, typer.Option(help="local worker processes (default: the machine's cores)")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="a Dask scheduler's address (tcp://HOST:8786): run on that cluster")
    ] = None,
    local_cluster: Annotated[
        bool, typer.Option("--local-cluster", help="run on a Dask LocalCluster of --workers processes")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="discard an interrupted run's work instead of resuming it")
    ] = False,
    keep_work: Annotated[bool, typer.Option("--keep-work", help="keep the per-station chunks")] = False,
    verify: Annotated[bool, typer.Option(help="verify the written record independently")] = True,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
) -> None:
    """Simulate the election calibrated to its published totals: paper protocols, or encrypted end to end."""
    from rich.console import Console

    console = Console(stderr=True)
    if not 0 < scale <= 1:
        raise typer.BadParameter(f"--scale must be in (0, 1], got {scale}")
    if workers is not None and workers < 1:
        raise typer.BadParameter(f"--workers must be at least 1, got {workers}")
    if scheduler is not None and local_cluster:
        raise typer.BadParameter("give either --scheduler ADDRESS or --local-cluster, not both")
    from saylau.errors import SaylauError

    try:
        if paper:
            _paper(scenario, out, scale, seed, plots, console)
        else:
            _encrypted(scenario, out, scale, seed, workers, scheduler, local_cluster, restart, keep_work,
                       verify, quiet, console)
    except SaylauError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc


def _encrypted(
    scenario: str, out: Path, scale: float, seed: int, workers: int | None, scheduler: str | None,
    local_cluster: bool, restart: bool, keep_work: bool, verify: bool, quiet: bool, console: Console,
) -> None:
    from saylau.cli.progress import phase_bars
    from saylau.parallel import make_executor
    from saylau.parallel.executor import default_workers
    from saylau.sim.national import NationalOptions, run_national

    options = NationalOptions(scale=scale, seed=seed)
    local = workers or default_workers()
    with make_executor(workers, scheduler, local_cluster) as executor, phase_bars(console, quiet) as bars:
        result = run_national(
            out,
            scenario,
            options,
            executor=executor,
            progress=bars,
            verify=verify,
            verify_workers=local,
            keep_work=keep_work,
            restart=restart,
        )
    _national_report(result, console)
