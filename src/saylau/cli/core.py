"""CLI commands of the core area: ``saylau demo`` and ``saylau verify``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from saylau.cli.progress import phase_bars
from saylau.election.manifest import Contest, Manifest, plain_language
from saylau.errors import SaylauError
from saylau.parallel import make_executor
from saylau.record import format as fmt
from saylau.record.reader import RecordReader
from saylau.record.verifier import CheckResult, RecordVerifier

if TYPE_CHECKING:
    from saylau.sim.election_day import ElectionDay

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
    lang = plain_language(contest.name.languages)
    table = Table(title=f"{contest.name.get(lang)}: {what}")
    table.add_column("option")
    table.add_column("votes", justify="right")
    table.add_column("share", justify="right")
    for sel in sorted(contest.selections, key=lambda s: -counts.get(s.selection_id, 0)):
        n = counts.get(sel.selection_id, 0)
        table.add_row(sel.name.get(lang), f"{n:,}", f"{100 * n / total:.2f}%" if total else "-")
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
    workers: Annotated[
        int, typer.Option(help="local processes checking the ballot lines (--local-cluster: its workers)")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(help="a Dask scheduler's address (tcp://HOST:8786): check the ballots on that cluster"),
    ] = None,
    local_cluster: Annotated[
        bool, typer.Option("--local-cluster", help="check the ballots on a Dask LocalCluster of --workers")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
    expect_hash: Annotated[
        str | None, typer.Option(help="the record hash the authority published (hex); must match")
    ] = None,
    board_key: Annotated[
        str | None,
        typer.Option(help="the board operator's Ed25519 public key as the CEC announced it (hex); pinned"),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="incremental verification: if FILE exists, check only the ballots after the board "
            "checkpoint it names (the earlier part by its hash); on success, write the state at the last "
            "checkpoint before the close of voting to FILE"
        ),
    ] = None,
) -> None:
    """Verify an election record independently: every hash, proof, chain, tally and decryption."""
    console = Console()
    verifier: RecordVerifier | None = None
    resume = state if state is not None and state.exists() else None
    if workers < 1:
        raise typer.BadParameter(f"--workers must be at least 1, got {workers}")
    if scheduler is not None and local_cluster:
        raise typer.BadParameter("give either --scheduler ADDRESS or --local-cluster, not both")
    try:
        with make_executor(workers, scheduler, local_cluster) as executor, phase_bars(console, quiet) as bars:
            verifier = RecordVerifier(
                record_dir,
                executor=executor,
                progress=bars,
                board_public_key=board_key,
                resume_from=resume,
                save_state=state,
            )
            record_hash = verifier.run()
    except SaylauError as exc:
        if verifier is not None and verifier.checks:
            console.print(_checks_table(verifier.checks, f"verification of {record_dir}"))
        console.print(f"[red]VERIFICATION FAILED[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    console.print(_checks_table(verifier.checks, f"verification of {record_dir}"))
    if resume is not None:
        earlier = f"{verifier.resumed_ballots} ballots verified earlier"
        console.print(f"{earlier} ({escape(str(resume))}): unchanged")
    if state is not None and verifier.saved_state is not None:
        cp = verifier.saved_state.position
        console.print(f"verification state at board checkpoint {cp} saved to {escape(str(state))}")
    elif state is not None:
        console.print("no board checkpoint before the close of voting: no verification state saved")
    if expect_hash is not None and expect_hash.strip().lower() != record_hash.hex():
        console.print(
            f"[red]VERIFICATION FAILED[/red]: record hash {record_hash.hex()} is not the published "
            f"{escape(expect_hash)}"
        )
        raise typer.Exit(1)
    for table in _verified_results(record_dir):
        console.print(table)
    console.print(f"ballot lines checked by: {escape(executor.name)} ({executor.workers} workers)")
    console.print(f"[green]record verified[/green]; record hash {record_hash.hex()}")


def _registration_table(day: ElectionDay) -> Table:
    table = Table(title="nomination: every applicant decided by the rules")
    table.add_column("applicant")
    table.add_column("decision")
    table.add_column("rules failed, with the reason")
    names = {a.id: a.full_name.get(day.scenario.column_language) for a in day.scenario.applicants}
    for d in day.registration:
        failed = [f"{o.rule_id}: {o.reason}" for o in d.outcomes if not o.passed]
        status = "[green]registered[/green]" if d.status == "registered" else "[red]refused[/red]"
        table.add_row(names.get(d.applicant_id, d.applicant_id), status, escape("\n".join(failed)) or "-")
    return table


def _pilot_table(day: ElectionDay) -> Table:
    contest = day.encrypted.manifest.contests[0]
    table = Table(title=f"verifiable pilot: {len(day.pilot.station_ids)} stations, decrypted by a quorum")
    table.add_column("station")
    table.add_column("region")
    table.add_column("ballots", justify="right")
    table.add_column("decrypted = paper protocol")
    index = day.encrypted.manifest.station_index()
    mismatched = set(day.pilot_mismatches)
    for e in day.encrypted.entries:
        if e.scope == "station":
            ok = "[red]no[/red]" if e.scope_id in mismatched else "[green]yes[/green]"
            table.add_row(e.scope_id, index[e.scope_id].region_id, f"{e.ballot_count:,}", ok)
    counts = day.encrypted.nation_counts()
    lang = plain_language(day.encrypted.manifest.languages)
    table.caption = "pilot total: " + ", ".join(
        f"{s.name.get(lang)} {counts.get(s.selection_id, 0):,}" for s in contest.selections
    )
    return table


def demo(
    out: Annotated[Path, typer.Option(help="where to write the day's outputs")] = Path("build/demo"),
    scenario: Annotated[str, typer.Option(help="scenario name or a path")] = "kz-2022",
    scale: Annotated[float, typer.Option(help="share of the scenario's voters simulated on paper")] = 1.0,
    pilot_stations: Annotated[int, typer.Option(help="stations voting end-to-end verifiably")] = 20,
    pilot_ballots: Annotated[int, typer.Option(help="voters in the verifiable pilot")] = 3000,
    guardians: Annotated[int, typer.Option(help="guardians n")] = 5,
    quorum: Annotated[int, typer.Option(help="quorum k")] = 3,
    missing: Annotated[int, typer.Option(help="guardians absent at decryption")] = 1,
    workers: Annotated[int, typer.Option(help="processes for verification")] = _default_workers(),
    seed: Annotated[int, typer.Option(help="seed of the simulated voters (never of any nonce)")] = 2022,
    serve: Annotated[bool, typer.Option(help="then serve an open election to try in a browser")] = False,
    port: Annotated[int, typer.Option(help="the --serve server's port")] = 8000,
) -> None:
    """Run a complete election day: nomination, paper count, verifiable pilot, exit polls, forensics."""
    from saylau.cli.admin import results_table
    from saylau.cli.forensics import exit_poll_table, forensics_table
    from saylau.election.results_io import load_results
    from saylau.sim.election_day import run_election_day

    console = Console(width=max(Console().width, 160))
    try:
        with _progress(console) as progress:
            bars = _Bars(progress)
            day = run_election_day(
                out,
                scenario,
                scale=scale,
                seed=seed,
                pilot_stations=pilot_stations,
                pilot_ballots=pilot_ballots,
                guardians=guardians,
                quorum=quorum,
                missing=missing,
                workers=workers,
                progress=lambda _step: bars("election day", 1, 5),
                crypto_progress=bars,
            )
    except SaylauError as exc:
        console.print(f"[red]demo failed[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc

    console.print(_registration_table(day))
    res = load_results(out / "results")
    console.print(results_table(res, "region"))
    for line in res.decision().explain("en", res.names("en")):
        console.print(f"[bold]decision:[/bold] {escape(line)}")
    console.print(_pilot_table(day))
    console.print(_checks_table(day.encrypted.checks, "independent verification of the pilot's record"))
    s = day.encrypted.states
    console.print(
        f"pilot ballots: {s['cast']:,} cast, {s['challenged']:,} challenged (opened, not counted), "
        f"{s['superseded']:,} superseded by a later remote vote; guardians absent at decryption: "
        f"{list(day.encrypted.missing_guardians)} (quorum {quorum} of {guardians})"
    )
    console.print(exit_poll_table(day.exit_polls))
    released = day.embargo_until.isoformat()
    console.print(f"exit polls released at {released} (the last domestic station closed)")
    console.print(forensics_table(day.forensics))
    if day.audit is not None:
        from saylau.cli.audit import audit_table

        console.print(audit_table(day.audit))
    for step, seconds in {**day.timings, **day.encrypted.timings}.items():
        console.print(f"  {step}: {seconds:.1f} s")
    console.print(
        f"written to {out}: registration.json, results/, record/ (hash "
        f"{day.encrypted.record_hash.hex()}), exitpolls/, forensics/index.html, audit/, summary.json"
    )
    if serve:
        from saylau.web.booth_demo import serve_demo

        serve_demo(out, scenario, port, console.print)
    else:
        console.print("to open the pages and try the booth in a browser: make serve-demo "
                      "(or saylau demo --serve [--port P])")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the application."""
    from saylau.cli.opening import check_opening

    app.command("verify")(verify)
    app.command("check-opening")(check_opening)
    app.command("demo")(demo)
