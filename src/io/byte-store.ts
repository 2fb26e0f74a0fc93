/**
 * Compact fixed-size row storage for replay buffers: `rows` rows of `rowSize` numbers, kept as
 * bytes ('uint8': MinAtar's 0/1 frames, 8-bit images) or as 32-bit floats ('float32': CartPole's
 * state). A replay buffer of 100,000 MinAtar frames is 40 MB as bytes and 160 MB as floats, which
 * is why the Nature DQN kept its 1M-frame replay memory as uint8.
 *
 * This lives in src/io because it owns a typed array (DESIGN.md: only src/backend and src/io name
 * them); the replay logic (circular position, sampling) lives in src/rl/replay-buffer.ts and sees
 * only this small API: write a row, read a row, gather rows into a float32 Tensor, and save or
 * restore the whole contents as one Tensor for a checkpoint.
 */
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** How a row store keeps its numbers. */
export type RowStoreKind = 'uint8' | 'float32';

/** A `rows x rowSize` table of bytes or float32 values, zero-filled at creation. */
export class RowStore {
  private readonly values: Uint8Array | Float32Array;
  private scratch = new Float32Array(0);

  constructor(
    readonly kind: RowStoreKind,
    readonly rows: number,
    readonly rowSize: number,
  ) {
    if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`RowStore: rows must be a positive integer, got ${rows}`);
    if (!Number.isSafeInteger(rowSize) || rowSize < 1) throw new RangeError(`RowStore: rowSize must be a positive integer, got ${rowSize}`);
    if (kind !== 'uint8' && kind !== 'float32') throw new Error(`RowStore: kind must be 'uint8' or 'float32', got '${String(kind)}'`);
    const size = rows * rowSize;
    // Bytes are allocated in whole 4-byte words, so the contents can travel as an int32 tensor.
    this.values = kind === 'uint8' ? new Uint8Array(Math.ceil(size / 4) * 4) : new Float32Array(size);
  }

  private checkRow(op: string, row: number): void {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) {
      throw new RangeError(`RowStore.${op}: row ${row} is outside [0, ${this.rows})`);
    }
  }

  /**
   * Writes one row. A byte store refuses values that a byte cannot hold exactly (fractions,
   * negatives, > 255) instead of silently rounding or wrapping them.
   */
  writeRow(row: number, source: ArrayLike<number>): void {
    this.checkRow('writeRow', row);
    if (source.length !== this.rowSize) {
      throw new Error(`RowStore.writeRow: expected ${this.rowSize} values, got ${source.length}`);
    }
    const base = row * this.rowSize;
    if (this.kind === 'uint8') {
      for (let i = 0; i < this.rowSize; i++) {
        const v = source[i]!;
        if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
          throw new RangeError(`RowStore.writeRow: a uint8 store holds integers 0..255, got ${v} at index ${i}`);
        }
        this.values[base + i] = v;
      }
    } else {
      for (let i = 0; i < this.rowSize; i++) this.values[base + i] = source[i]!;
    }
  }

  /** One row as plain numbers. */
  readRow(row: number): number[] {
    this.checkRow('readRow', row);
    const base = row * this.rowSize;
    return Array.from(this.values.subarray(base, base + this.rowSize));
  }

  /**
   * The listed rows, in order, as a float32 Tensor of `shape` (default [rows.length, rowSize]);
   * the shape must hold rows.length * rowSize values.
   */
  gather(rows: readonly number[], shape: number[] = [rows.length, this.rowSize]): Tensor {
    // The rows meet in a scratch array kept for the next call (a replay batch every step), which
    // tensor() then copies: one new array per batch instead of two.
    const n = rows.length * this.rowSize;
    if (this.scratch.length !== n) this.scratch = new Float32Array(n);
    const out = this.scratch;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k]!;
      this.checkRow('gather', row);
      const base = row * this.rowSize;
      out.set(this.values.subarray(base, base + this.rowSize), k * this.rowSize);
    }
    return tensor(out, { shape, dtype: 'float32' });
  }

  /**
   * The whole contents as one Tensor, for a checkpoint: float32 [rows * rowSize] for a float store;
   * for a byte store, int32 words holding four bytes each, little-endian, as the bytes lie in memory.
   */
  toTensor(): Tensor {
    if (this.values instanceof Float32Array) return tensor(this.values.slice(), { dtype: 'float32' });
    const words = new Int32Array(this.values.length / 4);
    const view = new DataView(this.values.buffer, this.values.byteOffset, this.values.byteLength);
    for (let i = 0; i < words.length; i++) words[i] = view.getInt32(4 * i, true);
    return tensor(words, { dtype: 'int32' });
  }

  /** Restores contents saved by `toTensor()` from a store of the same kind and size. */
  loadTensor(saved: Tensor): void {
    const want = this.kind === 'uint8' ? { dtype: 'int32', n: this.values.length / 4 } : { dtype: 'float32', n: this.values.length };
    if (saved.dtype !== want.dtype || saved.numel() !== want.n) {
      throw new Error(`RowStore.loadTensor: expected ${want.dtype} with ${want.n} elements for a ${this.kind} store of ${this.rows} x ${this.rowSize}, got ${saved.dtype} with ${saved.numel()}`);
    }
    const data = saved.dataSync();
    if (this.values instanceof Float32Array) {
      this.values.set(data);
      return;
    }
    const view = new DataView(this.values.buffer, this.values.byteOffset, this.values.byteLength);
    for (let i = 0; i < data.length; i++) view.setInt32(4 * i, data[i]!, true);
  }
}
