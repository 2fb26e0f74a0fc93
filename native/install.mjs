#!/usr/bin/env node
// Builds the native cpu backend (native/cpu/, binding.gyp) with node-gyp at `npm install` time.
// Nothing is downloaded: node-gyp compiles against the headers of the running Node (its
// include/node folder). If the build fails, for instance with no C++ compiler, the install still
// succeeds and the library runs on the reference backend, saying so once when it loads.
//
//   node native/install.mjs          build build/Release/milestones_cpu.node
//   node native/install.mjs --asan   build/Debug/milestones_cpu.node with AddressSanitizer, beside the
//                                    release build (see native/README.md for running the tests on it)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asan = process.argv.includes('--asan');

if (process.env.MILESTONES_NATIVE === 'off') {
  console.log('milestones: MILESTONES_NATIVE=off, skipping the native build; using the reference backend');
  process.exit(0);
}

// npm hands lifecycle scripts its own node-gyp; outside npm, use the one npm ships with.
const npmGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(npmGyp) ? npmGyp : null);

// Point node-gyp at the installed headers so it never tries to download them.
const prefix = join(dirname(process.execPath), '..');
const common = ['--jobs=max'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  common.push(`--nodedir=${prefix}`);
}
// The sanitizer build is gyp's Debug configuration, so it leaves build/Release alone.
const steps = asan ? [['configure', '--debug', ...common], ['build', '--debug', ...common]] : [['rebuild', ...common]];

const env = { ...process.env };
if (asan) {
  const flags = '-fsanitize=address -fno-omit-frame-pointer -g -O1';
  env.CXXFLAGS = `${env.CXXFLAGS ?? ''} ${flags}`;
  env.LDFLAGS = `${env.LDFLAGS ?? ''} -fsanitize=address`;
}

let result = { status: 1, error: new Error('node-gyp was not found') };
if (gyp) {
  for (const args of steps) {
    result = spawnSync(process.execPath, [gyp, ...args], { cwd: root, env, stdio: 'inherit' });
    if (result.status !== 0) break;
  }
}

if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with status ${result.status}`;
  console.log(`milestones: native build failed (${why}); the library will use the reference backend`);
  // A failed sanitizer build is an error for whoever asked for it; a failed install is not.
  process.exit(asan ? 1 : 0);
}
console.log(`milestones: built the native cpu backend${asan ? ' with AddressSanitizer' : ''}`);
