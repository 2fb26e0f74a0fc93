/**
 * `milestones data ...`: list the known datasets, download them, verify what is on disk.
 *
 *   milestones data list
 *   milestones data download <name> [<name> ...] [--data-dir DIR] [--base-url URL] [--timeout SECONDS]
 *   milestones data verify [<name> ...] [--data-dir DIR]      (no name: every known dataset)
 */
import { dataRoot } from './root.js';
import { DATASETS, getDatasetSpec } from './registry.js';
import { consoleProgress, DatasetDownloadError, downloadDataset, manualInstructions, verifyDataset, type DatasetStatus } from './download.js';

export const DATA_USAGE = `usage: milestones data <list | download NAME... | verify [NAME...]> [--data-dir DIR] [--base-url URL] [--timeout SECONDS]

  list                  the datasets that can be downloaded
  download NAME...      fetch from the canonical address, resume partial files, verify checksums, unpack
  verify [NAME...]      check the files under the data root (default: every dataset)

The data root is --data-dir, else $MILESTONES_DATA, else ~/.cache/milestones.`;

/** Where output goes; the CLI passes the process streams, tests pass collectors. */
export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  progress?: NodeJS.WriteStream;
}

function parse(args: readonly string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < args.length) flags.set(a.slice(2), args[++i]!);
    else throw new Error(`flag ${a} needs a value\n${DATA_USAGE}`);
  }
  for (const k of flags.keys()) {
    if (!['data-dir', 'base-url', 'timeout'].includes(k)) throw new Error(`unknown flag --${k} (valid: --data-dir, --base-url, --timeout)\n${DATA_USAGE}`);
  }
  return { positional, flags };
}

function describeStatus(s: DatasetStatus): string[] {
  return [
    `${s.dataset}: ${s.ok ? 'ok' : 'INCOMPLETE'}`,
    ...s.files.map((f) => `  ${f.state.padEnd(14)} ${f.path}${f.detail ? `  (${f.detail})` : ''}`),
  ];
}

/**
 * Runs `milestones data <args>`; resolves with the exit code (0 when everything asked for is
 * present and valid). `dataDir` is the CLI's --data-dir when it parsed it already.
 */
export async function dataCommand(args: readonly string[], io: CommandIO, dataDir?: string): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    io.err((e as Error).message);
    return 2;
  }
  const [sub, ...names] = parsed.positional;
  const root = parsed.flags.get('data-dir') ?? dataDir;
  const timeout = parsed.flags.get('timeout');
  if (timeout !== undefined && !(Number(timeout) > 0)) {
    io.err(`--timeout must be a positive number of seconds, got '${timeout}'`);
    return 2;
  }
  const unknown = names.filter((n) => !Object.prototype.hasOwnProperty.call(DATASETS, n));
  if (unknown.length > 0) {
    io.err(`unknown dataset${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (known: ${Object.keys(DATASETS).join(', ')})`);
    return 2;
  }
  switch (sub) {
    case 'list':
      for (const spec of Object.values(DATASETS)) {
        io.out(`${spec.name.padEnd(16)} ${spec.description}`);
        io.out(`${''.padEnd(16)} ${spec.homepage}; ${spec.license}`);
      }
      io.out(`data root: ${dataRoot(root)}`);
      return 0;
    case 'verify': {
      let ok = true;
      for (const name of names.length > 0 ? names : Object.keys(DATASETS)) {
        const status = await verifyDataset(name, root);
        describeStatus(status).forEach((l) => io.out(l));
        if (!status.ok) {
          ok = false;
          if (names.length > 0) io.out(manualInstructions(getDatasetSpec(name), root, getDatasetSpec(name).files));
        }
      }
      return ok ? 0 : 1;
    }
    case 'download': {
      if (names.length === 0) {
        io.err(`which dataset? (known: ${Object.keys(DATASETS).join(', ')})`);
        return 2;
      }
      let ok = true;
      for (const name of names) {
        try {
          const status = await downloadDataset(name, {
            root,
            baseUrl: parsed.flags.get('base-url'),
            timeoutMs: timeout !== undefined ? Number(timeout) * 1000 : undefined,
            onProgress: io.progress ? consoleProgress(io.progress) : undefined,
          });
          describeStatus(status).forEach((l) => io.out(l));
        } catch (e) {
          if (!(e instanceof DatasetDownloadError)) throw e;
          io.err(e.message);
          ok = false;
        }
      }
      return ok ? 0 : 1;
    }
    default:
      io.err(sub ? `unknown data command '${sub}'\n${DATA_USAGE}` : DATA_USAGE);
      return 2;
  }
}
