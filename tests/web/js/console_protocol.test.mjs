// The station console's key file (saylau-secret/1, as `saylau protocol keygen` writes) and relation checks (static/console/protocol.js); the signatures and
// canonical bytes are checked against Python in tests/web/test_console_protocol_js.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRelations, keyFilePublic, newKeyFile, publicKeyOf, readKeyFile, signProtocol, signingTime, verifyProtocol } from '../../../src/saylau/web/static/console/protocol.js';

test('a generated key file opens with its passphrase, for its own station only', async () => {
  const word = 'commission passphrase';
  const made = await newKeyFile('e2022', 'st-1', word, { logN: 14 });
  assert.equal(made.publicKey, publicKeyOf(made.secretKey));
  const doc = JSON.parse(made.text);
  assert.equal(doc.format, 'saylau-secret/1');
  assert.equal(doc.kind, 'protocol-key');
  assert.deepEqual(doc.public, { election_id: 'e2022', station_id: 'st-1', public_key: made.publicKey });
  assert.ok(!made.text.includes(made.secretKey));
  assert.deepEqual(keyFilePublic(made.text, 'e2022', 'st-1'), doc.public);
  assert.equal(await readKeyFile(made.text, word, 'e2022', 'st-1'), made.secretKey);
  await assert.rejects(readKeyFile(made.text, word, 'e2022', 'st-2'), { code: 'wrong-station', station: 'st-1' });
  await assert.rejects(readKeyFile(made.text, 'wrong passphrase', 'e2022', 'st-1'), { code: 'wrong-passphrase' });
  const other = await newKeyFile('e2022', 'st-1', word, { logN: 14 });
  const swapped = JSON.stringify({ ...doc, public: { ...doc.public, public_key: other.publicKey } });
  await assert.rejects(readKeyFile(swapped, word, 'e2022', 'st-1'), { code: 'altered' });
  assert.notEqual(other.secretKey, made.secretKey);
});

test('a signature covers every field', async () => {
  const { secretKey: secret } = await newKeyFile('e2022', 'st-1', 'commission passphrase', { logN: 14 });
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
