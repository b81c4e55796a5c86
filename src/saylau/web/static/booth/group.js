/**
 * The secp256k1 group written multiplicatively, and the record encodings of points and scalars
 * (docs/record-format.md §1). All curve arithmetic is @noble/curves'; this module only wraps it.
 *
 * - A point is noble's `secp256k1.Point` (projective); the identity is `Point.ZERO`. The record form is
 *   66 lowercase hex digits: 33-byte SEC1 compressed, and the identity as 33 zero bytes (SEC1 would use
 *   one zero byte; noble does not decode that for secp256k1, so the identity is handled here).
 * - A scalar is a bigint in [0, q); the record form is 64 lowercase hex digits.
 * - `pow` (secret exponents) uses noble's constant-time `multiply`; `mulPow` (public values only, in
 *   verification) uses the variable-time `multiplyUnsafe` / `mulAddUnsafe`.
 *
 * Mirrors src/saylau/crypto/hazmat/group.py.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex as nobleBytesToHex } from '@noble/hashes/utils.js';

export const Point = secp256k1.Point;
/** The group order q. */
export const Q = Point.Fn.ORDER;
export const POINT_BYTES = 33;
export const SCALAR_BYTES = 32;
export const IDENTITY = Point.ZERO;
export const G = Point.BASE;

const IDENTITY_BYTES = new Uint8Array(POINT_BYTES);
const POINT_HEX = /^[0-9a-f]{66}$/;
const SCALAR_HEX = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

/** Reduce a bigint mod q into [0, q). */
export function mod(k) {
  const r = k % Q;
  return r < 0n ? r + Q : r;
}

/** Lowercase hex of bytes. */
export function bytesToHex(bytes) {
  return nobleBytesToHex(bytes);
}

/** Strict lowercase hex to bytes; `length` (bytes) checked when given. */
export function bytesFromHex(text, length, what = 'bytes') {
  if (typeof text !== 'string' || !HEX.test(text)) {
    throw new TypeError(`${what}: expected lowercase hex digits`);
  }
  if (length !== undefined && text.length !== 2 * length) {
    throw new TypeError(`${what}: expected ${length} bytes (${2 * length} hex digits), got ${text.length}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** 32-byte big-endian encoding of an integer in [0, 2^256). */
export function intToBytes32(n) {
  if (typeof n !== 'bigint' || n < 0n || n >= 1n << 256n) throw new RangeError(`integer out of range: ${n}`);
  return bytesFromHex(n.toString(16).padStart(64, '0'), 32);
}

/** Big-endian bytes to a non-negative bigint. */
export function bytesToInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/** The 33-byte canonical encoding of a point (identity: 33 zero bytes). */
export function pointToBytes(P) {
  return P.is0() ? IDENTITY_BYTES.slice() : P.toBytes(true);
}

/** The record form of a point: 66 lowercase hex digits. */
export function pointToHex(P) {
  return bytesToHex(pointToBytes(P));
}

/** Decode 33 bytes strictly (identity, or 02/03 and an x on the curve); TypeError naming `what`. */
export function pointFromBytes(bytes, what = 'point') {
  if (!(bytes instanceof Uint8Array) || bytes.length !== POINT_BYTES) {
    throw new TypeError(`${what}: expected ${POINT_BYTES} bytes`);
  }
  if (bytes.every((b) => b === 0)) return IDENTITY;
  if (bytes[0] !== 2 && bytes[0] !== 3) {
    throw new TypeError(`${what}: bad prefix byte 0x${bytes[0].toString(16).padStart(2, '0')} (expected 02 or 03)`);
  }
  try {
    return Point.fromBytes(bytes);
  } catch {
    throw new TypeError(`${what}: x coordinate is not on secp256k1 (or not below p)`);
  }
}

/** Decode the record form of a point: exactly 66 lowercase hex digits. */
export function pointFromHex(text, what = 'point') {
  if (typeof text !== 'string' || !POINT_HEX.test(text)) {
    throw new TypeError(`${what}: expected 66 lowercase hex digits`);
  }
  return pointFromBytes(bytesFromHex(text), what);
}

/** The record form of a scalar in [0, q): 64 lowercase hex digits. */
export function scalarToHex(k) {
  if (typeof k !== 'bigint' || k < 0n || k >= Q) throw new RangeError('scalar out of range [0, q)');
  return k.toString(16).padStart(64, '0');
}

/** Decode a record scalar: 64 lowercase hex digits with a value below q. */
export function scalarFromHex(text, what = 'scalar') {
  if (typeof text !== 'string' || !SCALAR_HEX.test(text)) {
    throw new TypeError(`${what}: expected 64 lowercase hex digits`);
  }
  const k = BigInt('0x' + text);
  if (k >= Q) throw new TypeError(`${what}: value is not below the group order q`);
  return k;
}

/** g^k with the constant-time generator multiply (k may be secret); g^0 is the identity. */
export function gPow(k) {
  const e = mod(k);
  return e === 0n ? IDENTITY : G.multiply(e);
}

/** P^k with noble's constant-time multiply (k may be secret). */
export function pow(P, k) {
  const e = mod(k);
  return e === 0n || P.is0() ? IDENTITY : P.multiply(e);
}

/** P·R (point addition). */
export function mul(P, R) {
  return P.add(R);
}

/** The product of many points (the identity for none). */
export function combine(points) {
  let acc = IDENTITY;
  for (const P of points) acc = acc.add(P);
  return acc;
}

/**
 * P^a · R^b for public values only (variable time: verification). Two separate variable-time multiplies
 * rather than noble's `mulAddUnsafe`: when P is g or K, its precomputed window table makes P^a several
 * times cheaper, which the joint Strauss–Shamir walk cannot use.
 */
export function mulPowPublic(P, a, R, b) {
  const x = mod(a);
  const y = mod(b);
  const left = P.is0() || x === 0n ? IDENTITY : P.multiplyUnsafe(x);
  const right = R.is0() || y === 0n ? IDENTITY : R.multiplyUnsafe(y);
  return left.add(right);
}

/** Compare two points. */
export function pointsEqual(P, R) {
  return P.equals(R);
}
