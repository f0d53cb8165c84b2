// A full-size SDXL base checkpoint's tensor list (bench/import/sdxl-sgm-shapes.json: names, shapes and dtypes of
// the SGM layout, made with diffusers' classes and conversion script from Stability's configs) through detection,
// the SGM key map, config inference and the graph builders, without any weight values: the configs inferred from
// the shapes must be Stability's, and every graph must accept every tensor's shape and use all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Json } from '../model/configs.ts';
import { buildTextEncoder } from './clip-graph.ts';
import { classifyCheckpoint, detectCheckpoint } from './detect.ts';
import { inferSdxlConfigs } from './sdxl-configs.ts';
import { mapSgmCheckpoint } from './sdxl-keys.ts';
import { buildUNet } from './unet-graph.ts';
import { buildVaeDecoder, buildVaeEncoder } from './vae-graph.ts';
import { elementCount, type WeightRef, type WeightSource } from './weights.ts';

const SHAPES = fileURLToPath(new URL('../../bench/import/sdxl-sgm-shapes.json', import.meta.url));
const SAFETENSORS_DTYPES: Record<string, string> = { float32: 'F32', float16: 'F16', int64: 'I64' };

const file = JSON.parse(readFileSync(SHAPES, 'utf8')) as { configs: Record<string, Json>; tensors: Record<string, [number[], string]> };

/** The checkpoint's header as a source whose tensors have shapes and dtypes but no values. */
function headerOnly(): WeightSource {
  const refs = new Map<string, WeightRef & { dtype: string }>();
  for (const [name, [shape, dtype]] of Object.entries(file.tensors)) {
    refs.set(name, {
      shape,
      dtype: SAFETENSORS_DTYPES[dtype]!,
      read: () => {
        throw new Error(`${name} has no values in this test`);
      },
    });
  }
  return { has: (name) => refs.has(name), get: (name) => refs.get(name)!, names: () => [...refs.keys()] };
}

function valuesOf(weights: WeightSource, prefixes?: string[]): number {
  return weights
    .names()
    .filter((n) => !prefixes || prefixes.some((p) => n.startsWith(p)))
    .reduce((sum, n) => sum + elementCount(weights.get(n).shape), 0);
}

/** Every value of the component is in the graph once (weightBytes adds at most 64 bytes of alignment per tensor). */
function usesAll(graphBytes: number, weights: WeightSource, bytesPerValue: number, what: string, prefixes?: string[]): void {
  const values = valuesOf(weights, prefixes);
  const count = weights.names().filter((n) => !prefixes || prefixes.some((p) => n.startsWith(p))).length;
  assert.ok(
    graphBytes >= values * bytesPerValue && graphBytes < values * bytesPerValue + 64 * count,
    `${what}: ${graphBytes} bytes for ${values} values`,
  );
}

test('SDXL base shapes: detected as SDXL base, epsilon, every tensor mapped but the two buffers real files carry', () => {
  const raw = headerOnly();
  assert.equal(classifyCheckpoint(raw), 'sdxl');
  const detection = detectCheckpoint(raw, { path: 'sd_xl_base_1.0.safetensors' });
  assert.deepEqual([detection.family, detection.prediction, detection.predictionSource], ['sdxl', 'epsilon', 'default']);
  const mapped = mapSgmCheckpoint(raw);
  assert.deepEqual(mapped.unused.sort(), [
    'conditioner.embedders.0.transformer.text_model.embeddings.position_ids',
    'conditioner.embedders.1.model.logit_scale',
  ]);
  // UNet 2.57 G values, bigG with all 32 layers and its projection 695 M, CLIP-L 123 M.
  assert.equal(valuesOf(mapped.unet), 2_567_463_684);
  assert.equal(valuesOf(mapped.textEncoder2), 694_659_840);
  assert.equal(valuesOf(mapped.textEncoder), 123_060_480);
});

test("SDXL base shapes: the configs inferred from them are Stability's", () => {
  const mapped = mapSgmCheckpoint(headerOnly());
  const configs = inferSdxlConfigs(mapped, 'epsilon');
  for (const [key, value] of Object.entries(file.configs.unet!)) assert.deepEqual(configs.unet[key], value, `unet ${key}`);
  for (const [key, value] of Object.entries(file.configs.vae!)) assert.deepEqual(configs.vae[key], value, `vae ${key}`);
  for (const [key, value] of Object.entries(file.configs.text_encoder!))
    assert.deepEqual(configs.textEncoder[key], value, `text_encoder ${key}`);
  for (const [key, value] of Object.entries(file.configs.text_encoder_2!))
    assert.deepEqual(configs.textEncoder2?.[key], value, `text_encoder_2 ${key}`);
  assert.equal(configs.scheduler._class_name, 'EulerDiscreteScheduler');
});

test('SDXL base shapes: fp16 graphs of every component accept every tensor and use all of them', () => {
  const mapped = mapSgmCheckpoint(headerOnly());
  const configs = inferSdxlConfigs(mapped, 'epsilon');
  const opts = { float: 'float16', attention: 'mha' } as const;
  usesAll(buildUNet(mapped.unet, configs.unet as never, opts).weightBytes(), mapped.unet, 2, 'unet');
  usesAll(
    buildTextEncoder(mapped.textEncoder, configs.textEncoder as never, opts, { hiddenStates: true }).weightBytes(),
    mapped.textEncoder,
    2,
    'text_encoder',
  );
  usesAll(
    buildTextEncoder(mapped.textEncoder2, configs.textEncoder2 as never, opts, { projection: true, hiddenStates: true }).weightBytes(),
    mapped.textEncoder2,
    2,
    'text_encoder_2',
  );
  // The VAE stays fp32 in fp16 imports (force_upcast).
  const fp32 = { float: 'float32', attention: 'mha' } as const;
  usesAll(buildVaeDecoder(mapped.vae, configs.vae as never, fp32).weightBytes(), mapped.vae, 4, 'vae_decoder', [
    'decoder.',
    'post_quant_conv.',
  ]);
  usesAll(buildVaeEncoder(mapped.vae, configs.vae as never, fp32).weightBytes(), mapped.vae, 4, 'vae_encoder', ['encoder.', 'quant_conv.']);
});
