// The app's LoRA and embedding folders, in the data folder (loras/, embeddings/; subfolders are searched too), and
// where adapted graphs are cached (cache/adapted-models: small files beside hard links to the models' weights).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface AdapterFolders {
  loraDirs: string[];
  embeddingDirs: string[];
  cacheRoot: string;
}

/** The folders, created when missing so that the user sees where files go (a read-only data folder is left as it is). */
export function adapterFolders(dataDir: string): AdapterFolders {
  const folders = { loraDirs: [join(dataDir, 'loras')], embeddingDirs: [join(dataDir, 'embeddings')], cacheRoot: join(dataDir, 'cache', 'adapted-models') };
  for (const dir of [...folders.loraDirs, ...folders.embeddingDirs]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      // Listing an absent folder finds nothing; the data folder's own checks say why it cannot be written.
    }
  }
  return folders;
}
