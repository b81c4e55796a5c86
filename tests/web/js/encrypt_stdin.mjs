// Encrypt ballots with the booth's code and the CSPRNG, for tests/web/test_booth_js.py to check with
// Python's verifier. Reads {election, styles: {id: style}, device_opening_code, requests: [{ballot_id,
// style_id, choices, revote_tag?, challenge?}]} on stdin; chains the ballots from the opening code and
// writes {ballots: [record-form ballot…], openings: [challenge opening…]} on stdout.
import { readFileSync } from 'node:fs';
import { encryptBallot, openChallengedBallot } from '../../../src/saylau/web/static/booth/index.js';

const input = JSON.parse(readFileSync(0, 'utf-8'));
let previous = input.device_opening_code;
const ballots = [];
const openings = [];
for (const r of input.requests) {
  const { ballot, secret } = encryptBallot({
    election: input.election,
    style: input.styles[r.style_id],
    choices: r.choices,
    ballotId: r.ballot_id,
    previousCode: previous,
    revoteTag: r.revote_tag ?? null,
  });
  ballots.push(ballot);
  if (r.challenge) openings.push(openChallengedBallot(input.election, ballot, secret));
  previous = ballot.code;
}
process.stdout.write(JSON.stringify({ ballots, openings }));
