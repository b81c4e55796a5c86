"""Measure the forensic tests: false-alarm rate on clean elections, detection rate per fraud and intensity.

Clean elections come from the kz-2022 paper simulation (``saylau.sim.paper``, a new seed per
replication; ``--generator synthetic`` uses the generic generator instead). Each fraud of
``saylau.sim.fraud`` is injected into the same clean replication, and every test of
``saylau.forensics.suite`` is run with the same settings the CLI report uses (fewer Monte-Carlo
draws). A test "alarms" when its p-value is at most alpha. The table is written between markers into
docs/forensics.md (``--write-docs``), with the settings and the number of replications.

    .venv/bin/python benchmarks/forensics_eval.py --write-docs                 # 5 replications, ~2-3 min
    .venv/bin/python benchmarks/forensics_eval.py --scale 100000   # timing on 100,000 stations
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from saylau.forensics.data import StationResults
from saylau.forensics.suite import TEST_NAMES, run_suite
from saylau.forensics.synthetic import clean_election
from saylau.sim.fraud import FraudKind, inject

DOCS = Path(__file__).resolve().parent.parent / "docs" / "forensics.md"
BEGIN, END = "<!-- BEGIN forensics_eval -->", "<!-- END forensics_eval -->"
SCALE_BEGIN, SCALE_END = "<!-- BEGIN forensics_scale -->", "<!-- END forensics_scale -->"

#: (kind, fraction of stations, intensity)
FRAUDS: list[tuple[FraudKind, float, float]] = [
    ("stuffing", 0.02, 0.5),
    ("stuffing", 0.05, 0.3),
    ("stuffing", 0.10, 0.8),
    ("shifting", 0.10, 0.2),
    ("shifting", 0.30, 0.4),
    ("rounding", 0.02, 1.0),
    ("rounding", 0.10, 1.0),
    ("fabrication", 0.05, 1.0),
    ("fabrication", 0.20, 1.0),
]


def clean(generator: str, seed: int) -> StationResults:
    if generator == "kz":
        from saylau.sim.forensics_input import paper_results

        return paper_results("kz-2022", seed=seed)
    return clean_election(np.random.default_rng(seed))


def evaluate(replications: int, generator: str, alpha: float, mc: int, console: Console) -> tuple[str, float]:
    configs: list[tuple[str, FraudKind | None, float, float]] = [("clean", None, 0.0, 0.0)]
    configs += [(f"{k} {f:.0%} × {i:g}", k, f, i) for k, f, i in FRAUDS]
    alarms = {c[0]: np.zeros(len(TEST_NAMES)) for c in configs}
    runs = {c[0]: 0 for c in configs}
    start = time.perf_counter()
    clean_reps = 2 * replications
    total = clean_reps + replications * len(FRAUDS)
    with Progress(console=console) as progress:
        task = progress.add_task("elections", total=total)
        for r in range(clean_reps):
            base = clean(generator, 1000 + r)
            rng = np.random.default_rng(r)
            todo = configs if r < replications else configs[:1]
            for label, kind, frac, inten in todo:
                data = base if kind is None else inject(kind, base, rng, frac, inten)[0]
                out = run_suite(data, rng, replications=mc, fingerprint_replications=39)
                for j, name in enumerate(TEST_NAMES):
                    p = out[name].p_value
                    alarms[label][j] += p is not None and p <= alpha
                runs[label] += 1
                progress.advance(task)
    seconds = time.perf_counter() - start
    header = "| election | runs | " + " | ".join(TEST_NAMES) + " |"
    lines = [header, "|" + "---|" * (len(TEST_NAMES) + 2)]
    table = Table("election", "runs", *TEST_NAMES)
    for label, _, _, _ in configs:
        rates = alarms[label] / max(runs[label], 1)
        cells = [f"{x:.2f}" for x in rates]
        lines.append(f"| {label} | {runs[label]} | " + " | ".join(cells) + " |")
        table.add_row(label, str(runs[label]), *cells)
    console.print(table)
    return "\n".join(lines), seconds


def scale(n: int, console: Console) -> str:
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    data = clean_election(rng, n_stations=n)
    gen = time.perf_counter() - t0
    out = run_suite(data, rng)  # the CLI's default settings
    rows = [f"| {name} | {o.seconds:.2f} |" for name, o in out.items()]
    total = sum(o.seconds for o in out.values())
    console.print(f"{n} stations: generated in {gen:.1f} s, tests {total:.1f} s")
    return "\n".join(
        [
            f"{n:,} stations, CLI default Monte-Carlo settings (200 draws; fingerprint bootstrap 99):",
            "",
            "| test | seconds |",
            "|---|---|",
            *rows,
            f"| **all tests** | **{total:.1f}** |",
        ]
    )


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    if begin not in text or end not in text:
        raise SystemExit(f"{DOCS}: markers {begin} / {end} missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=int, default=5, help="fraud replications (clean: twice as many)")
    ap.add_argument("--generator", choices=("kz", "synthetic"), default="kz")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--mc", type=int, default=50, help="Monte-Carlo draws per test")
    ap.add_argument("--scale", type=int, default=0, help="also time the suite on this many stations")
    ap.add_argument("--write-docs", action="store_true", help="write the table into docs/forensics.md")
    args = ap.parse_args()
    console = Console()
    text = DOCS.read_text(encoding="utf-8") if args.write_docs else ""
    if args.replications > 0:
        body, seconds = evaluate(args.replications, args.generator, args.alpha, args.mc, console)
        generator = "kz-2022 paper simulation" if args.generator == "kz" else "generic synthetic generator"
        note = (
            f"Produced by `benchmarks/forensics_eval.py --replications {args.replications} "
            f"--generator {args.generator} --mc {args.mc}` in {seconds:.0f} s: clean elections from the "
            f"{generator} ({2 * args.replications} replications, new seed each), each fraud injected into "
            f"{args.replications} of them; alarm = p-value ≤ {args.alpha}; Monte-Carlo nulls with {args.mc} "
            "draws (digit tests 25, fingerprint bootstrap 39). Fraud columns are detection rates, the clean "
            "row is the false-alarm rate. Fraud label: kind, share of stations, intensity."
        )
        console.print(f"{seconds:.0f} s")
        if args.write_docs:
            text = replace_between(text, BEGIN, END, f"{note}\n\n{body}")
    if args.scale:
        body = scale(args.scale, console)
        if args.write_docs:
            text = replace_between(text, SCALE_BEGIN, SCALE_END, body)
    if args.write_docs:
        DOCS.write_text(text, encoding="utf-8")
        console.print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
