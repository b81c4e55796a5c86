/**
 * The domain-separated hash H and H_q of docs/record-format.md §1 (mirrors
 * src/saylau/crypto/hazmat/hashing.py), on @noble/hashes' SHA-256.
 *
 * H(tag; parts…) = SHA-256 over len(tag) (4-byte big-endian) ‖ tag (UTF-8), then per part:
 *   point   (a noble Point)            0x50 ‖ 33-byte encoding
 *   bytes   (Uint8Array)               0x42 ‖ 4-byte length ‖ bytes
 *   integer (bigint, or a safe integer) 0x49 ‖ 32-byte big-endian, 0 ≤ n < 2^256
 *   string                             0x53 ‖ 4-byte length of UTF-8 ‖ UTF-8
 * Anything else (a boolean, a float, a negative number, an object) throws: there is no fallback.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Point, Q, intToBytes32, pointToBytes, bytesToInt } from './group.js';

const encoder = new TextEncoder();

function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function feed(h, tag, parts) {
  const t = encoder.encode(tag);
  h.update(u32(t.length));
  h.update(t);
  for (const p of parts) {
    if (p instanceof Point) {
      h.update(Uint8Array.of(0x50));
      h.update(pointToBytes(p));
    } else if (p instanceof Uint8Array) {
      h.update(Uint8Array.of(0x42));
      h.update(u32(p.length));
      h.update(p);
    } else if (typeof p === 'bigint' || (typeof p === 'number' && Number.isSafeInteger(p))) {
      const n = BigInt(p);
      if (n < 0n || n >= 1n << 256n) throw new RangeError(`hash part: integer out of range [0, 2^256): ${n}`);
      h.update(Uint8Array.of(0x49));
      h.update(intToBytes32(n));
    } else if (typeof p === 'string') {
      const s = encoder.encode(p);
      h.update(Uint8Array.of(0x53));
      h.update(u32(s.length));
      h.update(s);
    } else {
      throw new TypeError(`hash part: unsupported type ${typeof p}`);
    }
  }
}

/** H(tag; parts…): 32 bytes. */
export function hashBytes(tag, ...parts) {
  const h = sha256.create();
  feed(h, tag, parts);
  return h.digest();
}

/** H_q(tag; parts…): the digest read big-endian, reduced mod q. */
export function hashToScalar(tag, ...parts) {
  return bytesToInt(hashBytes(tag, ...parts)) % Q;
}
