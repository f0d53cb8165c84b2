// What a PNG's parameters need that is not here: the LoRAs its prompt names (with the "Lora hashes" A1111 wrote)
// and the embeddings of its "TI hashes", checked against this app's folders. A LoRA found under another name (the
// same short hash in its kohya metadata) is named; whole files are hashed only where the name matches.
import { openSafetensors } from '../import/safetensors.ts';
import { loraShortHash, embeddingShortHash, parseHashList } from './hashes.ts';
import { AdapterLibrary, type AdapterFile } from './library.ts';
import { loraCalls, parseExtraNetworks } from './prompt-tags.ts';

function storedHash(file: AdapterFile): string | undefined {
  try {
    const opened = openSafetensors(file.path);
    const hash = opened.metadata.sshs_model_hash;
    opened.close();
    return typeof hash === 'string' ? hash.slice(0, 12).toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

function metadataOf(file: AdapterFile): Record<string, string> {
  try {
    const opened = openSafetensors(file.path);
    const metadata = { ...opened.metadata };
    opened.close();
    return metadata;
  } catch {
    return {};
  }
}

const where = (dirs: string[]) => (dirs.length > 0 ? ` (${dirs.join(', ')})` : '');

/** Notes for the form: LoRAs and embeddings the image used that this app does not have (or has in another version). */
export function missingAdapters(
  read: { request: { prompt?: string }; loraHashes?: string; tiHashes?: string },
  folders: { loraDirs: string[]; embeddingDirs: string[] },
): string[] {
  const library = new AdapterLibrary(folders.loraDirs, folders.embeddingDirs);
  const notes: string[] = [];
  const loraHashes = new Map(parseHashList(read.loraHashes ?? '').map((e) => [e.name, e.hash.toLowerCase()]));
  let calls: ReturnType<typeof loraCalls> = [];
  try {
    calls = loraCalls(parseExtraNetworks(read.request.prompt ?? '').tags);
  } catch {
    // A tag with a bad weight is reported when the prompt is used.
  }
  // A file's prompt can name many LoRAs; the first 50 are checked (more is not a real prompt).
  const names = [...new Set([...calls.map((c) => c.name), ...loraHashes.keys()])].slice(0, 50);
  const loras = names.length > 0 ? library.loras() : [];
  for (const name of names) {
    const hash = loraHashes.get(name);
    const found = loras.find((f) => f.name === name || f.alias === name);
    if (found) {
      const here = loraShortHash(found.path, metadataOf(found));
      if (hash && here !== hash) notes.push(`LoRA ${name} here (hash ${here}) is not the file the image was made with (hash ${hash})`);
      continue;
    }
    const renamed = hash ? loras.find((f) => storedHash(f) === hash) : undefined;
    if (renamed)
      notes.push(
        `LoRA ${name} is not in your LoRA folder under that name; ${renamed.name} has its hash (${hash}): use <lora:${renamed.name}:...>`,
      );
    else notes.push(`LoRA ${name}${hash ? ` (hash ${hash})` : ''} is not in your LoRA folder${where(folders.loraDirs)}`);
  }
  const embeddings = read.tiHashes ? library.embeddings() : [];
  for (const { name, hash } of parseHashList(read.tiHashes ?? '').slice(0, 50)) {
    const found = embeddings.find((f) => f.name === name);
    if (!found) notes.push(`embedding ${name} (hash ${hash}) is not in your embeddings folder${where(folders.embeddingDirs)}`);
    else if (embeddingShortHash(found.path) !== hash.toLowerCase())
      notes.push(`embedding ${name} here is not the file the image was made with (hash ${hash})`);
  }
  return notes;
}
