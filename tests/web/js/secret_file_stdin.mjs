// Open and write saylau-secret/1 files with the browser's code, for tests/web/test_console_secret_file_js.py
// to check against saylau.crypto.keyfile and `saylau protocol keygen|sign`. Reads on stdin
// {open: [{text, kind, passphrase}], write: [{kind, public, secret, passphrase, log_n}],
//  keys: [{election, station, passphrase, log_n}], sign: [{text, passphrase, election, station, fields}]};
// writes {open: [{public, secret} | {error, message}], write: [text], keys: [{text, public_key}],
//  sign: [signed protocol | {error, message}]}.
import { readFileSync } from 'node:fs';
import { newKeyFile, readKeyFile, signProtocol } from '../../../src/saylau/web/static/console/protocol.js';
import { readSecret, writeSecret } from '../../../src/saylau/web/static/console/secret_file.js';

const input = JSON.parse(readFileSync(0, 'utf-8'));
const failure = (exc) => {
  if (!exc.code) throw exc;
  return { error: exc.code, message: exc.message };
};
const out = { open: [], write: [], keys: [], sign: [] };
for (const o of input.open ?? []) {
  out.open.push(await readSecret(o.text, o.kind, o.passphrase).then((f) => ({ public: f.public, secret: f.secret }), failure));
}
for (const w of input.write ?? []) {
  out.write.push(await writeSecret({ kind: w.kind, publicPart: w.public, secret: w.secret, passphrase: w.passphrase, logN: w.log_n }));
}
for (const k of input.keys ?? []) {
  const made = await newKeyFile(k.election, k.station, k.passphrase, { logN: k.log_n });
  out.keys.push({ text: made.text, public_key: made.publicKey });
}
for (const s of input.sign ?? []) {
  out.sign.push(await readKeyFile(s.text, s.passphrase, s.election, s.station).then((secret) => signProtocol(secret, s.fields), failure));
}
process.stdout.write(JSON.stringify(out));
