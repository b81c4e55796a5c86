import { readFileSync } from 'node:fs';
import { verifyBallot, encryptBallot, prepareElection } from './src/saylau/web/static/booth/index.js';
const inp = JSON.parse(readFileSync('/tmp/b2.json'));
const args = { election: inp.election, style: inp.style, choices: inp.choices, ballotId: 'x-1' };
let c0 = process.cpuUsage(); prepareElection(inp.election); let c = process.cpuUsage(c0); const prep = (c.user + c.system) / 1000;
const { ballot } = encryptBallot(args);
for (let i = 0; i < 3; i++) { verifyBallot(inp.election, ballot); encryptBallot(args); }
c0 = process.cpuUsage(); for (let i = 0; i < 10; i++) verifyBallot(inp.election, ballot); c = process.cpuUsage(c0);
const v = (c.user + c.system) / 1000 / 10;
c0 = process.cpuUsage(); for (let i = 0; i < 10; i++) encryptBallot(args); c = process.cpuUsage(c0);
console.log(process.argv[2], 'prepare', prep.toFixed(0), 'verify', v.toFixed(1), 'encrypt+check', ((c.user + c.system) / 1000 / 10).toFixed(1), 'cpu ms');
