// The embeddings (textual inversion) a model's prompts can name: the embedding folders' files, each read once, sorted
// into those that fit this model's text encoders, those made for another model (their names stay text, with a note,
// as in A1111) and those that cannot be read (refused where a prompt names them).
import type { StableDiffusionModel } from '../model/model.ts';
import { chunkPrompt } from '../prompt/chunks.ts';
import { fileIdentity } from './cache-folder.ts';
import { embeddingMatcher, type EmbeddingMatcher } from './embedding-tokens.ts';
import { EmbeddingFileError, misfitNote, readEmbedding, type Embedding } from './embedding-file.ts';
import type { AdapterLibrary } from './library.ts';

/** The vectors each text encoder takes: SD 1/2's one encoder a plain embedding, SDXL's two their clip_l / clip_g halves. */
export function embeddingPart(component: string, encoders: number): Array<keyof Embedding['parts']> {
  if (encoders === 1) return ['default'];
  return component === 'text_encoder' ? ['clip_l'] : ['clip_g'];
}

export function vectorCount(e: Embedding): number {
  return (e.parts.default ?? e.parts.clip_l ?? e.parts.clip_g)!.count;
}

export function matcherOf(tokenizer: StableDiffusionModel['tokenizer'], embeddings: Embedding[], firstId?: number): EmbeddingMatcher {
  return embeddingMatcher(
    tokenizer,
    embeddings.map((e) => ({ name: e.name, count: vectorCount(e) })),
    firstId,
  );
}

export class ModelEmbeddings {
  private readonly files = new Map<string, Embedding | Error>();

  constructor(
    private readonly base: StableDiffusionModel,
    private readonly library: AdapterLibrary,
  ) {}

  /** The positions each embedding this model's prompts can name takes (ids all 0), for the prompt's token counter. */
  layout(): EmbeddingMatcher {
    return matcherOf(this.base.tokenizer, this.read().fitting);
  }

  /**
   * The embeddings the prompts name, among the folder's files that fit this model's text encoders. A file that cannot
   * be read is refused, naming it, where a prompt names it (else its name would be read as plain text, unsaid).
   */
  used(texts: string[], notes: string[]): Embedding[] {
    const { fitting, unreadable, misfits } = this.read();
    if (fitting.length === 0 && unreadable.length === 0 && misfits.length === 0) return [];
    const entries = [
      ...fitting.map((e) => ({ name: e.name, count: vectorCount(e) })),
      ...unreadable.map((u) => ({ name: u.name, count: 1 })),
      ...misfits.map((e) => ({ name: e.name, count: vectorCount(e) })),
    ];
    const matcher = embeddingMatcher(this.base.tokenizer, entries);
    for (const text of texts) {
      try {
        chunkPrompt(this.base.tokenizer, text, { embeddings: matcher });
      } catch {
        // A prompt the emphasis parser refuses is reported when it is encoded.
      }
    }
    const named = unreadable.find((u) => matcher.used.has(u.name));
    if (named) {
      throw new EmbeddingFileError(
        `the embedding "${named.name}" named in the prompt cannot be read (${named.path}): ${named.error.message}`,
      );
    }
    // As A1111, an embedding made for another model leaves its name as text; said, so that it is not taken for applied.
    const widths = this.base.textEncoders.map((p) => p.hidden);
    notes.push(...misfits.filter((e) => matcher.used.has(e.name)).map((e) => misfitNote(e, widths)));
    return fitting.filter((e) => matcher.used.has(e.name));
  }

  /** The embedding folders' files, each read once: those that fit this model's text encoders, the others, and those unreadable. */
  private read(): {
    fitting: Embedding[];
    misfits: Embedding[];
    unreadable: Array<{ name: string; path: string; error: Error }>;
  } {
    const files = this.library.embeddings();
    const fitting: Embedding[] = [];
    const unreadable: Array<{ name: string; path: string; error: Error }> = [];
    const misfits: Embedding[] = [];
    if (files.length === 0) return { fitting, misfits, unreadable };
    const widths = new Map(this.base.textEncoders.map((p) => [p.component, p.hidden]));
    for (const file of files) {
      const key = fileIdentity(file.path);
      let loaded = this.files.get(key);
      if (!loaded) {
        try {
          loaded = readEmbedding(file.path);
        } catch (error) {
          loaded = error as Error;
        }
        this.files.set(key, loaded);
      }
      if (loaded instanceof Error) {
        unreadable.push({ name: file.name, path: file.path, error: loaded });
        continue;
      }
      const fits = this.base.textEncoders.every((p) =>
        embeddingPart(p.component, this.base.textEncoders.length).some((part) => loaded.parts[part]?.width === widths.get(p.component)),
      );
      (fits ? fitting : misfits).push(loaded);
    }
    return { fitting, misfits, unreadable };
  }
}
