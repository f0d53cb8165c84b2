// The importer's tiny SD 1 checkpoint (tests/fixtures/import/sd1), imported into a temporary folder for one test's use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../../src-core/import/importer.ts';
import { loadModel, type StableDiffusionModel } from '../../src-core/model/model.ts';

const SOURCE = join(import.meta.dirname, '..', 'fixtures', 'import', 'sd1');

export async function withImportedSd1<T>(use: (model: StableDiffusionModel) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), 'imported-sd1-'));
  try {
    const out = join(work, 'model');
    await importModel(join(SOURCE, 'sd1-ldm-fp32.safetensors'), { out, config: join(SOURCE, 'diffusers') });
    const model = await loadModel(out);
    try {
      return await use(model);
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
