"""The independent verifier: re-derives every published number of an election record from the record alone.

It shares no state with the writer: it reads the files listed in ``docs/record-format.md``, recomputes
the hashes, checks every proof with the crypto layer's ``verify_*`` functions, walks every device's
tracking-code chain, rebuilds every tally from the ballots and checks every decryption. The first
failure stops it with ``VerificationFailed`` naming the object and the check; ``checks`` then holds the
checks that passed and the one that failed, for the CLI's table.

Modules, one job each: ``runner`` (``RecordVerifier``: the checks in order), ``table`` (a check's row,
its failure, progress hooks), ``state`` (what one check hands to the next), ``entries`` (its own
parsers of a device entry and a ballot line), ``admission`` (every check on one ballot by itself, which
the server also runs before it accepts a ballot), ``setup`` (files, manifest, parameters, guardians,
devices), ``board`` (the record against its board, revote tags), ``ballots``
(the streaming ballot pass in board order, paired with the board's ballot entries, challenged openings),
``resume`` (incremental verification from a saved board checkpoint), ``chains`` (tracking-code chains
per device),
``supersessions`` ("superseded by" links), ``proofs`` (ballot proofs, inline or in a process pool) and
``tallies`` (tallies, decryptions, results).
"""

from __future__ import annotations

from saylau.record.verifier.runner import RecordVerifier, verify_record
from saylau.record.verifier.table import CheckResult, ProgressHook

__all__ = ["CheckResult", "ProgressHook", "RecordVerifier", "verify_record"]
