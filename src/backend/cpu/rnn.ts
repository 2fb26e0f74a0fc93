/**
 * The cpu backend's fused recurrent kernels (native/cpu/rnn.cc). An addon built before rnn.cc
 * existed lacks them; the reference kernels then run on the same arrays.
 */
import type { Spec } from '../../ops/primitives.js';
import { rnnKernels as reference } from '../reference/rnn.js';
import type { RefStorage } from '../reference/storage.js';
import type { HostArray, Kernel, KernelInput } from '../types.js';
import type { Addon } from './addon.js';
// Every output is written in full by its kernel (the state gradients are zeroed there first), so
// all come uninitialised from `alloc`.
import { alloc, type CpuStorage, wrap } from './storage.js';

type In = KernelInput<CpuStorage>;
type RnnName = 'lstmSequence' | 'lstmSequenceBackward' | 'gruSequence' | 'gruSequenceBackward';

export function rnnKernels(native: Addon): { [K in RnnName]: Kernel<K, CpuStorage> } {
  if (!native.lstmSequence || !native.lstmSequenceBackward || !native.gruSequence || !native.gruSequenceBackward) {
    const relabel = (name: RnnName) => (inputs: readonly In[], a: any, outs: readonly Spec[]) =>
      (reference[name] as Kernel<any, any>)(inputs, a, outs).map((s: RefStorage): CpuStorage => wrap(s.data, s.dtype));
    return {
      lstmSequence: relabel('lstmSequence'),
      lstmSequenceBackward: relabel('lstmSequenceBackward'),
      gruSequence: relabel('gruSequence'),
      gruSequenceBackward: relabel('gruSequenceBackward'),
    };
  }
  const d = (t: In): HostArray => t.storage.data;
  /** [T, N, H] of a layer from its h-shaped output. */
  const sizes = (hSpec: Spec) => hSpec.shape as [number, number, number];
  return {
    lstmSequence(inputs, a, outs) {
      const [x, w, h0, c0] = inputs as [In, In, In, In];
      const [h, c, gates] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      native.lstmSequence!(d(x), d(w), d(h0), d(c0), h.data, c.data, gates.data, ...sizes(outs[0]!), a.reverse);
      return [h, c, gates];
    },
    lstmSequenceBackward(inputs, a, outs) {
      const [, w, , c0, gh, gc, c, gates] = inputs as In[];
      const [gx, gh0, gc0] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      native.lstmSequenceBackward!(d(w!), d(c0!), d(gh!), d(gc!), d(c!), d(gates!), gx.data, gh0.data, gc0.data, ...sizes(gh!), a.reverse);
      return [gx, gh0, gc0];
    },
    gruSequence(inputs, a, outs) {
      const [x, w, b, h0] = inputs as [In, In, In, In];
      const [h, gates, hn] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      native.gruSequence!(d(x), d(w), d(b), d(h0), h.data, gates.data, hn.data, ...sizes(outs[0]!), a.reverse);
      return [h, gates, hn];
    },
    gruSequenceBackward(inputs, a, outs) {
      const [, w, , h0, gh, h, gates, hn] = inputs as In[];
      const [gx, ghg, gh0] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      native.gruSequenceBackward!(d(w!), d(h0!), d(gh!), d(h!), d(gates!), d(hn!), gx.data, ghg.data, gh0.data, ...sizes(gh!), a.reverse);
      return [gx, ghg, gh0];
    },
  };
}
