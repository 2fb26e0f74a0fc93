#!/usr/bin/env node
// Enforces the layer boundaries of DESIGN.md on the TypeScript sources:
//  1. papers/ and examples/ import the library only through its public entry, src/index.ts;
//  2. only src/backend/ (the kernels) and src/io/ (file formats, which parse bytes) name typed
//     arrays, ArrayBuffer, DataView or Buffer; everything above works with Tensors;
//  3. nothing outside src/backend/ imports a backend's internals (only registry, types, philox).
// Prints every violation as file:line and exits 1 if there is any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const BUFFER_NAMES = new Set([
  'Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint16Array',
  'Uint32Array', 'Uint8ClampedArray', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer', 'SharedArrayBuffer',
  'DataView', 'Buffer',
]);
const BUFFER_OK = ['src/backend/', 'src/io/'];
const BACKEND_PUBLIC = ['src/backend/registry', 'src/backend/types', 'src/backend/philox'];
const CHECKED = ['src', 'papers', 'examples', 'cli'];

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const top of CHECKED) {
  for (const file of walk(join(root, top))) {
    const rel = relative(root, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const report = (node, msg) => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      problems.push(`${rel}:${line + 1}: ${msg}`);
    };
    const buffersAllowed = BUFFER_OK.some((p) => rel.startsWith(p));
    const visit = (node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const spec = node.moduleSpecifier.text;
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/').replace(/\.(js|ts)$/, '');
          if ((rel.startsWith('papers/') || rel.startsWith('examples/')) && target.startsWith('src/') && target !== 'src/index') {
            report(node, `imports '${spec}': papers and examples import only the public entry src/index.ts`);
          }
          if (!rel.startsWith('src/backend/') && target.startsWith('src/backend/') && !BACKEND_PUBLIC.includes(target)) {
            report(node, `imports '${spec}': only src/backend/ reaches into a backend's internals`);
          }
        }
      }
      if (!buffersAllowed && ts.isIdentifier(node) && BUFFER_NAMES.has(node.text)) {
        const parent = node.parent;
        // A property named like a buffer type (obj.Buffer) is not a use of the global.
        const isPropertyName = parent && ts.isPropertyAccessExpression(parent) && parent.name === node;
        if (!isPropertyName) report(node, `names '${node.text}': only src/backend/ and src/io/ touch typed arrays and buffers`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

if (problems.length) {
  console.error(`lint-layers: ${problems.length} layer violation(s):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('lint-layers: layer boundaries hold');
