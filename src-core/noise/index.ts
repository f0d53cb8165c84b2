// Noise sources by name, and the glue that turns one stream per image into the sampler's noise.
import type { NoiseSampler } from '../samplers/types.ts';
import { DefaultNoiseStream } from './default-noise.ts';
import { TorchCpuNoiseStream } from './torch-cpu.ts';
import { TorchCudaNoiseStream } from './torch-cuda.ts';
import type { NoiseStream } from './types.ts';

export type { NoiseStream } from './types.ts';

export const NOISE_SOURCES = {
  default: (seed: number): NoiseStream => new DefaultNoiseStream(seed),
  'torch-cpu': (seed: number | bigint): NoiseStream => new TorchCpuNoiseStream(seed),
  'torch-cuda': (seed: number | bigint): NoiseStream => new TorchCudaNoiseStream(seed),
} satisfies Record<string, (seed: number) => NoiseStream>;

export type NoiseSourceName = keyof typeof NOISE_SOURCES;

export function createNoiseStream(source: string, seed: number | bigint): NoiseStream {
  if (!Object.hasOwn(NOISE_SOURCES, source)) {
    throw new RangeError(`unknown noise source "${source}" (known: ${Object.keys(NOISE_SOURCES).join(', ')})`);
  }
  if (typeof seed === 'bigint' && source === 'default') throw new RangeError(`seed must be a whole number >= 0 (got ${seed})`);
  return NOISE_SOURCES[source as NoiseSourceName](seed as number);
}

/**
 * One stream per image (seed, seed + 1, ... as A1111 does), so an image does not change with the
 * batch size. Each call draws `perImage` values from every stream and lays them out batch-major.
 */
export function batchNoise(streams: NoiseStream[], perImage: number): NoiseSampler {
  const draw = () => {
    const out = new Float64Array(streams.length * perImage);
    streams.forEach((stream, i) => out.set(stream.randn(perImage), i * perImage));
    return out;
  };
  let ahead: Float64Array | undefined;
  const noise: NoiseSampler = () => {
    const z = ahead ?? draw();
    ahead = undefined;
    return z;
  };
  noise.prefetch = () => void (ahead ??= draw());
  return noise;
}
