"""The verifier's board checks share no code with the writing side (``docs/record-format.md``, DESIGN).

Two constructions of every board payload exist: the writer's (``saylau.voting.publish``, used by the
server and the demo) and the verifier's (``saylau.record.board_payloads``, written from
``docs/board-format.md``). They must agree on every object of the demo record, and equal what its board
carries; and the verifier's board modules import nothing of voting, api, store, sim, polls or forensics
(lazy imports inside functions included).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from record_tamper import read_board, read_json, read_lines

from saylau.board import payload_hash
from saylau.crypto import GuardianRecord, PartialDecryption
from saylau.record import board_payloads as verifier_side
from saylau.record import format as fmt
from saylau.record.demo import DemoResult
from saylau.voting import publish as writer_side

FORBIDDEN = ("saylau.voting", "saylau.api", "saylau.store", "saylau.sim", "saylau.polls", "saylau.forensics")
ROOTS = (
    "saylau.record.board_check",
    "saylau.record.verifier.board",
    "saylau.record.verifier.tallies",
    "saylau.record.board_payloads",
    "saylau.record.board_published",
    "saylau.record.windows",
)


def _imports(module: str) -> set[str]:
    """Every saylau module ``module``'s source imports, at the top or inside functions."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("saylau"):
            found.add(node.module)
            package = importlib.util.find_spec(node.module)
            for a in node.names:  # ``from saylau.record import format``: the submodule
                is_package = package is not None and package.submodule_search_locations is not None
                if is_package and importlib.util.find_spec(f"{node.module}.{a.name}") is not None:
                    found.add(f"{node.module}.{a.name}")
    return {m for m in found if m == "saylau" or m.startswith("saylau.")}


def test_the_verifiers_board_modules_import_nothing_of_the_writing_side() -> None:
    seen: set[str] = set()
    todo = list(ROOTS)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        imported = _imports(module)
        bad = sorted(m for m in imported if m.startswith(FORBIDDEN))
        assert not bad, f"{module} imports {bad}"
        todo.extend(m for m in imported if m not in seen)
    assert "saylau.record.board_check" in seen and "saylau.board.verify" in seen


def test_writer_and_verifier_build_the_same_board_payloads(small_record: DemoResult) -> None:
    d = small_record.out_dir
    board = [r for r in read_board(d) if r["type"] == "entry"]
    on_board = {(e["kind"], e["payload_hash"]) for e in board}
    compared = 0

    def same(kind: str, writer: dict[str, object], verifier: dict[str, object]) -> None:
        nonlocal compared
        assert writer == verifier, kind
        assert (kind, payload_hash(verifier)) in on_board, kind
        compared += 1

    lines = read_lines(d / fmt.BALLOTS)
    where = {x["ballot"]["ballot_id"]: (x["device_id"], x["station_id"]) for x in lines}
    for x in lines:
        b, dev, st = x["ballot"], x["device_id"], x["station_id"]
        if x["state"] != "challenged":
            same("ballot", writer_side.ballot_payload(b, dev, st), verifier_side.ballot_entry(b, dev, st))
        if x["state"] == "superseded":
            args = (b["ballot_id"], b["code"], x["superseded_by"])
            same("superseded", writer_side.superseded_payload(*args), verifier_side.superseded_entry(*args))
    ballots = {x["ballot"]["ballot_id"]: x["ballot"] for x in lines}
    for o in read_lines(d / fmt.CHALLENGED):
        dev, st = where[o["ballot_id"]]
        x = {"ballot": ballots[o["ballot_id"]], "ballot_nonce": o["ballot_nonce"], "choices": o["choices"]}
        writer = writer_side.challenge_payload(x, dev, st)
        same("challenge", writer, verifier_side.challenge_entry(x, dev, st))
    for r in read_json(d / fmt.PARAMETERS)["election"]["joint_key"]["guardians"]:
        writer = writer_side.guardian_record_payload(GuardianRecord.from_dict(r))
        same("guardian", writer, verifier_side.guardian_entry(r))
    tallies = read_lines(d / fmt.TALLIES)
    scopes = [(t["scope"], t["scope_id"]) for t in tallies]
    for index in (p["guardian_index"] for p in tallies[0]["plaintext"]["partials"]):
        mine = [next(p for p in t["plaintext"]["partials"] if p["guardian_index"] == index) for t in tallies]
        parsed = [PartialDecryption.from_dict(p) for p in mine]
        writer = writer_side.guardian_partials_payload(index, scopes, parsed)
        verifier = verifier_side.partial_decryption_entry(
            index, [(*s, p) for s, p in zip(scopes, mine, strict=True)]
        )
        same("partial_decryption", writer, verifier)
    states = small_record.states
    assert compared == states["cast"] + 2 * states["superseded"] + states["challenged"] + 3 + 2
