/**
 * Disjunctive Chaum–Pedersen range proofs (ElectionGuard 2.0 §3.3.5; the contest-limit proof of §3.3.6
 * is the same proof with the allowed set {L}), non-interactive by Fiat–Shamir. Mirrors `prove_range` and
 * `verify_range` of src/saylau/crypto/hazmat/proofs.py, draw for draw, so that a seeded Python run and
 * this code with the same draws produce the same bytes.
 *
 * Challenge: c = H_q("saylau/v1/range"; context…, K, α, β, allowed…, a_0, b_0, a_1, b_1, …); the
 * branch challenges sum to c mod q, and v_j = u_j − c_j·ξ mod q.
 */
import { G, gPow, pow, mod, mulPowPublic, scalarFromHex, scalarToHex } from './group.js';
import { hashToScalar } from './hash.js';

export const RANGE_TAG = 'saylau/v1/range';

/** A proof failed to verify; `message` names the object and the check. */
export class InvalidProof extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidProof';
  }
}

/**
 * Prove that `ct` = (g^ξ, K^(value+ξ)) with `value` in `allowed`, without revealing which.
 * `draw()` returns a fresh scalar in [1, q): first one u per branch, then one challenge per simulated
 * branch, in branch order (the order Python draws them).
 */
export function proveRange(K, ct, nonce, value, allowed, context, draw) {
  const real = allowed.indexOf(value);
  if (real < 0) throw new RangeError(`range proof: value ${value} is not in the allowed set`);
  const us = allowed.map(() => draw());
  const cs = allowed.map(() => 0n);
  const commitments = [];
  allowed.forEach((m, j) => {
    if (m === value) {
      commitments.push(gPow(us[j]), pow(K, us[j]));
    } else {
      cs[j] = draw();
      commitments.push(gPow(us[j]), pow(K, us[j] + BigInt(value - m) * cs[j]));
    }
  });
  const c = hashToScalar(RANGE_TAG, ...context, K, ct.alpha, ct.beta, ...allowed, ...commitments);
  cs[real] = mod(c - cs.reduce((s, x) => s + x, 0n));
  return { challenges: cs, responses: us.map((u, j) => mod(u - cs[j] * nonce)) };
}

/** Recompute every branch's commitments and check that the challenges sum to the hash. */
export function verifyRange(proof, K, ct, allowed, context, what) {
  const n = allowed.length;
  if (proof.challenges.length !== n || proof.responses.length !== n) {
    throw new InvalidProof(`${what}: range proof has ${proof.challenges.length} branches, expected ${n}`);
  }
  const commitments = [];
  allowed.forEach((m, j) => {
    const c = proof.challenges[j];
    const v = proof.responses[j];
    commitments.push(mulPowPublic(G, v, ct.alpha, c));
    commitments.push(mulPowPublic(K, v - BigInt(m) * c, ct.beta, c));
  });
  const expected = hashToScalar(RANGE_TAG, ...context, K, ct.alpha, ct.beta, ...allowed, ...commitments);
  if (mod(proof.challenges.reduce((s, x) => s + x, 0n)) !== expected) {
    throw new InvalidProof(`${what}: range proof challenges do not sum to the Fiat-Shamir hash`);
  }
}

/** Record form: {challenges: [hex…], responses: [hex…]}. */
export function rangeProofToDict(proof) {
  return { challenges: proof.challenges.map(scalarToHex), responses: proof.responses.map(scalarToHex) };
}

/** Parse the record form strictly (exactly the two keys, equal non-empty lists of scalars). */
export function rangeProofFromDict(d, what = 'range proof') {
  if (!isPlainObject(d) || !sameKeys(d, ['challenges', 'responses'])) {
    throw new TypeError(`${what}: expected exactly the keys challenges, responses`);
  }
  const { challenges: cs, responses: vs } = d;
  if (!Array.isArray(cs) || !Array.isArray(vs) || cs.length !== vs.length || cs.length === 0) {
    throw new TypeError(`${what}: challenges and responses must be non-empty lists of equal length`);
  }
  return {
    challenges: cs.map((c, i) => scalarFromHex(c, `${what}.challenges[${i}]`)),
    responses: vs.map((v, i) => scalarFromHex(v, `${what}.responses[${i}]`)),
  };
}

/** True for a JSON object (not null, not an array). */
export function isPlainObject(d) {
  return typeof d === 'object' && d !== null && !Array.isArray(d);
}

/** True when `d` has exactly the keys `keys`. */
export function sameKeys(d, keys) {
  const have = Object.keys(d);
  return have.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(d, k));
}
