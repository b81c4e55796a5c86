/**
 * A station's result protocol in the browser: its control relations, its canonical bytes, its signature.
 *
 * The bytes signed are those saylau.election.protocols.SignedProtocol.signed_bytes() verifies: the tag
 * "saylau/protocol/1" and a zero byte, then the RFC 8785 canonical JSON of the body (every field but
 * the signature). Ed25519 is @noble/curves'; the commission's secret key stays in this page's memory
 * and in the file the commission keeps (keyFile / readKeyFile); only the signed protocol is sent.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const TAG = concatBytes(utf8ToBytes('saylau/protocol/1'), new Uint8Array([0]));
export const KEY_KIND = 'saylau-station-protocol-key/1';

/** RFC 8785 canonical JSON of a value made of null, booleans, safe integers, strings, arrays, objects. */
export function canonicalJson(value) {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value); // ES string escaping is RFC 8785's
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    // keys sorted by UTF-16 code units: the default sort of JavaScript strings
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

/** A signing time as the server writes it back: UTC, whole seconds, "Z". */
export function signingTime(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The unsigned body of a protocol version (the fields SignedProtocol.body() holds). */
export function protocolBody({ electionId, version, supersedes, reason, signedAt, figures, signer }) {
  return {
    election_id: electionId,
    version,
    supersedes: supersedes ?? null,
    reason: reason ?? '',
    signed_at: signedAt,
    figures,
    signer,
  };
}

/** The bytes the commission signs: tag + canonical JSON of the body. */
export function signedBytes(body) {
  return concatBytes(TAG, utf8ToBytes(canonicalJson(body)));
}

/** The public key (hex) of a 32-byte secret key given in hex. */
export function publicKeyOf(secretHex) {
  return bytesToHex(ed25519.getPublicKey(hexToBytes(secretHex)));
}

/** Sign a protocol version: the SignedProtocol document the server accepts. */
export function signProtocol(secretHex, fields) {
  const signer = publicKeyOf(secretHex);
  const body = protocolBody({ ...fields, signer });
  const signature = bytesToHex(ed25519.sign(signedBytes(body), hexToBytes(secretHex)));
  return { ...body, signature };
}

/** Whether a signed protocol's signature verifies under its signer key. */
export function verifyProtocol(doc) {
  const { signature, ...body } = doc;
  return ed25519.verify(hexToBytes(signature), signedBytes(body), hexToBytes(body.signer));
}

/** A fresh key for a station commission, as the file the commission keeps (JSON). */
export function newKeyFile(electionId, stationId) {
  const secret = bytesToHex(ed25519.utils.randomSecretKey());
  return { kind: KEY_KIND, election_id: electionId, station_id: stationId, public_key: publicKeyOf(secret), secret_key: secret };
}

/** The secret key (hex) of a key file's text, checked against its station; throws naming the problem. */
export function readKeyFile(text, electionId, stationId) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  if (doc === null || doc.kind !== KEY_KIND) throw new Error(`kind is not ${KEY_KIND}`);
  if (doc.election_id !== electionId || doc.station_id !== stationId) {
    throw new Error(`the key is for ${doc.election_id} / ${doc.station_id}, not ${electionId} / ${stationId}`);
  }
  if (!/^[0-9a-f]{64}$/.test(doc.secret_key ?? '')) throw new Error('secret_key is not 64 hex digits');
  if (publicKeyOf(doc.secret_key) !== doc.public_key) throw new Error('public_key does not match secret_key');
  return doc.secret_key;
}

/**
 * Every control relation of the figures, in the server's order, each {name, ok, detail}; `ok` is null
 * for a relation whose figures are not all filled in. `facts` ({registered, checked_in}, either may be
 * null) adds the two relations with the station's records that the server refuses when broken.
 */
export function checkRelations(f, options, facts = {}) {
  const out = [];
  const known = (...xs) => xs.every((x) => Number.isInteger(x));
  const add = (name, inputs, test, detail) => {
    if (!known(...inputs)) out.push({ name, ok: null, detail: '' });
    else out.push({ name, ok: test(), detail: test() ? '' : detail() });
  };
  const scalars = ['registered', 'ballots_received', 'ballots_issued', 'ballots_unused', 'ballots_spoiled', 'ballots_in_boxes', 'valid', 'invalid'];
  const all = [...scalars.map((k) => [k, f[k]]), ...options.map((o) => [`votes[${o}]`, f.votes[o]])];
  const negative = all.filter(([, v]) => Number.isInteger(v) && v < 0);
  out.push({ name: 'no negative figures', ok: negative.length === 0, detail: negative.map(([k, v]) => `${k} = ${v}`).join(', ') });
  const missing = options.filter((o) => !Number.isInteger(f.votes[o]));
  out.push({ name: 'options match the scenario', ok: missing.length === 0 ? true : null, detail: '' });
  const issued = () => f.ballots_issued + f.ballots_unused + f.ballots_spoiled;
  add('ballots received = issued + unused + spoiled', [f.ballots_received, f.ballots_issued, f.ballots_unused, f.ballots_spoiled],
    () => f.ballots_received === issued(),
    () => `${f.ballots_received} != ${f.ballots_issued} + ${f.ballots_unused} + ${f.ballots_spoiled} (= ${issued()})`);
  add('valid + invalid = ballots in boxes', [f.valid, f.invalid, f.ballots_in_boxes],
    () => f.valid + f.invalid === f.ballots_in_boxes,
    () => `${f.valid} + ${f.invalid} (= ${f.valid + f.invalid}) != ${f.ballots_in_boxes}`);
  const total = () => options.reduce((s, o) => s + f.votes[o], 0);
  add('sum of options = valid', [f.valid, ...options.map((o) => f.votes[o])],
    () => total() === f.valid,
    () => `${options.map((o) => f.votes[o]).join(' + ')} = ${total()} != ${f.valid}`);
  add('voted <= registered', [f.ballots_issued, f.registered],
    () => f.ballots_issued <= f.registered, () => `${f.ballots_issued} > ${f.registered}`);
  add('ballots in boxes <= ballots issued', [f.ballots_in_boxes, f.ballots_issued],
    () => f.ballots_in_boxes <= f.ballots_issued, () => `${f.ballots_in_boxes} > ${f.ballots_issued}`);
  if (Number.isInteger(facts.registered)) {
    add("registered = voters on the station's roll", [f.registered],
      () => f.registered === facts.registered, () => `protocol ${f.registered}, roll ${facts.registered}`);
  }
  if (Number.isInteger(facts.checked_in)) {
    add('ballots issued <= voters checked in at the station', [f.ballots_issued],
      () => f.ballots_issued <= facts.checked_in,
      () => `${f.ballots_issued} ballots issued > ${facts.checked_in} voters checked in (pollbook)`);
  }
  return out;
}
