/**
 * Benaloh cast-or-challenge (ElectionGuard 2.0 §3.6; docs/record-format.md §7): a challenged ballot is
 * opened by its ballot nonce and choices. The opening is what Python's `open_challenged_ballot` produces
 * (`ChallengedBallot.to_dict()`): `{ballot, ballot_nonce, choices}` with the choices' contests sorted.
 * Mirrors src/saylau/crypto/challenge.py.
 */
import { InvalidBallot } from './ballot_types.js';
import { verifyBallot, verifyOpening } from './ballot.js';

/** Reveal a ballot's nonce and choices; the opening is checked before it is returned. */
export function openChallengedBallot(election, ballot, secret) {
  if (secret.ballot_id !== ballot.ballot_id) {
    throw new InvalidBallot(`ballot ${ballot.ballot_id}: the secret belongs to ballot ${secret.ballot_id}`);
  }
  const choices = {};
  for (const c of Object.keys(secret.choices).sort()) choices[c] = [...secret.choices[c]];
  const opened = { ballot, ballot_nonce: secret.ballot_nonce, choices };
  verifyChallengedBallot(election, opened);
  return opened;
}

/** Check the ballot's proofs, then re-encrypt the claimed choices with the revealed nonce. */
export function verifyChallengedBallot(election, challenged) {
  verifyBallot(election, challenged.ballot);
  verifyOpening(election, challenged.ballot, challenged.ballot_nonce, challenged.choices);
}
