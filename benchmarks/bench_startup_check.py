"""How long ``saylau serve``'s start-up integrity check takes, per 10,000 ballots, on SQLite and PostgreSQL.

Casts N real encrypted ballots through the API (in-process, station batch uploads, every proof verified),
then times ``saylau.store.integrity.check_database`` — the check ``saylau serve`` runs before serving and
``saylau check`` runs on demand — over the database: board chain and checkpoints, every ballot row against
its board entry, every device chain.

Usage: python benchmarks/bench_startup_check.py [--ballots 10000] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.conftest import (  # noqa: E402
    CSV,
    PASSWORD,
    STATIONS,
    ElectionDayClock,
    register_devices,
    roll_csv,
    setup_election,
)
from reliability.live_election import _extra_voters  # noqa: E402
from saylau.api import Settings, create_app  # noqa: E402
from saylau.board import BoardSigner  # noqa: E402
from saylau.store.accounts import create_user  # noqa: E402
from saylau.store.integrity import check_database  # noqa: E402
from saylau.voting.device import VotingDevice  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
P = "/api/v1"
BATCH = 500


def run(backend: str, n: int) -> dict[str, Any]:
    """Cast ``n`` ballots, then time the check (best of 3)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"saylau-check-{backend}-"))
    schema = None
    url = f"sqlite:///{tmp / 'saylau.db'}"
    if backend == "postgres":
        import psycopg

        schema = f"chk_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = PG_URL
    settings = Settings(
        database_url=url,
        db_schema=schema,
        board_key_file=tmp / "board.pem",
        revote_key_file=tmp / "revote.key",
        job_workers=0,
        verify_processes=2,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )
    app = create_app(settings)
    state = app.state.saylau
    state.clock = ElectionDayClock()
    with state.transaction() as s:
        create_user(s, "cec", PASSWORD, "cec", hasher=state.hasher)
    try:
        with warnings.catch_warnings(), TestClient(app) as c:
            warnings.simplefilter("ignore")
            el = setup_election(c, open_it=False)
            extra = _extra_voters(n)
            r = c.post(f"{P}/elections/{el.id}/roll", content=roll_csv(extra), headers={**el.h["cec"], **CSV})
            assert r.status_code == 201, r.text
            assert c.post(f"{P}/elections/{el.id}/open", headers=el.h["cec"]).status_code == 200
            register_devices(c, el, *(f"{s}-bench" for s in STATIONS))
            devices = {s: VotingDevice(el.params, f"{s}-bench", s) for s in STATIONS}  # type: ignore[arg-type]
            pending: dict[str, list[dict[str, Any]]] = {s: [] for s in STATIONS}
            cast = 0
            for k, (iin, *_rest, station) in enumerate(extra):
                hdr = el.h[f"station{station.removeprefix('st-')}"]
                r = c.post(
                    f"{P}/elections/{el.id}/stations/{station}/checkin", json={"iin": iin}, headers=hdr
                )
                assert r.status_code == 201, r.text
                ballot = devices[station].encrypt({"president": [("cand-a", "cand-b")[k % 2]]}, "main")
                devices[station].cast(ballot)
                pending[station].append(
                    {
                        "credential": r.json()["credential"],
                        "ballot": ballot.ballot.to_dict(),
                        "device_id": f"{station}-bench",
                    }
                )
                if len(pending[station]) == BATCH or k == len(extra) - 1:
                    for st in STATIONS:
                        if pending[st]:
                            h = el.h[f"station{st.removeprefix('st-')}"]
                            out = c.post(
                                f"{P}/elections/{el.id}/ballots/batch",
                                json={"ballots": pending[st]},
                                headers=h,
                            )
                            assert out.status_code == 200 and out.json()["accepted"] == len(pending[st]), (
                                out.text
                            )
                            cast += len(pending[st])
                            pending[st] = []
                    print(f"{backend}: {cast} ballots cast", file=sys.stderr)
        public_key = BoardSigner.from_file(tmp / "board.pem", create=False).public_key_hex
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with state.reading() as session:
                (result,) = check_database(session, public_key, settings.checkpoint_every)
            times.append(time.perf_counter() - t0)
        best = min(times)
        return {
            "backend": backend,
            "ballots": result.ballots,
            "board_entries": result.entries,
            "seconds": round(best, 2),
            "seconds_per_10k_ballots": round(best * 10_000 / max(result.ballots, 1), 2),
        }
    finally:
        state.engine.dispose()
        if schema is not None:
            import psycopg

            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [run(b, args.ballots) for b in backends]
    print("| backend | ballots | board entries | check, s | s per 10,000 ballots |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['backend']} | {r['ballots']} | {r['board_entries']} | {r['seconds']} | "
            f"{r['seconds_per_10k_ballots']} |"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
