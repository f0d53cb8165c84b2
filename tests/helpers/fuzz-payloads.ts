// Generated hostile payloads for the contract: wrong types, missing and unknown fields, huge
// strings, negative and enormous numbers, NaN/Infinity (as the JSON a client could send),
// deep nesting, invalid restart segments. Deterministic for a seed.
import { RequestSchemas } from '../../src-core/contract/api.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const METHODS = Object.keys(RequestSchemas);
const VALID_GENERATE = { prompt: 'a red circle', seed: 1, steps: 2, sampler: 'euler', cfgScale: 5 };

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

export function hostileValue(r: () => number): unknown {
  const pool: Array<() => unknown> = [
    () => null,
    () => undefined,
    () => true,
    () => -1,
    () => 0,
    () => 1e308,
    () => -1e308,
    () => 2 ** 53 + 2,
    () => 'NaN',
    () => 'Infinity',
    () => '',
    () => 'x'.repeat(Math.floor(r() * 200_000)),
    () => '\u0000\uFFFF\uD800',
    () => [],
    () => [1, 2, 3],
    () => ({}),
    () => ({ __proto__: { polluted: true } }),
    () => deep(1 + Math.floor(r() * 400)),
    () => 1.5,
    () => -0.000001,
    () => Math.floor(r() * 1e6) - 5e5,
    () => '../../../etc/passwd',
    () => [[3, 2, 0.3, 0.1]],
    () => [[1, 0, -1, NaN]],
    () => [[3, 2]],
    () => 'a1111',
    () => ({ preset: 'bogus' }),
    () => ({ segments: [] }),
  ];
  return pool[Math.floor(r() * pool.length)]();
}

/** One raw message as a client could send it (the wire carries JSON; so does this). */
export function hostileMessage(r: () => number, id: number): string {
  const kind = r();
  if (kind < 0.05)
    return ['{', 'null', '[]', '"str"', '{"id":"x"}', '{"id":1}', `{"id":1,"method":"${'m'.repeat(5000)}"}`][Math.floor(r() * 7)];
  const method = kind < 0.15 ? String(hostileValue(r)) : METHODS[Math.floor(r() * METHODS.length)];
  let params: Record<string, unknown>;
  if (method === 'job.generate' || r() < 0.3) {
    params = { ...VALID_GENERATE };
    const mutations = 1 + Math.floor(r() * 3);
    const keys = [
      'prompt',
      'negativePrompt',
      'sampler',
      'schedule',
      'steps',
      'cfgScale',
      'seed',
      'count',
      'batchSize',
      'width',
      'height',
      'noiseSource',
      'eta',
      'sNoise',
      'restart',
      'timestepMode',
      'unknownField',
    ];
    for (let m = 0; m < mutations; m++) {
      const key = keys[Math.floor(r() * keys.length)];
      if (r() < 0.2) delete params[key];
      else params[key] = hostileValue(r);
    }
  } else {
    params = r() < 0.5 ? {} : { [String(hostileValue(r)).slice(0, 20)]: hostileValue(r) };
  }
  const body = JSON.stringify({ id, method, params: r() < 0.05 ? hostileValue(r) : params });
  // JSON.stringify writes NaN and Infinity as null; sometimes send them raw, as a broken client would.
  return r() < 0.05 ? body.replace(/null/, 'NaN') : body;
}
