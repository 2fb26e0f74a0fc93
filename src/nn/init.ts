/**
 * torch.nn.init: fill a tensor in place with the distributions that layers are initialised from.
 * Every function runs under noGrad, returns the tensor, and takes an optional Generator.
 */
import { Tensor, noGrad, randn, cat, type Generator } from '../tensor/index.js';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

/**
 * The recommended gain for a nonlinearity: the factor that keeps activations' variance steady
 * through layers (He et al. 2015, Sec. 2.2 for ReLU: sqrt(2)). `param` is leaky_relu's slope.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity '${nonlinearity as string}'`);
  }
}

/**
 * fan_in and fan_out of a weight: dim 1 and dim 0 times the receptive field (the product of the
 * remaining dims), so [out, in] and [out, in, kH, kW] both work.
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`calculateFanInAndFanOut: needs a tensor with at least 2 dimensions, got [${t.shape.join(', ')}]`);
  const receptive = t.shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

function fan(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  if (mode === 'fan_in') return fanIn;
  if (mode === 'fan_out') return fanOut;
  throw new Error(`init: mode must be 'fan_in' or 'fan_out', got '${mode as string}'`);
}

/** Fills with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  return noGrad(() => t.uniform_(a, b, generator));
}

/** Fills with N(mean, std^2). */
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  return noGrad(() => t.normal_(mean, std, generator));
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * The inverse error function, by the single-precision approximation of Giles (2010),
 * "Approximating the erfinv function", written with tensor ops so it runs on any backend.
 */
function erfinv(x: Tensor): Tensor {
  const w = x.mul(x).neg().add(1).log().neg(); // -log(1 - x^2)
  const horner = (v: Tensor, coeffs: number[]) => coeffs.slice(1).reduce((p, c) => p.mul(v).add(c), v.mul(0).add(coeffs[0]!));
  const small = horner(w.sub(2.5), [
    2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
  ]);
  const large = horner(w.clamp(5, null).sqrt().sub(3), [
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
  ]);
  return large.where(w.ge(5), small).mul(x);
}

/**
 * Fills with a normal N(mean, std^2) truncated to [a, b], by inverting the CDF of a uniform draw
 * between the CDF values of the bounds (the method torch.nn.init.trunc_normal_ uses).
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator?: Generator): Tensor {
  if (!(a < b)) throw new Error(`truncNormal_: need a < b, got a = ${a}, b = ${b}`);
  const normCdf = (x: number) => (1 + erfScalar(x / Math.SQRT2)) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  return noGrad(() => {
    const p = t.uniform_(2 * l - 1, 2 * u - 1, generator);
    // Keep the argument of erfinv strictly inside (-1, 1).
    const values = erfinv(p.clamp(-1 + 1e-7, 1 - 1e-7)).mul(std * Math.SQRT2).add(mean).clamp(a, b);
    return t.copy_(values);
  });
}

/** erf of a number, to double precision: its Maclaurin series near 0, the continued fraction of erfc beyond. */
function erfScalar(x: number): number {
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    // Maclaurin series: erf(z) = 2/sqrt(pi) sum (-1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Continued fraction for erfc, evaluated from the tail.
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x < 0 ? -r : r;
}

/** Xavier/Glorot uniform (Glorot & Bengio 2010, Eq. 16): U(-g sqrt(6 / (fanIn + fanOut)), +...). */
export function xavierUniform_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, generator);
}

/** Xavier/Glorot normal: N(0, g^2 * 2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  /** 'fan_in' keeps the forward pass's variance, 'fan_out' the backward pass's. */
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** Kaiming/He uniform (He et al. 2015, Sec. 2.2): U(-b, b) with b = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu', generator } = options;
  const bound = Math.sqrt(3) * (calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode)));
  return uniform_(t, -bound, bound, generator);
}

/** Kaiming/He normal: N(0, gain^2 / fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu', generator } = options;
  return normal_(t, 0, calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode)), generator);
}

/**
 * A (semi-)orthogonal matrix times `gain` (Saxe et al. 2014): the Q of a Gaussian matrix's QR
 * decomposition with R's diagonal made positive, which is Haar-distributed. Q comes from
 * Gram-Schmidt with one re-orthogonalisation pass, which gives R a positive diagonal directly.
 * Dimensions after the first are flattened, as in PyTorch.
 */
export function orthogonal_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  if (t.ndim < 2) throw new Error(`orthogonal_: needs a tensor with at least 2 dimensions, got [${t.shape.join(', ')}]`);
  const rows = t.shape[0]!;
  const cols = t.numel() / rows;
  return noGrad(() => {
    const g = randn([rows, cols], { dtype: 'float64', device: t.device, generator });
    // Orthonormalise the columns of the taller orientation.
    const a = rows < cols ? g.t() : g; // [m, n], m >= n
    const columns: Tensor[] = [];
    for (let j = 0; j < a.shape[1]!; j++) {
      let v = a.narrow(1, j, 1); // [m, 1]
      if (columns.length > 0) {
        const q = cat(columns, 1); // [m, j]
        for (let pass = 0; pass < 2; pass++) v = v.sub(q.matmul(q.t().matmul(v)));
      }
      columns.push(v.div(v.norm()));
    }
    let q = cat(columns, 1);
    if (rows < cols) q = q.t();
    return t.copy_(q.mul(gain).reshape([...t.shape]));
  });
}
