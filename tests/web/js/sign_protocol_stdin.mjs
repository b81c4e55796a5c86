// Sign protocols and check control relations with the station console's code, for
// tests/web/test_console_protocol_js.py to check with Python's saylau.election.protocols.
// Reads {sign: [{secret_key, fields}], relations: [{figures, options, facts}], canonical: [value]} on
// stdin; writes {signed: [doc], public_keys: [hex], relations: [[failing names]], canonical: [text]}.
import { readFileSync } from 'node:fs';
import { canonicalJson, checkRelations, publicKeyOf, signProtocol, verifyProtocol } from '../../../src/saylau/web/static/console/protocol.js';

const input = JSON.parse(readFileSync(0, 'utf-8'));
const signed = input.sign.map((s) => {
  const doc = signProtocol(s.secret_key, s.fields);
  if (!verifyProtocol(doc)) throw new Error('a fresh signature does not verify');
  return doc;
});
process.stdout.write(JSON.stringify({
  signed,
  public_keys: input.sign.map((s) => publicKeyOf(s.secret_key)),
  relations: input.relations.map((r) => checkRelations(r.figures, r.options, r.facts).filter((x) => x.ok === false).map((x) => [x.name, x.detail])),
  canonical: input.canonical.map(canonicalJson),
}));
