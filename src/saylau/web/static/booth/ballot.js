/**
 * Ballot encryption and verification in the voter's browser (ElectionGuard 2.0 §3.3–3.4;
 * docs/record-format.md §6). Mirrors src/saylau/crypto/ballot.py: the same draws in the same order give
 * the same bytes as Python's `encrypt_ballot` (tests/vectors/booth-v1.json checks it).
 *
 * Every selection is encrypted as (g^ξ, K^(σ+ξ)) with a 0/1 range proof; every contest gets a
 * contest-limit proof on the product of its ciphertexts. The selection nonces derive from one 32-byte
 * ballot nonce ξ_B, ξ = H_q("saylau/v1/selection-nonce"; H_E, ξ_B, ballot id, contest id, selection id)
 * (1 if that is 0), so revealing ξ_B opens a challenged ballot (§7).
 */
import { bytesFromHex, bytesToHex, mod, pointsEqual } from './group.js';
import { encrypt, product } from './elgamal.js';
import { hashToScalar } from './hash.js';
import { InvalidProof, proveRange, verifyRange } from './proofs.js';
import { csprng, drawBytes, randomScalar } from './random.js';
import { loadElection } from './election.js';
import {
  InvalidBallot,
  NO_DEVICE_CODE,
  REVOTE_TAG_BYTES,
  ballotFromDict,
  ballotHash,
  ballotToDict,
  trackingCode,
} from './ballot_types.js';

export const NONCE_TAG = 'saylau/v1/selection-nonce';
const SELECTION_VALUES = [0, 1];

/** ξ = H_q(H_E, ξ_B, ballot, contest, selection), never zero (EG 2.0 §3.3.2). */
export function selectionNonce(hE, ballotNonce, ballotId, contestId, selectionId) {
  return hashToScalar(NONCE_TAG, hE, ballotNonce, ballotId, contestId, selectionId) || 1n;
}

/** The 0/1 vote per selection of `spec`; InvalidBallot for a repeated, unknown or wrong number of marks. */
export function selectionVotes(spec, chosen, ballotId) {
  const where = `ballot ${ballotId}: contest ${spec.contestId}`;
  if (!Array.isArray(chosen) || !chosen.every((s) => typeof s === 'string')) {
    throw new InvalidBallot(`${where}: choices must be a list of selection ids`);
  }
  const picked = new Set(chosen);
  if (picked.size !== chosen.length) throw new InvalidBallot(`${where}: a selection is chosen twice`);
  const unknown = [...picked].filter((s) => !spec.selectionIds.includes(s)).sort();
  if (unknown.length) throw new InvalidBallot(`${where}: unknown selections ${JSON.stringify(unknown)}`);
  if (!spec.allowedTotals.includes(picked.size)) {
    throw new InvalidBallot(`${where}: ${picked.size} marks, allowed ${JSON.stringify(spec.allowedTotals)}`);
  }
  return spec.selectionIds.map((s) => (picked.has(s) ? 1 : 0));
}

function styleContestIds(style, ballotId) {
  if (typeof style !== 'object' || style === null || typeof style.style_id !== 'string' || !Array.isArray(style.contest_ids)) {
    throw new InvalidBallot(`ballot ${ballotId}: style must be a ballot style {style_id, contest_ids}`);
  }
  return style.contest_ids;
}

/**
 * Encrypt a voter's choices on this device; return `{ballot, secret}`: the record-form ballot to send
 * and the secret only this device keeps (`{ballot_id, ballot_nonce, choices}`, which opens the ballot
 * if the voter challenges it, and must be forgotten once the ballot is cast).
 *
 * - `election`: parameters.json's `election` object; `style`: the manifest's ballot style
 *   `{style_id, contest_ids}`; `choices`: `{contest_id: [selection ids]}` covering exactly the style's
 *   contests; `ballotId`; `previousCode` (hex, the device chain's last code; default 32 zero bytes);
 *   `revoteTag` (hex, 32 bytes, a remote voter's tag; it goes inside the ballot hash).
 * - The ballot is verified (every proof, the tracking code, and that its ciphertexts re-encrypt the
 *   choices) before it is returned: `selfCheck`.
 * - `_random` (private: test vectors only) replaces the CSPRNG by a function `(n) => Uint8Array`.
 */
export function encryptBallot({ election, style, choices, ballotId, previousCode, revoteTag, _random: random = csprng }) {
  if (typeof ballotId !== 'string' || ballotId === '') throw new InvalidBallot('ballot: empty ballot id');
  const params = loadElection(election);
  const contestIds = styleContestIds(style, ballotId);
  if (typeof choices !== 'object' || choices === null) throw new InvalidBallot(`ballot ${ballotId}: choices must be an object`);
  const chosenIds = Object.keys(choices);
  const missing = contestIds.filter((c) => !chosenIds.includes(c));
  const extra = chosenIds.filter((c) => !contestIds.includes(c));
  if (missing.length || extra.length) {
    throw new InvalidBallot(
      `ballot ${ballotId}: choices must cover exactly the style's contests (missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)})`,
    );
  }
  const prev = previousCode === undefined || previousCode === null ? NO_DEVICE_CODE : bytesFromHex(previousCode, 32, 'previous code');
  const tag = revoteTag === undefined || revoteTag === null ? null : bytesFromHex(revoteTag, REVOTE_TAG_BYTES, 'revote tag');
  const ballotNonce = drawBytes(random, 32);
  const draw = () => randomScalar(random);
  const { K, extendedBaseHash: hE } = params;
  const contests = contestIds.map((contestId) => {
    const spec = params.contests.get(contestId);
    if (!spec) throw new InvalidBallot(`ballot ${ballotId}: unknown contest ${JSON.stringify(contestId)}`);
    const votes = selectionVotes(spec, choices[contestId], ballotId);
    const context = [hE, ballotId, contestId];
    let totalNonce = 0n;
    const selections = spec.selectionIds.map((selectionId, i) => {
      const xi = selectionNonce(hE, ballotNonce, ballotId, contestId, selectionId);
      const ct = encrypt(K, votes[i], xi);
      const proof = proveRange(K, ct, xi, votes[i], SELECTION_VALUES, [...context, selectionId], draw);
      totalNonce += xi;
      return { selectionId, ct, proof };
    });
    const aggregate = product(selections.map((s) => s.ct));
    const marks = votes.reduce((a, v) => a + v, 0);
    const proof = proveRange(K, aggregate, mod(totalNonce), marks, spec.allowedTotals, context, draw);
    return { contestId, selections, proof };
  });
  if (contests.length === 0) throw new InvalidBallot(`ballot ${ballotId}: no contests`);
  const draft = { ballotId, styleId: style.style_id, contests, revoteTag: tag, previousCode: prev };
  draft.code = trackingCode(prev, ballotHash(draft));
  const ballot = ballotToDict(draft);
  const sortedChoices = {};
  for (const c of [...contestIds].sort()) sortedChoices[c] = [...choices[c]];
  const secret = { ballot_id: ballotId, ballot_nonce: bytesToHex(ballotNonce), choices: sortedChoices };
  selfCheck(election, style, ballot, secret);
  return { ballot, secret };
}

/**
 * Check a record-form ballot's structure, proofs and own tracking code; throw InvalidBallot naming the
 * fault. With `style`, its contests must be exactly the style's, in order. (The link to the previous
 * ballot on the device is the chain's business, not this function's.) Returns the ballot hash (hex).
 */
export function verifyBallot(election, ballotDict, style) {
  const params = loadElection(election);
  const b = ballotFromDict(ballotDict);
  const bid = b.ballotId;
  if (b.contests.length === 0) throw new InvalidBallot(`ballot ${bid}: no contests`);
  if (style) {
    if (b.styleId !== style.style_id) throw new InvalidBallot(`ballot ${bid}: style ${b.styleId} is not ${style.style_id}`);
    const ids = b.contests.map((c) => c.contestId);
    if (ids.length !== style.contest_ids.length || ids.some((c, i) => c !== style.contest_ids[i])) {
      throw new InvalidBallot(`ballot ${bid}: contests differ from the style's`);
    }
  }
  const seen = new Set();
  const { K, extendedBaseHash: hE } = params;
  for (const contest of b.contests) {
    const cid = contest.contestId;
    const spec = params.contests.get(cid);
    if (!spec) throw new InvalidBallot(`ballot ${bid}: unknown contest ${JSON.stringify(cid)}`);
    if (seen.has(cid)) throw new InvalidBallot(`ballot ${bid}: contest ${cid} appears twice`);
    seen.add(cid);
    const sids = contest.selections.map((s) => s.selectionId);
    if (sids.length !== spec.selectionIds.length || sids.some((s, i) => s !== spec.selectionIds[i])) {
      throw new InvalidBallot(`ballot ${bid}: contest ${cid}: selections differ from the manifest's`);
    }
    const context = [hE, bid, cid];
    try {
      for (const s of contest.selections) {
        verifyRange(s.proof, K, s.ct, SELECTION_VALUES, [...context, s.selectionId], `ballot ${bid}: contest ${cid}: selection ${s.selectionId}`);
      }
      const aggregate = product(contest.selections.map((s) => s.ct));
      verifyRange(contest.proof, K, aggregate, spec.allowedTotals, context, `ballot ${bid}: contest ${cid}: contest-limit proof`);
    } catch (exc) {
      if (exc instanceof InvalidProof) throw new InvalidBallot(exc.message);
      throw exc;
    }
  }
  const hash = ballotHash(b);
  if (bytesToHex(trackingCode(b.previousCode, hash)) !== bytesToHex(b.code)) {
    throw new InvalidBallot(`ballot ${bid}: tracking code is not H(previous code, ballot hash)`);
  }
  return bytesToHex(hash);
}

/**
 * Check that the ballot nonce and choices re-encrypt every selection of the ballot (the Benaloh
 * check of §7, without the proofs); throw InvalidBallot naming the selection that differs.
 */
export function verifyOpening(election, ballotDict, ballotNonceHex, choices) {
  const params = loadElection(election);
  const b = ballotFromDict(ballotDict);
  const bid = b.ballotId;
  const nonce = bytesFromHex(ballotNonceHex, 32, `challenged ballot ${bid}: ballot_nonce`);
  const keys = Object.keys(choices ?? {});
  const ids = b.contests.map((c) => c.contestId);
  if (keys.length !== new Set(ids).size || !keys.every((k) => ids.includes(k))) {
    throw new InvalidBallot(`challenged ballot ${bid}: choices do not cover exactly the ballot's contests`);
  }
  for (const contest of b.contests) {
    const spec = params.contests.get(contest.contestId);
    if (!spec) throw new InvalidBallot(`ballot ${bid}: unknown contest ${JSON.stringify(contest.contestId)}`);
    const votes = selectionVotes(spec, choices[contest.contestId], bid);
    contest.selections.forEach((s, i) => {
      const xi = selectionNonce(params.extendedBaseHash, nonce, bid, contest.contestId, s.selectionId);
      const ct = encrypt(params.K, votes[i], xi);
      if (!pointsEqual(ct.alpha, s.ct.alpha) || !pointsEqual(ct.beta, s.ct.beta)) {
        throw new InvalidBallot(
          `challenged ballot ${bid}: contest ${contest.contestId}: selection ${s.selectionId}: ` +
            `the revealed nonce does not re-encrypt the claimed vote ${votes[i]}`,
        );
      }
    });
  }
}

/**
 * The booth's check of the ballot it just made, before anything is sent: every proof and the tracking
 * code verify, the contests are the style's, and the ciphertexts re-encrypt the voter's choices. A
 * failure here means this device is broken: throw, never send.
 */
export function selfCheck(election, style, ballot, secret) {
  verifyBallot(election, ballot, style);
  if (secret.ballot_id !== ballot.ballot_id) throw new InvalidBallot(`ballot ${ballot.ballot_id}: secret is for another ballot`);
  verifyOpening(election, ballot, secret.ballot_nonce, secret.choices);
}
