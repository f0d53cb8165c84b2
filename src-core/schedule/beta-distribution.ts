// The beta distribution's quantile function (scipy.stats.beta.ppf), for A1111's "Beta" schedule: the inverse of the
// regularized incomplete beta function I_x(a, b), solved by safeguarded Newton steps in log x.

// Lanczos coefficients (g = 7, 9 terms): log gamma to about 1e-15 for positive arguments.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Gamma(z) for z > 0 (reflection below 1/2, where the series loses accuracy). */
export function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const w = z - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (w + i);
  const t = w + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(sum);
}

const TINY = 1e-300;

/** The continued fraction of I_x(a, b) (modified Lentz), which converges fast for x < (a + 1) / (a + b + 2). */
function continuedFraction(x: number, a: number, b: number): number {
  let c = 1,
    d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    for (const coefficient of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + coefficient * d;
      if (Math.abs(d) < TINY) d = TINY;
      c = 1 + coefficient / c;
      if (Math.abs(c) < TINY) c = TINY;
      d = 1 / d;
      result *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-16) return result;
  }
  return result;
}

/** log I_x(a, b) for 0 < x < 1, kept in logs so that a tiny I (x near 0) does not underflow. */
function logIncompleteBeta(x: number, a: number, b: number, logBeta: number): number {
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta;
  if (x < (a + 1) / (a + b + 2)) return logFront - Math.log(a) + Math.log(continuedFraction(x, a, b));
  return Math.log1p(-Math.exp(logFront - Math.log(b)) * continuedFraction(1 - x, b, a));
}

/** The x with I_x(a, b) = p, for 0 < p <= 1/2: Newton in u = log x, kept inside a shrinking bracket. */
function solveLower(p: number, a: number, b: number): number {
  const logBeta = logGamma(a) + logGamma(b) - logGamma(a + b),
    logP = Math.log(p);
  let lo = Math.log(Number.MIN_VALUE),
    hi = 0;
  // Start where I_x ~ x^a / (a B(a, b)), its form near 0.
  let u = Math.min((logP + Math.log(a) + logBeta) / a, Math.log(0.5));
  if (u <= lo) return 0; // below the smallest double
  for (let iteration = 0; iteration < 200; iteration++) {
    const x = Math.exp(u);
    const logI = logIncompleteBeta(x, a, b, logBeta);
    const error = logI - logP;
    if (error === 0) return x;
    if (error > 0) hi = u;
    else lo = u;
    // d(log I)/du = x pdf(x) / I.
    const slope = Math.exp(a * u + (b - 1) * Math.log1p(-x) - logBeta - logI);
    let next = u - error / slope;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - u) <= 1e-16 * Math.max(1, Math.abs(u))) return Math.exp(next);
    u = next;
  }
  return Math.exp(u);
}

/** scipy.stats.beta.ppf(p, alpha, beta): the x in [0, 1] below which a Beta(alpha, beta) variable falls with probability p. */
export function betaQuantile(p: number, alpha: number, beta: number): number {
  if (!(alpha > 0 && beta > 0) || !Number.isFinite(alpha) || !Number.isFinite(beta)) {
    throw new RangeError(`the beta distribution needs alpha > 0 and beta > 0 (got ${alpha}, ${beta})`);
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`a probability must be in [0, 1] (got ${p})`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  // Above the median, solve the mirror image (I_x(a, b) = 1 - I_{1-x}(b, a)), where the probability is small.
  return p <= 0.5 ? solveLower(p, alpha, beta) : 1 - solveLower(1 - p, beta, alpha);
}
