// The app's LoRA and embedding folders, in the data folder (loras/, embeddings/; subfolders are searched too), and
// where adapted graphs are cached (cache/adapted-models: small files beside hard links to the models' weights).
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AdapterLibrary, type AdapterFile } from '../src-core/adapters/library.ts';
import type { AdapterEntry } from '../src-core/contract/adapters.ts';
import type { Results } from '../src-core/contract/api.ts';

export interface AdapterFolders {
  loraDirs: string[];
  embeddingDirs: string[];
  cacheRoot: string;
}

/** The folders, created when missing so that the user sees where files go (a read-only data folder is left as it is). */
export function adapterFolders(dataDir: string): AdapterFolders {
  const folders = {
    loraDirs: [join(dataDir, 'loras')],
    embeddingDirs: [join(dataDir, 'embeddings')],
    cacheRoot: join(dataDir, 'cache', 'adapted-models'),
  };
  for (const dir of [...folders.loraDirs, ...folders.embeddingDirs]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      // Listing an absent folder finds nothing; the data folder's own checks say why it cannot be written.
    }
  }
  return folders;
}

/** The adapters.list answer: every LoRA and embedding file in the app's folders, by the name a prompt uses. */
export function listAdapters(dataDir: string): Results['adapters.list'] {
  const folders = adapterFolders(dataDir);
  const library = new AdapterLibrary(folders.loraDirs, folders.embeddingDirs);
  const entry =
    (root: string) =>
    (f: AdapterFile): AdapterEntry => ({
      name: f.name,
      file: relative(root, f.path),
      bytes: f.size,
      ...(f.baseModel ? { baseModel: f.baseModel } : {}),
      ...(f.alias ? { alias: f.alias } : {}),
    });
  return {
    loras: library.loras().map(entry(folders.loraDirs[0]!)),
    embeddings: library.embeddings().map(entry(folders.embeddingDirs[0]!)),
    loraFolder: folders.loraDirs[0]!,
    embeddingFolder: folders.embeddingDirs[0]!,
  };
}
