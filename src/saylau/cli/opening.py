"""``saylau check-opening``: check one challenged ballot's opening without the server or the whole record.

A voter who challenged a ballot in the booth (Benaloh, EG 2.0 §3.6) downloads its opening, or finds it
on the bulletin board under its tracking code; this command re-checks its proofs and that the revealed
nonce re-encrypts the claimed choice (``verify_challenged_ballot``), with the election parameters of
the record (``parameters.json``) or of the API (``GET /api/v1/elections/{id}``, field ``parameters``).
With ``--code`` it also says whether the code the voter wrote down is this ballot's: a remote voter's
booth shows the code of the ballot with their revote tag, and publishes it opened without the tag (a
tag would link the plaintext to them), so ``--revote-tag`` recomputes the code the voter saw.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from saylau.crypto import ChallengedBallot, ElectionParameters, verify_challenged_ballot
from saylau.crypto.ballot_types import tracking_code
from saylau.errors import SaylauError

__all__ = ["check_opening"]


def _parameters(doc: Any) -> Any:
    """The election object from a record's parameters.json, an API election reply, or the object itself."""
    if isinstance(doc, dict):
        if isinstance(doc.get("election"), dict):
            return doc["election"]
        if isinstance(doc.get("parameters"), dict):
            return doc["parameters"]
    return doc


def _opening(doc: Any) -> Any:
    """The opening from the file: itself, a board payload ``{"challenged": …}``, or a code lookup reply."""
    if isinstance(doc, dict) and isinstance(doc.get("entries"), list):
        found = [
            e["payload"]["challenged"]
            for e in doc["entries"]
            if isinstance(e, dict) and e.get("kind") == "challenge"
        ]
        if len(found) != 1:
            raise typer.BadParameter("the lookup reply holds no challenged ballot", param_hint="FILE")
        return found[0]
    if isinstance(doc, dict) and isinstance(doc.get("challenged"), dict):
        return doc["challenged"]
    return doc


def _read(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint=what) from None


def check_opening(
    file: Annotated[
        Path, typer.Argument(help="the opening (JSON), as downloaded from the booth or the board")
    ],
    parameters: Annotated[
        Path, typer.Option(help="parameters.json of the record, or the API's election reply")
    ],
    code: Annotated[str | None, typer.Option(help="the tracking code you wrote down (hex)")] = None,
    revote_tag: Annotated[str | None, typer.Option(help="your revote tag (remote voters; hex)")] = None,
) -> None:
    """Check a challenged ballot's opening: its proofs, and that it decrypts to the choices it claims."""
    try:
        params = ElectionParameters.from_dict(_parameters(_read(parameters, "--parameters")))
        opened = ChallengedBallot.from_dict(_opening(_read(file, "FILE")))
        verify_challenged_ballot(params, opened)
    except SaylauError as exc:
        typer.echo(f"opening REFUSED: {exc}", err=True)
        raise typer.Exit(1) from None
    ballot = opened.ballot
    typer.echo(f"opening of ballot {ballot.ballot_id} (tracking code {ballot.code.hex()}) verifies:")
    for contest_id, chosen in sorted(opened.choices.items()):
        typer.echo(f"  {contest_id}: {', '.join(chosen) if chosen else '(no mark)'}")
    if code is None:
        return
    wanted = code.strip().lower()
    if wanted == ballot.code.hex():
        typer.echo("the tracking code you gave is this ballot's")
        return
    if revote_tag is not None:
        try:
            tagged = replace(ballot, revote_tag=bytes.fromhex(revote_tag))
        except ValueError:
            raise typer.BadParameter("not hexadecimal", param_hint="--revote-tag") from None
        if tracking_code(ballot.previous_code, tagged.crypto_hash()).hex() == wanted:
            typer.echo("the tracking code you gave is this ballot with your revote tag (same ciphertexts)")
            return
    typer.echo("the tracking code you gave is NOT this ballot's", err=True)
    raise typer.Exit(1)
