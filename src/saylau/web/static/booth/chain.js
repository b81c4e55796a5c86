/**
 * Device chains and the challenge of a remote ballot, for the booth page (docs/record-format.md §5–§7).
 * Mirrors src/saylau/crypto/tracking.py (`opening_code`) and src/saylau/api/admission.py
 * (`remote_device_id`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesFromHex, bytesToHex } from './group.js';
import { hashBytes } from './hash.js';
import { ballotFromDict, ballotHash, ballotToDict, trackingCode } from './ballot_types.js';

const OPEN_TAG = 'saylau/v1/chain-open';
const REMOTE_SUFFIX = '-remote';
const DEVICE_ID_MAX = 64;

/** H_0 = H("saylau/v1/chain-open"; H_B, device id): a device chain's opening code (hex). */
export function openingCode(deviceId, baseHashHex) {
  return bytesToHex(hashBytes(OPEN_TAG, bytesFromHex(baseHashHex, 32, 'base hash'), deviceId));
}

/** The id of a station's remote-voting channel device, `<station>-remote` (hashed when too long). */
export function remoteDeviceId(stationId) {
  const plain = `${stationId}${REMOTE_SUFFIX}`;
  if (plain.length <= DEVICE_ID_MAX) return plain;
  const digest = bytesToHex(sha256(new TextEncoder().encode(stationId))).slice(0, 16);
  return `${stationId.slice(0, 40)}-${digest}${REMOTE_SUFFIX}`;
}

/**
 * The same ballot without its revote tag: same ciphertexts and proofs (they do not depend on the tag),
 * same previous code, its own tracking code. A challenged ballot carries no tag (its plaintext is
 * published, and a tag would link it to the voter's counted ballot), so a remote voter's challenged
 * ballot is published in this form; the ciphertexts opened are exactly those the voter was shown.
 */
export function withoutRevoteTag(ballotDict) {
  const b = ballotFromDict(ballotDict);
  b.revoteTag = null;
  b.code = trackingCode(b.previousCode, ballotHash(b));
  return ballotToDict(b);
}
