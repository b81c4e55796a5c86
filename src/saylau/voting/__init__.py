"""saylau.voting — the casting flow on top of the crypto layer.

``device.VotingDevice`` (tracking-code chain, cast or challenge), ``ballot_box.BallotBox`` (accepts
ballots, applies remote revoting, publishes on the bulletin board), ``revote.RevoteSlots`` (keyed
per-voter revote tags, bound into remote ballots), ``publish`` (the board payloads of the casting flow)
and ``submitted.SubmittedBallot`` (one line of the record's ``ballots.jsonl``).
"""
