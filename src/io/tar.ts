/**
 * A small streaming reader for tar archives (POSIX ustar, with the pax 'x' and GNU 'L' long-name
 * extensions), enough to unpack the .tar.gz files datasets are published as. The archive is read
 * in 512-byte blocks: a header block (name, size in octal, type, checksum), then the file's data
 * padded to a whole block; two zero blocks end it.
 *
 * Unpacking trusts nothing in the archive: header checksums are checked, sizes are bounded,
 * names must stay inside the destination (no absolute paths, no '..'), and links and device files
 * are refused, so a malformed or hostile archive gives an error and writes nothing outside `dest`.
 */
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;
/** Pax headers and GNU long names are small; anything larger is refused rather than buffered. */
const MAX_META_BYTES = 1 << 20;

/** An entry that was unpacked. */
export interface TarEntry {
  /** The normalized relative path, with '/' separators. */
  path: string;
  type: 'file' | 'directory';
  size: number;
}

function field(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(start, end));
}

function octal(block: Uint8Array, start: number, length: number, what: string, source: string): number {
  if (block[start]! & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more: big-endian bytes after the marker bit.
    let v = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + block[i]!;
    if (!Number.isSafeInteger(v)) throw new Error(`tar: ${source}: ${what} too large`);
    return v;
  }
  const text = field(block, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`tar: ${source}: ${what} field ${JSON.stringify(text)} is not octal`);
  return text === '' ? 0 : parseInt(text, 8);
}

/** The header checksum: the sum of the block's bytes with the checksum field counted as spaces. */
function checksumOk(block: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed; // some old writers summed signed bytes
}

/** Normalizes an archive path and refuses ones that would land outside the destination. */
function safeRelative(name: string, source: string): string {
  if (name.includes('\0') || name.includes('\\')) throw new Error(`tar: ${source}: unsafe entry name ${JSON.stringify(name)}`);
  if (name.startsWith('/')) throw new Error(`tar: ${source}: entry ${JSON.stringify(name)} has an absolute path`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new Error(`tar: ${source}: entry ${JSON.stringify(name)} climbs out of the destination with '..'`);
  if (parts.length === 0) throw new Error(`tar: ${source}: entry with an empty name`);
  return posix.join(...parts);
}

/** Pax extended header records: "<length> <key>=<value>\n", repeated. */
function parsePax(data: Uint8Array, source: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = new TextDecoder().decode(data);
  let i = 0;
  while (i < text.length) {
    const space = text.indexOf(' ', i);
    const len = Number(text.slice(i, space));
    if (space < 0 || !Number.isSafeInteger(len) || len <= 0) throw new Error(`tar: ${source}: malformed pax header`);
    const record = text.slice(space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq < 0) throw new Error(`tar: ${source}: malformed pax record`);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/** The streaming parser: a Writable that takes the uncompressed tar bytes. */
class TarExtractor extends Writable {
  readonly entries: TarEntry[] = [];
  private header: Uint8Array = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Bytes of the current entry's data still to come, then padding to skip. */
  private remaining = 0;
  private padding = 0;
  private fd: number | null = null;
  private meta: { kind: 'pax' | 'longname'; chunks: Uint8Array[] } | null = null;
  private pending: { path?: string; size?: number } = {};
  private ended = false;

  constructor(
    private readonly dest: string,
    private readonly source: string,
  ) {
    super();
  }

  override _write(chunk: Uint8Array, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      this.closeFile();
      cb(e as Error);
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.closeFile();
    if (!this.ended && (this.remaining > 0 || this.headerFill > 0 || this.entries.length === 0 || this.meta)) {
      cb(new Error(`tar: ${this.source}: archive is truncated`));
      return;
    }
    cb();
  }

  private closeFile(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private consume(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + n);
        if (this.fd !== null) {
          let off = 0;
          while (off < piece.length) off += writeSync(this.fd, piece, off);
        } else if (this.meta) {
          this.meta.chunks.push(Uint8Array.from(piece));
        }
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.finishEntry();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
      this.header.set(chunk.subarray(at, at + n), this.headerFill);
      this.headerFill += n;
      at += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.startEntry(this.header);
      }
    }
  }

  private startEntry(block: Uint8Array): void {
    if (block.every((b) => b === 0)) {
      // The end-of-archive marker (a zero block; writers add a second one and padding).
      if (this.meta) throw new Error(`tar: ${this.source}: archive ends inside an extended header`);
      this.ended = true;
      return;
    }
    const stored = octal(block, 148, 8, 'checksum', this.source);
    if (!checksumOk(block, stored)) throw new Error(`tar: ${this.source}: header checksum mismatch (corrupt archive, or not a tar file)`);
    const type = String.fromCharCode(block[156]!);
    const isMeta = type === 'x' || type === 'L' || type === 'g' || type === 'K';
    const headerSize = octal(block, 124, 12, 'size', this.source);
    const size = isMeta ? headerSize : (this.pending.size ?? headerSize);
    const magic = field(block, 257, 6);
    let name = field(block, 0, 100);
    if (magic === 'ustar') {
      const prefix = field(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.pending.path !== undefined) name = this.pending.path;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;

    if (type === 'x' || type === 'L') {
      if (size > MAX_META_BYTES) throw new Error(`tar: ${this.source}: extended header of ${size} bytes is too large`);
      this.meta = { kind: type === 'x' ? 'pax' : 'longname', chunks: [] };
      if (size === 0) this.finishEntry();
      return;
    }
    if (type === 'g' || type === 'K') {
      // A global pax header or a GNU long link name: skipped, nothing to unpack.
      return;
    }
    this.pending = {};
    const path = safeRelative(name, this.source);
    if (type === '5') {
      mkdirSync(join(this.dest, path), { recursive: true });
      this.entries.push({ path, type: 'directory', size: 0 });
      this.remaining = 0;
      this.padding = 0;
      return;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      const kinds: Record<string, string> = { '1': 'a hard link', '2': 'a symbolic link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };
      throw new Error(`tar: ${this.source}: entry ${JSON.stringify(path)} is ${kinds[type] ?? `of unknown type '${type}'`}, which is not unpacked`);
    }
    const target = join(this.dest, path);
    mkdirSync(join(target, '..'), { recursive: true });
    this.fd = openSync(target, 'w');
    this.entries.push({ path, type: 'file', size });
    if (size === 0) this.finishEntry();
  }

  private finishEntry(): void {
    this.closeFile();
    if (this.meta) {
      const data = new Uint8Array(this.meta.chunks.reduce((s, c) => s + c.length, 0));
      let off = 0;
      for (const c of this.meta.chunks) {
        data.set(c, off);
        off += c.length;
      }
      if (this.meta.kind === 'longname') {
        this.pending.path = field(data, 0, data.length);
      } else {
        const pax = parsePax(data, this.source);
        if (pax.has('path')) this.pending.path = pax.get('path')!;
        if (pax.has('size')) {
          const size = Number(pax.get('size'));
          if (!Number.isSafeInteger(size) || size < 0) throw new Error(`tar: ${this.source}: bad pax size ${pax.get('size')}`);
          this.pending.size = size;
        }
      }
      this.meta = null;
    }
  }
}

/**
 * Unpacks a .tar.gz (or, with `gzip: false`, a plain .tar) into `dest`, streaming: memory use
 * does not grow with the archive. Resolves with the entries unpacked.
 */
export async function extractTar(archive: string, dest: string, options: { gzip?: boolean } = {}): Promise<TarEntry[]> {
  mkdirSync(dest, { recursive: true });
  const extractor = new TarExtractor(dest, archive);
  if (options.gzip === false) await pipeline(createReadStream(archive), extractor);
  else await pipeline(createReadStream(archive), createGunzip(), extractor);
  return extractor.entries;
}
