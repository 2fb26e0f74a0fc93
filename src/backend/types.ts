/**
 * What a backend is: a way to hold tensor data, and one kernel for each primitive of the contract.
 * Only code under src/backend/ sees the storage behind the `Storage` handle.
 */
import type { DType } from '../dtype.js';
import type { PrimitiveAttrs, PrimitiveName, Spec } from '../ops/primitives.js';

/** Typed array that holds one dtype's values on the host. */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** An opaque handle to a backend's buffer; only its backend looks inside. */
export interface Storage {
  readonly backend: string;
  readonly dtype: DType;
  readonly size: number;
}

/** An input as a kernel receives it: the storage with the shape it is viewed at. */
export interface KernelInput<S extends Storage = Storage> {
  readonly storage: S;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export type Kernel<K extends PrimitiveName, S extends Storage = Storage> = (
  inputs: readonly KernelInput<S>[],
  attrs: PrimitiveAttrs[K],
  outputs: readonly Spec[],
) => S[];

export interface Backend<S extends Storage = Storage> {
  readonly name: string;
  /** One line on what runs underneath (instruction set, threads). */
  describe(): string;
  /** Copies host values into a new storage of `dtype` (values are converted as a cast would). */
  fromValues(values: ArrayLike<number>, dtype: DType): S;
  /** Reads a storage back to the host; the returned array is a copy the caller may keep. */
  read(storage: S): HostArray;
  /** Overwrites `dst` with the values of `src` (same dtype and size), for in-place ops. */
  copyInto(dst: S, src: S): void;
  readonly kernels: { readonly [K in PrimitiveName]: Kernel<K, S> };
  /** Runs one optimizer update in place, in one pass (see OptimizerUpdate). */
  optimizerStep(update: OptimizerUpdate<S>): void;
  /** Σ x² over every element of every input, accumulated in float64: a new 1-element float64 storage. */
  sumOfSquares(inputs: readonly S[]): S;
  /** x ← x · factor in place; `factor` is a 1-element storage of x's dtype (clipGradNorm_'s rescale). */
  scaleInPlace(x: S, factor: S): void;
  /**
   * Optional, for in-place ops (Tensor.add_, relu_, ...): `outputInto(s)` makes the next output the
   * backend allocates with s's dtype and size be `s` itself, so the kernel writes there;
   * `outputInto(null)` cancels it. The dispatcher sets it around one elementwise kernel whose inputs
   * alias `s` only element for element (each output element reads the inputs at its own index), and
   * copies the result into `s` when the kernel did not use it.
   */
  outputInto?(storage: S | null): void;
  /**
   * Optional reuse of memory known to be dead, for the autograd engine (src/autograd/backward.ts).
   * `openRecycling()` returns a new token, which every storage the backend allocates carries until
   * `closeRecycling()`. `recycle(s, token)` takes back the memory of a storage that carries the
   * token, for later allocations to reuse; the caller guarantees that no tensor will read or write
   * `s` again. It ignores any other storage, and a storage it has already taken. A token stays
   * valid after its pass closes: a leaf's gradient is given back with it when zeroGrad drops it.
   */
  openRecycling?(): number;
  closeRecycling?(): void;
  recycle?(storage: S, token: number): void;
}

/**
 * One optimizer update of one parameter, fused: the parameter and its state buffers are
 * overwritten in place and the gradient is read once. src/backend/reference/optim.ts defines what
 * each kind computes (the same values, rounded at the same points, as the Tensor-op updates in
 * src/optim/); src/optim/ says where each formula comes from. Every storage has the parameter's
 * float dtype and size; null stands for a buffer the setting does not use. Step-dependent factors
 * (bias corrections, decayed learning rates) are computed by the optimizer and passed in.
 */
export type OptimizerUpdate<S extends Storage = Storage> =
  | {
      kind: 'sgd';
      param: S; grad: S; momentumBuffer: S | null;
      /** The buffer is empty: this step fills it with the gradient instead of decaying it. */
      firstStep: boolean;
      lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean;
    }
  | {
      kind: 'adam';
      param: S; grad: S; expAvg: S; expAvgSq: S; maxExpAvgSq: S | null;
      lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
      /** AdamW: weightDecay shrinks the parameter (θ ← θ (1 − lr λ)) instead of entering the gradient. */
      decoupled: boolean;
      maximize: boolean;
      /** lr / (1 − β1^t) and √(1 − β2^t). */
      stepSize: number; biasCorrection2Sqrt: number;
    }
  | {
      kind: 'rmsprop';
      param: S; grad: S; squareAvg: S; gradAvg: S | null; momentumBuffer: S | null;
      lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; epsInside: boolean; maximize: boolean;
    }
  | {
      kind: 'adagrad';
      param: S; grad: S; sum: S;
      /** lr / (1 + (t − 1) lrDecay). */
      clr: number;
      eps: number; weightDecay: number; maximize: boolean;
    }
  | {
      kind: 'adadelta';
      param: S; grad: S; squareAvg: S; accDelta: S;
      lr: number; rho: number; eps: number; weightDecay: number; maximize: boolean;
    }
  | {
      kind: 'adamax';
      param: S; grad: S; expAvg: S; expInf: S;
      /** lr / (1 − β1^t). */
      clr: number;
      beta1: number; beta2: number; eps: number; weightDecay: number; maximize: boolean;
    };
