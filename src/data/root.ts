/**
 * Where datasets live on disk (DESIGN.md, "Data"): one data root, with a folder per dataset in it
 * holding the files in their published formats (`<root>/mnist/train-images-idx3-ubyte.gz`, ...).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The environment variable that names the data root. */
export const DATA_ENV = 'MILESTONES_DATA';

/**
 * The data root: `explicit` (a `--data-dir` flag) when given, else the `MILESTONES_DATA`
 * environment variable, else `~/.cache/milestones`; always an absolute path.
 */
export function dataRoot(explicit?: string): string {
  if (explicit) return resolve(explicit);
  const fromEnv = process.env[DATA_ENV];
  if (fromEnv) return resolve(fromEnv);
  return join(homedir(), '.cache', 'milestones');
}

/** Where a dataset's files are, and which of them are missing. */
export interface DatasetLocation {
  /** The dataset's folder: `<root>/<name>`. */
  dir: string;
  /** The absolute path of each requested file, in the order asked for. */
  paths: string[];
  /** The requested file names that are not present as files. */
  missing: string[];
}

/** Looks for the files of dataset `name` under the data root, without throwing when they are absent. */
export function locateDataset(name: string, files: readonly string[], root?: string): DatasetLocation {
  const dir = join(dataRoot(root), name);
  const paths = files.map((f) => join(dir, f));
  const missing = files.filter((_, i) => !isFile(paths[i]!));
  return { dir, paths, missing };
}

/**
 * The absolute paths of the files of dataset `name`; when any is missing, an error that says
 * exactly which files to put where, and how the data root was chosen.
 */
export function requireDataset(name: string, files: readonly string[], root?: string): string[] {
  const found = locateDataset(name, files, root);
  if (found.missing.length === 0) return found.paths;
  const source = root
    ? 'given by --data-dir'
    : process.env[DATA_ENV]
      ? `from ${DATA_ENV}`
      : `the default, since neither --data-dir nor ${DATA_ENV} is set`;
  throw new Error(
    `${name}: dataset not found. Put these files in ${found.dir}:\n` +
      found.missing.map((f) => `  ${f}\n`).join('') +
      `(the data root ${dataRoot(root)} is ${source})`,
  );
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
