// The browser booth reproduces Python's encrypt_ballot byte for byte, and verifies Python's ballots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import canonicalize from 'canonicalize';

import {
  encryptBallot,
  openChallengedBallot,
  verifyBallot,
  verifyChallengedBallot,
  InvalidBallot,
} from '../../../src/saylau/web/static/booth/index.js';
import { boothVectors, replay, saylauVectors } from './vectors.mjs';

const V = boothVectors();

for (const vec of V.ballots) {
  test(`encrypts ${vec.ballot_id} (${vec.style_id}${vec.revote_tag ? ', revote tag' : ''}) byte for byte`, () => {
    const random = replay(vec.draws);
    const { ballot, secret } = encryptBallot({
      election: V.election,
      style: V.styles[vec.style_id],
      choices: vec.choices,
      ballotId: vec.ballot_id,
      previousCode: vec.previous_code,
      revoteTag: vec.revote_tag,
      _random: random,
    });
    assert.equal(random.used(), vec.draws.length, 'every recorded draw is used, no more');
    assert.equal(canonicalize(ballot), canonicalize(vec.ballot));
    assert.equal(canonicalize(secret), canonicalize(vec.secret));
  });

  test(`verifies Python's ${vec.ballot_id}`, () => {
    verifyBallot(V.election, vec.ballot, V.styles[vec.style_id]);
  });
}

test('the tracking codes chain from the device opening code', () => {
  let prev = V.opening_code;
  for (const vec of V.ballots) {
    assert.equal(vec.ballot.previous_code, prev);
    prev = vec.ballot.code;
  }
});

test("opens a challenged ballot exactly as Python's open_challenged_ballot", () => {
  const vec = V.ballots.find((b) => b.challenged);
  const opened = openChallengedBallot(V.election, vec.ballot, vec.secret);
  assert.equal(canonicalize(opened), canonicalize(vec.challenged));
  verifyChallengedBallot(V.election, vec.challenged);
});

test('a challenged opening with another choice is refused', () => {
  const vec = V.ballots.find((b) => b.challenged);
  const forged = structuredClone(vec.challenged);
  forged.choices.president = ['tokayev'];
  assert.throws(() => verifyChallengedBallot(V.election, forged), (e) => e instanceof InvalidBallot && /re-encrypt/.test(e.message));
});

test('a changed byte anywhere in a ballot is refused', () => {
  const vec = V.ballots[3];
  const mutations = [
    (b) => { b.contests[0].selections[2].proof.responses[1] = b.contests[0].selections[3].proof.responses[1]; },
    (b) => { b.contests[1].proof.challenges[0] = b.contests[0].proof.challenges[0]; },
    (b) => { const s = b.contests[2].selections; [s[0].alpha, s[1].alpha] = [s[1].alpha, s[0].alpha]; },
    (b) => { b.code = b.previous_code; },
    (b) => { b.revote_tag = '00'.repeat(32); },
    (b) => { b.style_id = 'ballot'; },
    (b) => { b.contests[0].selections[0].beta = b.contests[0].selections[0].beta.toUpperCase(); },
  ];
  for (const mutate of mutations) {
    const b = structuredClone(vec.ballot);
    mutate(b);
    assert.throws(() => verifyBallot(V.election, b), InvalidBallot);
  }
});

test("verifies the frozen election vectors' ballots (saylau-v1.json)", () => {
  const S = saylauVectors();
  for (const b of S.ballots) verifyBallot(S.params, b);
  verifyChallengedBallot(S.params, S.challenged);
});

test('refuses bad choices with a message naming the contest', () => {
  const base = { election: V.election, style: V.styles.ballot, ballotId: 'b-000001' };
  const cases = [
    [{ president: [] }, /0 marks, allowed \[1\]/],
    [{ president: ['tokayev', 'abden'] }, /2 marks/],
    [{ president: ['nobody'] }, /unknown selections \["nobody"\]/],
    [{ president: ['tokayev', 'tokayev'] }, /chosen twice/],
    [{}, /missing \["president"\]/],
    [{ president: ['tokayev'], council: ['c1', 'c2'] }, /extra \["council"\]/],
  ];
  for (const [choices, message] of cases) {
    assert.throws(() => encryptBallot({ ...base, choices }), (e) => e instanceof InvalidBallot && message.test(e.message));
  }
});

test('refuses election parameters whose extended base hash does not match', () => {
  const election = structuredClone(V.election);
  election.extended_base_hash = '11'.repeat(32);
  assert.throws(
    () => encryptBallot({ election, style: V.styles.ballot, ballotId: 'b-1', choices: { president: ['tokayev'] } }),
    /extended_base_hash does not match/,
  );
});

test('fresh ballots from the CSPRNG verify and differ', () => {
  const args = { election: V.election, style: V.styles.ballot, ballotId: 'b-000009', choices: { president: ['tokayev'] } };
  const one = encryptBallot(args);
  const two = encryptBallot(args);
  verifyBallot(V.election, one.ballot);
  assert.notEqual(one.ballot.code, two.ballot.code);
  assert.notEqual(one.secret.ballot_nonce, two.secret.ballot_nonce);
});
