// The body of the vectorised transcendental maps (vmath.cc includes it once per instruction set,
// each time after defining the vector type `V`, its lane count `kLanes` and the operations below
// for it). Not a standalone header: it has no include guard on purpose.
//
//   V set(double)                  all lanes to one value
//   V load(const float*)           kLanes floats, widened to double
//   void store(float*, V)          kLanes doubles, rounded to float (to nearest)
//   V add/sub/mul/div(V, V)        one rounding each
//   V fma(V a, V b, V c)           a * b + c with one rounding
//   V vmin/vmax(V, V)              for the range clamp (NaN handled by the caller)
//   V absval(V), V copysignOf(V magnitude, V sign)
//   V pow2(V t)                    2^k, where t = k + kMagic (see expD)
//   V selectLess(V a, V b, V x, V y)   a < b ? x : y per lane
//   V keepNaN(V x, V r)            x where x is NaN, else r
//
// Every operation is one IEEE operation, the same in every instruction set (fused multiply-adds
// written out as fma, never contracted by the compiler), so the three builds give the same bits
// and a vector's tail, computed in a padded vector, matches its body.

// 1.5 * 2^52: adding it to |v| < 2^51 rounds v to an integer held in the low mantissa bits.
constexpr double kMagic = 6755399441055744.0;

// e^x in double to about 2e-16 relative, for x already clamped to [-700, 700] (for float32
// outputs that is all of them: e^700 rounds to +inf and e^-700 to 0). Cody and Waite's reduction
// x = k ln2 + r, |r| <= ln2 / 2, with ln2 split so k ln2 is exact; then the Taylor series of e^r
// to degree 12 (remainder under 0.347^13 / 13! < 2e-16) and a scale by 2^k built in the exponent.
inline __attribute__((always_inline)) V expD(V x) {
  const V t = fma(x, set(1.4426950408889634), set(kMagic));
  const V k = sub(t, set(kMagic));
  V r = fma(k, set(-6.93147180369123816490e-01), x);  // ln2's high part: k * it is exact
  r = fma(k, set(-1.90821492927058770002e-10), r);     // and its low part
  V p = set(1.0 / 479001600.0);                        // 1/12!
  p = fma(p, r, set(1.0 / 39916800.0));
  p = fma(p, r, set(1.0 / 3628800.0));
  p = fma(p, r, set(1.0 / 362880.0));
  p = fma(p, r, set(1.0 / 40320.0));
  p = fma(p, r, set(1.0 / 5040.0));
  p = fma(p, r, set(1.0 / 720.0));
  p = fma(p, r, set(1.0 / 120.0));
  p = fma(p, r, set(1.0 / 24.0));
  p = fma(p, r, set(1.0 / 6.0));
  p = fma(p, r, set(0.5));
  p = fma(p, r, set(1.0));
  p = fma(p, r, set(1.0));
  return mul(p, pow2(t));
}

inline __attribute__((always_inline)) V clampExp(V x) { return vmin(vmax(x, set(-700.0)), set(700.0)); }

// tanh in double. For |y| >= 2^-10: 1 - 2 / (e^{2|y|} + 1), whose cancellation costs at most 11 of
// double's 53 bits; below that the series y - y^3/3 + 2y^5/15 (next term under 1e-19 relative).
inline __attribute__((always_inline)) V tanhD(V y) {
  const V a = absval(y);
  const V e = expD(clampExp(add(a, a)));
  const V big = sub(set(1.0), div(set(2.0), add(e, set(1.0))));
  const V a2 = mul(a, a);
  const V small = mul(a, fma(a2, fma(a2, set(2.0 / 15.0), set(-1.0 / 3.0)), set(1.0)));
  return copysignOf(selectLess(a, set(0.0009765625), small, big), y);
}

// 1 / (1 + e^{-x}): no cancellation anywhere. Exactly 0 below -745, where e^x underflows in double
// (so that SiLU's -inf * sigmoid(-inf) is NaN, as in the reference).
inline __attribute__((always_inline)) V sigmoidD(V x) {
  const V s = div(set(1.0), add(set(1.0), expD(clampExp(sub(set(0.0), x)))));
  return selectLess(x, set(-745.0), set(0.0), s);
}

// The operations vmath.cc vectorises, by the unary op codes of elementwise.cc.
enum class VOp { exp = 3, tanh = 10, sigmoid = 11, geluTanh = 15, silu = 16 };

inline __attribute__((always_inline)) V apply(VOp op, V x) {
  switch (op) {
    case VOp::exp: return keepNaN(x, expD(clampExp(x)));
    case VOp::tanh: return keepNaN(x, tanhD(x));
    case VOp::sigmoid: return keepNaN(x, sigmoidD(x));
    case VOp::geluTanh: {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as the reference writes it
      const V inner = mul(set(0.7978845608028654), add(x, mul(mul(mul(set(0.044715), x), x), x)));
      return keepNaN(x, mul(mul(set(0.5), x), add(set(1.0), tanhD(inner))));
    }
    case VOp::silu: return keepNaN(x, mul(x, sigmoidD(x)));
  }
  return x;
}

// gy * d/dx geluTanh(x), in the operation order of src/backend/reference/math.ts (geluTanhBackward):
// only tanh differs from the reference's, so the result does not round differently elsewhere.
inline __attribute__((always_inline)) V geluTanhGrad(V x, V gy) {
  const V x2 = mul(x, x);
  const V t = tanhD(mul(set(0.7978845608028654), add(x, mul(mul(mul(set(0.044715), x), x), x))));
  const V du = mul(set(0.7978845608028654), add(set(1.0), mul(set(0.134145), x2)));
  const V d = add(mul(set(0.5), add(set(1.0), t)), mul(mul(mul(set(0.5), x), sub(set(1.0), mul(t, t))), du));
  return mul(gy, d);
}

// o[i] = geluTanhGrad(x[i], gy[i]) for i in [0, n), the tail through padded vectors.
inline __attribute__((always_inline)) void geluTanhGradRange(const float* x, const float* gy, float* o, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(o + i, geluTanhGrad(load(x + i), load(gy + i)));
  if (i < n) {
    float in[kLanes] = {}, g[kLanes] = {}, out[kLanes];
    for (int64_t j = i; j < n; j++) in[j - i] = x[j], g[j - i] = gy[j];
    store(out, geluTanhGrad(load(in), load(g)));
    for (int64_t j = i; j < n; j++) o[j] = out[j - i];
  }
}

// o[i] = op(x[i]) for i in [0, n): whole vectors, then the tail through a padded vector.
inline __attribute__((always_inline)) void mapRange(VOp op, const float* x, float* o, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(o + i, apply(op, load(x + i)));
  if (i < n) {
    float in[kLanes] = {}, out[kLanes];
    for (int64_t j = i; j < n; j++) in[j - i] = x[j];
    store(out, apply(op, load(in)));
    for (int64_t j = i; j < n; j++) o[j] = out[j - i];
  }
}
