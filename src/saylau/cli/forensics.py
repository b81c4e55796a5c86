"""CLI commands of the forensics area: ``saylau forensics`` and ``saylau exitpoll``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["exit_poll_table", "forensics_table", "register"]


def forensics(
    input_path: Annotated[Path, typer.Argument(help="results directory, election record, or station CSV")],
    out: Annotated[Path, typer.Option("--out", help="directory for index.html, summary.json and PNGs")],
    seed: Annotated[int, typer.Option(help="seed of the Monte-Carlo nulls")] = 0,
    replications: Annotated[int, typer.Option(help="Monte-Carlo replications per test")] = 200,
    alpha: Annotated[float, typer.Option(help="level at which a p-value is called an anomaly")] = 0.05,
) -> None:
    """Run the forensic tests on station results and write an HTML report with plots."""
    from rich.console import Console
    from rich.progress import Progress

    from saylau.errors import ForensicsError
    from saylau.forensics.load import load_input
    from saylau.forensics.report import write_report
    from saylau.forensics.suite import TEST_NAMES

    console = Console()
    try:
        with console.status("reading station results"):
            results, cleaning = load_input(input_path)
        with Progress(console=console) as progress:
            task = progress.add_task(f"tests on {results.n} stations", total=len(TEST_NAMES))
            summary = write_report(
                results, cleaning, out, seed=seed, replications=replications,
                fingerprint_replications=max(replications // 2, 19), alpha=alpha,
                on_done=lambda name: progress.advance(task),
            )
    except ForensicsError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from exc
    dropped = summary["cleaning"]["rows_dropped"]
    where = f": {escape(cleaning.where())}" if dropped else ""
    console.print(f"{results.n} stations analysed, {dropped} rows dropped{where}", soft_wrap=True)
    console.print(forensics_table(summary, alpha))
    console.print(f"report: {out / 'index.html'} ({summary['seconds']} s)")


def exitpoll(
    input_path: Annotated[Path, typer.Argument(help="results directory or station CSV")],
    out: Annotated[Path, typer.Option("--out", help="directory for exitpolls.json and exitpolls.png")],
    scenario: Annotated[
        str, typer.Option(help="scenario whose published exit polls and pollster models to simulate")
    ] = "kz-2022",
    seed: Annotated[int, typer.Option(help="seed of the sample and the interviews")] = 0,
    stations: Annotated[int, typer.Option(help="stations sampled by each pollster")] = 250,
    per_station: Annotated[int, typer.Option(help="voters approached per station")] = 60,
) -> None:
    """Simulate the scenario's exit pollsters on station results and compare them with the result."""
    from rich.console import Console

    from saylau.election.scenario import load_scenario
    from saylau.errors import ForensicsError, PollError, ScenarioError
    from saylau.forensics.load import load_input
    from saylau.polls.report import pollsters_from_scenario, write_exit_polls

    console = Console()
    try:
        pollsters = pollsters_from_scenario(load_scenario(scenario))
        results, _ = load_input(input_path)
        summary = write_exit_polls(
            results, out, pollsters, seed=seed, stations=stations, per_station=per_station
        )
    except (ForensicsError, PollError, ScenarioError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=2) from exc
    winner = summary["winner"]
    console.print(exit_poll_table(summary))
    console.print(f"official {winner}: {100 * summary['official'][winner]:.2f}%; written to {out}")


def forensics_table(summary: dict[str, Any], alpha: float = 0.05) -> Table:
    """One row per forensic test of a report summary: statistic, p-value and verdict at ``alpha``."""
    from rich.table import Table

    table = Table("test", "statistic", "p-value", "verdict", title="forensic tests on the station protocols")
    for name, t in summary["tests"].items():
        p = t["p_value"]
        if t["skipped"]:
            verdict = f"skipped ({t['skipped']})"
        elif not t["calibrated"]:
            verdict = "not calibrated" + (" (p < alpha)" if p < alpha else "")
        else:
            verdict = "ANOMALY" if p < alpha else "ok"
        stat = "—" if t["statistic"] is None else f"{t['statistic']:.4g}"
        table.add_row(name, stat, "—" if p is None else (t.get("p_text") or f"{p:.3g}"), verdict)
    return table


def exit_poll_table(summary: dict[str, Any]) -> Table:
    """Each simulated pollster's winner estimate beside its published figure and the official result."""
    from rich.table import Table

    winner = summary["winner"]
    table = Table(
        "pollster", "published", "estimate", "95% CI", "deff", "official outside CI",
        title=f"exit polls: {winner}, % of valid votes (official {100 * summary['official'][winner]:.2f})",
    )
    for p in summary["pollsters"]:
        est = next(e for e in p["estimates"] if e["option"] == winner)
        cmp = next(c for c in p["comparison"] if c["option"] == winner)
        table.add_row(
            p["name"], f"{100 * p['published_winner_share']:.2f}", f"{100 * est['share']:.2f}",
            f"{100 * est['low']:.2f}–{100 * est['high']:.2f}", f"{est['deff']:.2f}",
            "yes" if cmp["outside_interval"] else "no",
        )
    return table


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("forensics")(forensics)
    app.command("exitpoll")(exitpoll)
