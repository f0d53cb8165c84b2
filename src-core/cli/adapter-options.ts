// The generate command's LoRA and embedding folders (--lora-dir, --embeddings-dir), and where adapted graphs are
// cached: beside the import cache (RESTART_STUDIO_ADAPTERS overrides it), so that it is usually on the same disk as
// imported models and their weights can be hard-linked rather than copied.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { attachAdapters } from '../adapters/apply.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { stringOptions } from './string-options.ts';

export const ADAPTER_OPTIONS = stringOptions('lora-dir', 'embeddings-dir');

export const ADAPTER_HELP = `  --lora-dir DIR         a folder of LoRA files (.safetensors: kohya / A1111, LoCon, PEFT), used by
                         <lora:NAME:WEIGHT> or <lora:NAME:TE:UNET> in the prompt (NAME: the file name; subfolders are searched too)
  --embeddings-dir DIR   a folder of textual-inversion embeddings (.safetensors, .pt), used where the prompt names
                         one (its file name)
`;

export interface AdapterFolders {
  loraDirs: string[];
  embeddingDirs: string[];
}

/** The folders, each refused in words unless it is an existing folder (else every LoRA would be "unknown"). */
export function adapterFolders(values: { 'lora-dir'?: string; 'embeddings-dir'?: string }): AdapterFolders {
  const folder = (option: string, dir: string | undefined): string[] => {
    if (dir === undefined) return [];
    if (dir.trim() === '') throw new Error(`--${option} needs a folder (got "${dir}")`);
    let isDirectory;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`--${option} ${dir}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such folder' : (error as Error).message}`);
    }
    if (!isDirectory) throw new Error(`--${option} ${dir} is not a folder`);
    return [resolve(dir)];
  };
  return { loraDirs: folder('lora-dir', values['lora-dir']), embeddingDirs: folder('embeddings-dir', values['embeddings-dir']) };
}

export function adapterCacheRoot(): string {
  if (process.env.RESTART_STUDIO_ADAPTERS) return resolve(process.env.RESTART_STUDIO_ADAPTERS);
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'restart-studio', 'adapted-models');
}

/** Gives the loaded model the command line's folders (a model without them still refuses <lora:...> in words). */
export function attachCliAdapters(model: StableDiffusionModel, folders: AdapterFolders): void {
  if (folders.loraDirs.length === 0 && folders.embeddingDirs.length === 0) return;
  attachAdapters(model, { ...folders, cacheRoot: adapterCacheRoot() });
}
