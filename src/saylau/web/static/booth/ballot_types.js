/**
 * The encrypted ballot's record form (docs/record-format.md §6), its ballot hash and tracking code.
 * Mirrors src/saylau/crypto/ballot_types.py.
 *
 * Internal form: {ballotId, styleId, contests: [{contestId, selections: [{selectionId, ct, proof}],
 * proof}], code, previousCode, revoteTag} with points, bigints and Uint8Arrays; the record form is the
 * JSON object with hex strings.
 */
import { bytesFromHex, bytesToHex, pointToBytes } from './group.js';
import { ciphertextFromDict, ciphertextToDict } from './elgamal.js';
import { hashBytes } from './hash.js';
import { isPlainObject, rangeProofFromDict, rangeProofToDict, sameKeys } from './proofs.js';

export const BALLOT_TAG = 'saylau/v1/ballot-hash';
export const CODE_TAG = 'saylau/v1/tracking-code';
export const REVOTE_TAG_BYTES = 32;
/** `previous_code` of a ballot encrypted outside any device chain. */
export const NO_DEVICE_CODE = new Uint8Array(32);

/** A ballot is malformed or does not verify; `message` names the ballot and the fault. */
export class InvalidBallot extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidBallot';
  }
}

/** H("saylau/v1/tracking-code"; previous code, ballot hash): the chained code (EG 2.0 §3.4.4). */
export function trackingCode(previousCode, ballotHash) {
  return hashBytes(CODE_TAG, previousCode, ballotHash);
}

/**
 * The ballot hash (EG 2.0 §3.4.1–3.4.2): ballot id, style id, [revote tag as bytes], number of contests,
 * then per contest its id, number of selections, the limit proof's challenges and responses, then per
 * selection its id, α and β encodings as bytes, number of branches, the challenges, the responses.
 */
export function ballotHash(b) {
  const parts = [b.ballotId, b.styleId];
  if (b.revoteTag) parts.push(b.revoteTag);
  parts.push(b.contests.length);
  for (const c of b.contests) {
    parts.push(c.contestId, c.selections.length, ...c.proof.challenges, ...c.proof.responses);
    for (const s of c.selections) {
      parts.push(s.selectionId, pointToBytes(s.ct.alpha), pointToBytes(s.ct.beta));
      parts.push(s.proof.challenges.length, ...s.proof.challenges, ...s.proof.responses);
    }
  }
  return hashBytes(BALLOT_TAG, ...parts);
}

/** The record form (`revote_tag` only when the ballot carries one). */
export function ballotToDict(b) {
  const out = {
    ballot_id: b.ballotId,
    style_id: b.styleId,
    contests: b.contests.map((c) => ({
      contest_id: c.contestId,
      selections: c.selections.map((s) => ({
        selection_id: s.selectionId,
        ...ciphertextToDict(s.ct),
        proof: rangeProofToDict(s.proof),
      })),
      proof: rangeProofToDict(c.proof),
    })),
    code: bytesToHex(b.code),
    previous_code: bytesToHex(b.previousCode),
  };
  if (b.revoteTag) out.revote_tag = bytesToHex(b.revoteTag);
  return out;
}

function wantString(d, key, what) {
  if (typeof d[key] !== 'string') throw new TypeError(`${what}: ${key} must be a string`);
  return d[key];
}

function wantList(d, key, what) {
  if (!Array.isArray(d[key])) throw new TypeError(`${what}: ${key} must be a list`);
  return d[key];
}

function expectKeys(d, keys, what) {
  if (!isPlainObject(d) || !sameKeys(d, keys)) {
    throw new TypeError(`${what}: expected exactly the keys ${[...keys].sort().join(', ')}`);
  }
  return d;
}

function selectionFromDict(d, what) {
  expectKeys(d, ['selection_id', 'alpha', 'beta', 'proof'], what);
  const selectionId = wantString(d, 'selection_id', what);
  const w = `${what} (${selectionId})`;
  return { selectionId, ct: ciphertextFromDict(d, w), proof: rangeProofFromDict(d.proof, `${w}.proof`) };
}

function contestFromDict(d, what) {
  expectKeys(d, ['contest_id', 'selections', 'proof'], what);
  const contestId = wantString(d, 'contest_id', what);
  const w = `${what} (${contestId})`;
  const selections = wantList(d, 'selections', w).map((s, i) => selectionFromDict(s, `${w}.selections[${i}]`));
  return { contestId, selections, proof: rangeProofFromDict(d.proof, `${w}.proof`) };
}

/** Parse the record form strictly; throw InvalidBallot naming the ballot and the bad field. */
export function ballotFromDict(d) {
  const what = isPlainObject(d) && typeof d.ballot_id === 'string' ? `ballot ${d.ballot_id}` : 'ballot';
  try {
    const keys = ['ballot_id', 'style_id', 'contests', 'code', 'previous_code'];
    const tagged = isPlainObject(d) && Object.prototype.hasOwnProperty.call(d, 'revote_tag');
    expectKeys(d, tagged ? [...keys, 'revote_tag'] : keys, what);
    return {
      ballotId: wantString(d, 'ballot_id', what),
      styleId: wantString(d, 'style_id', what),
      contests: wantList(d, 'contests', what).map((c, i) => contestFromDict(c, `contests[${i}]`)),
      code: bytesFromHex(d.code, 32, 'code'),
      previousCode: bytesFromHex(d.previous_code, 32, 'previous_code'),
      revoteTag: tagged ? bytesFromHex(d.revote_tag, REVOTE_TAG_BYTES, 'revote_tag') : null,
    };
  } catch (exc) {
    if (exc instanceof InvalidBallot) throw exc;
    throw new InvalidBallot(`${what}: ${exc.message}`);
  }
}
