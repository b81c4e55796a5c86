/**
 * The booth's cryptography, for the voting page: encrypt, self-check, tracking code, challenge opening.
 * Everything here follows docs/record-format.md byte for byte (see docs/booth-crypto.md).
 */
export { encryptBallot, verifyBallot, selfCheck, verifyOpening, selectionNonce } from './ballot.js';
export { openChallengedBallot, verifyChallengedBallot } from './challenge.js';
export { InvalidBallot, NO_DEVICE_CODE, ballotHash, ballotFromDict, trackingCode } from './ballot_types.js';
export { loadElection, prepareElection } from './election.js';
export { InvalidProof } from './proofs.js';
export { openingCode, remoteDeviceId, withoutRevoteTag } from './chain.js';
