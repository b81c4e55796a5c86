"""The verifier's checks of the election's setup: file hashes, manifest, parameters, guardians, devices.

These read the small whole-file documents of the record (``docs/record-format.md`` §1–§5) and keep what
the later checks need in the ``VerifyState``.
"""

from __future__ import annotations

from saylau.crypto import ElectionParameters, verify_guardian_record
from saylau.crypto.tracking import opening_code
from saylau.election.manifest import Manifest
from saylau.record import format as fmt
from saylau.record.verifier.entries import DeviceEntry
from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_devices", "check_files", "check_guardians", "check_manifest", "check_parameters"]


def check_files(s: VerifyState, check: CheckResult) -> None:
    """``files.json`` lists every data file in order with its SHA-256 and size; sets the record hash.

    The directory holds nothing else (``docs/record-format.md`` §2: no other file belongs to it).
    """
    known = {*fmt.DATA_FILES, fmt.FILES}
    extra = sorted(p.name for p in s.reader.dir.iterdir() if p.name not in known)
    if extra:
        raise fail(check, f"record directory: {extra[0]!r} is not a file of {fmt.RECORD_FORMAT} (§2)")
    raw = s.reader.raw(fmt.FILES)
    doc = fmt.parse_canonical(raw, fmt.FILES)
    if isinstance(doc, dict) and doc.get("format") in fmt.OLD_RECORD_FORMATS:
        raise fail(
            check,
            f"{fmt.FILES}: format {doc['format']} is an older record format, which this verifier does not "
            f"read (it held every ballot twice); this verifier reads {fmt.RECORD_FORMAT}: export the record "
            "again with this version of saylau",
        )
    if not isinstance(doc, dict) or doc.get("format") != fmt.RECORD_FORMAT or set(doc) != {"format", "files"}:
        raise fail(check, f"{fmt.FILES}: not a {fmt.RECORD_FORMAT} manifest of files")
    names = [f.get("name") for f in doc["files"]] if isinstance(doc["files"], list) else None
    if names != list(fmt.DATA_FILES):
        raise fail(check, f"{fmt.FILES}: lists {names}, expected {list(fmt.DATA_FILES)}")
    for entry in doc["files"]:
        if set(entry) != {"name", "sha256", "bytes"}:
            raise fail(check, f"{fmt.FILES}: entry {entry.get('name')} has unexpected fields")
        digest, size = fmt.file_sha256(s.reader.path(entry["name"]))
        if digest != entry["sha256"] or size != entry["bytes"]:
            raise fail(check, f"file {entry['name']}: SHA-256 or size differs from {fmt.FILES}")
        check.count += 1
    s.record_hash = fmt.record_hash(raw)


def check_manifest(s: VerifyState, check: CheckResult) -> None:
    """The manifest parses; counts its stations."""
    s.manifest = Manifest.from_json_obj(s.reader.json(fmt.MANIFEST))
    check.count = sum(1 for _ in s.manifest.locations())
    check.detail = f"{check.count} stations"


def check_parameters(s: VerifyState, check: CheckResult) -> None:
    """``parameters.json``: format, group, manifest hash, n and k, base hash, contests."""
    m = s.need_manifest()
    doc = s.reader.json(fmt.PARAMETERS)
    keys = {"format", "group", "manifest_hash", "guardians", "quorum", "election"}
    if not isinstance(doc, dict) or set(doc) != keys:
        raise fail(check, f"{fmt.PARAMETERS}: expected fields {sorted(keys)}")
    if doc["format"] != fmt.RECORD_FORMAT or doc["group"] != fmt.GROUP_NAME:
        raise fail(check, f"{fmt.PARAMETERS}: format or group is not {fmt.RECORD_FORMAT}/{fmt.GROUP_NAME}")
    if doc["manifest_hash"] != m.manifest_hash().hex():
        raise fail(check, f"{fmt.PARAMETERS}: manifest_hash is not SHA-256 of the canonical manifest")
    params = ElectionParameters.from_dict(doc["election"])
    n, k = params.joint_key.n, params.joint_key.quorum
    if (doc["guardians"], doc["quorum"]) != (n, k):
        raise fail(check, f"{fmt.PARAMETERS}: guardians/quorum differ from the joint key's")
    if params.base_hash != fmt.election_base_hash(m.manifest_hash(), n, k):
        raise fail(check, f"{fmt.PARAMETERS}: base_hash is not H(group, n, k, manifest hash)")
    if params.contests != m.contest_specs():
        raise fail(check, f"{fmt.PARAMETERS}: contests differ from the manifest's")
    s.params = params
    check.count = 1
    check.detail = f"n={n}, k={k}"


def check_guardians(s: VerifyState, check: CheckResult) -> None:
    """Every guardian's commitments carry valid Schnorr proofs."""
    params = s.need_params()
    for rec in params.joint_key.guardian_records:
        verify_guardian_record(rec, params.base_hash)
        check.count += 1
    check.detail = "joint key K = product of K_i0"


def check_devices(s: VerifyState, check: CheckResult) -> None:
    """``devices.json``: each device once, at a known station, its channel, the opening code of its id."""
    index = s.need_manifest().station_index()
    base_hash = s.need_params().base_hash
    doc = s.reader.json(fmt.DEVICES)
    if not isinstance(doc, dict) or set(doc) != {"format", "devices"} or doc["format"] != fmt.RECORD_FORMAT:
        raise fail(check, f"{fmt.DEVICES}: not a {fmt.RECORD_FORMAT} device list")
    for d in doc["devices"]:
        rec = DeviceEntry.parse(d)
        if rec.device_id in s.devices:
            raise fail(check, f"device {rec.device_id}: listed twice")
        if rec.station_id not in index:
            raise fail(check, f"device {rec.device_id}: unknown station {rec.station_id}")
        if rec.opening_code != opening_code(rec.device_id, base_hash).hex():
            raise fail(check, f"device {rec.device_id}: opening_code is not H(base hash, id)")
        s.devices[rec.device_id] = rec
        s.devices_doc.append(d)
        check.count += 1
