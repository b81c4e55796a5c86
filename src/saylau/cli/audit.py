"""CLI commands of the audit area: ``saylau audit start|sample|enter|full-count|verify|simulate``.

The audit lives in one directory holding ``audit.json`` (the whole record, rewritten after every
step) and ``sample-round-<k>.csv`` (what the audit boards must retrieve).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from rich.table import Table

    from saylau.audit.engine import AuditRecord
    from saylau.audit.manifest import BallotManifest

__all__ = ["audit_table", "register"]

audit_app = typer.Typer(help="Risk-limiting audits of the paper count (ballot polling, batch comparison).")
KINDS = ("batch_comparison", "bravo", "alpha")


def _fail(exc: Exception) -> typer.Exit:
    from rich.console import Console

    Console().print(f"[red]audit error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(code=2)


def _save(rec: AuditRecord, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "audit.json").write_text(rec.model_dump_json(indent=1), encoding="utf-8")
    if rec.rounds and rec.rounds[-1].risks is None:
        rnd = rec.rounds[-1]
        with (out / f"sample-round-{rnd.number}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["ticket", "id", "generation", "station", "position", "storage"])
            where = rec.manifest.by_station()
            for d in rnd.draws:
                w.writerow(
                    [d.ticket, d.id, d.generation, d.station, d.position or "", where[d.station].storage]
                )


def audit_table(rec: AuditRecord) -> Table:
    """One row per round: draws, risk per assertion, decision."""
    from rich.table import Table

    table = Table(title=f"risk-limiting audit ({rec.kind}, risk limit {rec.risk_limit:g}): {rec.status}")
    table.add_column("round", justify="right")
    table.add_column("draws", justify="right")
    for a in rec.assertions:
        table.add_column(f"risk: {a.id}", justify="right")
    table.add_column("decision")
    for r in rec.rounds:
        risks = [f"{r.risks[a.id]:.4g}" if r.risks else "awaiting tallies" for a in rec.assertions]
        table.add_row(str(r.number), f"{r.size:,}", *risks, r.decision or "-")
    table.caption = "assertions: " + "; ".join(a.text for a in rec.assertions)
    return table


def _load(audit_dir: Path) -> AuditRecord:
    from saylau.audit.verify import load_record

    return load_record(audit_dir)


@audit_app.command("start")
def start(
    results: Annotated[Path, typer.Argument(help="results directory (station protocols)")],
    rolls: Annotated[str, typer.Option(help="the dice rolls, digits as rolled (at least 20)")],
    observer: Annotated[list[str], typer.Option(help="an observer of the dice ceremony (repeat)")],
    out: Annotated[Path, typer.Option(help="audit directory")] = Path("build/audit"),
    kind: Annotated[str, typer.Option(help=f"one of {', '.join(KINDS)}")] = "batch_comparison",
    risk_limit: Annotated[float, typer.Option(help="risk limit α")] = 0.05,
    held_at: Annotated[str | None, typer.Option(help="when the dice were rolled (ISO 8601)")] = None,
) -> None:
    """Build the manifest, take the seed, derive assertions, estimate and draw round 1."""
    from rich.console import Console

    from saylau.audit.ceremony import DiceCeremony
    from saylau.audit.engine import plan_audit
    from saylau.audit.sources import results_inputs
    from saylau.errors import SaylauError

    if kind not in KINDS:
        raise _fail(ValueError(f"option '--kind': {kind!r} is not one of {', '.join(KINDS)}"))
    try:
        res, manifest, reported = results_inputs(results)
        ceremony = DiceCeremony(
            rolls=rolls,
            observers=tuple(observer),
            manifest_hash=manifest.hash(),
            held_at=held_at or datetime.now(UTC).isoformat(timespec="seconds"),
        )
        rec = plan_audit(manifest, res.rules, reported, ceremony, kind, risk_limit)  # type: ignore[arg-type]
    except SaylauError as exc:
        raise _fail(exc) from exc
    _save(rec, out)
    console = Console()
    console.print(
        f"manifest: {len(manifest.batches):,} stations, {manifest.total:,} ballots, hash {rec.manifest_hash}"
    )
    console.print(f"estimates: {json.dumps(rec.estimates)}")
    console.print(audit_table(rec))
    console.print(f"sample for the audit boards: {out}/sample-round-1.csv")


def _read_tallies(rec: AuditRecord, path: Path) -> dict[str, Any]:
    """Station tallies ``station,<option>…,invalid`` or ballot readings ``id,category``."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rec.kind == "batch_comparison":
        out: dict[str, Any] = {}
        for no, r in enumerate(rows, start=2):
            try:
                out[r["station"]] = {c: int(r[c]) for c in (*rec.manifest.options, "invalid")}
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path} line {no}: needs station and an integer per option and invalid"
                ) from exc
        return out
    try:
        return {r["id"]: r["category"] for r in rows}
    except KeyError as exc:
        raise ValueError(f"{path}: needs columns id and category") from exc


@audit_app.command("enter")
def enter(
    audit_dir: Annotated[Path, typer.Argument(help="audit directory")],
    tallies: Annotated[Path, typer.Argument(help="CSV of the round's hand tallies")],
) -> None:
    """Enter the current round's hand tallies; measure the risk; confirm, escalate or call a full count."""
    from rich.console import Console

    from saylau.audit.engine import enter_round
    from saylau.errors import SaylauError

    try:
        rec = enter_round(_load(audit_dir), _read_tallies(_load(audit_dir), tallies))
    except (SaylauError, ValueError) as exc:
        raise _fail(exc) from exc
    _save(rec, audit_dir)
    Console().print(audit_table(rec))


@audit_app.command("full-count")
def full_count(
    audit_dir: Annotated[Path, typer.Argument(help="audit directory")],
    counts: Annotated[Path, typer.Argument(help="CSV station,<option>…,invalid of every station")],
) -> None:
    """Enter the full hand count; the rules applied to it give the outcome."""
    from rich.console import Console

    from saylau.audit.engine import enter_full_count
    from saylau.errors import SaylauError

    try:
        rec = _load(audit_dir)
        batch = rec.model_copy(update={"kind": "batch_comparison"})
        rec = enter_full_count(rec, _read_tallies(batch, counts))
    except (SaylauError, ValueError) as exc:
        raise _fail(exc) from exc
    _save(rec, audit_dir)
    d = rec.full_count_decision
    Console().print(
        f"full hand count: outcome {d.outcome if d else '?'}; " + " ".join(d.explain() if d else [])
    )


@audit_app.command("verify")
def verify(
    source: Annotated[
        Path,
        typer.Argument(
            help="audit directory or audit.json (the CLI's audit), or the server's: a board JSONL file "
            "(GET /elections/{id}/board) or an election record directory holding board.jsonl"
        ),
    ],
    results: Annotated[
        Path | None, typer.Option(help="the published results, to rebuild the manifest")
    ] = None,
) -> None:
    """Recompute the audit from scratch: manifest, seed, assertions, sample, risks, decisions."""
    from rich.console import Console
    from rich.table import Table

    from saylau.audit.sources import results_inputs
    from saylau.audit.verify import verify_audit
    from saylau.errors import SaylauError

    console = Console()
    try:
        rec, published = _load_any(source)
        if results is not None:
            published = results_inputs(results)[1]
        done = verify_audit(rec, published)
    except SaylauError as exc:
        console.print(f"[red]AUDIT VERIFICATION FAILED[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=1) from exc
    table = Table(title=f"audit {source} recomputed from scratch")
    table.add_column("check")
    table.add_column("recomputed")
    for name, detail in done.checks:
        table.add_row(name, detail)
    console.print(table)
    console.print(f"[green]audit verified[/green]: {rec.status}")


def _load_any(source: Path) -> tuple[AuditRecord, BallotManifest | None]:
    """The audit record in ``source``, and for a board the manifest its own protocols give."""
    from saylau.audit.board_replay import audit_from_board, audit_steps, protocols_manifest
    from saylau.board.verify import iter_jsonl
    from saylau.errors import VerificationFailed

    board = source / "board.jsonl" if source.is_dir() and not (source / "audit.json").exists() else source
    if board.suffix != ".jsonl":
        return _load(source), None
    try:
        with board.open(encoding="utf-8") as fh:
            rows = list(iter_jsonl(fh))
    except OSError as exc:
        raise VerificationFailed(f"{board}: cannot be read ({exc.strerror})") from exc
    _, rec = audit_from_board(audit_steps(rows))
    if rec is None:
        raise VerificationFailed(f"{board}: the board holds no audit (no audit_start entry)")
    return rec, protocols_manifest(rows, rec.manifest)


@audit_app.command("simulate")
def simulate(
    results: Annotated[Path, typer.Argument(help="results directory; its protocols are read as the paper")],
    out: Annotated[Path, typer.Option(help="audit directory")] = Path("build/audit"),
    kind: Annotated[str, typer.Option(help=f"one of {', '.join(KINDS)}")] = "batch_comparison",
    risk_limit: Annotated[float, typer.Option(help="risk limit α")] = 0.05,
    rolls: Annotated[str, typer.Option(help="dice rolls")] = "39184720553619028847",
) -> None:
    """Play a whole audit in which the audit boards find the paper equal to the protocols."""
    from rich.console import Console

    from saylau.audit.simulate import run_audit
    from saylau.election.results_io import load_results
    from saylau.errors import SaylauError

    if kind not in KINDS:
        raise _fail(ValueError(f"option '--kind': {kind!r} is not one of {', '.join(KINDS)}"))
    try:
        res = load_results(results)
        eid = str(res.summary.get("scenario", {}).get("election_id") or results.name)
        done = run_audit(eid, res.table, res.table, res.rules, res.against_all, kind, risk_limit, rolls)  # type: ignore[arg-type]
    except SaylauError as exc:
        raise _fail(exc) from exc
    _save(done.record, out)
    Console().print(audit_table(done.record))


@audit_app.command("estimate")
def estimate(
    results: Annotated[Path, typer.Argument(help="results directory (station protocols)")],
    risk_limit: Annotated[list[float], typer.Option(help="risk limits (repeat)")] = [0.01, 0.05, 0.10],  # noqa: B006
) -> None:
    """Initial sample sizes per audit type and risk limit, if the protocols are right (no dice needed)."""
    from rich.console import Console
    from rich.table import Table

    from saylau.audit.assertions import derive_assertions
    from saylau.audit.engine import _estimates
    from saylau.audit.sources import results_inputs
    from saylau.errors import SaylauError

    try:
        res, manifest, reported = results_inputs(results)
        _, assertions = derive_assertions(res.rules, reported, manifest.options)
        table = Table(
            title=f"first-round sizes: {len(manifest.batches):,} stations, {manifest.total:,} ballots"
        )
        for col in (
            "assertion",
            "risk limit",
            "batch comparison (stations)",
            "BRAVO ASN",
            "BRAVO 90%",
            "ALPHA 90%",
        ):
            table.add_column(col, justify="right")
        for alpha in risk_limit:
            sizes = {k: _estimates(k, assertions, manifest, alpha, 0.9, "estimate") for k in KINDS}  # type: ignore[arg-type]
            for a in assertions:
                b, br, al = sizes["batch_comparison"][a.id], sizes["bravo"][a.id], sizes["alpha"][a.id]
                table.add_row(
                    a.id,
                    f"{alpha:g}",
                    f"{b['no_discrepancy']:,}",
                    f"{br['asn']:,}",
                    f"{br['q0.9']:,}",
                    f"{al['q0.9']:,}",
                )
    except SaylauError as exc:
        raise _fail(exc) from exc
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to the application."""
    app.add_typer(audit_app, name="audit")
