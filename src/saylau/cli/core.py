"""CLI commands of the core area: ``saylau demo`` and ``saylau verify``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from saylau.election.manifest import Contest, Manifest
from saylau.errors import SaylauError
from saylau.record import format as fmt
from saylau.record.reader import RecordReader
from saylau.record.verifier import CheckResult, RecordVerifier

__all__ = ["register"]


class _Bars:
    """A ``ProgressHook`` drawing one rich progress bar per task."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, task: str, advance: int, total: int | None = None) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        elif total is not None:
            self.progress.update(self.tasks[task], total=total)
        if advance:
            self.progress.advance(self.tasks[task], advance)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _checks_table(checks: list[CheckResult], title: str) -> Table:
    table = Table(title=title)
    table.add_column("check")
    table.add_column("count", justify="right")
    table.add_column("result")
    table.add_column("detail")
    for c in checks:
        result = "[green]pass[/green]" if c.passed else "[red]FAIL[/red]"
        table.add_row(c.name, f"{c.count:,}", result, escape(c.detail))
    return table


def _result_table(contest: Contest, counts: dict[str, int], what: str) -> Table:
    total = sum(counts.values())
    table = Table(title=f"{contest.name.en}: {what}")
    table.add_column("option")
    table.add_column("votes", justify="right")
    table.add_column("share", justify="right")
    for sel in sorted(contest.selections, key=lambda s: -counts.get(s.selection_id, 0)):
        n = counts.get(sel.selection_id, 0)
        table.add_row(sel.name.en, f"{n:,}", f"{100 * n / total:.2f}%" if total else "-")
    return table


def _verified_results(record_dir: Path) -> list[Table]:
    """National result tables of a record that has just verified (results.json matched the proofs)."""
    reader = RecordReader(record_dir)
    manifest = Manifest.from_json_obj(reader.json(fmt.MANIFEST))
    nation = reader.json(fmt.RESULTS)["nation"]["counts"]
    what = "national result (verified)"
    return [_result_table(c, nation.get(c.contest_id, {}), what) for c in manifest.contests]


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def verify(
    record_dir: Annotated[Path, typer.Argument(help="the election record directory")],
    workers: Annotated[int, typer.Option(help="processes verifying ballot proofs")] = 1,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
    expect_hash: Annotated[
        str | None, typer.Option(help="the record hash the authority published (hex); must match")
    ] = None,
) -> None:
    """Verify an election record independently: every hash, proof, chain, tally and decryption."""
    console = Console()
    verifier: RecordVerifier | None = None
    try:
        if quiet:
            verifier = RecordVerifier(record_dir, workers=workers)
            record_hash = verifier.run()
        else:
            with _progress(console) as progress:
                verifier = RecordVerifier(record_dir, workers=workers, progress=_Bars(progress))
                record_hash = verifier.run()
    except SaylauError as exc:
        if verifier is not None and verifier.checks:
            console.print(_checks_table(verifier.checks, f"verification of {record_dir}"))
        console.print(f"[red]VERIFICATION FAILED[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console.print(_checks_table(verifier.checks, f"verification of {record_dir}"))
    if expect_hash is not None and expect_hash.strip().lower() != record_hash.hex():
        console.print(
            f"[red]VERIFICATION FAILED[/red]: record hash {record_hash.hex()} is not the published "
            f"{escape(expect_hash)}"
        )
        raise typer.Exit(1)
    for table in _verified_results(record_dir):
        console.print(table)
    console.print(f"[green]record verified[/green]; record hash {record_hash.hex()}")


def demo(
    out: Annotated[Path, typer.Option(help="where to write the election record")] = Path("build/demo"),
    ballots: Annotated[int, typer.Option(help="number of voters")] = 3000,
    stations: Annotated[int, typer.Option(help="polling stations (one abroad)")] = 20,
    guardians: Annotated[int, typer.Option(help="guardians n")] = 5,
    quorum: Annotated[int, typer.Option(help="quorum k")] = 3,
    missing: Annotated[int, typer.Option(help="guardians absent at decryption")] = 1,
    workers: Annotated[int, typer.Option(help="processes for verification")] = _default_workers(),
    seed: Annotated[int, typer.Option(help="seed of the simulated voters (never of any nonce)")] = 2022,
) -> None:
    """Run a small election end to end, write its record, verify it and print the results."""
    from saylau.record.demo import run_demo

    console = Console()
    try:
        with _progress(console) as progress:
            result = run_demo(
                out,
                ballots=ballots,
                stations=stations,
                guardians=guardians,
                quorum=quorum,
                missing=missing,
                workers=workers,
                seed=seed,
                progress=_Bars(progress),
            )
    except SaylauError as exc:
        console.print(f"[red]demo failed[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from exc

    manifest = result.manifest
    contest = manifest.contests[0]
    counts = result.nation_counts()
    console.print(_result_table(contest, counts, "national result (decrypted, verified)"))

    regions = Table(title="by region")
    regions.add_column("region")
    regions.add_column("ballots", justify="right")
    leader = contest.selections[0].selection_id
    regions.add_column(f"{contest.selections[0].name.en}", justify="right")
    for e in result.entries:
        if e.scope == "region":
            name = next(r.name.en for r in manifest.regions if r.region_id == e.scope_id)
            n = e.counts()[contest.contest_id][leader]
            regions.add_row(name, f"{e.ballot_count:,}", f"{100 * n / max(e.ballot_count, 1):.1f}%")
    console.print(regions)
    console.print(_checks_table(result.checks, "independent verification of the record"))
    s = result.states
    console.print(
        f"ballots: {s['cast']:,} cast, {s['challenged']:,} challenged (opened, not counted), "
        f"{s['superseded']:,} superseded by a revote; guardians absent at decryption: "
        f"{list(result.missing_guardians)} (quorum {quorum} of {guardians})"
    )
    if counts != result.expected_nation:
        console.print("[red]decrypted totals differ from the simulated votes[/red]")
        raise typer.Exit(1)
    for step, seconds in result.timings.items():
        console.print(f"  {step}: {seconds:.1f} s")
    console.print(f"record: {out}  record hash {result.record_hash.hex()}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    app.command("verify")(verify)
    app.command("demo")(demo)
