/**
 * Passphrase-protected secret files (format "saylau-secret/1") in the browser: the very files
 * `saylau protocol keygen` and `saylau guardian keygen` write and read (saylau.crypto.keyfile;
 * docs/crypto-api.md, "Secret files"). One JSON object:
 *
 *   {format: "saylau-secret/1", kind, public, kdf: {name: "scrypt", log_n, r, p, salt: hex},
 *    cipher: "AES-256-GCM", nonce: hex, check: hex, ciphertext: base64}
 *
 * scrypt (@noble/hashes) turns the UTF-8 passphrase and the salt into 64 bytes: the first 32 are the
 * AES-256-GCM key (WebCrypto), the last 32 key check = HMAC-SHA-256(k2, "saylau-secret/1 passphrase
 * check"). The plaintext is the RFC 8785 JSON of the secret; the associated data is the RFC 8785 JSON
 * of every other field, so the kind, the public part and the cost cannot be changed unnoticed. A wrong
 * passphrase fails the check value, a file altered after it was written fails the tag.
 *
 * Failures are SecretFileError with a `code` the page translates: "not-secret-file", "damaged",
 * "wrong-kind" (with `found`), "empty-passphrase", "wrong-passphrase", "altered", "no-webcrypto".
 */
import { hmac } from '@noble/hashes/hmac.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical.js';

export const FORMAT = 'saylau-secret/1';
export const DEFAULT_LOG_N = 17; // saylau.crypto.keyfile.DEFAULT_LOG_N: 2^17, 128 MiB
export const MIN_LOG_N = 14;
export const MAX_LOG_N = 22;
export const MIN_NEW_PASSPHRASE = 12; // saylau.cli.staff.passphrase: a new passphrase's least length
const CHECK_LABEL = utf8ToBytes('saylau-secret/1 passphrase check');
const FIELDS = ['cipher', 'check', 'ciphertext', 'format', 'kdf', 'kind', 'nonce', 'public'].sort();

export class SecretFileError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'SecretFileError';
    this.code = code;
    Object.assign(this, extra);
  }
}

/** Why a new passphrase is refused ("short", "differ"), or null: the policy `saylau … keygen` applies. */
export function newPassphraseProblem(passphrase, repeated, least = MIN_NEW_PASSPHRASE) {
  if ([...passphrase].length < least) return 'short';
  if (passphrase !== repeated) return 'differ';
  return null;
}

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new SecretFileError('no-webcrypto', 'this browser gives the page no WebCrypto (the page must be served over HTTPS)');
  }
  return s;
}

async function keys(passphrase, salt, logN, r, p, onProgress) {
  if (!passphrase) throw new SecretFileError('empty-passphrase', 'empty passphrase');
  const derived = await scryptAsync(utf8ToBytes(passphrase), salt, { N: 2 ** logN, r, p, dkLen: 64, onProgress });
  return [derived.slice(0, 32), derived.slice(32)];
}

async function aes(key, usage) {
  return subtle().importKey('raw', key, { name: 'AES-GCM' }, false, [usage]);
}

function headerBytes(doc) {
  const { ciphertext, ...header } = doc; // eslint-disable-line no-unused-vars
  return utf8ToBytes(canonicalJson(header));
}

function toBase64(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error('ciphertext is not base64');
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function hex(value, what) {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new Error(`${what} is not hex`);
  }
  return hexToBytes(value.toLowerCase());
}

/**
 * Encrypt `secret` under `passphrase`: the text of the file (JSON) to hand to the owner. `logN` is the
 * scrypt cost (the server's, which is the command line's: saylau.crypto.keyfile.default_log_n()).
 */
export async function writeSecret({ kind, publicPart, secret, passphrase, logN = DEFAULT_LOG_N, onProgress }) {
  if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N) {
    throw new RangeError(`scrypt cost 2^${logN} outside 2^${MIN_LOG_N}..2^${MAX_LOG_N}`);
  }
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const [key, checkKey] = await keys(passphrase, salt, logN, 8, 1, onProgress);
  const doc = {
    format: FORMAT,
    kind,
    public: publicPart,
    kdf: { name: 'scrypt', log_n: logN, r: 8, p: 1, salt: bytesToHex(salt) },
    cipher: 'AES-256-GCM',
    nonce: bytesToHex(nonce),
    check: bytesToHex(hmac(sha256, checkKey, CHECK_LABEL)),
  };
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: headerBytes(doc), tagLength: 128 },
    await aes(key, 'encrypt'),
    utf8ToBytes(canonicalJson(secret)),
  );
  doc.ciphertext = toBase64(new Uint8Array(sealed));
  return JSON.stringify(doc, null, 1) + '\n';
}

/** The parsed file, its format and fields checked (nothing authenticated yet). */
export function parseSecretFile(text, kind) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (exc) {
    throw new SecretFileError('not-secret-file', `not a saylau secret file (not JSON: ${exc.message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || doc.format !== FORMAT) {
    throw new SecretFileError('not-secret-file', `not a saylau secret file (format is not ${FORMAT})`);
  }
  const fields = Object.keys(doc).sort();
  if (fields.join() !== FIELDS.join()) {
    const odd = [...fields.filter((f) => !FIELDS.includes(f)), ...FIELDS.filter((f) => !fields.includes(f))];
    throw new SecretFileError('damaged', `damaged secret file (fields ${odd.join(', ')})`);
  }
  if (doc.kind !== kind) throw new SecretFileError('wrong-kind', `the file is of kind ${doc.kind}, not ${kind}`, { found: doc.kind });
  if (doc.public === null || typeof doc.public !== 'object' || Array.isArray(doc.public)) {
    throw new SecretFileError('damaged', 'damaged secret file (public part is not an object)');
  }
  return doc;
}

/** Open a secret file of `kind`: {kind, public, secret}; a SecretFileError names what is wrong. */
export async function readSecret(text, kind, passphrase, { onProgress } = {}) {
  const doc = parseSecretFile(text, kind);
  let logN, r, p, salt, nonce, check, ciphertext;
  try {
    const kdf = doc.kdf;
    if (kdf === null || typeof kdf !== 'object' || kdf.name !== 'scrypt' || doc.cipher !== 'AES-256-GCM') {
      throw new Error('unknown KDF or cipher');
    }
    ({ log_n: logN, r, p } = kdf);
    if (![logN, r, p].every(Number.isInteger) || logN < MIN_LOG_N || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > 16) {
      throw new Error(`scrypt cost outside the allowed range (log_n ${logN}, r ${r}, p ${p})`);
    }
    [salt, nonce, check] = [hex(kdf.salt, 'salt'), hex(doc.nonce, 'nonce'), hex(doc.check, 'check')];
    ciphertext = fromBase64(doc.ciphertext);
    if (salt.length < 16 || nonce.length !== 12 || check.length !== 32) throw new Error('salt, nonce or check value of the wrong length');
    headerBytes(doc); // a header RFC 8785 cannot encode (a fraction, say) is damaged, not altered
  } catch (exc) {
    throw new SecretFileError('damaged', `damaged secret file (${exc.message})`);
  }
  const [key, checkKey] = await keys(passphrase, salt, logN, r, p, onProgress);
  if (bytesToHex(hmac(sha256, checkKey, CHECK_LABEL)) !== bytesToHex(check)) {
    throw new SecretFileError('wrong-passphrase', 'wrong passphrase');
  }
  let plain;
  try {
    plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: headerBytes(doc), tagLength: 128 },
      await aes(key, 'decrypt'),
      ciphertext,
    );
  } catch (exc) {
    if (exc instanceof SecretFileError) throw exc;
    throw new SecretFileError('altered', 'the file was altered after it was written (its authentication tag fails)');
  }
  const secret = JSON.parse(new TextDecoder().decode(plain));
  if (secret === null || typeof secret !== 'object' || Array.isArray(secret)) {
    throw new SecretFileError('damaged', 'damaged secret file (secret is not an object)');
  }
  return { kind: doc.kind, public: doc.public, secret };
}
