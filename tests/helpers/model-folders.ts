// Builds complete model folders for tests in a temporary directory: a fixture's ONNX files and
// configs plus the real SD 1.5 tokenizer files (with the fixture's pad token), ready to damage.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SD15_TOKENIZER_DIR } from './sd15-files.ts';
import { loadModel, type StableDiffusionModel } from '../../src-core/model/model.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const SD15_TOKENIZER = SD15_TOKENIZER_DIR;

export type Fixture = 'tiny-sd-eps-int64' | 'tiny-sd-v-fp16' | 'tiny-sd-fixed77';

export function modelFolder(fixture: Fixture): string {
  const dir = join(mkdtempSync(join(tmpdir(), `${fixture}-`)), fixture);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  cpSync(SD15_TOKENIZER, join(dir, 'tokenizer'), { recursive: true });
  const overridesPath = join(dir, 'tokenizer-overrides.json');
  if (existsSync(overridesPath)) {
    const overrides = JSON.parse(readFileSync(overridesPath, 'utf8'));
    for (const file of ['tokenizer_config.json', 'special_tokens_map.json']) {
      const path = join(dir, 'tokenizer', file);
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...overrides }, null, 2));
    }
  }
  return dir;
}

/** A fixture's model folder, loaded for `run`, then the model disposed and the folder removed. */
export async function withFixtureModel<T>(fixture: Fixture, run: (model: StableDiffusionModel) => Promise<T>): Promise<T> {
  const dir = modelFolder(fixture);
  const model = await loadModel(dir);
  try {
    return await run(model);
  } finally {
    await model.dispose();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}
