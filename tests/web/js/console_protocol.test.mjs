// The station console's key file and relation checks (static/console/protocol.js); the signatures and
// canonical bytes are checked against Python in tests/web/test_console_protocol_js.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRelations, newKeyFile, publicKeyOf, readKeyFile, signProtocol, signingTime, verifyProtocol } from '../../../src/saylau/web/static/console/protocol.js';

test('a generated key file reads back, for its own station only', () => {
  const file = newKeyFile('e2022', 'st-1');
  assert.equal(file.public_key, publicKeyOf(file.secret_key));
  assert.equal(readKeyFile(JSON.stringify(file), 'e2022', 'st-1'), file.secret_key);
  assert.throws(() => readKeyFile(JSON.stringify(file), 'e2022', 'st-2'), /not e2022 \/ st-2/);
  assert.throws(() => readKeyFile('{', 'e2022', 'st-1'), /not JSON/);
  assert.throws(() => readKeyFile(JSON.stringify({ ...file, kind: 'x' }), 'e2022', 'st-1'), /kind/);
  const other = newKeyFile('e2022', 'st-1');
  assert.throws(() => readKeyFile(JSON.stringify({ ...file, public_key: other.public_key }), 'e2022', 'st-1'), /does not match/);
  assert.notEqual(other.secret_key, file.secret_key);
});

test('a signature covers every field', () => {
  const { secret_key: secret } = newKeyFile('e2022', 'st-1');
  const figures = { station: 'st-1', registered: 3, ballots_received: 3, ballots_issued: 1, ballots_unused: 2, ballots_spoiled: 0, ballots_in_boxes: 1, valid: 1, invalid: 0, votes: { a: 1, b: 0 } };
  const doc = signProtocol(secret, { electionId: 'e2022', version: 1, supersedes: null, reason: '', signedAt: signingTime(new Date(Date.UTC(2022, 10, 20, 15, 4, 5, 678))), figures });
  assert.equal(doc.signed_at, '2022-11-20T15:04:05Z');
  assert.ok(verifyProtocol(doc));
  assert.ok(!verifyProtocol({ ...doc, reason: 'x' }));
  assert.ok(!verifyProtocol({ ...doc, figures: { ...figures, votes: { a: 0, b: 1 } } }));
  assert.deepEqual(checkRelations(figures, ['a', 'b']).filter((r) => r.ok !== true), []);
});

test('relations whose figures are not filled in are neither held nor failed', () => {
  const results = checkRelations({ votes: {}, valid: 2, invalid: 1, ballots_in_boxes: 4 }, ['a'], { registered: 5 });
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  assert.equal(byName['valid + invalid = ballots in boxes'].ok, false);
  assert.equal(byName['valid + invalid = ballots in boxes'].detail, '2 + 1 (= 3) != 4');
  assert.equal(byName['ballots received = issued + unused + spoiled'].ok, null);
  assert.equal(byName['options match the scenario'].ok, null);
  assert.equal(byName["registered = voters on the station's roll"].ok, null);
  assert.ok(!('ballots issued <= voters checked in at the station' in byName));
});
