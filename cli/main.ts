#!/usr/bin/env node
/**
 * The `milestones` command: list the landmarks, run one, resume or report a run, show the machine.
 */
import { existsSync } from 'node:fs';
import { VERSION, DTYPES, availableBackends, describeBackend, getDefaultDevice, setDefaultDevice } from '../src/index.js';
import { Run, parseArgs, resolveConfig } from '../src/run/index.js';
import { dataCommand } from '../src/data/index.js';
import { LANDMARKS } from './landmarks.js';

const USAGE = `usage: milestones <command> [options]

commands:
  list                          the landmarks and their presets
  run <name> [--preset P] [--key=value ...] [--device D] [--data-dir DIR] [--runs-dir DIR]
                                train a landmark; writes runs/<name>/<time>/
  resume <run-dir>              continue a run from its last checkpoint
  report <run-dir>              rebuild a run's report.html
  sample <name> --run <run-dir> [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
                                stream text from a trained generative landmark (gpt)
  data list|download NAME...|verify [NAME...] [--data-dir DIR]
                                fetch datasets from their canonical addresses and check them
  info                          version, backends and dtypes
  help                          this message
`;

function info(): void {
  console.log(`milestones ${VERSION}`);
  console.log(`node ${process.version} (${process.platform}-${process.arch})`);
  console.log(`default device: ${getDefaultDevice()}`);
  console.log('backends:');
  for (const name of availableBackends()) console.log(`  ${name.padEnd(10)} ${describeBackend(name)}`);
  console.log(`dtypes: ${DTYPES.join(', ')}`);
}

function list(): void {
  if (LANDMARKS.length === 0) {
    console.log('no landmarks are registered yet');
    return;
  }
  for (const lm of LANDMARKS) {
    console.log(`${lm.name.padEnd(18)} ${lm.title}`);
    console.log(`${''.padEnd(18)} presets: ${Object.keys(lm.spec.presets).join(', ')} (default ${lm.spec.defaultPreset})`);
  }
}

function findLandmark(name: string | undefined): (typeof LANDMARKS)[number] {
  const lm = LANDMARKS.find((l) => l.name === name);
  if (!lm) {
    throw new Error(`unknown landmark '${name ?? ''}' (available: ${LANDMARKS.map((l) => l.name).join(', ') || 'none yet'})`);
  }
  return lm;
}

/** First Ctrl-C: ask the loop to checkpoint and stop. Second: exit now. */
function handleInterrupt(run: Run): void {
  let count = 0;
  process.on('SIGINT', () => {
    count++;
    if (count === 1) {
      run.stopRequested = true;
      process.stderr.write('\nmilestones: stopping after this step (checkpointing); Ctrl-C again to quit at once\n');
    } else process.exit(130);
  });
}

async function execute(run: Run, lm: (typeof LANDMARKS)[number]): Promise<void> {
  handleInterrupt(run);
  console.log(`run directory: ${run.dir}`);
  await lm.train(run);
  const report = run.report(lm.title);
  console.log(run.stopRequested ? `stopped; resume with: milestones resume ${run.dir}` : 'done');
  console.log(`report: ${report}`);
}

const RESERVED = new Set(['preset', 'device', 'data-dir', 'runs-dir']);

/** A numeric flag, or its default; anything that is not a number is an error naming the flag. */
function numberFlag(flags: Record<string, string>, name: string, dflt: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
}

/** `milestones sample <name> --run DIR ...`: text from a trained run, streamed to stdout. */
async function sample(name: string | undefined, flags: Record<string, string>): Promise<void> {
  const lm = findLandmark(name);
  if (!lm.sample) throw new Error(`sample: '${lm.name}' does not generate text (try: ${LANDMARKS.filter((l) => l.sample).map((l) => l.name).join(', ')})`);
  const dir = flags['run'];
  if (!dir || !existsSync(dir)) throw new Error(`sample: no run directory '${dir ?? ''}' (pass --run runs/${lm.name}/<time>)`);
  const run = Run.open(dir);
  if (run.info.paper !== lm.name) throw new Error(`sample: ${dir} is a '${run.info.paper}' run, not '${lm.name}'`);
  setDefaultDevice(flags['device'] ?? run.info.device);
  const tokens = numberFlag(flags, 'tokens', 500);
  if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`--tokens must be a positive integer, got ${tokens}`);
  await lm.sample(run, {
    prompt: flags['prompt'] ?? '',
    tokens,
    temperature: numberFlag(flags, 'temperature', 0.8),
    topK: numberFlag(flags, 'top-k', 200),
    topP: numberFlag(flags, 'top-p', 1),
    seed: numberFlag(flags, 'seed', 1337),
  }, (text) => process.stdout.write(text));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'data') {
    return dataCommand(rest, { out: (l) => console.log(l), err: (l) => console.error(l), progress: process.stderr });
  }
  const { flags, positionals } = parseArgs(rest);
  switch (command) {
    case 'info':
      info();
      return 0;
    case 'list':
      list();
      return 0;
    case 'run': {
      const lm = findLandmark(positionals[0]);
      if (flags['device']) setDefaultDevice(flags['device']);
      const overrides = Object.fromEntries(Object.entries(flags).filter(([k]) => !RESERVED.has(k)));
      const config = resolveConfig(lm.spec, flags['preset'], overrides);
      const run = Run.create(flags['runs-dir'] ?? 'runs', {
        paper: lm.name,
        preset: flags['preset'] ?? lm.spec.defaultPreset,
        device: getDefaultDevice(),
        dataDir: flags['data-dir'] ?? null,
        version: VERSION,
      }, config);
      await execute(run, lm);
      return 0;
    }
    case 'resume': {
      const dir = positionals[0];
      if (!dir || !existsSync(dir)) throw new Error(`resume: no run directory '${dir ?? ''}'`);
      const run = Run.open(dir);
      const lm = findLandmark(run.info.paper);
      setDefaultDevice(flags['device'] ?? run.info.device);
      await execute(run, lm);
      return 0;
    }
    case 'sample':
      await sample(positionals[0], flags);
      return 0;
    case 'report': {
      const dir = positionals[0];
      if (!dir || !existsSync(dir)) throw new Error(`report: no run directory '${dir ?? ''}'`);
      const run = Run.open(dir);
      console.log(run.report(LANDMARKS.find((l) => l.name === run.info.paper)?.title));
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
      console.log(VERSION);
      return 0;
    default:
      process.stderr.write(`milestones: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`milestones: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
