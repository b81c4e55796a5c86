// The booth's JavaScript, timed in node: encrypt a 7-option vote-for-one ballot with all proofs (and the
// self-check every ballot gets before it is sent), and verify one. Run by benchmarks/bench_booth_js.py,
// which passes {election, style, choices, ballots, rounds} on stdin; prints one JSON object.
// The same function runs in headless Chromium from benchmarks/booth_bench_page.html.
import { readFileSync } from 'node:fs';
import { runBench } from './booth_bench_core.mjs';

const input = JSON.parse(readFileSync(0, 'utf-8'));
const result = await runBench(input);
process.stdout.write(JSON.stringify({ ...result, runtime: `node ${process.version}` }) + '\n');
