/**
 * Scalar functions JavaScript's Math lacks, to double precision.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/** erfc(x) for x >= 2 by its continued fraction (modified Lentz), accurate to ~1e-15. */
function erfcLarge(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** The error function, to about 1e-15 relative accuracy. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax >= 2) return Math.sign(x) * (1 - erfcLarge(ax));
  // Taylor series: erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/**
 * gy times the derivative of geluTanh at x: with t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3),
 * d = (1 + t) / 2 + x (1 - t^2) u' / 2 and u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2). The native kernel
 * (native/cpu/vmath-body.h) performs these operations in this order.
 */
export function geluTanhBackward(x: number, gy: number): number {
  const x2 = x * x;
  const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
  const du = SQRT_2_OVER_PI * (1 + 0.134145 * x2);
  return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du);
}
