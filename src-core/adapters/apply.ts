// LoRAs and embeddings in the pipeline: a loaded model gets its folders (attachAdapters), each request is prepared
// with them (prepareAdapters: the model that carries the prompt's LoRAs and embeddings, the prompt without its tags,
// the PNG facts), and prompt encodings are cached per text-encoder adaptation (encodingsFor).
import type { StableDiffusionModel } from '../model/model.ts';
import { RequestError } from '../contract/generate.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import { AdapterLibrary, UnknownAdapterError } from './library.ts';
import { EmbeddingFileError } from './embedding-file.ts';
import { LoraFileError } from './lora-file.ts';
import { LoraMatchError } from './lora-merge.ts';
import { ModelAdapters, type AdapterSettings, type PreparedAdapters } from './model-adapters.ts';
import { loraCalls, parseExtraNetworks, TagSyntaxError } from './prompt-tags.ts';
import { checkHiresLoras } from './hires-tags.ts';

export { ModelAdapters, type AdapterSettings, type PreparedAdapters } from './model-adapters.ts';

/** Each loaded model's adapters (attachAdapters), so generate, grids and sweeps all find them. */
const attached = new WeakMap<StableDiffusionModel, ModelAdapters>();

/**
 * Gives a loaded model its LoRA and embedding folders. Its dispose() then also closes the adapted sessions.
 * Calling it again replaces the folders (and closes what the previous settings opened).
 */
export function attachAdapters(model: StableDiffusionModel, settings: AdapterSettings): ModelAdapters {
  const previous = attached.get(model);
  const adapters = new ModelAdapters(model, settings);
  attached.set(model, adapters);
  if (previous) void previous.dispose();
  else {
    const dispose = model.dispose.bind(model);
    model.dispose = async () => {
      await attached.get(model)?.dispose();
      await dispose();
    };
  }
  return adapters;
}

export function adaptersOf(model: StableDiffusionModel): ModelAdapters | undefined {
  return attached.get(model);
}

/**
 * The model and prompt one request runs with. A model without folders still has its tags removed, and a LoRA
 * it names is an unknown one (the error says that no folder is set). Problems are RequestErrors, in words.
 */
export async function prepareAdapters(
  model: StableDiffusionModel,
  request: { prompt: string; negativePrompt: string; hires?: { prompt?: string; negativePrompt?: string } },
): Promise<PreparedAdapters> {
  const adapters = attached.get(model) ?? new ModelAdapters(model, { loraDirs: [], embeddingDirs: [], cacheRoot: '' });
  try {
    return await adapters.prepare(request);
  } catch (error) {
    if (
      error instanceof TagSyntaxError ||
      error instanceof UnknownAdapterError ||
      error instanceof LoraMatchError ||
      error instanceof LoraFileError ||
      error instanceof EmbeddingFileError
    ) {
      throw new RequestError(error.message);
    }
    throw error;
  }
}

const scopedEncodings = new WeakMap<Map<string, TextConditioning>, Map<string, Map<string, TextConditioning>>>();

/** A prompt-encoding cache for one text-encoder adaptation (the same text encodes differently under another LoRA). */
export function encodingsFor(cache: Map<string, TextConditioning> | undefined, textKey: string): Map<string, TextConditioning> | undefined {
  if (!cache || textKey === '') return cache;
  let scopes = scopedEncodings.get(cache);
  if (!scopes) scopedEncodings.set(cache, (scopes = new Map()));
  let scope = scopes.get(textKey);
  if (!scope) scopes.set(textKey, (scope = new Map()));
  return scope;
}

/** Refuses, before a job is queued, a prompt whose tags A1111 would refuse or whose LoRAs are not there. */
export function checkAdapterNames(model: StableDiffusionModel, request: { prompt: string; hires?: { prompt?: string } }): void {
  const adapters = attached.get(model);
  try {
    checkHiresLoras(request.prompt, request.hires?.prompt);
    const calls = loraCalls(parseExtraNetworks(request.prompt).tags);
    const library = adapters?.library ?? new AdapterLibrary([], []);
    for (const call of calls) library.findLora(call.name);
  } catch (error) {
    if (error instanceof TagSyntaxError || error instanceof UnknownAdapterError) throw new RequestError(error.message);
    throw error;
  }
}
