/**
 * Where the booth's randomness comes from: the browser's CSPRNG (crypto.getRandomValues, through
 * @noble/hashes' randomBytes) unless a test injects its own source.
 *
 * A source is a function `(n) => Uint8Array` of n bytes. Scalars are drawn as in
 * src/saylau/crypto/hazmat/group.py `random_scalar` (FIPS 186-5 A.2.1): 40 bytes, big-endian, mod (q − 1),
 * plus 1, so the value lies in [1, q) with a bias below 2^-64.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { Q, bytesToInt } from './group.js';

/** The default source: the platform CSPRNG. */
export const csprng = (n) => randomBytes(n);

/** Draw n bytes from `source`, checking that it returned exactly n. */
export function drawBytes(source, n) {
  const out = source(n);
  if (!(out instanceof Uint8Array) || out.length !== n) {
    throw new TypeError(`random source: expected ${n} bytes`);
  }
  return out;
}

/** A scalar in [1, q) from 40 bytes of `source`. */
export function randomScalar(source = csprng) {
  return (bytesToInt(drawBytes(source, 40)) % (Q - 1n)) + 1n;
}
