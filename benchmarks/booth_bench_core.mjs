// The timing loop shared by node (bench_booth_js.mjs) and Chromium (booth_bench_page.html).
import { encryptBallot, prepareElection, verifyBallot } from '../src/saylau/web/static/booth/index.js';

function best(times) {
  return Math.min(...times);
}

function median(times) {
  const s = [...times].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time `ballots` encryptions per round over `rounds` rounds; ms per ballot, best and median round. */
export async function runBench({ election, style, choices, ballots = 20, rounds = 5 }) {
  const args = { election, style, choices, ballotId: 'bench-000000' };
  // What a page does when it loads: parse and check the parameters, build g's and K's tables.
  let t0 = performance.now();
  prepareElection(election);
  const prepare = performance.now() - t0;
  // The page's first ballot (the JIT still cold).
  t0 = performance.now();
  const warm = encryptBallot(args);
  const first = performance.now() - t0;
  const encrypt = [];
  const verify = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const made = [];
    for (let i = 0; i < ballots; i++) made.push(encryptBallot({ ...args, ballotId: `bench-${String(i).padStart(6, '0')}` }));
    encrypt.push((performance.now() - t) / ballots);
    t = performance.now();
    for (const m of made) verifyBallot(election, m.ballot, style);
    verify.push((performance.now() - t) / ballots);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return {
    ballots,
    rounds,
    prepare_ms: prepare,
    first_ballot_ms: first,
    encrypt_ms_per_ballot: best(encrypt),
    encrypt_ms_median: median(encrypt),
    verify_ms_per_ballot: best(verify),
    verify_ms_median: median(verify),
    sample: warm.ballot, // checked by Python's verify_ballot, so the timed work is known to be valid
  };
}
