// The contract's model management: the model list with each model's kind, adding a model (a
// diffusers-ONNX folder in place, or a checkpoint / diffusers folder imported into the cache), import
// progress, cancel and remove. Paths cross the boundary as absolute paths and are checked again on the
// main side (that they exist and what they hold). No Node imports: the renderer shares this file.
import { z } from 'zod';

// POSIX (/x), Windows drive (C:\x, C:/x) and UNC (\\server\share) absolute paths.
const ABSOLUTE_PATH = /^(?:\/|[A-Za-z]:[\\/]|\\\\[^\\])/;

export const AbsolutePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain a NUL character')
  .refine((p) => ABSOLUTE_PATH.test(p), 'must be an absolute path (as /home/me/model.safetensors or C:\\models\\model.safetensors)');

export const PRECISIONS = ['fp32', 'fp16'] as const;
export const PREDICTIONS = ['epsilon', 'v_prediction'] as const;

export const ModelAddSchema = z
  .object({
    /** A .safetensors checkpoint, a diffusers folder, or a diffusers-ONNX folder (added in place). */
    path: AbsolutePathSchema,
    /** The name shown in the picker (the file or folder name when absent). */
    label: z.string().trim().min(1).max(120).optional(),
    /** Import options (ignored for a diffusers-ONNX folder, which is used as it is). */
    precision: z.enum(PRECISIONS).optional(),
    prediction: z.enum(PREDICTIONS).optional(),
    /** A separate VAE .safetensors that replaces the checkpoint's. */
    vae: AbsolutePathSchema.optional(),
    /** A diffusers folder whose configs define the architecture (as diffusers' from_single_file(config=)). */
    config: AbsolutePathSchema.optional(),
  })
  .strict();

export const ImportIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const ModelRequestSchemas = {
  'model.add': ModelAddSchema,
  'model.cancelImport': z.object({ importId: ImportIdSchema }).strict(),
  'model.remove': z.object({ dir: z.string().min(1).max(4096) }).strict(),
  /** Electron only: the native open dialog, for a file (checkpoint) or a folder. */
  'model.browse': z.object({ want: z.enum(['file', 'folder']) }).strict(),
  /** The import running now, if any (a page opened or reconnected mid-import). */
  'model.importStatus': z.object({}).strict(),
  /** The imports waiting for it, in the order they will run. */
  'model.importQueue': z.object({}).strict(),
} as const;

/** Where a model in the list comes from. */
export type ModelOrigin = 'built-in' | 'models-folder' | 'added' | 'imported';

export interface ModelSummary {
  dir: string;
  name: string;
  embedded: boolean;
  origin: ModelOrigin;
  /** SDXL by its second text encoder, else 'SD 1' / 'SD 2' by the text encoder's width; null for other (custom) architectures. */
  family: 'SD 1' | 'SD 2' | 'SDXL' | null;
  prediction: 'epsilon' | 'v_prediction' | null;
  /** The UNet's float type; null when it could not be read. */
  precision: 'fp32' | 'fp16' | null;
  /** Size on disk of the folder's files. */
  bytes: number;
  /** The checkpoint or diffusers folder an imported model was made from. */
  source?: string;
  /** Built-in models and folders in the models folder stay; added and imported ones can be removed. */
  removable: boolean;
}

/** 'queued': waiting for the imports before it (one runs at a time); the others are the running import's. */
export type ImportStage = 'queued' | 'hashing' | 'reading' | 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder' | 'finishing';

export interface ImportProgressEvent {
  importId: string;
  source: string;
  label: string;
  stage: ImportStage;
  /** Bytes of the stage's work (hashing: of the file; otherwise of the weights written, all networks together). */
  bytesDone: number;
  bytesTotal: number;
  /** The whole import's progress, 0..1 (hashing counted as its first tenth). */
  fraction: number;
  /** Seconds left, from the rate so far; null until it can be estimated. */
  etaSeconds: number | null;
  /** Only while queued: the imports to finish before this one starts (the running one included). */
  ahead?: number;
}

export interface ModelResults {
  /**
   * `model`: added in place (or already imported); `importId`: an import started (see import.* events), or queued
   * behind `ahead` others (then its import.progress says stage 'queued' until it starts). `alreadyListed`: the
   * folder was in the list already and nothing was added.
   */
  'model.add': { model?: ModelSummary; alreadyListed?: boolean; importId?: string; ahead?: number; notes: string[] };
  'model.cancelImport': { cancelled: boolean };
  /** `deleted`: the cached import was deleted too (never the user's own files). */
  'model.remove': { removed: boolean; deleted: boolean };
  'model.browse': { path: string | null };
  'model.importStatus': ImportProgressEvent | null;
  'model.importQueue': ImportProgressEvent[];
}

export interface ModelEvents {
  'import.progress': ImportProgressEvent;
  'import.done': { importId: string; model: ModelSummary; notes: string[]; seconds: number; reused: boolean };
  /** Nothing is left in the list or the cache after a failed or cancelled import (one cancelled while queued too). */
  'import.failed': { importId: string; source: string; error: string; cancelled: boolean };
}
