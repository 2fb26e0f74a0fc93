/**
 * Crash-safe file replacement. A file is written to a temporary name in the same folder, flushed
 * to disk (fsync), renamed over the target (rename is atomic within a file system on POSIX), and
 * the folder is flushed so the rename itself survives a power loss. A process killed at any moment
 * leaves either the old file or the new one under the target name, never a mixture; at worst a
 * stray temporary file remains, which the next write to the same target removes.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Stages of an atomic write, reported to `onStage` (used by tests to inject crashes). */
export type AtomicStage = 'chunk' | 'synced' | 'renamed';

export interface AtomicWriteOptions {
  /** Bytes per write call (default 1 MiB). */
  chunkBytes?: number;
  /**
   * Called after each chunk is written to the temporary file, after it is flushed, and after the
   * rename. For fault-injection tests, which kill the process at a chosen stage.
   */
  onStage?: (stage: AtomicStage, info: { tempPath: string; written: number; total: number }) => void;
}

/** The temporary name used while writing `target`: `.name.<pid>.<random>.tmp` beside it. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that a killed writer of `target` left behind (those whose process is no
 * longer running). Called before each write, so they never pile up.
 */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processIsAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Another process removed it first.
    }
  }
  return removed;
}

/** Flushes a file's contents to disk (before it is renamed into place). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (the rename) to disk; a no-op where directories cannot be opened. */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some platforms and file systems (Windows, some network mounts) refuse fsync on a directory.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `target` with `data` atomically (see the module comment). `data` may be one byte array
 * or several, written back to back.
 */
export function writeFileAtomic(target: string, data: Uint8Array | readonly Uint8Array[], options: AtomicWriteOptions = {}): void {
  const pieces = data instanceof Uint8Array ? [data] : data;
  const total = pieces.reduce((s, p) => s + p.length, 0);
  const chunk = options.chunkBytes ?? 1 << 20;
  removeStaleTemps(target);
  const temp = tempPathFor(target);
  const fd = openSync(temp, 'wx', 0o644);
  let closed = false;
  let renamed = false;
  try {
    let written = 0;
    for (const piece of pieces) {
      let at = 0;
      while (at < piece.length) {
        const n = writeSync(fd, piece, at, Math.min(chunk, piece.length - at));
        at += n;
        written += n;
        options.onStage?.('chunk', { tempPath: temp, written, total });
      }
    }
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    options.onStage?.('synced', { tempPath: temp, written, total });
    renameSync(temp, target);
    renamed = true;
    fsyncDirectory(dirname(target));
    options.onStage?.('renamed', { tempPath: temp, written, total });
  } finally {
    if (!closed) closeSync(fd);
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // Already gone.
      }
    }
  }
}
