"""``saylau protocol keygen|sign``: the station commission's Ed25519 key and its signed result protocols.

The private key lives in a passphrase-protected file (:mod:`saylau.crypto.keyfile`, kind
``protocol-key``) on the commission's side; the CEC registers its public key
(``POST /elections/{id}/stations/{station}/key``). ``sign`` turns a figures file (the fields of
``saylau.election.protocols.ProtocolFigures``) into a ``SignedProtocol`` the server accepts, checking
every control relation first; a correction (``--corrects`` a signed file, or ``--reason`` with
``--server``: the station's latest accepted version) is the next version, naming the hash of the one it
replaces and the reason. ``--submit`` sends it with the commission's login and prints the server's
reconciliation of the protocol with the roll and the pollbook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from saylau.cli.staff import Server, StaffError, login_password, passphrase, read_json, write_json
from saylau.crypto.keyfile import read_public, read_secret, write_secret
from saylau.election.protocols import (
    ProtocolFigures,
    SignedProtocol,
    check_protocol,
    public_key_hex,
    sign_protocol,
)

__all__ = ["protocol_app"]

protocol_app = typer.Typer(
    help="The station commission's protocol key and signed result protocols (and their corrections).",
    no_args_is_help=True,
)

KeyFile = Annotated[Path, typer.Argument(help="the commission's passphrase-protected protocol key file")]
PassFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file", help="the key file's passphrase on line 1 (else $SAYLAU_PASSPHRASE or a prompt)"
    ),
]


@protocol_app.command("keygen")
def keygen(
    key_file: KeyFile,
    election: Annotated[str, typer.Option("--election", help="the election id")],
    station: Annotated[str, typer.Option("--station", help="the commission's station id")],
    passphrase_file: PassFile = None,
) -> None:
    """Make the commission's Ed25519 key; print the public key the CEC registers for the station."""
    if key_file.exists():
        raise StaffError(f"{key_file}: already exists; a protocol key file is never overwritten")
    key = Ed25519PrivateKey.generate()
    public_hex = public_key_hex(key.public_key())
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = {"election_id": election, "station_id": station, "public_key": public_hex}
    write_secret(
        key_file,
        "protocol-key",
        public,
        {"ed25519_private_key": raw.hex()},
        passphrase(passphrase_file, new=True, what=str(key_file)),
    )
    typer.echo(public_hex)
    typer.echo(
        f"station {station} of election {election}: protocol key in {key_file}; the CEC registers "
        f"it with POST /elections/{election}/stations/{station}/key "
        f'{{"public_key": "{public_hex}"}}',
        err=True,
    )


def _key(path: Path, passphrase_file: Path | None) -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    read_public(path, "protocol-key")
    opened = read_secret(path, "protocol-key", passphrase(passphrase_file, new=False, what=str(path)))
    try:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(opened.secret["ed25519_private_key"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StaffError(f"{path}: the protocol key inside is damaged ({exc})") from None
    if public_key_hex(key.public_key()) != opened.public.get("public_key"):
        raise StaffError(f"{path}: the private key does not match the public key the file names")
    return key, opened.public


def _latest(conn: Server, election_id: str, station_id: str) -> SignedProtocol | None:
    versions = [p for p in conn.get(f"/elections/{election_id}/protocols") if p["station_id"] == station_id]
    if not versions:
        return None
    return SignedProtocol.model_validate(max(versions, key=lambda p: p["version"])["protocol"])


@protocol_app.command("sign")
def sign(
    key_file: KeyFile,
    figures_file: Annotated[
        Path, typer.Argument(help="the protocol's figures (JSON: station, registered, …)")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="write the signed protocol here (default: stdout)")
    ] = None,
    corrects: Annotated[
        Path | None, typer.Option("--corrects", help="the signed version this one corrects (a file)")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="why this version corrects the last one")] = "",
    server: Annotated[str | None, typer.Option("--server", help="the saylau server's URL")] = None,
    user: Annotated[str | None, typer.Option("--user", help="the commission's login (with --server)")] = None,
    submit: Annotated[bool, typer.Option("--submit", help="send it to the server (with --server)")] = False,
    passphrase_file: PassFile = None,
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="the login's password on line 1 (else $SAYLAU_PASSWORD)"),
    ] = None,
) -> None:
    """Sign a result protocol (control relations checked first); a correction is a new signed version."""
    doc = read_json(figures_file, "a protocol's figures")
    figures = ProtocolFigures.model_validate(doc.get("figures", doc) if isinstance(doc, dict) else doc)
    key, public = _key(key_file, passphrase_file)
    election_id, station_id = str(public["election_id"]), str(public["station_id"])
    if figures.station != station_id:
        raise StaffError(
            f"{figures_file}: figures of station {figures.station!r}, the key is station {station_id!r}'s"
        )
    conn: Server | None = None
    if server is not None:
        if user is None:
            raise StaffError("give --user (the commission's login) with --server")
        conn = Server(server)
        conn.login(user, login_password(password_file, user))
        manifest = conn.get(f"/elections/{election_id}")["manifest"]
        check_protocol(figures, [s["selection_id"] for c in manifest["contests"] for s in c["selections"]])
    else:
        check_protocol(figures, list(figures.votes))  # every relation but the options' (no manifest here)
    previous: SignedProtocol | None = None
    if corrects is not None:
        previous = SignedProtocol.model_validate(read_json(corrects, "a signed protocol"))
    elif conn is not None and reason.strip():
        previous = _latest(conn, election_id, station_id)
        if previous is None:
            raise StaffError(f"station {station_id}: no accepted protocol to correct; sign without --reason")
    if previous is not None:
        if previous.figures.station != station_id or previous.election_id != election_id:
            raise StaffError(f"{corrects}: a protocol of another station or election")
        if not reason.strip():
            raise StaffError("a correction needs --reason (why the figures changed)")
    signed = sign_protocol(
        figures,
        key,
        election_id=election_id,
        signed_at=datetime.now(UTC),
        version=1 if previous is None else previous.version + 1,
        supersedes=None if previous is None else previous.protocol_hash(),
        reason=reason.strip(),
    )
    write_json(out, signed.model_dump(mode="json"))
    if submit:
        if conn is None:
            raise StaffError("--submit needs --server and --user")
        with conn:
            answer = conn.post(
                f"/elections/{election_id}/stations/{station_id}/protocols",
                signed.model_dump(mode="json"),
                idempotency_key=f"protocol-{signed.protocol_hash()[:32]}",
            )
        rec = answer.get("reconciliation", {})
        typer.echo(
            f"station {station_id}: protocol v{signed.version} accepted (hash {answer['protocol_hash']}); "
            f"reconciliation: {rec.get('status')}"
            + "".join(f"; {d['relation']}: {d['detail']}" for d in rec.get("differences", [])),
            err=True,
        )
