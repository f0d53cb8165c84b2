// Plain JS versions of what torch computes, written for clarity (double-precision sums, no tricks), against
// which the ONNX layers and graphs are tested. Rows are the last axis; tensors are flat row-major arrays.

/** x [rows, in] @ W^T + b, W [out, in]. */
export function referenceLinear(x: Float32Array, W: Float32Array, b: Float32Array | undefined, inF: number, outF: number): Float32Array {
  const rows = x.length / inF,
    out = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * W[o * inF + i];
      out[r * outF + o] = s;
    }
  return out;
}

/** LayerNorm over rows of `width` (biased variance). */
export function referenceLayerNorm(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array | undefined,
  width: number,
  eps: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    const row = x.subarray(r * width, (r + 1) * width);
    const mean = row.reduce((a, b) => a + b, 0) / width;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / width;
    for (let i = 0; i < width; i++) out[r * width + i] = ((row[i] - mean) / Math.sqrt(variance + eps)) * gamma[i] + (beta ? beta[i] : 0);
  }
  return out;
}

/** erf by its Maclaurin series (double precision is ample for |x| <= 5 at float32 tolerances). */
export function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x,
    sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const referenceGelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
export const referenceQuickGelu = (v: number): number => v * sigmoid(1.702 * v);

/** softmax(q k^T / sqrt(d) [+ causal]) v per batch and head: q [n, t, c], k and v [n, s, c]. */
export function referenceAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  n: number,
  t: number,
  s: number,
  c: number,
  heads: number,
  causal: boolean,
): Float32Array {
  const d = c / heads,
    out = new Float32Array(n * t * c);
  for (let b = 0; b < n; b++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < t; i++) {
        const scores: number[] = [];
        for (let j = 0; j < s; j++) {
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q[(b * t + i) * c + h * d + e] * k[(b * s + j) * c + h * d + e];
          scores.push(causal && j > i ? -Infinity : dot / Math.sqrt(d));
        }
        const max = Math.max(...scores),
          exps = scores.map((x) => Math.exp(x - max)),
          total = exps.reduce((a, b) => a + b, 0);
        for (let e = 0; e < d; e++) {
          let sum = 0;
          for (let j = 0; j < s; j++) sum += (exps[j] / total) * v[(b * s + j) * c + h * d + e];
          out[(b * t + i) * c + h * d + e] = sum;
        }
      }
  return out;
}
