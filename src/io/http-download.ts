/**
 * Downloading one file over HTTP(S) into a `.part` file that survives interruptions: a second
 * call (or a retry after a dropped connection) asks the server for the rest with an HTTP Range
 * request (RFC 9110, Sec. 14) and appends it. Checking the result and renaming it into place are
 * the caller's job (see src/data/download.ts), so a partial or corrupt file never carries the
 * final name.
 */
import { createReadStream, createWriteStream, statSync, truncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** Progress of one download, reported as bytes arrive. */
export interface TransferProgress {
  url: string;
  /** Bytes in the .part file so far (including what an earlier attempt left). */
  received: number;
  /** The file's full size when the server says it, else null. */
  total: number | null;
}

export interface DownloadFileOptions {
  /** Give up on a connection that is silent this long, connecting included (default 10 s). */
  timeoutMs?: number;
  /** Attempts after a connection drops mid-transfer, each resuming where the last stopped (default 5). */
  maxResumes?: number;
  /** Pause before a resume (default 300 ms). */
  retryDelayMs?: number;
  onProgress?: (p: TransferProgress) => void;
}

/** A failure talking to a server. */
export class HttpDownloadError extends Error {
  constructor(
    message: string,
    /** 'connect': no answer at all (offline, refused, timed out); 'http': an error status; 'transfer': the body broke off. */
    readonly kind: 'connect' | 'http' | 'transfer',
    /** HTTP status, when the server answered. */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'HttpDownloadError';
  }
}

const MAX_REDIRECTS = 5;

/** What the usual connection failures mean, for people reading the error. */
const NETWORK_ERRORS: Record<string, string> = {
  ENOTFOUND: 'host name not found: offline, or no DNS',
  EAI_AGAIN: 'host name lookup failed: offline, or no DNS',
  ECONNREFUSED: 'connection refused: nothing listens there',
  ECONNRESET: 'connection reset by the server',
  ENETUNREACH: 'network unreachable: offline',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
};

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Sends a GET and resolves with the response once headers arrive, following redirects. */
function get(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new HttpDownloadError(`invalid URL ${url}`, 'connect'));
      return;
    }
    const lib = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new HttpDownloadError(`unsupported protocol in ${url}`, 'connect'));
      return;
    }
    const req = lib.get(parsed, { headers: { 'user-agent': 'milestones', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new HttpDownloadError(`too many redirects from ${url}`, 'http', status));
          return;
        }
        get(new URL(res.headers.location, parsed).href, headers, timeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new HttpDownloadError(`no answer from ${parsed.host} within ${timeoutMs / 1000} s`, 'connect')));
    req.on('error', (e) => {
      if (e instanceof HttpDownloadError) return reject(e);
      const code = (e as NodeJS.ErrnoException).code;
      const meaning = code ? NETWORK_ERRORS[code] : undefined;
      reject(new HttpDownloadError(`${parsed.host}: ${code ?? e.message}${meaning ? ` (${meaning})` : ''}`, 'connect'));
    });
  });
}

/** Parses "bytes start-end/total" (or "bytes * /total" after a 416). */
function parseContentRange(value: string | undefined): { start: number | null; total: number | null } {
  const m = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(value ?? '');
  if (!m) return { start: null, total: null };
  return { start: m[1] !== undefined ? Number(m[1]) : null, total: m[2] === '*' ? null : Number(m[2]) };
}

/**
 * Downloads `url` into `partPath`, resuming from what `partPath` already holds. Resolves with the
 * number of bytes in it once the server has sent everything it announced. Rejects at once when no
 * connection can be made (so an offline machine fails in seconds), and after `maxResumes` drops.
 */
export async function downloadToPart(url: string, partPath: string, options: DownloadFileOptions = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxResumes = options.maxResumes ?? 5;
  let resumes = 0;
  for (;;) {
    const have = sizeOf(partPath);
    const res = await get(url, have > 0 ? { range: `bytes=${have}-` } : {}, timeoutMs);
    const status = res.statusCode ?? 0;
    let append: boolean;
    let total: number | null;
    if (status === 416 && have > 0) {
      // Nothing left to send: the .part holds the whole file, unless it is longer than the file.
      res.resume();
      const range = parseContentRange(res.headers['content-range']);
      if (range.total === have) return have;
      truncateSync(partPath, 0);
      continue;
    } else if (status === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (range.start !== have) {
        res.resume();
        throw new HttpDownloadError(`${url}: asked for bytes from ${have}, the server sent a range starting at ${range.start}`, 'http', status);
      }
      append = true;
      total = range.total;
    } else if (status === 200) {
      append = false; // the server ignored the Range header: start over
      const length = Number(res.headers['content-length']);
      total = Number.isSafeInteger(length) ? length : null;
    } else {
      res.resume();
      throw new HttpDownloadError(`${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd(), 'http', status);
    }

    let received = append ? have : 0;
    const startedAt = received;
    // Every byte that arrives is written before the attempt ends, even when the connection drops
    // mid-transfer (a pipeline would destroy the file stream and lose its queued writes), so the
    // next attempt resumes exactly from what is on disk.
    const writer = createWriteStream(partPath, { flags: append ? 'a' : 'w' });
    const flushed = new Promise<void>((resolve, reject) => {
      writer.on('finish', resolve);
      writer.on('error', reject);
    });
    const transfer = new Promise<Error | null>((resolve) => {
      res.on('data', (chunk: Uint8Array) => {
        received += chunk.length;
        options.onProgress?.({ url, received, total });
        if (!writer.write(chunk)) {
          res.pause();
          writer.once('drain', () => res.resume());
        }
      });
      res.on('end', () => resolve(null));
      res.on('error', (e) => resolve(e));
      res.on('close', () => resolve(res.complete ? null : new Error('connection closed early')));
    });
    const dropped = await transfer;
    writer.end();
    await flushed;
    try {
      if (dropped) throw new HttpDownloadError(`${url}: ${dropped.message}`, 'transfer');
      if (total !== null && received !== total) throw new HttpDownloadError(`${url}: connection closed after ${received} of ${total} bytes`, 'transfer');
      if (res.complete === false) throw new HttpDownloadError(`${url}: connection closed after ${received} bytes`, 'transfer');
      return received;
    } catch (e) {
      // A drop mid-transfer: resume where it stopped, as long as each attempt makes progress.
      const progressed = received > startedAt;
      if (!progressed || resumes >= maxResumes) {
        throw new HttpDownloadError(`${url}: ${(e as Error).message.replace(`${url}: `, '')} (after ${received} bytes)`, 'transfer');
      }
      resumes++;
      await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 300));
    }
  }
}

/** Hex digests of a file, computed in one streaming pass. */
export async function hashFile(path: string, algorithms: readonly ('md5' | 'sha256')[]): Promise<Record<string, string>> {
  const hashes = algorithms.map((a) => createHash(a));
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    for (const h of hashes) h.update(chunk as Uint8Array);
  }
  return Object.fromEntries(algorithms.map((a, i) => [a, hashes[i]!.digest('hex')]));
}
