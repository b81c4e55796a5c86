// Passphrase-protected secret files in the browser (static/console/secret_file.js); that the command
// line opens what it writes, and the reverse, is tests/web/test_console_secret_file_js.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORMAT, MIN_LOG_N, newPassphraseProblem, parseSecretFile, readSecret, writeSecret } from '../../../src/saylau/web/static/console/secret_file.js';

const WORD = 'сайлау — a long passphrase ✓';

async function file(extra = {}) {
  return writeSecret({ kind: 'guardian', publicPart: { election_id: 'e1', index: 2 }, secret: { s: [1, 'два'] }, passphrase: WORD, logN: MIN_LOG_N, ...extra });
}

async function code(promise) {
  try {
    await promise;
  } catch (exc) {
    return exc.code;
  }
  return 'opened';
}

test('a file reads back with its passphrase; each write draws a new salt and nonce', async () => {
  const text = await file();
  const doc = JSON.parse(text);
  assert.equal(doc.format, FORMAT);
  assert.deepEqual(doc.kdf, { ...doc.kdf, name: 'scrypt', log_n: MIN_LOG_N, r: 8, p: 1 });
  assert.equal(doc.kdf.salt.length, 64);
  assert.equal(doc.nonce.length, 24);
  assert.ok(!text.includes('два'));
  const opened = await readSecret(text, 'guardian', WORD);
  assert.deepEqual(opened, { kind: 'guardian', public: { election_id: 'e1', index: 2 }, secret: { s: [1, 'два'] } });
  const again = JSON.parse(await file());
  assert.notEqual(again.kdf.salt, doc.kdf.salt);
  assert.notEqual(again.nonce, doc.nonce);
});

test('every failure is named', async () => {
  const text = await file();
  const changed = (change) => {
    const doc = JSON.parse(text);
    change(doc);
    return JSON.stringify(doc);
  };
  assert.equal(await code(readSecret(text, 'guardian', 'not the passphrase')), 'wrong-passphrase');
  assert.equal(await code(readSecret(text, 'guardian', '')), 'empty-passphrase');
  assert.equal(await code(readSecret(text, 'protocol-key', WORD)), 'wrong-kind');
  assert.equal(await code(readSecret('{', 'guardian', WORD)), 'not-secret-file');
  assert.equal(await code(readSecret('[]', 'guardian', WORD)), 'not-secret-file');
  const cases = [
    [(d) => { d.public.election_id = 'e2'; }, 'altered'],
    [(d) => { d.nonce = '00'.repeat(12); }, 'altered'],
    [(d) => { d.ciphertext = (d.ciphertext[0] === 'A' ? 'B' : 'A') + d.ciphertext.slice(1); }, 'altered'],
    [(d) => { d.kdf.log_n = 15; }, 'wrong-passphrase'],
    [(d) => { d.kdf.log_n = 10; }, 'damaged'],
    [(d) => { d.kdf.r = 8.5; }, 'damaged'],
    [(d) => { d.ciphertext = '!!'; }, 'damaged'],
    [(d) => { d.salt = d.kdf.salt; }, 'damaged'],
    [(d) => { delete d.check; }, 'damaged'],
    [(d) => { d.check = 'zz'.repeat(32); }, 'damaged'],
    [(d) => { d.cipher = 'ChaCha20'; }, 'damaged'],
    [(d) => { d.format = 'saylau-secret/9'; }, 'not-secret-file'],
  ];
  for (const [change, expected] of cases) {
    assert.equal(await code(readSecret(changed(change), 'guardian', WORD)), expected, String(change));
  }
  assert.deepEqual(parseSecretFile(text, 'guardian').public, { election_id: 'e1', index: 2 });
});

test('new passphrases: the command line policy', () => {
  assert.equal(newPassphraseProblem('short', 'short'), 'short');
  assert.equal(newPassphraseProblem('ab'.repeat(6), 'ab'.repeat(6)), null);
  assert.equal(newPassphraseProblem('ab'.repeat(6), 'ab'.repeat(6) + ' '), 'differ');
  assert.equal(newPassphraseProblem('🗳'.repeat(11), '🗳'.repeat(11)), 'short'); // code points, as Python counts
  assert.equal(newPassphraseProblem('🗳'.repeat(12), '🗳'.repeat(12)), null);
  assert.equal(newPassphraseProblem('abc', 'abc', 3), null);
});

test('the cost is bounded as on the command line', async () => {
  await assert.rejects(file({ logN: 13 }), RangeError);
  await assert.rejects(file({ logN: 23 }), RangeError);
});
