// Encodings and H of the booth against the shared vectors and docs/record-format.md §1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  G, IDENTITY, Q, bytesToHex, gPow, pointFromHex, pointToHex, pow, scalarFromHex, scalarToHex,
} from '../../../src/saylau/web/static/booth/group.js';
import { hashBytes, hashToScalar } from '../../../src/saylau/web/static/booth/hash.js';

const points = JSON.parse(readFileSync(new URL('../../vectors/secp256k1-points.json', import.meta.url), 'utf-8'));

test('g^k matches the secp256k1 vectors and decodes back', () => {
  for (const { k, point } of points.multiples) {
    assert.equal(pointToHex(gPow(BigInt(k))), point);
    assert.ok(pointFromHex(point).equals(gPow(BigInt(k))));
  }
});

test('invalid point encodings are refused', () => {
  for (const { hex, why } of points.invalid_encodings) {
    assert.throws(() => pointFromHex(hex), TypeError, why);
  }
  assert.throws(() => pointFromHex('00'), TypeError);
  assert.throws(() => pointFromHex(pointToHex(G).toUpperCase()), TypeError);
});

test('the identity is 33 zero bytes, both ways', () => {
  const zero = '00'.repeat(33);
  assert.equal(pointToHex(IDENTITY), zero);
  assert.ok(pointFromHex(zero).is0());
  assert.ok(gPow(Q).is0());
  assert.ok(pow(IDENTITY, 5n).is0());
  assert.equal(pointToHex(gPow(3n).add(gPow(-3n))), zero);
});

test('scalars are 64 lowercase hex digits below q', () => {
  assert.equal(scalarToHex(1n), '0'.repeat(63) + '1');
  assert.equal(scalarFromHex(scalarToHex(Q - 1n)), Q - 1n);
  assert.throws(() => scalarFromHex(Q.toString(16)), /not below the group order/);
  assert.throws(() => scalarFromHex('A'.repeat(64)), /64 lowercase hex/);
  assert.throws(() => scalarToHex(Q), RangeError);
});

test('H frames every part with a type byte and a length', () => {
  // The same bytes as a string part, a bytes part, or split differently, must hash apart.
  const enc = new TextEncoder();
  const hs = [
    hashBytes('t', 'ab'),
    hashBytes('t', enc.encode('ab')),
    hashBytes('t', 'a', 'b'),
    hashBytes('ta', 'b'),
    hashBytes('t', 1),
    hashBytes('t', 1n),
  ].map(bytesToHex);
  assert.equal(new Set(hs.slice(0, 5)).size, 5);
  assert.equal(hs[4], hs[5]);
  // H("t"; 1): len("t") ‖ "t" ‖ 0x49 ‖ 32-byte big-endian 1, by hand.
  const manual = new Uint8Array([0, 0, 0, 1, 0x74, 0x49, ...new Uint8Array(31), 1]);
  return globalThis.crypto.subtle.digest('SHA-256', manual).then((d) => assert.equal(bytesToHex(new Uint8Array(d)), hs[4]));
});

test('H refuses ambiguous parts', () => {
  for (const bad of [true, -1, 1.5, {}, null, [1], -1n, 1n << 256n]) {
    assert.throws(() => hashBytes('t', bad));
  }
  assert.ok(hashToScalar('t', 'x') < Q);
});
