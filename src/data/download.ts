/**
 * Getting datasets: `downloadDataset('mnist')` fetches each file of a dataset from its canonical
 * address into the data root, and `verifyDataset('mnist')` checks what is there.
 *
 * The path of a file is always: download into `<file>.part` (resuming a partial one with an HTTP
 * Range request), check its size and published checksums, and only then rename it to its real
 * name. A file that fails the check is deleted, so nothing under a dataset's real file names is
 * ever corrupt or partial. Archives (CIFAR's .tar.gz) are unpacked into a temporary folder and
 * moved into place once complete. When a file cannot be had (offline, a wrong checksum), the error
 * says which files are needed, where to get them and exactly where to put them.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory, fsyncFile } from '../io/atomic.js';
import { downloadToPart, hashFile, HttpDownloadError } from '../io/http-download.js';
import { extractTar } from '../io/tar.js';
import { DATA_ENV, dataRoot } from './root.js';
import { type DatasetFile, type DatasetSpec, getDatasetSpec } from './registry.js';

/** What `onProgress` hears about. */
export interface DownloadProgress {
  dataset: string;
  /** The file's path relative to the data root. */
  file: string;
  phase: 'present' | 'download' | 'verify' | 'unpack' | 'done';
  /** Bytes received so far (download phase). */
  received?: number;
  /** Total bytes, when known. */
  total?: number | null;
  /** Which address the bytes come from. */
  url?: string;
}

export interface DownloadOptions {
  /** The data root (a --data-dir flag); default: MILESTONES_DATA, else ~/.cache/milestones. */
  root?: string;
  /** Fetch every file from `<baseUrl>/<file path>` instead of its published addresses (tests, mirrors). */
  baseUrl?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Give up on a silent connection after this long (default 10 s). */
  timeoutMs?: number;
  /** Resumes allowed after dropped connections, per address (default 5). */
  maxResumes?: number;
  /** Pause before a resume (default 300 ms). */
  retryDelayMs?: number;
}

/** The state of one needed file. */
export interface FileStatus {
  /** Path relative to the data root. */
  file: string;
  /** Absolute path. */
  path: string;
  state: 'ok' | 'missing' | 'wrong-size' | 'wrong-checksum' | 'not-unpacked';
  detail?: string;
}

/** What `verifyDataset` finds, and what `downloadDataset` leaves. */
export interface DatasetStatus {
  dataset: string;
  root: string;
  ok: boolean;
  files: FileStatus[];
}

/** Thrown when a dataset cannot be downloaded; the message says what to put where. */
export class DatasetDownloadError extends Error {
  constructor(
    message: string,
    readonly status: DatasetStatus,
  ) {
    super(message);
    this.name = 'DatasetDownloadError';
  }
}

function specOf(nameOrSpec: string | DatasetSpec): DatasetSpec {
  return typeof nameOrSpec === 'string' ? getDatasetSpec(nameOrSpec) : nameOrSpec;
}

function fileSize(path: string): number | null {
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/** Checks one file on disk against its size and checksums; 'ok' or what is wrong. */
async function checkFile(path: string, expected: { size?: number; md5?: string; sha256?: string }): Promise<{ state: FileStatus['state']; detail?: string }> {
  const size = fileSize(path);
  if (size === null) return { state: 'missing' };
  if (expected.size !== undefined && size !== expected.size) {
    return { state: 'wrong-size', detail: `${size} bytes, expected ${expected.size}` };
  }
  const algorithms = (['md5', 'sha256'] as const).filter((a) => expected[a] !== undefined);
  if (algorithms.length === 0) return { state: 'ok' };
  const got = await hashFile(path, algorithms);
  for (const a of algorithms) {
    if (got[a] !== expected[a]!.toLowerCase()) return { state: 'wrong-checksum', detail: `${a} ${got[a]}, expected ${expected[a]}` };
  }
  return { state: 'ok' };
}

/** The files an archive yields are all there (with the right sizes). */
async function unpackedStatus(root: string, file: DatasetFile): Promise<FileStatus[]> {
  return Promise.all(
    (file.unpacks ?? []).map(async (u) => {
      const path = join(root, u.path);
      const r = await checkFile(path, { size: u.size });
      return { file: u.path, path, ...r };
    }),
  );
}

/**
 * Checks the files of a dataset under the data root: present, the right size, the published
 * checksum. For an archive, what counts is the files it unpacks to; an archive that is there but
 * not unpacked is reported as 'not-unpacked'.
 */
export async function verifyDataset(nameOrSpec: string | DatasetSpec, root?: string): Promise<DatasetStatus> {
  const spec = specOf(nameOrSpec);
  const base = dataRoot(root);
  const files: FileStatus[] = [];
  for (const f of spec.files) {
    const path = join(base, f.path);
    if (f.unpacks) {
      const inner = await unpackedStatus(base, f);
      if (inner.every((s) => s.state === 'ok')) {
        files.push(...inner);
        continue;
      }
      const archive = await checkFile(path, f);
      if (archive.state === 'ok') {
        files.push({ file: f.path, path, state: 'not-unpacked', detail: `unpack it into ${base}` });
        continue;
      }
      files.push({ file: f.path, path, ...archive });
      continue;
    }
    files.push({ file: f.path, path, ...(await checkFile(path, f)) });
  }
  return { dataset: spec.name, root: base, ok: files.every((s) => s.state === 'ok'), files };
}

function rootSource(root: string | undefined): string {
  if (root) return 'given by --data-dir';
  if (process.env[DATA_ENV]) return `from ${DATA_ENV}`;
  return `the default; set ${DATA_ENV} or pass --data-dir to use another`;
}

/** How to get the files by hand: each needed file, where it is published and where it goes. */
export function manualInstructions(spec: DatasetSpec, root: string | undefined, files: readonly DatasetFile[]): string {
  const base = dataRoot(root);
  const lines = files.map((f) => {
    const sums = [f.md5 ? `md5 ${f.md5}` : '', f.sha256 ? `sha256 ${f.sha256}` : ''].filter(Boolean).join(', ');
    const size = f.size !== undefined ? `${f.size.toLocaleString('en-US')} bytes` : '';
    return (
      `  ${join(base, f.path)}\n` +
      `      from ${f.urls.join('\n        or ')}\n` +
      (size || sums ? `      (${[size, sums].filter(Boolean).join('; ')})\n` : '') +
      (f.unpacks ? `      then unpack it there: tar -xzf ${f.path} -C ${base}\n` : '')
    );
  });
  return (
    `Download these files and put them at:\n${lines.join('')}` +
    `then run \`milestones data verify ${spec.name}\`. ` +
    `(The data root ${base} is ${rootSource(root)}. See ${spec.homepage} for the dataset's terms.)`
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function moveAside(path: string): string {
  const aside = `${path}.corrupt`;
  rmSync(aside, { force: true });
  renameSync(path, aside);
  return aside;
}

/**
 * Unpacks a verified archive into the data root: into a temporary folder first, then the top-level
 * folders the dataset expects (and only those) are moved into place, replacing incomplete copies.
 */
async function unpack(archive: string, root: string, file: DatasetFile): Promise<void> {
  const temp = join(root, `.unpack-${process.pid}-${Date.now()}`);
  const expected = new Set((file.unpacks ?? []).map((u) => u.path.split('/')[0]!));
  rmSync(temp, { recursive: true, force: true });
  try {
    await extractTar(archive, temp);
    for (const name of readdirSync(temp)) {
      if (!expected.has(name)) continue;
      const target = join(root, name);
      rmSync(target, { recursive: true, force: true }); // an incomplete earlier copy
      renameSync(join(temp, name), target);
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  const inner = await unpackedStatus(root, file);
  const bad = inner.filter((s) => s.state !== 'ok');
  if (bad.length > 0) {
    throw new Error(`unpacking ${file.path} did not give ${bad.map((b) => `${b.file} (${b.state}${b.detail ? `: ${b.detail}` : ''})`).join(', ')}`);
  }
}

/**
 * Fetches one file into `<final>.part` from the first address that delivers the published bytes,
 * verifies it and renames it to `final`. Returns why each address failed (empty on success).
 */
async function fetchVerified(
  file: DatasetFile,
  final: string,
  urls: readonly string[],
  options: DownloadOptions,
  unreachable: Set<string>,
  report: (p: Omit<DownloadProgress, 'dataset'>) => void,
): Promise<{ ok: boolean; reasons: string[] }> {
  const part = `${final}.part`;
  const reasons: string[] = [];
  for (const url of urls) {
    const host = hostOf(url);
    if (unreachable.has(host)) {
      reasons.push(`${url}: skipped, ${host} could not be reached for an earlier file`);
      continue;
    }
    // A .part from an earlier run might hold bytes of another version of the file: if the resumed
    // result fails its check, the same address gets one more try from scratch.
    for (let fresh = fileSize(part) === null; ; fresh = true) {
      try {
        await downloadToPart(url, part, {
          timeoutMs: options.timeoutMs,
          maxResumes: options.maxResumes,
          retryDelayMs: options.retryDelayMs,
          onProgress: (p) => report({ file: file.path, phase: 'download', received: p.received, total: p.total ?? file.size ?? null, url }),
        });
      } catch (e) {
        // The .part is kept: a later run resumes it. A host that never answered is not tried
        // again for the other files, so an offline machine fails in seconds, not minutes.
        if (e instanceof HttpDownloadError && e.kind === 'connect') unreachable.add(host);
        reasons.push(`${url}: ${(e as Error).message}`);
        break;
      }
      report({ file: file.path, phase: 'verify' });
      const check = await checkFile(part, file);
      if (check.state === 'ok') {
        // Flushed before the rename, so even a power cut cannot leave a short file under the real name.
        fsyncFile(part);
        renameSync(part, final);
        fsyncDirectory(dirname(final));
        return { ok: true, reasons };
      }
      unlinkSync(part); // a corrupt download is deleted, never resumed
      reasons.push(`${url}: the download is ${check.state === 'wrong-size' ? 'the wrong size' : 'corrupt'} (${check.detail}); deleted it`);
      if (fresh) break;
    }
  }
  return { ok: false, reasons };
}

/**
 * Downloads what is missing of a dataset into the data root, verifies every file and unpacks
 * archives. Files already present and valid are kept. Resolves with the final status; rejects with
 * a DatasetDownloadError (which says which files to put where) if any file cannot be had.
 */
export async function downloadDataset(nameOrSpec: string | DatasetSpec, options: DownloadOptions = {}): Promise<DatasetStatus> {
  const spec = specOf(nameOrSpec);
  const base = dataRoot(options.root);
  const report = (p: Omit<DownloadProgress, 'dataset'>) => options.onProgress?.({ dataset: spec.name, ...p });
  const failures: { file: DatasetFile; reasons: string[] }[] = [];
  const unreachable = new Set<string>();

  for (const file of spec.files) {
    const final = join(base, file.path);
    if (file.unpacks && (await unpackedStatus(base, file)).every((s) => s.state === 'ok')) {
      report({ file: file.path, phase: 'present' });
      continue;
    }
    const existing = await checkFile(final, file);
    if (existing.state === 'ok') {
      report({ file: file.path, phase: 'present' });
    } else {
      const reasons: string[] = [];
      if (existing.state !== 'missing') {
        // Never leave a bad file under the real name, even one we did not write.
        reasons.push(`the file that was there is ${existing.state} (${existing.detail}); moved to ${moveAside(final)}`);
      }
      mkdirSync(dirname(final), { recursive: true });
      const urls = options.baseUrl ? [`${options.baseUrl.replace(/\/+$/, '')}/${file.path}`] : file.urls;
      const got = await fetchVerified(file, final, urls, options, unreachable, report);
      if (!got.ok) {
        failures.push({ file, reasons: [...reasons, ...got.reasons] });
        continue;
      }
    }
    if (file.unpacks) {
      report({ file: file.path, phase: 'unpack' });
      try {
        await unpack(final, base, file);
      } catch (e) {
        failures.push({ file, reasons: [`unpacking failed: ${(e as Error).message}`] });
        continue;
      }
    }
    report({ file: file.path, phase: 'done' });
  }

  const status = await verifyDataset(spec, options.root);
  if (failures.length > 0 || !status.ok) {
    const why = failures.map((f) => `  ${f.file.path}:\n${f.reasons.map((r) => `    - ${r}\n`).join('')}`).join('');
    const needed = failures.length > 0 ? failures.map((f) => f.file) : spec.files;
    throw new DatasetDownloadError(
      `${spec.name}: could not get ${failures.length || 'all'} of its file(s) (offline, or the server did not send the published file):\n` +
        why +
        manualInstructions(spec, options.root, needed),
      status,
    );
  }
  return status;
}

/**
 * A progress reporter for `onProgress`: on a terminal, a bar redrawn in place; elsewhere (CI,
 * logs), one line when each file starts and finishes.
 */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  let lastDraw = 0;
  let lastFile = '';
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return (p) => {
    if (p.phase === 'download') {
      const now = Date.now();
      if (!stream.isTTY) {
        if (p.file !== lastFile) stream.write(`${p.dataset}: downloading ${p.file} from ${p.url}\n`);
        lastFile = p.file;
        return;
      }
      if (now - lastDraw < 100 && p.received !== p.total) return;
      lastDraw = now;
      const width = 30;
      const frac = p.total ? Math.min(1, (p.received ?? 0) / p.total) : 0;
      const bar = p.total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}%` : '';
      stream.write(`\r${p.file} ${bar} ${mb(p.received ?? 0)}${p.total ? ` / ${mb(p.total)}` : ''}\x1b[K`);
      return;
    }
    if (stream.isTTY && p.phase !== 'present') stream.write('\r\x1b[K');
    if (p.phase === 'present') stream.write(`${p.dataset}: ${p.file} is already here\n`);
    else if (p.phase === 'verify') stream.write(`${p.dataset}: checking ${p.file}\n`);
    else if (p.phase === 'unpack') stream.write(`${p.dataset}: unpacking ${p.file}\n`);
    else if (p.phase === 'done') stream.write(`${p.dataset}: ${p.file} ok\n`);
  };
}
