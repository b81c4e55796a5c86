"""The guardians' work at national size: a seeded key ceremony, and decryption of tally scopes in batches.

In a real election each guardian decrypts on their own machine with their own key share. In the
simulation the guardians are simulated too, so their private state travels with the decryption tasks
to the executor's workers (``Guardian.to_private_dict``): acceptable only because every key of a
simulation is derived from its public seed anyway (``national_rng``).
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any

from saylau.crypto import (
    ElectionParameters,
    EncryptedTally,
    Guardian,
    JointPublicKey,
    combine_decryption,
    joint_public_key,
    partial_decrypt,
)
from saylau.record.tally import Scope, TallyEntry
from saylau.sim.national_rng import simulation_random

__all__ = ["DecryptTask", "decrypt_scopes", "seeded_ceremony"]


def seeded_ceremony(n: int, k: int, base_hash: bytes, seed: int) -> tuple[list[Guardian], JointPublicKey]:
    """The key ceremony of ``crypto.run_key_ceremony`` with every polynomial and proof drawn from the seed."""
    rng = simulation_random(seed, "guardians")
    guardians = [Guardian.generate(i, n, k, base_hash, rng) for i in range(1, n + 1)]
    records = [g.public_record(rng) for g in guardians]
    for sender in guardians:
        for receiver in guardians:
            if receiver is not sender:
                share = sender.share_for(receiver.index, records[receiver.index - 1])
                receiver.receive_share(share, records[sender.index - 1])
    for g in guardians:
        g.finish()
    return guardians, joint_public_key(records, k, base_hash)


@dataclass(frozen=True)
class DecryptTask:
    """Scopes to decrypt: ``context`` is canonical JSON of the parameters, seed and present guardians."""

    context: bytes
    scopes: tuple[tuple[str, str, int, dict[str, Any]], ...]


@functools.lru_cache(maxsize=2)
def _context(blob: bytes) -> tuple[ElectionParameters, int, tuple[Guardian, ...]]:
    d = json.loads(blob)
    guardians = tuple(Guardian.from_private_dict(g) for g in d["guardians"])
    return ElectionParameters.from_dict(d["params"]), int(d["seed"]), guardians


def decrypt_scopes(task: DecryptTask) -> tuple[list[dict[str, Any]], float]:
    """Each scope's tally line (``TallyEntry.to_dict``), and the CPU seconds it took."""
    started = time.process_time()
    params, seed, present = _context(task.context)
    out = []
    for scope, sid, count, tally_dict in task.scopes:
        tally = EncryptedTally.from_dict(tally_dict)
        partials = [
            partial_decrypt(
                g, tally, simulation_random(seed, "decrypt", scope, sid, g.index), published=params
            )
            for g in present
        ]
        plaintext = combine_decryption(params, tally, partials, max_count=max(count, 1))
        scope_typed: Scope = "station" if scope == "station" else "region" if scope == "region" else "nation"
        out.append(TallyEntry(scope_typed, sid, count, tally, plaintext).to_dict())
    return out, time.process_time() - started
