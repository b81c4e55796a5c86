/**
 * The election parameters a ballot is bound to: parameters.json's `election` object
 * (docs/record-format.md §4), parsed strictly and cross-checked before the booth encrypts anything.
 *
 * Checked here (all cheap): the joint key K is not the identity and equals Π_i K_i0; every guardian has
 * `quorum` commitments, indices 1..n in order; H_E = H("saylau/v1/extended-base-hash"; H_B, K, n, k,
 * K_10 … K_n(k−1)) equals `extended_base_hash`. Not checked here: the guardians' Schnorr proofs and
 * H_B against the manifest (the record verifier does both).
 * Mirrors src/saylau/crypto/params.py and keys.py (extended_base_hash).
 */
import { G, IDENTITY, bytesFromHex, bytesToHex, combine, pointFromHex } from './group.js';
import { hashBytes } from './hash.js';
import { isPlainObject, sameKeys } from './proofs.js';

export const HE_TAG = 'saylau/v1/extended-base-hash';

const parsed = new WeakMap();

function fail(message) {
  throw new TypeError(`election parameters: ${message}`);
}

function parseContest(d, i) {
  const what = `contests[${i}]`;
  if (!isPlainObject(d) || !sameKeys(d, ['contest_id', 'selection_ids', 'votes_allowed', 'allow_undervote'])) {
    fail(`${what}: expected exactly the keys contest_id, selection_ids, votes_allowed, allow_undervote`);
  }
  const { contest_id: id, selection_ids: sels, votes_allowed: limit, allow_undervote: under } = d;
  if (typeof id !== 'string' || id === '') fail(`${what}: contest_id must be a non-empty string`);
  if (!Array.isArray(sels) || sels.length === 0 || !sels.every((s) => typeof s === 'string')) {
    fail(`contest ${id}: selection_ids must be a non-empty list of strings`);
  }
  if (new Set(sels).size !== sels.length) fail(`contest ${id}: selection ids must be unique`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > sels.length) {
    fail(`contest ${id}: votes_allowed ${limit} out of range`);
  }
  if (typeof under !== 'boolean') fail(`contest ${id}: allow_undervote must be a boolean`);
  const allowedTotals = under ? Array.from({ length: limit + 1 }, (_, t) => t) : [limit];
  return { contestId: id, selectionIds: sels.slice(), votesAllowed: limit, allowUndervote: under, allowedTotals };
}

/**
 * Parse parameters.json's `election` object (cached per object). Returns
 * {baseHash, extendedBaseHash (Uint8Array), K (Point, with a precomputed table), contests (Map)}.
 */
export function loadElection(election) {
  if (isPlainObject(election) && parsed.has(election)) return parsed.get(election);
  if (!isPlainObject(election) || !sameKeys(election, ['base_hash', 'extended_base_hash', 'joint_key', 'contests'])) {
    fail('expected exactly the keys base_hash, extended_base_hash, joint_key, contests');
  }
  const baseHash = bytesFromHex(election.base_hash, 32, 'base_hash');
  const extendedBaseHash = bytesFromHex(election.extended_base_hash, 32, 'extended_base_hash');
  const jk = election.joint_key;
  if (!isPlainObject(jk) || !sameKeys(jk, ['K', 'quorum', 'guardians'])) {
    fail('joint_key: expected exactly the keys K, quorum, guardians');
  }
  const K = pointFromHex(jk.K, 'joint_key.K');
  const k = jk.quorum;
  const guardians = jk.guardians;
  if (!Array.isArray(guardians) || guardians.length === 0) fail('joint_key.guardians must be a non-empty list');
  const n = guardians.length;
  if (!Number.isSafeInteger(k) || k < 1 || k > n) fail(`joint key: quorum ${k} not in 1..${n}`);
  const commitments = [];
  guardians.forEach((g, i) => {
    if (!isPlainObject(g) || !sameKeys(g, ['index', 'commitments', 'proofs'])) {
      fail(`guardian ${i + 1}: expected exactly the keys index, commitments, proofs`);
    }
    if (g.index !== i + 1) fail('joint key: guardian records must have indices 1..n in order');
    if (!Array.isArray(g.commitments) || g.commitments.length !== k) {
      fail(`joint key: guardian ${g.index} must have ${k} commitments`);
    }
    g.commitments.forEach((c, j) => commitments.push(pointFromHex(c, `guardian ${g.index}.commitments[${j}]`)));
  });
  const product = combine(commitments.filter((_, idx) => idx % k === 0));
  if (K.equals(IDENTITY) || !product.equals(K)) {
    fail("joint key: K is not the product of the guardians' public keys K_i0");
  }
  const hE = hashBytes(HE_TAG, baseHash, K, n, k, ...commitments);
  if (bytesToHex(hE) !== election.extended_base_hash) {
    fail('extended_base_hash does not match H(base_hash, K, commitments)');
  }
  if (!Array.isArray(election.contests) || election.contests.length === 0) fail('contests must be a non-empty list');
  const contests = new Map();
  election.contests.forEach((c, i) => {
    const spec = parseContest(c, i);
    if (contests.has(spec.contestId)) fail(`contest ids must be unique (${spec.contestId})`);
    contests.set(spec.contestId, spec);
  });
  // Window tables (w = 6, as noble uses for g) make the booth's K^x and g^x multiplies several times
  // faster; building them costs a few hundred additions once, so a page does it when it loads
  // (`prepareElection`), while the voter reads the ballot. noble keeps two tables per point, one for
  // the constant-time (blinded) multiply and one for the variable-time multiply: build both now.
  K.precompute(6);
  for (const P of [K, G]) {
    P.multiply(3n);
    P.multiplyUnsafe(3n);
  }
  const out = { baseHash, extendedBaseHash, K, contests };
  parsed.set(election, out);
  return out;
}

/**
 * Parse and check the parameters and build the multiplication tables now (call it when the booth page
 * loads), so that encrypting later costs only the ballot's own work.
 */
export function prepareElection(election) {
  loadElection(election);
}
