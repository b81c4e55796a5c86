"""Write the forensic report: PNG plots, ``summary.json`` and a self-contained ``index.html``.

The HTML links the PNGs beside it (no CDN, no script), so the directory can be zipped and read offline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, select_autoescape

from saylau.forensics.data import StationResults
from saylau.forensics.load import CleaningReport
from saylau.forensics.plots import plot_digits, plot_fingerprint, plot_late_turnout, plot_percentages
from saylau.forensics.suite import TEST_NAMES, TestOutcome, run_suite

__all__ = ["DESCRIPTIONS", "write_report"]

DESCRIPTIONS = {
    "fingerprint": "Klimek et al. (PNAS 2012) ballot-stuffing model fitted to the turnout × share histogram; "
    "score f_i + f_e, parametric-bootstrap p-value.",
    "round_numbers": "Integer percentages of turnout and winner's share (Kobak et al., AoAS 2016); "
    "binomial Monte-Carlo null.",
    "last_digit": "Last digits of counts ≥ 10 against uniform (chi-square, 9 df).",
    "last_digit_mc": "Last digits against the binomial-resampling null (calibrated to these count sizes).",
    "second_digit": "Second digits of vote counts against Benford's law (2BL, chi-square, 9 df).",
    "second_digit_mc": "Second digits against the binomial-resampling null.",
    "late_turnout": "Ballots in the last reporting interval against the previous one, per station; "
    "outliers counted, binomial test.",
    "near_100": "Stations with turnout or winner's share ≥ 99% against a robust logit-normal null "
    "per region.",
}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>saylau forensics — {{ source }}</title>
<style>
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.alarm{background:#fde2e2}.ok{background:#e6f4e6}img{max-width:100%}
</style></head><body>
<h1>Election forensics</h1>
<p>Input: <code>{{ source }}</code> — {{ stations }} stations analysed, winner <b>{{ winner }}</b>
({{ "%.2f"|format(100 * winner_share) }}% of valid votes). Level α = {{ alpha }}; seed {{ seed }}.</p>
<h2>Data cleaning</h2>
<p>{{ cleaning.rows_read }} rows read, {{ cleaning.rows_kept }} kept, {{ cleaning.rows_dropped }} dropped.</p>
{% if cleaning.dropped_by_reason %}<table><tr><th>reason</th><th>rows</th><th>examples</th></tr>
{% for reason, n in cleaning.dropped_by_reason.items() %}<tr><td>{{ reason }}</td><td>{{ n }}</td>
<td>{{ cleaning.examples[reason]|join(", ") }}</td></tr>{% endfor %}</table>{% endif %}
{% for note in cleaning.notes %}<p><i>{{ note }}</i></p>{% endfor %}
<h2>Tests</h2>
<table><tr><th>test</th><th>statistic</th><th>p-value</th><th>verdict</th><th>what it checks</th></tr>
{% for name, t in tests.items() %}
<tr class="{{ 'alarm' if t.calibrated and t.p_value is not none and t.p_value < alpha else 'ok' }}">
<td>{{ name }}</td>
<td>{{ "%.4g"|format(t.statistic) if t.statistic is not none else "—" }}</td>
<td>{{ t.p_text if t.p_text else "—" }}</td>
<td>{% if t.skipped %}skipped: {{ t.skipped }}{% elif not t.calibrated %}not calibrated (see the _mc row)
{% elif t.p_value < alpha %}anomaly{% else %}no anomaly{% endif %}</td>
<td>{{ descriptions[name] }}</td></tr>{% endfor %}</table>
<p>A Monte-Carlo p-value whose null draws never reached the observation is shown as
"p &lt; 1/(B+1)" with its z-score and the normal tail, never as a plain number: it is a bound.
A p-value below α says the data are unlikely under that test's clean model; docs/forensics.md gives each
test's measured false-alarm rate on clean simulated elections, which is the number to weigh it by.</p>
<h2>Plots</h2>
{% for img in images %}<p><img src="{{ img }}" alt="{{ img }}"></p>{% endfor %}
</body></html>
"""


def write_report(
    results: StationResults,
    cleaning: CleaningReport,
    out: Path,
    seed: int = 0,
    replications: int = 200,
    fingerprint_replications: int = 99,
    alpha: float = 0.05,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the suite, write plots, ``summary.json`` and ``index.html`` into ``out``; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    tests = run_suite(results, rng, replications, fingerprint_replications, TEST_NAMES, on_done)
    images = _plots(results, tests, out)
    summary: dict[str, Any] = {
        "source": cleaning.source,
        "stations": results.n,
        "options": list(results.options),
        "winner": results.winner,
        "winner_share": results.national_shares()[results.winner],
        "alpha": alpha,
        "seed": seed,
        "cleaning": cleaning.as_dict(),
        "tests": {name: t.as_dict() for name, t in tests.items()},
        "anomalies": [
            n for n, t in tests.items() if t.calibrated and t.p_value is not None and t.p_value < alpha
        ],
        "seconds": round(time.perf_counter() - start, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(_TEMPLATE).render(
        **{k: summary[k] for k in ("source", "stations", "winner", "winner_share", "alpha", "seed")},
        cleaning=summary["cleaning"],
        tests=summary["tests"],
        descriptions=DESCRIPTIONS,
        images=images,
    )
    (out / "index.html").write_text(html, encoding="utf-8")
    return summary


def _plots(results: StationResults, tests: dict[str, TestOutcome], out: Path) -> list[str]:
    images = []
    fp = tests.get("fingerprint")
    if fp is not None and fp.result is not None:
        images.append(plot_fingerprint(results, fp.result, out / "fingerprint.png").name)
    images.append(plot_percentages(results, out / "percentages.png").name)
    ld, sd = tests.get("last_digit"), tests.get("second_digit")
    if ld is not None and sd is not None and ld.result is not None and sd.result is not None:
        images.append(plot_digits(ld.result, sd.result, out / "digits.png").name)
    late = tests.get("late_turnout")
    if late is not None and late.result is not None:
        images.append(plot_late_turnout(results, late.result, out / "late_turnout.png").name)
    return images
