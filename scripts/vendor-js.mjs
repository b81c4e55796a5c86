// Copy the ES modules the web pages need from node_modules into src/saylau/web/static/vendor/
// (generated, git-ignored; `make js` runs `npm ci` and then this script).
//
// Only the modules reachable from ENTRIES are copied (a static walk of their `import … from '…'`
// statements), each package's LICENSE and package.json beside them, so the Python package ships a few
// hundred KB rather than the whole of node_modules. The pages load them through an import map:
// vendor/importmap.json maps each package's bare specifier prefix to its folder, relative to the static
// root ("vendor/@noble/curves/"); the server prefixes its static URL when it writes the map into a page.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const out = join(root, 'src/saylau/web/static/vendor');
const PACKAGES = ['@noble/curves', '@noble/hashes'];
// The entry points the pages import (src/saylau/web/static/booth/*.js, static/console/*.js).
const ENTRIES = [
  '@noble/curves/secp256k1.js', '@noble/curves/ed25519.js', '@noble/hashes/sha2.js', '@noble/hashes/utils.js',
  '@noble/hashes/scrypt.js', '@noble/hashes/hmac.js',
];
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]/g;

function packageOf(spec) {
  const pkg = PACKAGES.find((p) => spec === p || spec.startsWith(p + '/'));
  if (!pkg) throw new Error(`vendor-js: ${spec} is not in a vendored package (${PACKAGES.join(', ')})`);
  return pkg;
}

function resolveBare(spec) {
  const pkg = packageOf(spec);
  const sub = spec.slice(pkg.length + 1) || 'index.js';
  const file = join(modules, pkg, sub);
  if (!existsSync(file)) throw new Error(`vendor-js: ${spec} not found; run npm ci first`);
  return file;
}

const seen = new Set();
const queue = ENTRIES.map(resolveBare);
while (queue.length) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  // Block comments hold usage examples with import statements of their own: drop them first.
  const code = readFileSync(file, 'utf-8').replace(/\/\*[\s\S]*?\*\//g, '');
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    queue.push(spec.startsWith('.') ? resolve(dirname(file), spec) : resolveBare(spec));
  }
}

rmSync(out, { recursive: true, force: true });
for (const file of seen) {
  const target = join(out, relative(modules, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
}
const imports = {};
for (const pkg of PACKAGES) {
  for (const extra of ['LICENSE', 'package.json']) cpSync(join(modules, pkg, extra), join(out, pkg, extra));
  imports[pkg + '/'] = `vendor/${pkg}/`;
}
writeFileSync(join(out, 'importmap.json'), JSON.stringify({ imports }, null, 1) + '\n');
console.log(`vendor-js: ${seen.size} modules from ${PACKAGES.join(', ')} into ${relative(root, out)}/`);
