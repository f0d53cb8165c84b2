// The importer's test models, made by diffusers' and transformers' own classes (tests/fixtures/import: tiny SD 1 /
// SD 2; tests/fixtures/sdxl: tiny SDXL; diffusers folders and single-file checkpoints), and the checks the parity
// tests make with them: the outputs diffusers computed (references/<model>.json) and the folders' own tensors.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHalfBits, toHalfBits } from '../../src-core/model/half.ts';
import type { ComponentConfigs } from '../../src-core/import/checkpoint-configs.ts';
import { openDiffusersFolder, type DiffusersFolder } from '../../src-core/import/diffusers-folder.ts';
import type { WeightRef, WeightSource } from '../../src-core/import/weights.ts';

export const IMPORT_FIXTURES = fileURLToPath(new URL('../fixtures/import/', import.meta.url));
export const SDXL_FIXTURES = fileURLToPath(new URL('../fixtures/sdxl/', import.meta.url));

/** The SD models with diffusers reference outputs (tests/fixtures/import/references/<model>.json). */
export const REFERENCE_MODELS = ['sd1', 'sd2'] as const;

/** A test's skip reason while the model's reference outputs have not been made. */
export function referenceSkip(model: string): string | false {
  const path = join(IMPORT_FIXTURES, 'references', `${model}.json`);
  return existsSync(path) ? false : `no diffusers reference ${path} yet`;
}

/** Runs `body` with a diffusers folder opened, and closes it afterwards. */
export async function withDiffusersFolder<T>(dir: string, body: (folder: DiffusersFolder) => T | Promise<T>): Promise<T> {
  const folder = openDiffusersFolder(dir);
  try {
    return await body(folder);
  } finally {
    folder.close();
  }
}

/** Config keys that the shapes of a single-file checkpoint determine, as diffusers' configs name them. */
const TEXT_SIZE_KEYS = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings', 'vocab_size', 'hidden_act'];
const SIZE_KEYS: Record<Exclude<keyof ComponentConfigs, 'scheduler'>, string[]> = {
  unet: [
    'block_out_channels',
    'layers_per_block',
    'cross_attention_dim',
    'use_linear_projection',
    'down_block_types',
    'up_block_types',
    'in_channels',
    'out_channels',
  ],
  vae: ['block_out_channels', 'layers_per_block', 'latent_channels'],
  textEncoder: TEXT_SIZE_KEYS,
  textEncoder2: TEXT_SIZE_KEYS,
};

/** Configs inferred from a checkpoint agree with a diffusers folder's on the sizes, and on the `extra` keys given. */
export function sameSizes(actual: ComponentConfigs, expected: ComponentConfigs, extra: Partial<typeof SIZE_KEYS> = {}): void {
  for (const [component, keys] of Object.entries(SIZE_KEYS) as Array<[keyof typeof SIZE_KEYS, string[]]>) {
    if (actual[component] === undefined && expected[component] === undefined) continue; // no second text encoder
    for (const key of [...keys, ...(extra[component] ?? [])]) {
      assert.deepEqual(actual[component]?.[key], expected[component]?.[key], `${component} ${key}`);
    }
  }
}

/** The same tensor names, shapes and values (fp16: the reference's rounded to half precision), in both sources. */
export function sameWeights(mapped: WeightSource | undefined, reference: WeightSource | undefined, component: string, fp16: boolean): void {
  assert.ok(mapped, `${component}: mapped`);
  assert.ok(reference, `${component}: in the reference`);
  assert.deepEqual([...mapped.names()].sort(), [...reference.names()].sort(), `${component}: the same tensor names`);
  for (const name of reference.names()) {
    const a: WeightRef = mapped.get(name),
      b: WeightRef = reference.get(name);
    assert.deepEqual(a.shape, b.shape, `${component} ${name}: shape`);
    const expected = fp16 ? fromHalfBits(toHalfBits(b.read())) : b.read();
    assert.deepEqual(a.read(), expected, `${component} ${name}: values`);
  }
}
