"""Per-ballot cost of saylau's cryptography on one core, with the group operations behind it.

Encrypts and verifies a 7-selection vote-for-one ballot (3 guardians, quorum 2), reporting wall-clock and
CPU milliseconds per ballot (best of several rounds, since other work on the machine adds noise), the
libsecp256k1 operations per ballot from ``OPS``, the cost of each primitive, and the "library floor" (the
operations times their unit cost) so we can see how much is Python around the library. Also times the
discrete log of a national total (8.3 million) and a full threshold decryption of a tally.

Usage: python benchmarks/bench_crypto_ops.py [--ballots N] [--rounds R] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from saylau.crypto import (
    ContestSpec,
    DeviceChain,
    ElectionParameters,
    EncryptedTally,
    combine_decryption,
    encrypt_ballot,
    partial_decrypt,
    run_key_ceremony,
    verify_ballot,
)
from saylau.crypto.hazmat.dlog import discrete_log
from saylau.crypto.hazmat.fixedbase import multi_exp, table_for
from saylau.crypto.hazmat.group import OPS, G, g_pow, random_scalar

EG_ENCRYPT_MS, EG_VERIFY_MS = 105.0, 185.0  # ElectionGuard 1.4.0 on this machine (issue 2)


def _best(fn: Callable[[], Any], n: int, rounds: int) -> tuple[float, float]:
    """Best (wall µs, CPU µs) per call over ``rounds`` rounds of ``n`` calls."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        wall = min(wall, (time.perf_counter() - w0) / n * 1e6)
        cpu = min(cpu, (time.process_time() - c0) / n * 1e6)
    return wall, cpu


def run(n_ballots: int, rounds: int, unit_calls: int = 2000) -> dict[str, Any]:
    """Run every measurement; return the figures (the caller pins the process to one core)."""
    base_hash = hashlib.sha256(b"bench_crypto_ops").digest()
    guardians, key = run_key_ceremony(3, 2, base_hash)
    contest = ContestSpec("president", (*(f"candidate-{i}" for i in range(6)), "against-all"), 1)
    params = ElectionParameters(base_hash, key, (contest,))
    device = DeviceChain("bench-device", base_hash)
    choices = [{"president": [contest.selection_ids[i % 7]]} for i in range(n_ballots)]
    encrypt_ballot(params, "warm-up", "s", choices[0])  # builds nothing, but warms caches
    verify_ballot(params, encrypt_ballot(params, "warm-up-2", "s", choices[0])[0])  # builds K's table

    enc_wall = enc_cpu = ver_wall = ver_cpu = float("inf")
    ballots: list[Any] = []
    for _ in range(rounds):
        OPS.reset()
        w0, c0 = time.perf_counter(), time.process_time()
        ballots = [encrypt_ballot(params, f"b-{i}", "s", c, device)[0] for i, c in enumerate(choices)]
        enc_wall = min(enc_wall, (time.perf_counter() - w0) / n_ballots * 1e3)
        enc_cpu = min(enc_cpu, (time.process_time() - c0) / n_ballots * 1e3)
        enc_ops = {k: v / n_ballots for k, v in OPS.snapshot().items()}
        OPS.reset()
        w0, c0 = time.perf_counter(), time.process_time()
        for b in ballots:
            verify_ballot(params, b)
        ver_wall = min(ver_wall, (time.perf_counter() - w0) / n_ballots * 1e3)
        ver_cpu = min(ver_cpu, (time.process_time() - c0) / n_ballots * 1e3)
        ver_ops = {k: v / n_ballots for k, v in OPS.snapshot().items()}

    k = random_scalar()
    point = g_pow(random_scalar())
    table_for(point)
    unit = {
        "base_exp": _best(lambda: g_pow(k), unit_calls, rounds)[1],
        "var_exp": _best(lambda: point**k, unit_calls, rounds)[1],
        "table_exp_combine": _best(lambda: multi_exp([(point, k)]), unit_calls, rounds)[1],
        "combine2": _best(lambda: G * point, unit_calls, rounds)[1],
        "serialize": _best(lambda: g_pow(1).to_bytes(), unit_calls, rounds)[1]
        - _best(lambda: g_pow(1), unit_calls, rounds)[1],
    }
    enc_floor = (enc_ops["base_exp"] * unit["base_exp"] + enc_ops["var_exp"] * unit["var_exp"]) / 1e3
    ver_floor = (
        ver_ops["var_exp"] * unit["var_exp"] + ver_ops["table_exp"] * unit["table_exp_combine"]
    ) / 1e3

    tally = EncryptedTally.empty(params.contests)
    for b in ballots:
        tally.add_ballot(b)
    t0 = time.perf_counter()
    partials = [partial_decrypt(g, tally, published=params) for g in guardians[1:]]
    combine_decryption(params, tally, partials, n_ballots)
    decrypt_ms = (time.perf_counter() - t0) * 1e3
    national = key.K**8_300_000
    t0 = time.perf_counter()
    assert discrete_log(national, key.K, 12_000_000) == 8_300_000
    dlog_ms = (time.perf_counter() - t0) * 1e3
    size = len(json.dumps(ballots[0].to_dict(), separators=(",", ":")))
    return {
        "ballots": n_ballots,
        "encrypt_ms": enc_wall,
        "encrypt_cpu_ms": enc_cpu,
        "verify_ms": ver_wall,
        "verify_cpu_ms": ver_cpu,
        "encrypt_ops": enc_ops,
        "verify_ops": ver_ops,
        "unit_us": unit,
        "encrypt_library_floor_ms": enc_floor,
        "verify_library_floor_ms": ver_floor,
        "decrypt_tally_3_guardians_one_missing_ms": decrypt_ms,
        "dlog_8_3M_ms": dlog_ms,
        "ballot_json_bytes": size,
        "speedup_vs_eg_encrypt": EG_ENCRYPT_MS / enc_cpu,
        "speedup_vs_eg_verify": EG_VERIFY_MS / ver_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    r = run(args.ballots, args.rounds)
    if args.json:
        print(json.dumps(r))
        return
    console = Console()
    table = Table(title="saylau crypto, 7-selection vote-for-one ballot, one core")
    for col in ("step", "ms/ballot (wall)", "ms/ballot (CPU)", "library floor ms", "group ops/ballot"):
        table.add_column(col, justify="right")
    for step in ("encrypt", "verify"):
        ops = r[f"{step}_ops"]
        ops_text = ", ".join(f"{k} {v:g}" for k, v in ops.items() if v)
        table.add_row(
            step,
            f"{r[f'{step}_ms']:.2f}",
            f"{r[f'{step}_cpu_ms']:.2f}",
            f"{r[f'{step}_library_floor_ms']:.2f}",
            ops_text,
        )
    console.print(table)
    console.print("unit costs (µs, CPU): " + ", ".join(f"{k} {v:.1f}" for k, v in r["unit_us"].items()))
    console.print(
        f"vs ElectionGuard 1.4.0 ({EG_ENCRYPT_MS:g} / {EG_VERIFY_MS:g} ms): "
        f"encrypt {r['speedup_vs_eg_encrypt']:.0f}x (goal 35x), "
        f"verify {r['speedup_vs_eg_verify']:.0f}x (goal 60x)"
    )
    console.print(
        f"decrypt a {r['ballots']}-ballot tally (2 of 3 guardians): "
        f"{r['decrypt_tally_3_guardians_one_missing_ms']:.0f} ms"
        f" (incl. first-use tables); discrete log of 8.3 M: {r['dlog_8_3M_ms']:.1f} ms;"
        f" ballot JSON {r['ballot_json_bytes']} bytes"
    )


if __name__ == "__main__":
    main()
