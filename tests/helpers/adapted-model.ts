// The model the LoRA and embedding tests generate with: a fixture imported from its diffusers folder into a new
// temporary folder, loaded on the CPU, given adapter folders (the adapted sessions cached in that folder).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { attachAdapters } from '../../src-core/adapters/apply.ts';
import { importModel } from '../../src-core/import/importer.ts';
import { loadModel, type StableDiffusionModel } from '../../src-core/model/model.ts';

export interface AdapterFolders {
  loraDirs: string[];
  embeddingDirs: string[];
}

export interface AdaptedModel {
  /** The temporary folder: the imported model, the adapters' cache, and room for files a test writes. */
  work: string;
  model: StableDiffusionModel;
  /** Gives the model other adapter folders (the same cache). */
  attach(folders: AdapterFolders): void;
  /** Frees the model and removes the temporary folder. */
  close(): Promise<void>;
}

/** `folders` may name places in the temporary folder, which it is given. */
export async function importWithAdapters(diffusersDir: string, folders: (work: string) => AdapterFolders): Promise<AdaptedModel> {
  const work = mkdtempSync(join(tmpdir(), 'adapted-model-'));
  let model: StableDiffusionModel | undefined;
  try {
    // Named as the fixture is (sd1, sdxl: the folder above diffusers/), as the PNG parameters then say.
    const imported = await importModel(diffusersDir, { out: join(work, basename(dirname(diffusersDir))) });
    model = await loadModel(imported.dir, { provider: 'cpu' });
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  const loaded = model;
  const attach = (f: AdapterFolders) => attachAdapters(loaded, { ...f, cacheRoot: join(work, 'cache') });
  attach(folders(work));
  return {
    work,
    model: loaded,
    attach,
    close: async () => {
      await loaded.dispose();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
