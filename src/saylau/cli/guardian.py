"""``saylau guardian keygen|shares|finish|decrypt``: a guardian's part of the ceremony and the decryption.

The guardian's secret (its polynomial, then the shares it received and its key share) lives only in a
passphrase-protected key file on the guardian's machine (:mod:`saylau.crypto.keyfile`, kind
``guardian``); what leaves it is public (the record of commitments with their proofs, partial
decryptions with theirs) or encrypted to one other guardian (shares). Each step runs against a server
(``--server URL --user NAME``: the routes of ``saylau.api.routes_ceremony``) or against files, for a
ceremony held without one (``--election-file``, ``--records``, ``--shares``, ``--tally``,
``--parameters``, ``--out``). ``decrypt`` first checks the published parameters against the guardian's
own ceremony (``Guardian.check_published``) and refuses to decrypt for any other key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from saylau.cli.staff import Server, StaffError, login_password, passphrase, read_json, write_json
from saylau.crypto import ElectionParameters, EncryptedShare, EncryptedTally, Guardian, GuardianRecord
from saylau.crypto.keyfile import read_public, read_secret, write_secret
from saylau.errors import CeremonyError

__all__ = ["guardian_app"]

guardian_app = typer.Typer(
    help="A guardian's steps of the key ceremony and of the decryption; the secret stays in a key file.",
    no_args_is_help=True,
)

KeyFile = Annotated[Path, typer.Argument(help="the guardian's passphrase-protected key file")]
PassFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="read the key file's passphrase from line 1 (else $SAYLAU_PASSPHRASE, else a prompt)",
    ),
]
ServerOpt = Annotated[
    str | None, typer.Option("--server", help="the saylau server's URL (default: the key file's)")
]
UserOpt = Annotated[str | None, typer.Option("--user", help="the guardian's login (default: the key file's)")]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file", help="the login's password on line 1 (else $SAYLAU_PASSWORD or a prompt)"
    ),
]


def _check_base_hash(info: dict[str, Any]) -> bytes:
    """The election's base hash, recomputed from its manifest, ``n`` and ``k`` when the manifest is there."""
    from saylau.election.manifest import Manifest
    from saylau.record.format import election_base_hash

    try:
        base_hash = bytes.fromhex(str(info["base_hash"]))
        n, k = int(info["guardians"]), int(info["quorum"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StaffError(f"election description: missing or bad field {exc}") from None
    if info.get("manifest") is not None:
        manifest = Manifest.from_json_obj(info["manifest"])
        expected = election_base_hash(manifest.manifest_hash(), n, k)
        if expected != base_hash:
            raise CeremonyError(
                f"election {info.get('id')}: base hash {base_hash.hex()} is not H(manifest, n={n}, k={k}) "
                f"= {expected.hex()}; refusing to take part"
            )
    return base_hash


def _open(path: Path, passphrase_file: Path | None) -> tuple[Guardian, dict[str, Any], str]:
    read_public(path, "guardian")  # the kind first: a protocol key is named as such, before any prompt
    word = passphrase(passphrase_file, new=False, what=str(path))
    opened = read_secret(path, "guardian", word)
    return Guardian.from_private_dict(opened.secret), opened.public, word


def _save(path: Path, guardian: Guardian, public: dict[str, Any], word: str) -> None:
    write_secret(path, "guardian", public, guardian.to_private_dict(), word)


def _connect(
    public: dict[str, Any], server: str | None, user: str | None, password_file: Path | None
) -> Server:
    url = server or public.get("server")
    if not url:
        raise StaffError("no server: give --server URL, or work with files (see --help)")
    username = user or public.get("username")
    if not username:
        raise StaffError("no login: give --user NAME")
    conn = Server(str(url))
    conn.login(str(username), login_password(password_file, str(username)))
    return conn


def _records(docs: list[Any]) -> dict[int, GuardianRecord]:
    """Guardian records from ``GET .../guardians`` lists, ``{"record": …}`` or bare records."""
    out: dict[int, GuardianRecord] = {}
    for doc in docs:
        items = doc if isinstance(doc, list) else [doc]
        for item in items:
            raw = item.get("record", item) if isinstance(item, dict) else item
            if raw is None:
                continue
            rec = GuardianRecord.from_dict(raw)
            out[rec.index] = rec
    return out


def _need_all(records: dict[int, GuardianRecord], n: int, what: str) -> None:
    missing = sorted(set(range(1, n + 1)) - set(records))
    if missing:
        raise StaffError(f"{what}: guardians {missing} have not published their records yet; try again later")


@guardian_app.command("keygen")
def keygen(
    key_file: KeyFile,
    server: ServerOpt = None,
    election: Annotated[
        str | None, typer.Option("--election", help="the election id (with --server)")
    ] = None,
    index: Annotated[int | None, typer.Option("--index", help="this guardian's index, 1..n")] = None,
    user: UserOpt = None,
    election_file: Annotated[
        Path | None, typer.Option("--election-file", help="the election as GET /elections/{id} gives it")
    ] = None,
    record_out: Annotated[
        Path | None, typer.Option("--record-out", help="also write the public record to this file")
    ] = None,
    passphrase_file: PassFile = None,
    password_file: PasswordFile = None,
) -> None:
    """Draw the guardian's secret polynomial into a new key file and publish its record."""
    if key_file.exists():
        raise StaffError(f"{key_file}: already exists; a guardian's key file is never overwritten")
    if index is None:
        raise StaffError("give --index (this guardian's index, 1..n)")
    conn: Server | None = None
    if election_file is not None:
        info = read_json(election_file, "the election as GET /elections/{id} gives it")
    elif server is not None and election is not None:
        if user is None:
            raise StaffError("give --user (the guardian's login) with --server")
        conn = _connect({}, server, user, password_file)
        info = conn.get(f"/elections/{election}")
    else:
        raise StaffError("give --server URL --election ID --user NAME, or --election-file FILE")
    base_hash = _check_base_hash(info)
    n, k, election_id = int(info["guardians"]), int(info["quorum"]), str(info["id"])
    if not 1 <= index <= n:
        raise StaffError(f"--index {index}: election {election_id} has guardians 1..{n}")
    guardian = Guardian.generate(index, n, k, base_hash)
    public = {
        "election_id": election_id,
        "index": index,
        "n": n,
        "k": k,
        "base_hash": base_hash.hex(),
        "server": server,
        "username": user,
    }
    _save(key_file, guardian, public, passphrase(passphrase_file, new=True, what=str(key_file)))
    record = guardian.public_record().to_dict()
    if record_out is not None:
        write_json(record_out, record)
    if conn is not None:
        with conn:
            conn.post(
                f"/elections/{election_id}/guardians/{index}/record",
                {"record": record},
                idempotency_key=f"guardian-{index}-record-{record['commitments'][0][:16]}",
            )
    typer.echo(
        f"guardian {index} of {n} (quorum {k}) for election {election_id}: key file {key_file}; "
        f"public key K_{index} = {record['commitments'][0]}"
        + ("; record published" if conn is not None else "")
    )


@guardian_app.command("shares")
def shares(
    key_file: KeyFile,
    server: ServerOpt = None,
    user: UserOpt = None,
    records: Annotated[
        list[Path] | None, typer.Option("--records", help="other guardians' records (files; no server)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the encrypted shares here (no server)")
    ] = None,
    passphrase_file: PassFile = None,
    password_file: PasswordFile = None,
) -> None:
    """Encrypt a share of the secret for every other guardian (after checking each one's proofs)."""
    guardian, public, _ = _open(key_file, passphrase_file)
    eid, i = public["election_id"], guardian.index
    conn: Server | None = None
    if records:
        found = _records([read_json(p, "guardian records") for p in records])
        found[i] = guardian.public_record()
    else:
        conn = _connect(public, server, user, password_file)
        found = _records([conn.get(f"/elections/{eid}/guardians")])
    _need_all(found, guardian.n, f"guardian {i}")
    if found[i] != guardian.public_record():
        raise CeremonyError(f"guardian {i}: the record published under index {i} is not this key file's")
    body = {
        "shares": [
            {"recipient": j, "share": guardian.share_for(j, found[j]).to_dict()}
            for j in sorted(found)
            if j != i
        ]
    }
    if conn is None:
        write_json(out, {"sender": i, **body})
    else:
        with conn:
            conn.post(f"/elections/{eid}/guardians/{i}/shares", body)
    typer.echo(
        f"guardian {i}: {len(body['shares'])} encrypted shares "
        + ("sent" if conn is not None else f"written to {out or 'standard output'}"),
        err=True,
    )


@guardian_app.command("finish")
def finish(
    key_file: KeyFile,
    server: ServerOpt = None,
    user: UserOpt = None,
    records: Annotated[
        list[Path] | None, typer.Option("--records", help="every guardian's record (files)")
    ] = None,
    share_files: Annotated[
        list[Path] | None, typer.Option("--shares", help="the other guardians' shares files (no server)")
    ] = None,
    passphrase_file: PassFile = None,
    password_file: PasswordFile = None,
) -> None:
    """Check every share received against its sender's commitments, keep the key share, report done."""
    guardian, public, word = _open(key_file, passphrase_file)
    eid, i = public["election_id"], guardian.index
    conn: Server | None = None
    if share_files:
        if not records:
            raise StaffError(
                "give --records with --shares (each share is checked against its sender's record)"
            )
        found = _records([read_json(p, "guardian records") for p in records])
        received = []
        for p in share_files:
            doc = read_json(p, "a guardian's shares file (saylau guardian shares --out)")
            sender = doc.get("sender") if isinstance(doc, dict) else None
            for item in doc.get("shares", []) if isinstance(doc, dict) else []:
                if item.get("recipient") == i:
                    received.append({"sender": sender, "share": item["share"]})
    else:
        conn = _connect(public, server, user, password_file)
        found = _records([conn.get(f"/elections/{eid}/guardians")])
        received = conn.get(f"/elections/{eid}/guardians/{i}/shares")
    _need_all(found, guardian.n, f"guardian {i}")
    for item in received:
        share = EncryptedShare.from_dict(item["share"])
        if share.sender != item.get("sender", share.sender):
            raise CeremonyError(
                f"guardian {i}: a share filed under sender {item.get('sender')} names {share.sender}"
            )
        guardian.receive_share(share, found[share.sender])
    guardian.finish()  # CeremonyError naming the guardians whose share is missing
    _save(key_file, guardian, public, word)
    if conn is not None:
        with conn:
            conn.post(f"/elections/{eid}/guardians/{i}/finish")
    typer.echo(
        f"guardian {i}: every share verified; key share kept in {key_file}; joint key as this "
        f"guardian computes it: K = {guardian.joint_key.K.hex()}"
    )


def _parameters(doc: Any) -> ElectionParameters:
    raw = doc.get("parameters", doc) if isinstance(doc, dict) else doc
    if raw is None:
        raise StaffError("the election's joint key is not published yet (POST /elections/{id}/key)")
    return ElectionParameters.from_dict(raw)


@guardian_app.command("decrypt")
def decrypt(
    key_file: KeyFile,
    server: ServerOpt = None,
    user: UserOpt = None,
    tally: Annotated[
        Path | None, typer.Option("--tally", help="the tally as GET .../tally gives it (file)")
    ] = None,
    parameters: Annotated[
        Path | None,
        typer.Option("--parameters", help="the published parameters or GET /elections/{id} (file)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the partial decryptions here (no server)")
    ] = None,
    passphrase_file: PassFile = None,
    password_file: PasswordFile = None,
) -> None:
    """Check the published joint key, then partially decrypt every scope's tally with proofs."""
    from rich.console import Console
    from rich.progress import Progress

    from saylau.crypto import partial_decrypt

    guardian, public, _ = _open(key_file, passphrase_file)
    eid, i = public["election_id"], guardian.index
    conn: Server | None = None
    if tally is not None:
        if parameters is None:
            raise StaffError(
                "give --parameters with --tally (the published key is checked before decrypting)"
            )
        params = _parameters(read_json(parameters, "the election parameters"))
        scopes = read_json(tally, "the tally as GET .../tally gives it").get("scopes")
    else:
        conn = _connect(public, server, user, password_file)
        params = _parameters(conn.get(f"/elections/{eid}"))
        scopes = None
    guardian.check_published(params)  # before anything else: never decrypt for another key
    if conn is not None:
        scopes = conn.get(f"/elections/{eid}/tally").get("scopes")
    if not isinstance(scopes, list) or not scopes:
        raise StaffError(f"election {eid}: the tally has no scopes")
    partials = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"guardian {i} decrypting", total=len(scopes))
        for scope in scopes:
            encrypted = EncryptedTally.from_dict(scope["encrypted"])
            partial = partial_decrypt(guardian, encrypted, published=params)
            partials.append(
                {"scope": scope["scope"], "scope_id": scope["scope_id"], "partial": partial.to_dict()}
            )
            progress.advance(task)
    body = {"partials": partials}
    if conn is None:
        write_json(out, body)
    else:
        with conn:
            conn.post(f"/elections/{eid}/guardians/{i}/partial-decryption", body)
    typer.echo(
        f"guardian {i}: published key checked; {len(partials)} scopes partially decrypted "
        + ("and sent" if conn is not None else f"into {out or 'standard output'}"),
        err=True,
    )
