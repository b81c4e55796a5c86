/**
 * Exponential ElGamal in the ElectionGuard 2.0 form (§3.3): a vote σ with nonce ξ under the joint key K
 * is (α, β) = (g^ξ, K^(σ+ξ)). Mirrors src/saylau/crypto/hazmat/elgamal.py.
 */
import { gPow, pow, combine, pointFromHex, pointToHex } from './group.js';

/** Encrypt `vote` (0, 1, …) with nonce `xi` under K, with constant-time multiplies. */
export function encrypt(K, vote, xi) {
  return { alpha: gPow(xi), beta: pow(K, BigInt(vote) + xi) };
}

/** The homomorphic sum of ciphertexts: (Πα, Πβ). */
export function product(ciphertexts) {
  return { alpha: combine(ciphertexts.map((c) => c.alpha)), beta: combine(ciphertexts.map((c) => c.beta)) };
}

/** Record form {alpha, beta} (hex points). */
export function ciphertextToDict(ct) {
  return { alpha: pointToHex(ct.alpha), beta: pointToHex(ct.beta) };
}

/** Parse {alpha, beta} strictly. */
export function ciphertextFromDict(d, what = 'ciphertext') {
  return { alpha: pointFromHex(d.alpha, `${what}.alpha`), beta: pointFromHex(d.beta, `${what}.beta`) };
}
