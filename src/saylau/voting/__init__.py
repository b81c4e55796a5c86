"""saylau.voting — the casting flow on top of the crypto layer.

``device.VotingDevice`` (tracking-code chain, cast or challenge), ``ballot_box.BallotBox`` (accepts
ballots, applies remote revoting), ``revote.RevoteSlots`` (keyed per-voter slots that never reach the
record) and ``submitted.SubmittedBallot`` (one line of the record's ``ballots.jsonl``).
"""
