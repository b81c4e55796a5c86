// Shared loaders for the booth's node tests: the cross-language vectors written by Python.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** tests/vectors/booth-v1.json (Python's ballots with their random draws). */
export function boothVectors() {
  return JSON.parse(readFileSync(here('../../vectors/booth-v1.json'), 'utf-8'));
}

/** tests/vectors/saylau-v1.json (the frozen election vectors). */
export function saylauVectors() {
  return JSON.parse(readFileSync(here('../../vectors/saylau-v1.json'), 'utf-8'));
}

/** A random source that replays recorded draws (hex strings) in order, checking each length. */
export function replay(draws) {
  let i = 0;
  const source = (n) => {
    if (i >= draws.length) throw new Error(`replay: draw ${i} requested, only ${draws.length} recorded`);
    const hex = draws[i++];
    if (hex.length !== 2 * n) throw new Error(`replay: draw ${i - 1} has ${hex.length / 2} bytes, ${n} requested`);
    return Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
  };
  source.used = () => i;
  return source;
}
