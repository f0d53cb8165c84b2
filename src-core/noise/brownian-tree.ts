// torchsde's BrownianTree (BrownianInterval with halfway_tree=True, tol=1e-6, pool_size=24), the noise A1111, ComfyUI
// and k-diffusion give their SDE samplers: a Brownian motion on [t0, t1] whose value over any interval is fixed by the
// entropy alone. Written from torchsde's documented construction:
// - the tree is the dyadic one: an interval splits at its midpoint, times rounded to 6 decimals (Python's round);
// - an interval's increment W is its parent's split by the Brownian bridge: left = W h_l / h + sqrt(h_l h_r / h) z,
//   right = W - left, with z a standard normal draw of the parent's own seed, and the root's W = sqrt(t1 - t0) z0;
// - each split interval's seeds come from numpy's SeedSequence(entropy, spawn_key=(key, depth), pool_size=24), where
//   the root's key is 0 at depth 0 and a child's is 2 key + (0 left, 1 right); the root's own draw from
//   SeedSequence(entropy, pool_size=24);
// - a draw is torch.randn(shape) on a generator seeded with that 32-bit seed (the caller's noise source: A1111 swaps
//   torchsde's for its own RNG setting), in float32, and so is the arithmetic, as torch does it.
import { seedSequenceState } from './seed-sequence.ts';

const f = Math.fround;
const POOL_SIZE = 24;
const DIGITS = 6; // torchsde rounds times to -log10(tol) decimals; BrownianTree's tol is 1e-6
const MAX_DEPTH = 200; // torchsde would stop at Python's recursion limit; a query this deep means times too close

/** Draws `count` standard normals (float32 values) from a generator seeded with `seed`, as torch.randn would. */
export type SeededRandn = (seed: number, count: number) => Float64Array;

/** Python's round(x, digits) for a double: the nearest value with that many decimals, a tie to the even one. */
export function roundDecimals(x: number, digits: number): number {
  const away = x.toFixed(digits); // JavaScript rounds a tie away from zero
  const exact = Math.abs(x).toFixed(100); // every digit of a double above 2^-47
  const tail = exact.slice(exact.indexOf('.') + 1 + digits);
  if (!/^50*$/.test(tail) || Number(away.at(-1)) % 2 === 0) return Number(away);
  return Number((x < 0 ? '-' : '') + exact.slice(0, exact.indexOf('.') + 1 + digits));
}

const round = (t: number) => roundDecimals(t, DIGITS);

interface Interval {
  start: number;
  end: number;
  parent?: Interval;
  isLeft: boolean;
  spawnKey: number;
  depth: number;
  split?: { midway: number; seed: number; left: Interval; right: Interval };
}

export class BrownianTree {
  private readonly root: Interval;
  private readonly rootIncrement: Float32Array;
  private readonly cache = new Map<Interval, Float32Array>();
  /**
   * Recent intervals' increments: enough for the paths to both ends of a query and their siblings (four a level), so
   * that a sampler's next step, which shares one end, recomputes only the other's path. Values never depend on it.
   */
  private readonly cacheSize: number;

  /**
   * @param t0, t1 the times the motion spans (torchsde's are doubles of the caller's float32 values)
   * @param count values per draw (the latent's size for one image)
   */
  constructor(
    t0: number,
    t1: number,
    private readonly count: number,
    private readonly entropy: number | bigint,
    private readonly randn: SeededRandn,
  ) {
    if (!(t0 < t1)) throw new RangeError(`a Brownian tree needs t0 < t1 (got ${t0}, ${t1})`);
    this.root = { start: round(t0), end: round(t1), isLeft: false, spawnKey: 0, depth: 0 };
    this.cacheSize = 4 * Math.ceil(Math.log2(Math.max(2, (t1 - t0) / 10 ** -DIGITS))) + 8;
    const [rootSeed] = seedSequenceState({ entropy, poolSize: POOL_SIZE }, 1);
    const z = randn(rootSeed, count);
    const scale = f(Math.sqrt(t1 - t0));
    const w = new Float32Array(count);
    for (let i = 0; i < count; i++) w[i] = f(z[i] * scale);
    this.rootIncrement = w;
  }

  /** W(tb) - W(ta) for ta <= tb (torchsde's BrownianTree(ta, tb)), times clamped to the tree's span as torchsde does. */
  increment(ta: number, tb: number): Float32Array {
    const { start, end } = this.root;
    ta = Math.min(Math.max(ta, start), end);
    tb = Math.min(Math.max(tb, start), end);
    if (ta > tb) throw new RangeError(`Brownian tree query times must have ta <= tb (got ${ta}, ${tb})`);
    // torchsde resolves times to 6 decimals (closer ones would recurse without end there): no motion between them.
    if (round(ta) === round(tb)) return new Float32Array(this.count);
    const pieces: Interval[] = [];
    this.locate(this.root, round(ta), round(tb), pieces);
    const w = Float32Array.from(this.value(pieces[0]));
    for (const piece of pieces.slice(1)) {
      const wi = this.value(piece);
      for (let i = 0; i < w.length; i++) w[i] = f(w[i] + wi[i]);
    }
    return w;
  }

  /** The tree's intervals that make up [ta, tb], left to right, splitting intervals on the way as torchsde does. */
  private locate(node: Interval, ta: number, tb: number, out: Interval[]): void {
    if (ta === node.start && tb === node.end) {
      out.push(node);
      return;
    }
    if (!node.split) this.splitToward(node, ta === node.start ? tb : ta);
    const { midway, left, right } = node.split!;
    if (tb <= midway) this.locate(left, ta, tb, out);
    else if (ta >= midway) this.locate(right, ta, tb, out);
    else {
      this.locate(left, ta, midway, out);
      this.locate(right, midway, tb, out);
    }
  }

  /** Halves `node`, then the half holding `point`, until a midpoint is `point` (torchsde's halfway _split). */
  private splitToward(node: Interval, point: number): void {
    for (let current: Interval | undefined = node; current;) {
      if (current.depth > MAX_DEPTH) throw new RangeError(`Brownian tree cannot resolve time ${point} (depth ${current.depth})`);
      const { midway } = this.splitInHalf(current);
      current = point > midway ? current.split!.right : point < midway ? current.split!.left : undefined;
    }
  }

  private splitInHalf(node: Interval): { midway: number } {
    if (node.split) return node.split;
    const midway = round(0.5 * (node.end + node.start));
    const [seed] = seedSequenceState({ entropy: this.entropy, spawnKey: [node.spawnKey, node.depth], poolSize: POOL_SIZE }, 1);
    const child = (start: number, end: number, isLeft: boolean): Interval => ({
      start,
      end,
      parent: node,
      isLeft,
      spawnKey: 2 * node.spawnKey + (isLeft ? 0 : 1),
      depth: node.depth + 1,
    });
    node.split = { midway, seed, left: child(node.start, midway, true), right: child(midway, node.end, false) };
    return node.split;
  }

  /** An interval's increment: the root's draw, or its parent's split by the Brownian bridge (both halves cached). */
  private value(node: Interval): Float32Array {
    if (!node.parent) return this.rootIncrement;
    const cached = this.cache.get(node);
    if (cached) {
      this.cache.delete(node); // most recently used last
      this.cache.set(node, cached);
      return cached;
    }
    const parent = node.parent;
    const { midway, seed, left, right } = parent.split!;
    const w = this.value(parent);
    const z = this.randn(seed, this.count);
    const leftDiff = midway - parent.start,
      rightDiff = parent.end - midway,
      hReciprocal = 1 / (parent.end - parent.start);
    // float32 as torch: left_diff * W * h_reciprocal + sqrt(left_diff * right_diff * h_reciprocal) * z; right = W - left
    const a = f(leftDiff),
      b = f(hReciprocal),
      c = f(Math.sqrt(leftDiff * rightDiff * hReciprocal));
    const leftW = new Float32Array(this.count),
      rightW = new Float32Array(this.count);
    for (let i = 0; i < this.count; i++) {
      leftW[i] = f(f(f(w[i] * a) * b) + f(z[i] * c));
      rightW[i] = f(w[i] - leftW[i]);
    }
    this.remember(left, leftW);
    this.remember(right, rightW);
    return node.isLeft ? leftW : rightW;
  }

  private remember(node: Interval, w: Float32Array): void {
    this.cache.set(node, w);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
