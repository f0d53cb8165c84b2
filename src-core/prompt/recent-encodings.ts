// The prompt encodings a loaded model made lately. Generating the same prompt again (Generate pressed again, a new
// seed, a batch count) then skips the tokenizer and the text encoder, as A1111 keeps its last conditioning. Grids and
// sweeps keep their own cache for the request (GenerateHooks.encodings); this one outlives requests, so it is bounded.
import type { TextConditioning } from '../guidance/unet.ts';
import type { StableDiffusionModel } from '../model/model.ts';

/** A Map that keeps its `capacity` most recently used entries (get and set both count as a use). */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    for (const oldest of this.keys()) {
      if (this.size <= this.capacity) break;
      this.delete(oldest);
    }
    return this;
  }
}

/** Encodings per model, then per text-encoder adaptation (textKey: the same text encodes differently under a LoRA). */
const recent = new WeakMap<StableDiffusionModel, RecentMap<string, RecentMap<string, TextConditioning>>>();
/** Adaptations and texts kept per model: an SDXL encoding of three chunks is about 2 MB, so at most some 30 MB. */
const ADAPTATIONS = 2,
  TEXTS = 8;

/** The model's recent encodings made with the text encoders of adaptation `textKey` ('' for none). */
export function recentEncodings(model: StableDiffusionModel, textKey: string): Map<string, TextConditioning> {
  let scopes = recent.get(model);
  if (!scopes) recent.set(model, (scopes = new RecentMap(ADAPTATIONS)));
  let scope = scopes.get(textKey);
  if (!scope) scopes.set(textKey, (scope = new RecentMap(TEXTS)));
  return scope;
}
