import { readFileSync } from 'node:fs';
import { encryptBallot } from './src/saylau/web/static/booth/index.js';
const inp = JSON.parse(readFileSync('/tmp/b.json'));
const args = { election: inp.election, style: inp.style, choices: inp.choices, ballotId: 'x-1' };
let t = performance.now(); encryptBallot(args); const first = performance.now() - t;
t = performance.now(); for (let i = 0; i < 5; i++) encryptBallot(args); const next = (performance.now() - t) / 5;
console.log(process.argv[2], 'first', first.toFixed(0), 'next', next.toFixed(0));
