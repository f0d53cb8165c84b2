// Limits on the shape of a request's params, checked before schema validation: a hostile client can
// send millions of keys (validation then takes seconds and the error lists every key) or a
// 100k-deep nesting (validation overflows the stack). Real requests are small and shallow.
// No Node imports: the contract is shared with the renderer.

export const PAYLOAD_LIMITS = {
  /** Deepest nesting of objects and arrays inside params (a grid request needs about 6). */
  depth: 32,
  /** Objects, arrays and values inside params, counted together. */
  nodes: 20_000,
  /** Keys of any one object. */
  keysPerObject: 64,
} as const;

/** Why params exceed the limits, or null when they do not. Iterative: no recursion to overflow. */
export function payloadShapeProblem(params: unknown): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: params, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (++nodes > PAYLOAD_LIMITS.nodes) return `the request holds more than ${PAYLOAD_LIMITS.nodes} values`;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= PAYLOAD_LIMITS.depth) return `the request is nested too deeply (more than ${PAYLOAD_LIMITS.depth} levels)`;
    if (Array.isArray(value)) {
      if (value.length > PAYLOAD_LIMITS.nodes) return `the request holds more than ${PAYLOAD_LIMITS.nodes} values`;
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    let keys = 0;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (++keys > PAYLOAD_LIMITS.keysPerObject) return `an object in the request has more than ${PAYLOAD_LIMITS.keysPerObject} fields`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return null;
}
