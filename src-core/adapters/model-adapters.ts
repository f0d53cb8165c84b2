// One loaded model's LoRAs and embeddings: for a request, the prompt's <lora:...> tags are read and removed, the
// embeddings it names are found, and the model is swapped for one whose UNet and text encoders carry them. Each
// adapted component is a session made from a small patched graph (onnx-patch.ts) and kept, so a repeated set costs
// nothing. Each component keeps `keep` sessions open, its base's included (session-slots.ts): by default an adapted
// UNet takes the base UNet's place, and the base is opened again when a prompt without LoRAs needs it.
import * as ort from 'onnxruntime-node';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StableDiffusionModel } from '../model/model.ts';
import {
  componentSession,
  firstLine,
  sessionOptions,
  type ComponentSession,
  type ExecutionProvider,
  type OutputPlace,
} from '../model/session.ts';
import { UNET_CUDA_FOLDER } from '../model/unet-folder.ts';
import { ModelError } from '../model/errors.ts';
import { componentCacheDir, evict, fileIdentity, keyOf, touch } from './cache-folder.ts';
import { SessionSlots } from './session-slots.ts';
import { setEmbeddingsOf, type EmbeddingMatcher } from './embedding-tokens.ts';
import type { Embedding } from './embedding-file.ts';
import { embeddingPart, matcherOf, ModelEmbeddings, vectorCount } from './model-embeddings.ts';
import { embeddingShortHash, formatHashList, loraShortHash } from './hashes.ts';
import { LayerTable } from './layer-names.ts';
import { AdapterLibrary } from './library.ts';
import { loraBaseModel, readLoraFile, type LoraComponent, type LoraContents } from './lora-file.ts';
import { describeReport, LoraMatchError, mergeLoras, type ComponentTables, type LoraUse } from './lora-merge.ts';
import { componentWeights, readModelProto, writePatchedModel, type ComponentPatch, type ComponentWeights } from './onnx-patch.ts';
import { placeOnCudaGraph } from './cuda-graph-deltas.ts';
import { externalDataOf } from '../onnx/write-model.ts';
import { ignoredLoraArguments, loraCalls, otherNetworks, parseExtraNetworks, type LoraCall } from './prompt-tags.ts';
import { checkHiresLoras } from './hires-tags.ts';
import type { SafetensorsFile } from '../import/safetensors.ts';

export interface AdapterSettings {
  loraDirs: string[];
  embeddingDirs: string[];
  /** Where adapted graphs are written (small files beside a hard link to each weights file). */
  cacheRoot: string;
  /**
   * Sessions kept open per component, the base's included (default 1: each is a full copy of the component's
   * weights). A model that cannot reopen its components (one not loaded from a folder) keeps its base beside these.
   */
  keep?: number;
}

export interface PreparedAdapters {
  model: StableDiffusionModel;
  /** The prompt without its extra-network tags, for the text encoder. */
  prompt: string;
  notes: string[];
  /** "Lora hashes" and "TI hashes" for the PNG parameters. */
  facts: { loraHashes?: string; tiHashes?: string };
  /** '' for the unadapted text encoders; encodings made with different text encoders must not be shared. */
  textKey: string;
}

/** A graph that adapted graphs are made from: its folder, its proto (weights external), and its weights' files. */
interface GraphFiles {
  dir: string;
  proto: ReturnType<typeof readModelProto>;
  weights: ComponentWeights;
  dataFiles: string[];
}

/** A component's own graph, with the table that matches LoRA modules to its weights. */
interface ComponentInfo extends GraphFiles {
  table: LayerTable;
}

function graphFiles(dir: string): GraphFiles {
  const proto = readModelProto(join(dir, 'model.onnx'));
  return { dir, proto, weights: componentWeights(proto), dataFiles: externalFiles(proto) };
}

function externalFiles(proto: GraphFiles['proto']): string[] {
  const files = new Set<string>();
  for (const t of proto.graph?.initializer ?? []) {
    const location = externalDataOf(t)?.location;
    if (location) files.add(location);
  }
  return [...files];
}

/**
 * Options for an adapted component's session. onnxruntime's NCHWc layout pass would add about 30 CPU s to each new
 * LoRA set on an SD 1.5 UNet (35 CPU s instead of 4.4), for steps about 6% faster (64x64 latent, batch 2); the base
 * sessions, made once per model, keep it.
 */
export function adaptedSessionOptions(provider: ExecutionProvider, outputs: OutputPlace = 'host'): ort.InferenceSession.SessionOptions {
  const options = sessionOptions(provider, outputs);
  options.extra = { ...(options.extra ?? {}), optimization: { disable_specified_optimizers: 'NchwcTransformer' } };
  return options;
}

const TOKEN_TABLE = 'text_model.embeddings.token_embedding.weight';

export class ModelAdapters {
  readonly library: AdapterLibrary;
  private readonly components = new Map<string, ComponentInfo>();
  /** The CUDA UNet graph (unet_cuda/), read when the model runs it and a LoRA first changes the UNet. */
  private cudaUNet?: GraphFiles;
  private readonly slots: SessionSlots;
  /** Sessions of each component open at once (settings.keep, at least 1). */
  private readonly keep: number;
  private readonly models = new Map<string, { model: StableDiffusionModel; notes: string[] }>();
  private readonly loraFiles = new Map<string, { contents: LoraContents; file: SafetensorsFile }>();
  private readonly embeddings: ModelEmbeddings;

  constructor(
    readonly base: StableDiffusionModel,
    readonly settings: AdapterSettings,
  ) {
    this.library = new AdapterLibrary(settings.loraDirs, settings.embeddingDirs);
    this.embeddings = new ModelEmbeddings(base, this.library);
    this.keep = Math.max(1, settings.keep ?? 1);
    this.slots = new SessionSlots(base, this.keep, (closed) => {
      for (const [key, { model }] of this.models) {
        if (model.unet === closed || model.textEncoders.some((p) => p.session === closed)) this.models.delete(key);
      }
    });
  }

  async prepare(request: {
    prompt: string;
    negativePrompt: string;
    hires?: { prompt?: string; negativePrompt?: string };
  }): Promise<PreparedAdapters> {
    const { prompt, tags } = parseExtraNetworks(request.prompt);
    checkHiresLoras(request.prompt, request.hires?.prompt);
    const notes = otherNetworks(tags).map((t) => `${t} is not a LoRA; removed from the prompt (this app has no hypernetworks)`);
    if (parseExtraNetworks(request.negativePrompt).tags.length > 0)
      notes.push("the negative prompt's <...> tags are read as text, as A1111 reads them (LoRAs apply from the prompt)");
    const calls = loraCalls(tags);
    notes.push(...ignoredLoraArguments(tags));
    const loras = calls.map((call) => ({ call, file: this.library.findLora(call.name) }));
    // Embeddings named only in hires fix's own prompts are loaded too (its prompt without its tags, as the prompt).
    const hiresTexts = [parseExtraNetworks(request.hires?.prompt ?? '').prompt, request.hires?.negativePrompt ?? ''].filter(
      (t) => t !== '',
    );
    const embeddings = this.embeddings.used([prompt, request.negativePrompt, ...hiresTexts], notes);
    if (loras.length === 0 && embeddings.length === 0) {
      for (const component of this.present()) await this.slots.base(component);
      return { model: this.base, prompt, notes, facts: {}, textKey: '' };
    }

    const keys = this.setKeys(loras, embeddings);
    const setKey = keyOf(Object.values(keys));
    let adapted = this.models.get(setKey);
    if (adapted) {
      // Its adapted sessions are open (a model is forgotten when one of them closes); a base it uses may not be.
      for (const component of this.present()) {
        if (keys[component] === '') await this.slots.base(component);
        else this.slots.touch(component, keys[component]);
      }
    } else {
      adapted = await this.adapt(loras, embeddings, keys);
      this.models.set(setKey, adapted);
      while (this.models.size > 4 * this.keep) this.models.delete(this.models.keys().next().value!);
    }
    return {
      model: adapted.model,
      prompt,
      notes: [...notes, ...adapted.notes],
      textKey: keys.text_encoder + keys.text_encoder_2,
      facts: {
        loraHashes: formatHashList(
          loras.map(({ call, file }) => ({ name: call.name, hash: loraShortHash(file.path, this.loraFile(file.path).contents.metadata) })),
        ),
        tiHashes: formatHashList(embeddings.map((e) => ({ name: e.name, hash: embeddingShortHash(e.path) }))),
      },
    };
  }

  async dispose(): Promise<void> {
    this.models.clear();
    for (const { file } of this.loraFiles.values()) file.close();
    this.loraFiles.clear();
    await this.slots.dispose();
  }

  /** The positions each embedding this model's prompts can name takes (ids all 0), for the prompt's token counter. */
  embeddingLayout(): EmbeddingMatcher {
    return this.embeddings.layout();
  }

  private setKeys(loras: Array<{ call: LoraCall; file: { path: string } }>, embeddings: Embedding[]): Record<LoraComponent, string> {
    const part = (component: LoraComponent, weight: (c: LoraCall) => number, withEmbeddings: boolean): string => {
      const used = loras
        .filter(({ call }) => weight(call) !== 0)
        .map(({ call, file }) => [fileIdentity(file.path), weight(call), ...(call.dyn === undefined ? [] : [call.dyn])]);
      const rows = withEmbeddings ? embeddings.map((e) => fileIdentity(e.path)) : [];
      return used.length === 0 && rows.length === 0 ? '' : keyOf([component, used, rows]);
    };
    return {
      unet: part('unet', (c) => c.unet, false),
      text_encoder: part('text_encoder', (c) => c.te, true),
      text_encoder_2: this.base.textEncoders.length > 1 ? part('text_encoder_2', (c) => c.te, true) : '',
    };
  }

  private async adapt(
    loras: Array<{ call: LoraCall; file: { path: string } }>,
    embeddings: Embedding[],
    keys: Record<LoraComponent, string>,
  ): Promise<{ model: StableDiffusionModel; notes: string[] }> {
    const notes: string[] = [];
    const present = this.present();
    const tables: ComponentTables = {};
    for (const component of present) tables[component] = this.component(component).table;
    const uses: LoraUse[] = loras.map(({ call, file }) => ({
      name: call.name,
      ...this.loraFile(file.path),
      te: call.te,
      unet: call.unet,
      dyn: call.dyn,
    }));
    const missing = present.filter((c) => keys[c] !== '' && !this.slots.has(c, keys[c]));
    const { deltas, reports } = missing.length > 0 || uses.length > 0 ? mergeLoras(uses, tables) : { deltas: {}, reports: [] };
    for (const report of reports) {
      if (report.matched === 0) {
        throw new LoraMatchError(
          `LoRA ${report.name} matches none of this model's layers (made for another base model?): ${describeReport(report)}`,
        );
      }
      const line = describeReport(report);
      if (line) notes.push(line + this.otherFamily(uses.find((u) => u.name === report.name)?.contents.metadata ?? {}));
    }
    const embeddingIds = new Map<string, number>();
    const sessionOf = async (component: LoraComponent): Promise<ComponentSession> => {
      if (keys[component] === '') return this.slots.base(component);
      const patch: ComponentPatch = { deltas: deltas[component] ?? [] };
      if (component !== 'unet' && embeddings.length > 0) patch.tokenRows = this.tokenRows(component, embeddings, embeddingIds);
      return this.slots.adaptedSession(component, keys[component], () => this.open(component, keys[component], patch, notes));
    };
    const unet = await sessionOf('unet');
    const textEncoders = [];
    for (const part of this.base.textEncoders) textEncoders.push({ ...part, session: await sessionOf(part.component) });
    const model: StableDiffusionModel = {
      ...this.base,
      unet,
      textEncoder: textEncoders[0]?.session ?? this.base.textEncoder,
      textEncoders,
      fallbacks: [],
      dispose: async () => undefined,
    };
    if (embeddings.length > 0) {
      const vocab = this.component('text_encoder').weights.dims.get(TOKEN_TABLE)![0];
      setEmbeddingsOf(model, matcherOf(this.base.tokenizer, embeddings, vocab));
    }
    return { model, notes };
  }

  /** The rows of the used embeddings for one text encoder, in order (the ids the chunker gives them). */
  private tokenRows(component: LoraComponent, embeddings: Embedding[], ids: Map<string, number>): ComponentPatch['tokenRows'] {
    const hidden = this.component(component).weights.dims.get(TOKEN_TABLE)?.[1];
    if (hidden === undefined)
      throw new ModelError(component, `has no ${TOKEN_TABLE} initializer; embeddings need a model imported by this app`);
    const count = embeddings.reduce((sum, e) => sum + vectorCount(e), 0);
    const rows = new Float32Array(count * hidden);
    let offset = 0;
    for (const e of embeddings) {
      const part = embeddingPart(component, this.base.textEncoders.length)
        .map((p) => e.parts[p])
        .find((v) => v?.width === hidden)!;
      rows.set(part.vectors, offset * hidden);
      ids.set(e.name, offset);
      offset += part.count;
    }
    return { initializer: TOKEN_TABLE, count, rows };
  }

  /** Why much of a LoRA does not apply, where its metadata says it was made for the other family (SDXL or not). */
  private otherFamily(metadata: Readonly<Record<string, string>>): string {
    const base = loraBaseModel(metadata);
    if (base === undefined || (base === 'SDXL') === (this.base.info.family === 'sdxl')) return '';
    return ` (it was made for ${base}, and this model is ${this.base.info.family === 'sdxl' ? 'SDXL' : 'SD 1 or SD 2'})`;
  }

  private present(): LoraComponent[] {
    return ['unet', ...this.base.textEncoders.map((p) => p.component)];
  }

  /**
   * The adapted session of a component. Where the model runs the CUDA UNet graph, the UNet's changes are moved into
   * that graph's layout (cuda-graph-deltas.ts); if that fails, the portable graph takes them, with a note.
   */
  private async open(component: LoraComponent, key: string, patch: ComponentPatch, notes: string[]): Promise<ComponentSession> {
    if (component === 'unet' && this.base.info.unetGraph === 'cuda') {
      try {
        const cuda = (this.cudaUNet ??= graphFiles(join(this.base.info.dir, UNET_CUDA_FOLDER)));
        return await this.openPatched(component, cuda, key, { deltas: placeOnCudaGraph(patch.deltas, cuda.weights, cuda.proto) }, notes);
      } catch (error) {
        notes.push(
          `the LoRA set could not be applied to ${UNET_CUDA_FOLDER}/, so the portable UNet runs it: ${firstLine((error as Error).message)}`,
        );
      }
    }
    return this.openPatched(component, this.component(component), key, patch, notes);
  }

  private async openPatched(component: LoraComponent, graph: GraphFiles, key: string, patch: ComponentPatch, notes: string[]) {
    const dir = componentCacheDir(this.settings.cacheRoot, graph.dir, graph.dataFiles, notes);
    const path = existsSync(join(dir, `${key}.onnx`))
      ? join(dir, `${key}.onnx`)
      : writePatchedModel(graph.proto, graph.weights, patch, dir, key);
    touch(dir, key);
    evict(dir, 8);
    const outputs = component === 'unet' && this.base.latentsOnDevice ? 'device' : 'host'; // as the base model's UNet
    return componentSession(component, await ort.InferenceSession.create(path, adaptedSessionOptions(this.base.provider, outputs)));
  }

  private component(component: string): ComponentInfo {
    let info = this.components.get(component);
    if (!info) {
      const files = graphFiles(join(this.base.info.dir, component));
      const layersPerBlock = component === 'unet' ? unetLayersPerBlock(files.dir) : undefined;
      info = { ...files, table: new LayerTable(component, files.weights, { layersPerBlock }) };
      this.components.set(component, info);
    }
    return info;
  }

  private loraFile(path: string): { contents: LoraContents; file: SafetensorsFile } {
    const key = fileIdentity(path);
    let entry = this.loraFiles.get(key);
    if (!entry) {
      entry = readLoraFile(path);
      this.loraFiles.set(key, entry);
    }
    return entry;
  }
}

function unetLayersPerBlock(dir: string): number | undefined {
  try {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { layers_per_block?: unknown };
    return typeof config.layers_per_block === 'number' ? config.layers_per_block : undefined;
  } catch {
    return undefined; // no config: LDM-style names cannot be matched, diffusers-style ones still are
  }
}
