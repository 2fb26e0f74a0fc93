/**
 * The Tensor: a shape, a dtype, a device and a handle to the backend's storage, plus what
 * autograd needs (requiresGrad, grad, the node that made it).
 *
 * Storage is contiguous. Views (reshape, view, flatten, squeeze, unsqueeze, detach) share the
 * storage and its version counter; the in-place ops (add_, relu_, ...) write into the tensor's own
 * storage; every other op makes new storage.
 */
import { type DType, isFloating } from '../dtype.js';
import type { PrimitiveName, Spec } from '../ops/primitives.js';
import { getBackend } from '../backend/registry.js';
import type { HostArray, Storage } from '../backend/types.js';
import { numel, shapesEqual, type Shape } from '../shape.js';
import { isGradEnabled, noGrad } from '../autograd/mode.js';
import * as ew from './elementwise.js';
import * as red from './reduction.js';
import * as sh from './shape-ops.js';
import * as ix from './indexing.js';
import { matmul } from './linalg.js';
import { softmax, logSoftmax } from './nn-ops.js';
import { formatTensor } from './print.js';
import { runInto, staleError } from './dispatch.js';
import { backward, type BackwardOptions } from '../autograd/backward.js';
import { fillNormalInPlace, fillUniformInPlace } from '../random/generator.js';
import type { Generator } from '../random/generator.js';

/** Nested arrays of numbers or booleans, as `toArray()` returns and `tensor()` takes. */
export type NestedArray = number | boolean | NestedArray[];

/** Shared by a tensor and its views; bumped by every in-place op. */
export interface Version {
  value: number;
  /** Set by the first in-place op autograd records on the storage (Tensor._inPlace). */
  rebased?: boolean;
}

/** One recorded primitive application: the graph edge autograd walks backward. */
export class Node {
  inputs: readonly Tensor[] | null;
  outputs: readonly Tensor[] | null;
  readonly inputVersions: number[];
  readonly outputVersions: number[];
  readonly inputSpecs: Spec[];
  constructor(
    readonly op: PrimitiveName,
    readonly attrs: unknown,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
  ) {
    this.inputs = inputs;
    this.outputs = outputs;
    // Loops rather than map(): a node is made for every recorded op.
    this.inputVersions = new Array<number>(inputs.length);
    this.inputSpecs = new Array<Spec>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i]!;
      this.inputVersions[i] = t._version.value;
      this.inputSpecs[i] = { shape: t.shape, dtype: t.dtype };
    }
    this.outputVersions = new Array<number>(outputs.length);
    for (let i = 0; i < outputs.length; i++) this.outputVersions[i] = outputs[i]!._version.value;
  }
}

export type Scalar = number;
export type TensorOrScalar = Tensor | number;

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  /** @internal the backend's storage; only backends look inside. */
  _storage: Storage;
  /** @internal shared with views; counts in-place writes. */
  readonly _version: Version;
  private _grad: Tensor | null = null;
  /**
   * @internal Non-zero while `_grad`'s memory may be given back when the gradient is dropped: the
   * token of the backward pass that allocated it and handed it to this leaf alone (see
   * `_setGrad`). Reading `.grad` clears it, since the reader may keep the tensor.
   */
  _gradToken = 0;
  private _requiresGrad = false;
  private _gradFn: Node | null = null;
  /** @internal which output of `gradFn` this tensor is. */
  _outputIndex = 0;
  /** @internal */
  _retainsGrad = false;
  /**
   * @internal What this tensor was before each in-place op recorded with autograd (`_inPlace`):
   * at version `version`, the tensor `alias` (same storage, the old gradFn). A node recorded
   * earlier reads this tensor as that alias (`_asRecordedAt`), so its gradient goes to the old
   * gradFn, as PyTorch's edges keep pointing at the old grad_fn after an in-place op.
   */
  _history: { version: number; alias: Tensor }[] | null = null;
  /**
   * @internal The version when this tensor got its place in the graph (made, or given a gradFn).
   * If a recorded in-place op changed the storage since, through another tensor sharing it (a view),
   * this one's values no longer match its place, and the dispatcher refuses to record with it.
   */
  _fnVersion: number;

  /** @internal tensors are made by ops and creation functions, not by `new`. */
  constructor(storage: Storage, shape: Shape, dtype: DType, device: string, version?: Version) {
    this._storage = storage;
    // A frozen shape (another tensor's, as most ops' outputs have) is shared rather than copied.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    this._version = version ?? { value: 0 };
    this._fnVersion = this._version.value;
  }

  // ---- what it is ----

  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** The whole shape, or the size of one dimension (negative counts from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[sh.axis('size', dim, this.ndim)]!;
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && !isFloating(this.dtype)) {
      throw new Error(`requiresGrad: only floating-point tensors can require gradients, got ${this.dtype}`);
    }
    if (!value && this._gradFn) {
      throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach() instead');
    }
    this._requiresGrad = value;
  }
  /** Sets requiresGrad and returns this tensor (torch.Tensor.requires_grad_). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** Accumulated gradient after `backward()`, for leaves (and tensors that called retainGrad). */
  get grad(): Tensor | null {
    this._gradToken = 0;
    return this._grad;
  }
  set grad(value: Tensor | null) {
    this._setGrad(value, 0);
  }
  /**
   * @internal The gradient, for library code that reads it and keeps no reference once it returns
   * (a fused optimizer update, gradient clipping, zeroGrad): unlike `.grad`, reading it leaves the
   * gradient's memory free to be given back.
   */
  _peekGrad(): Tensor | null {
    return this._grad;
  }
  /**
   * @internal Replaces the gradient. If the old one's memory was never handed out (a non-zero
   * token: the engine allocated it for this leaf alone and nobody has read `.grad` since), its
   * backend takes the memory back for reuse, as PyTorch's allocator reuses the block of a gradient
   * whose last reference `zero_grad(set_to_none=True)` drops. The engine passes the token of the
   * pass that made `value`; everything else passes 0.
   */
  _setGrad(value: Tensor | null, token: number): void {
    const old = this._grad;
    if (this._gradToken !== 0 && old !== null && old !== value && old._storage !== value?._storage) {
      getBackend(old.device).recycle?.(old._storage, this._gradToken);
    }
    this._grad = value;
    this._gradToken = value === null ? 0 : token;
  }
  /** The node that produced this tensor, or null for a leaf. */
  get gradFn(): Node | null {
    return this._gradFn;
  }
  get isLeaf(): boolean {
    return this._gradFn === null;
  }
  /** @internal */
  _setGradFn(node: Node, index: number): void {
    this._fnVersion = this._version.value;
    this._gradFn = node;
    this._outputIndex = index;
    this._requiresGrad = true;
  }
  /** @internal This tensor as a node recorded at `version` took it (see `_history`). */
  _asRecordedAt(version: number): Tensor {
    for (const h of this._history!) if (h.version >= version) return h.alias;
    return this;
  }
  /** Keep `.grad` on this non-leaf tensor after backward. */
  retainGrad(): this {
    if (!this._requiresGrad) throw new Error('retainGrad: the tensor does not require gradients');
    this._retainsGrad = true;
    return this;
  }
  /**
   * Computes the gradient of this tensor with respect to every leaf that requires gradients,
   * and adds it to their `.grad`. A non-scalar needs `gradient`, the vector of the
   * vector-Jacobian product.
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    backward([this], gradient ? [gradient] : undefined, options);
  }
  /** A tensor sharing this one's storage, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this._storage, this.shape, this.dtype, this.device, this._version);
  }
  /** A copy with its own storage; gradients flow through it. */
  clone(): Tensor {
    return ew.cast(this, this.dtype, true);
  }
  contiguous(): Tensor {
    return this;
  }

  // ---- reading values ----

  /** The values as a typed array copy (CPU backends only; synchronous). */
  dataSync(): HostArray {
    return getBackend(this.device).read(this._storage);
  }
  /** The values as a typed array copy, on any backend. */
  async data(): Promise<HostArray> {
    return this.dataSync();
  }
  /** The value of a one-element tensor as a number (bool: 0 or 1). */
  item(): number {
    if (this.numel() !== 1) {
      throw new Error(`item: only a one-element tensor can be converted to a number, got shape [${this.shape.join(', ')}]`);
    }
    return this.dataSync()[0]!;
  }
  /** The values as nested arrays (bool tensors give booleans). */
  toArray(): NestedArray {
    const flat = Array.from(this.dataSync(), (v) => (this.dtype === 'bool' ? v !== 0 : v));
    if (this.ndim === 0) return flat[0]!;
    const build = (d: number, off: number): NestedArray[] => {
      const n = this.shape[d]!;
      const stride = numel(this.shape.slice(d + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(d === this.ndim - 1 ? flat[off + i]! : build(d + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  // ---- dtype and device ----

  /** Converts to a dtype or moves to a device (a copy only when something changes). */
  to(target: DType | string): Tensor {
    if (target === 'float32' || target === 'float64' || target === 'int32' || target === 'bool') {
      return target === this.dtype ? this : ew.cast(this, target);
    }
    if (target === this.device) return this;
    const backend = getBackend(target);
    const moved = new Tensor(backend.fromValues(this.dataSync(), this.dtype), this.shape, this.dtype, target);
    moved.requiresGrad = this.requiresGrad && this.isLeaf;
    return moved;
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }

  // ---- elementwise ----

  add(other: TensorOrScalar, alpha = 1): Tensor {
    return ew.add(this, alpha === 1 ? other : ew.mul(ew.asTensor(other, this), alpha));
  }
  sub(other: TensorOrScalar, alpha = 1): Tensor {
    return ew.sub(this, alpha === 1 ? other : ew.mul(ew.asTensor(other, this), alpha));
  }
  mul(other: TensorOrScalar): Tensor {
    return ew.mul(this, other);
  }
  div(other: TensorOrScalar): Tensor {
    return ew.div(this, other);
  }
  pow(exponent: TensorOrScalar): Tensor {
    return ew.pow(this, exponent);
  }
  maximum(other: TensorOrScalar): Tensor {
    return ew.maximum(this, other);
  }
  /** this - other * floor(this / other), with the sign of other (Python's %, torch.remainder). */
  remainder(other: TensorOrScalar): Tensor {
    return ew.modulo('remainder', this, other);
  }
  /** this - other * trunc(this / other), with the sign of this (C's fmod, torch.fmod). */
  fmod(other: TensorOrScalar): Tensor {
    return ew.modulo('fmod', this, other);
  }
  minimum(other: TensorOrScalar): Tensor {
    return ew.minimum(this, other);
  }
  neg(): Tensor {
    return ew.unary('neg', this);
  }
  abs(): Tensor {
    return ew.unary('abs', this);
  }
  sign(): Tensor {
    return ew.unary('sign', this);
  }
  floor(): Tensor {
    return ew.unary('floor', this);
  }
  ceil(): Tensor {
    return ew.unary('ceil', this);
  }
  /** Rounds toward zero. */
  trunc(): Tensor {
    return ew.unary('trunc', this);
  }
  /** Rounds to the nearest integer, halves to the even one, as torch.round (0.5 -> 0, 1.5 -> 2, -2.5 -> -2). */
  round(): Tensor {
    return ew.unary('round', this);
  }
  exp(): Tensor {
    return ew.unaryFloat('exp', this);
  }
  log(): Tensor {
    return ew.unaryFloat('log', this);
  }
  log1p(): Tensor {
    return ew.unaryFloat('log1p', this);
  }
  sqrt(): Tensor {
    return ew.unaryFloat('sqrt', this);
  }
  rsqrt(): Tensor {
    return ew.unaryFloat('rsqrt', this);
  }
  sin(): Tensor {
    return ew.unaryFloat('sin', this);
  }
  cos(): Tensor {
    return ew.unaryFloat('cos', this);
  }
  tanh(): Tensor {
    return ew.unaryFloat('tanh', this);
  }
  sigmoid(): Tensor {
    return ew.unaryFloat('sigmoid', this);
  }
  erf(): Tensor {
    return ew.unaryFloat('erf', this);
  }
  square(): Tensor {
    return ew.mul(this, this);
  }
  reciprocal(): Tensor {
    return ew.div(1, this);
  }
  relu(): Tensor {
    return ew.unary('relu', this);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return ew.unaryFloat('leakyRelu', this, { slope: negativeSlope });
  }
  elu(alpha = 1): Tensor {
    return ew.unaryFloat('elu', this, { alpha });
  }
  /** GELU; `approximate: 'tanh'` uses the tanh form of Hendrycks & Gimpel. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return ew.unaryFloat(approximate === 'tanh' ? 'geluTanh' : 'gelu', this);
  }
  silu(): Tensor {
    return ew.unaryFloat('silu', this);
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return ew.unaryFloat('softplus', this, { beta, threshold });
  }
  clamp(min: number | null = null, max: number | null = null): Tensor {
    return ew.clamp(this, min, max);
  }
  eq(other: TensorOrScalar): Tensor {
    return ew.compare('eq', this, other);
  }
  ne(other: TensorOrScalar): Tensor {
    return ew.compare('ne', this, other);
  }
  lt(other: TensorOrScalar): Tensor {
    return ew.compare('lt', this, other);
  }
  le(other: TensorOrScalar): Tensor {
    return ew.compare('le', this, other);
  }
  gt(other: TensorOrScalar): Tensor {
    return ew.compare('gt', this, other);
  }
  ge(other: TensorOrScalar): Tensor {
    return ew.compare('ge', this, other);
  }
  logicalAnd(other: TensorOrScalar): Tensor {
    return ew.logical('logicalAnd', this, other);
  }
  logicalOr(other: TensorOrScalar): Tensor {
    return ew.logical('logicalOr', this, other);
  }
  logicalXor(other: TensorOrScalar): Tensor {
    return ew.logical('logicalXor', this, other);
  }
  logicalNot(): Tensor {
    return ew.logicalNot(this);
  }
  /** Elements of this tensor where `condition` holds, of `other` elsewhere (torch.Tensor.where). */
  where(condition: Tensor, other: TensorOrScalar): Tensor {
    return ew.where(condition, this, other);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return ew.maskedFill(this, mask, value);
  }

  // ---- reductions ----

  sum(dim?: number | number[], keepdim = false): Tensor {
    return red.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return red.mean(this, dim, keepdim);
  }
  /** Variance with Bessel's correction by default (`correction = 1`), as torch.var. */
  var(dim?: number | number[], options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return red.variance(this, dim, options.correction ?? 1, options.keepdim ?? false);
  }
  std(dim?: number | number[], options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return red.variance(this, dim, options.correction ?? 1, options.keepdim ?? false).sqrt();
  }
  prod(dim?: number | number[], keepdim = false): Tensor {
    return red.prod(this, dim, keepdim);
  }
  amax(dim?: number | number[], keepdim = false): Tensor {
    return red.amax(this, dim, keepdim);
  }
  amin(dim?: number | number[], keepdim = false): Tensor {
    return red.amin(this, dim, keepdim);
  }
  /** The largest element; with `dim`, the values and indices along it (torch.max). */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? red.amax(this, undefined, false) : red.maxDim(this, dim, keepdim, 'max');
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? red.amin(this, undefined, false) : red.maxDim(this, dim, keepdim, 'min');
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return red.argReduce('argmax', this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return red.argReduce('argmin', this, dim, keepdim);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return red.logsumexp(this, dim, keepdim);
  }
  /** The p-norm over `dim` (all elements by default); p = 2 unless given. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return red.norm(this, p, dim, keepdim);
  }
  cumsum(dim: number): Tensor {
    return red.cumsum(this, dim);
  }
  /** Each sub-tensor along `dim` scaled down to p-norm `maxnorm` where its p-norm exceeds it (torch.Tensor.renorm). */
  renorm(p: number, dim: number, maxnorm: number): Tensor {
    return red.renorm(this, p, dim, maxnorm);
  }
  all(dim?: number | number[], keepdim = false): Tensor {
    return red.all(this, dim, keepdim);
  }
  any(dim?: number | number[], keepdim = false): Tensor {
    return red.any(this, dim, keepdim);
  }

  /** Softmax along `dim` (torch.Tensor.softmax). */
  softmax(dim: number): Tensor {
    return softmax(this, dim);
  }
  /** Log-softmax along `dim` (torch.Tensor.log_softmax). */
  logSoftmax(dim: number): Tensor {
    return logSoftmax(this, dim);
  }

  // ---- linear algebra ----

  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }

  // ---- shape ----

  reshape(...shape: number[] | [number[]]): Tensor {
    return sh.reshape(this, sh.shapeArg(shape));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return sh.reshape(this, sh.shapeArg(shape), 'view');
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return sh.permute(this, sh.shapeArg(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return sh.transpose(this, dim0, dim1);
  }
  /** Transpose of a matrix (rank 2 or less). */
  t(): Tensor {
    if (this.ndim > 2) throw new Error(`t: expects a tensor with at most 2 dimensions, got ${this.ndim}`);
    return this.ndim < 2 ? this : sh.transpose(this, 0, 1);
  }
  /** All dimensions reversed (torch.Tensor.T): the transpose of a matrix. */
  get T(): Tensor {
    return sh.permute(this, this.shape.map((_, i) => this.ndim - 1 - i));
  }
  /** The last two dimensions swapped (torch.Tensor.mT). */
  get mT(): Tensor {
    return sh.transpose(this, -2, -1);
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return sh.expand(this, sh.shapeArg(shape));
  }
  expandAs(other: Tensor): Tensor {
    return sh.expand(this, [...other.shape]);
  }
  squeeze(dim?: number | number[]): Tensor {
    return sh.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return sh.unsqueeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return sh.flatten(this, startDim, endDim);
  }
  unflatten(dim: number, sizes: number[]): Tensor {
    return sh.unflatten(this, dim, sizes);
  }
  /** Splits into pieces of `splitSize` (or of the given sizes) along `dim`. */
  split(splitSize: number | number[], dim = 0): Tensor[] {
    return sh.split(this, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return sh.chunk(this, chunks, dim);
  }
  /**
   * Basic indexing, one entry per leading dimension: a number selects (and drops the dimension),
   * null keeps it whole, `[start, end, step]` slices it (any part may be null; negatives count from
   * the end). `x.slice(null, [1, null, 2])` is PyTorch's `x[:, 1::2]`.
   */
  slice(...index: sh.SliceSpec[]): Tensor {
    return sh.slice(this, index);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return sh.narrow(this, dim, start, length);
  }
  select(dim: number, index: number): Tensor {
    return sh.select(this, dim, index);
  }
  flip(dims: number | number[]): Tensor {
    return sh.flip(this, dims);
  }
  repeat(...repeats: number[] | [number[]]): Tensor {
    return sh.repeat(this, sh.shapeArg(repeats));
  }
  tril(diagonal = 0): Tensor {
    return sh.triangle(this, diagonal, false);
  }
  triu(diagonal = 0): Tensor {
    return sh.triangle(this, diagonal, true);
  }

  // ---- indexing ----

  indexSelect(dim: number, index: Tensor): Tensor {
    return ix.indexSelect(this, dim, index);
  }
  gather(dim: number, index: Tensor): Tensor {
    return ix.gather(this, dim, index);
  }
  scatter(dim: number, index: Tensor, src: TensorOrScalar): Tensor {
    return ix.scatter(this, dim, index, src, false);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return ix.scatter(this, dim, index, src, true);
  }
  /** Sorts along `dim` (the last by default); ties keep their order. */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    return ix.sort(this, dim, descending);
  }
  argsort(dim = -1, descending = false): Tensor {
    return ix.argsort(this, dim, descending);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    return ix.topk(this, k, dim, largest, sorted);
  }

  // ---- in place: each bumps the version, so autograd can tell saved tensors were changed ----
  //
  // The arithmetic ops and relu_/clamp_/fill_ compute straight into this tensor's storage (runInto)
  // and, with autograd recording, take their place in the graph as PyTorch's do: the tensor's
  // gradFn becomes the op's node, whose input is the tensor as it was (an alias with the old
  // gradFn). Refused, as in PyTorch, on a leaf that requires grad. A view sharing the storage keeps
  // its old place in the graph, so, unlike PyTorch (which rebases views too), recording an op with
  // it afterwards is refused (dispatch.ts, staleError).

  /** @internal writes `value`'s data into this tensor's storage (no autograd: copy_ and the initialisers). */
  _assign(value: Tensor, op: string): this {
    if (isGradEnabled() && this.requiresGrad) {
      throw new Error(
        `${op}: in-place operation on a tensor that requires grad; ` +
          'wrap parameter updates in noGrad(), or use the out-of-place form',
      );
    }
    const v = value.dtype === this.dtype ? value : noGrad(() => ew.cast(value, this.dtype));
    // The value must broadcast to this tensor's shape without changing it.
    const lead = this.ndim - v.ndim;
    if (lead < 0 || v.shape.some((d, i) => d !== 1 && d !== this.shape[lead + i])) {
      throw new Error(`${op}: cannot write a tensor of shape [${v.shape.join(', ')}] into [${this.shape.join(', ')}]`);
    }
    const full = v.shape.length === this.shape.length && v.shape.every((d, i) => d === this.shape[i])
      ? v
      : noGrad(() => sh.expand(v, [...this.shape]));
    return this._store(op, full);
  }

  /**
   * @internal Runs in-place op `op`: `compute(self, into)` makes the new value from `self` (this
   * tensor, or while autograd records, its alias) and runs its last primitive through `into`,
   * which writes it into this storage where the backend can (dispatch.ts runInto). Records the
   * graph as the section's header says.
   */
  private _inPlace(op: string, compute: (self: Tensor, into: ew.Runner) => Tensor): this {
    if (!isGradEnabled()) return this._store(op, compute(this, inPlaceRunner(this)));
    if (this.requiresGrad && this._gradFn === null) {
      throw new Error(
        `${op}: in-place operation on a tensor that requires grad; ` +
          'wrap parameter updates in noGrad(), or use the out-of-place form',
      );
    }
    if (this._version.rebased === true && this._fnVersion !== this._version.value) throw staleError(op, this);
    const alias = new Tensor(this._storage, this.shape, this.dtype, this.device, this._version);
    if (this._gradFn !== null) alias._setGradFn(this._gradFn, this._outputIndex);
    const into = inPlaceRunner(this);
    let out = compute(alias, into);
    if (out.gradFn === null) return this._store(op, out); // nothing that needs a gradient took part
    if (out.dtype !== this.dtype) out = into('cast', [out], { dtype: this.dtype });
    this._store(op, out);
    // `out`'s node now produces this tensor; the nodes that used this tensor before see the alias.
    if (this._gradFn !== null) (this._gradFn.outputs as Tensor[])[this._outputIndex] = alias;
    (this._history ??= []).push({ version: this._version.value - 1, alias });
    this._version.rebased = true;
    const node = out.gradFn!;
    (node.outputs as Tensor[])[out._outputIndex] = this;
    node.outputVersions[out._outputIndex] = this._version.value;
    this._setGradFn(node, out._outputIndex);
    return this;
  }

  /** @internal Makes `value` this tensor's contents (unless it was computed in place) and bumps the version. */
  private _store(op: string, value: Tensor): this {
    if (!shapesEqual(value.shape, this.shape)) {
      throw new Error(`${op}: the result has shape [${value.shape.join(', ')}], which cannot be written into [${this.shape.join(', ')}]`);
    }
    if (value._storage !== this._storage) {
      const v = value.dtype === this.dtype ? value : noGrad(() => ew.cast(value, this.dtype));
      getBackend(this.device).copyInto(this._storage, v._storage);
    }
    this._version.value++;
    // A tensor outside the graph (a constant, a leaf) is what it holds; one with a gradFn changed
    // without recording no longer matches its place (see _fnVersion).
    if (this._gradFn === null) this._fnVersion = this._version.value;
    return this;
  }

  add_(other: TensorOrScalar, alpha = 1): this {
    return this._inPlace('add_', (self, into) => ew.arithInto(into, 'add', self, alpha === 1 ? other : scaled(other, alpha)));
  }
  sub_(other: TensorOrScalar, alpha = 1): this {
    return this._inPlace('sub_', (self, into) => ew.arithInto(into, 'sub', self, alpha === 1 ? other : scaled(other, alpha)));
  }
  mul_(other: TensorOrScalar): this {
    return this._inPlace('mul_', (self, into) => ew.arithInto(into, 'mul', keepIfNeeded(self, other), other));
  }
  div_(other: TensorOrScalar): this {
    return this._inPlace('div_', (self, into) => ew.arithInto(into, 'div', keepIfNeeded(self, other), other));
  }
  /** renorm in place: w.renorm_(2, 0, c) holds each row of a weight to norm at most c (max-norm). */
  renorm_(p: number, dim: number, maxnorm: number): this {
    // The gradient needs the values before the op: while autograd records, a copy is what it reads.
    return this._inPlace('renorm_', (self, into) =>
      red.renorm(self.requiresGrad && isGradEnabled() ? self.clone() : self, p, dim, maxnorm, into),
    );
  }
  clamp_(min: number | null = null, max: number | null = null): this {
    return this._inPlace('clamp_', (self, into) => ew.clamp(self, min, max, into));
  }
  /** max(0, x) in place (torch.relu_; nn.ReLU({ inplace: true })). */
  relu_(): this {
    return this._inPlace('relu_', (self, into) => ew.unary('relu', self, into));
  }
  copy_(src: Tensor): this {
    return this._assign(src.detach(), 'copy_');
  }
  fill_(value: number): this {
    if (isGradEnabled() && this.requiresGrad) return this._assign(ew.asTensor(value, this), 'fill_'); // its error
    return this._store('fill_', runInto(this, 'full', [], { shape: [...this.shape], dtype: this.dtype, value }));
  }
  zero_(): this {
    return this.fill_(0);
  }
  /** Fills with samples of N(mean, std²) in place (an initialiser, like torch.nn.init.normal_). */
  normal_(mean = 0, std = 1, generator?: Generator): this {
    return this._assign(fillNormalInPlace(this, mean, std, generator), 'normal_');
  }
  /** Fills with samples of U(low, high) in place. */
  uniform_(low = 0, high = 1, generator?: Generator): this {
    return this._assign(fillUniformInPlace(this, low, high, generator), 'uniform_');
  }
}

/** The runner for `t`'s in-place ops: the op's last primitive writes into t's storage. */
function inPlaceRunner(t: Tensor): ew.Runner {
  return (name, inputs, attrs) => runInto(t, name, inputs, attrs);
}

/**
 * The first operand of mul_ or div_: the gradient for `other` needs this tensor's value before the
 * op, so while autograd records and `other` requires grad, a copy of it is what the op reads (as
 * PyTorch keeps the original self of an in-place op whose formula uses it).
 */
function keepIfNeeded(self: Tensor, other: TensorOrScalar): Tensor {
  return other instanceof Tensor && other.requiresGrad && isGradEnabled() ? self.clone() : self;
}

/** other · alpha, for add_ and sub_ with a scale. */
function scaled(other: TensorOrScalar, alpha: number): TensorOrScalar {
  return other instanceof Tensor ? other.mul(alpha) : other * alpha;
}
