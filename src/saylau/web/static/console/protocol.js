/**
 * A station's result protocol in the browser: its control relations, its canonical bytes, its signature.
 *
 * The bytes signed are those saylau.election.protocols.SignedProtocol.signed_bytes() verifies: the tag
 * "saylau/protocol/1" and a zero byte, then the RFC 8785 canonical JSON of the body (every field but
 * the signature). Ed25519 is @noble/curves'; the commission's secret key stays in this page's memory
 * and in the passphrase-protected file the commission keeps (secret_file.js: the file `saylau protocol
 * keygen` writes; newKeyFile / readKeyFile); only the signed protocol is sent.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical.js';
import { SecretFileError, parseSecretFile, readSecret, writeSecret } from './secret_file.js';

export { canonicalJson };

export const TAG = concatBytes(utf8ToBytes('saylau/protocol/1'), new Uint8Array([0]));

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

/** The station's key file: `protocol-key`, the kind `saylau protocol keygen` writes. */
export const KEY_KIND = 'protocol-key';

function keyFileFor(pub, electionId, stationId) {
  if (pub.election_id !== electionId || pub.station_id !== stationId) {
    throw new SecretFileError('wrong-station', `the key is for ${pub.election_id} / ${pub.station_id}, not ${electionId} / ${stationId}`,
      { election: pub.election_id, station: pub.station_id });
  }
  if (!/^[0-9a-f]{64}$/.test(pub.public_key ?? '')) throw new SecretFileError('damaged', 'damaged secret file (public_key is not 64 hex digits)');
  return pub;
}

/**
 * A fresh key for a station commission: {text, publicKey, secretKey}, `text` the passphrase-protected
 * file (saylau-secret/1, kind protocol-key) that `saylau protocol sign` opens too.
 */
export async function newKeyFile(electionId, stationId, passphrase, { logN, onProgress } = {}) {
  const secretKey = bytesToHex(ed25519.utils.randomSecretKey());
  const publicKey = publicKeyOf(secretKey);
  const text = await writeSecret({
    kind: KEY_KIND,
    publicPart: { election_id: electionId, station_id: stationId, public_key: publicKey },
    secret: { ed25519_private_key: secretKey },
    passphrase,
    logN,
    onProgress,
  });
  return { text, publicKey, secretKey };
}

/** A key file's public part (not authenticated yet), checked against the station; throws naming the problem. */
export function keyFilePublic(text, electionId, stationId) {
  return keyFileFor(parseSecretFile(text, KEY_KIND).public, electionId, stationId);
}

/** The secret key (hex) in a key file, opened with its passphrase; a SecretFileError names the problem. */
export async function readKeyFile(text, passphrase, electionId, stationId, { onProgress } = {}) {
  keyFilePublic(text, electionId, stationId);
  const opened = await readSecret(text, KEY_KIND, passphrase, { onProgress });
  const secretKey = opened.secret.ed25519_private_key;
  if (!/^[0-9a-f]{64}$/.test(secretKey ?? '')) throw new SecretFileError('damaged', 'damaged secret file (the private key is not 64 hex digits)');
  if (publicKeyOf(secretKey) !== opened.public.public_key) {
    throw new SecretFileError('damaged', 'damaged secret file (the private key does not match the public key the file names)');
  }
  return secretKey;
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
