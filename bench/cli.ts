/**
 * Command-line flags of the benchmark scripts (`--name=value` and `--name`), and where the repository
 * root is for a script compiled to dist-NAME/bench/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The value of `--name=value`, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

/** Whether `--name` was given. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The repository root (where bench/ and tools/ live) for a script at dist-NAME/bench/SCRIPT.js. */
export function repoRoot(scriptUrl: string): string {
  return join(dirname(fileURLToPath(scriptUrl)), '..', '..');
}

/**
 * Writes a generated report to `path`, keeping the hand-written notes of the file already there: all
 * from `marker` on (profiles and analysis survive a rerun of the benchmark).
 */
export function writeReport(path: string, generated: string, marker: string): void {
  let notes = '';
  try {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf(marker);
    if (at >= 0) notes = old.slice(at);
  } catch {
    // first run: no notes yet
  }
  writeFileSync(path, generated + (notes ? '\n' + notes : ''));
}
