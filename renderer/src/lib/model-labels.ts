// Short texts about models: the picker's "SD 1 · eps · fp16 · 2.1 GB", import progress with its ETA.
import type { Params } from '../../../src-core/contract/api.ts';
import type { ImportProgressEvent, ImportStage, ModelSummary } from '../../../src-core/contract/models.ts';

/** 2_132_000_000 -> "2.1 GB" (decimal units, as file managers show sizes). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} bytes`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

const PREDICTION_SHORT: Record<string, string> = { epsilon: 'eps', v_prediction: 'v' };

/** "SD 1 · eps · fp16 · 2.1 GB"; an architecture that is neither SD 1 nor SD 2 reads "custom". */
export function modelKind(m: Pick<ModelSummary, 'family' | 'prediction' | 'precision' | 'bytes'>): string {
  const parts = [m.family ?? 'custom'];
  if (m.prediction) parts.push(PREDICTION_SHORT[m.prediction] ?? m.prediction);
  if (m.precision) parts.push(m.precision);
  parts.push(formatBytes(m.bytes));
  return parts.join(' · ');
}

/** The picker's option: "my-model — SD 1 · eps · fp16 · 2.1 GB", the built-in one marked. */
export function modelOptionLabel(m: ModelSummary): string {
  return `${m.name}${m.embedded ? ' (built-in)' : ''} — ${modelKind(m)}`;
}

const ORIGINS: Record<ModelSummary['origin'], string> = {
  'built-in': 'built in',
  'models-folder': 'in the models folder',
  added: 'added folder, used in place',
  imported: 'imported',
};

export function originText(m: ModelSummary): string {
  return m.source ? `${ORIGINS[m.origin]} from ${m.source}` : ORIGINS[m.origin];
}

export const STAGE_LABELS: Record<ImportStage, string> = {
  queued: 'Waiting',
  hashing: 'Checking the file',
  reading: 'Reading the weights',
  text_encoder: 'Converting the text encoder',
  unet: 'Converting the UNet',
  vae_decoder: 'Converting the VAE decoder',
  vae_encoder: 'Converting the VAE encoder',
  finishing: 'Finishing',
};

/** "about 40 s left", "about 3 min left"; null when there is no estimate yet. */
export function formatEta(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `about ${minutes} min left` : `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** "Converting the UNet · 45% · about 30 s left"; a queued import: "Waiting · 2 imports before it" */
export function importProgressText(p: Pick<ImportProgressEvent, 'stage' | 'fraction' | 'etaSeconds' | 'ahead'>): string {
  if (p.stage === 'queued') {
    const ahead = p.ahead ?? 1;
    return `${STAGE_LABELS.queued} · ${ahead} ${ahead === 1 ? 'import' : 'imports'} before it`;
  }
  const parts = [STAGE_LABELS[p.stage] ?? p.stage, `${Math.floor(Math.min(Math.max(p.fraction, 0), 1) * 100)}%`];
  const eta = formatEta(p.etaSeconds);
  parts.push(eta ?? 'estimating time left…');
  return parts.join(' · ');
}

/** The import options the dialog may send: empty fields are left out, paths trimmed. */
export interface AddModelForm {
  path: string;
  label: string;
  precision: '' | 'fp32' | 'fp16';
  prediction: '' | 'epsilon' | 'v_prediction';
  vae: string;
  config: string;
}

export function emptyAddForm(): AddModelForm {
  return { path: '', label: '', precision: '', prediction: '', vae: '', config: '' };
}

export type AddModelRequest = Params<'model.add'>;

/** model.add's params from the dialog, or what is missing. */
export function addRequest(form: AddModelForm): AddModelRequest | { error: string } {
  const path = form.path.trim();
  if (!path) return { error: 'Enter the path of a checkpoint (.safetensors), a diffusers folder or a diffusers-ONNX folder' };
  const request: AddModelRequest = { path };
  if (form.label.trim()) request.label = form.label.trim();
  if (form.precision) request.precision = form.precision;
  if (form.prediction) request.prediction = form.prediction;
  if (form.vae.trim()) request.vae = form.vae.trim();
  if (form.config.trim()) request.config = form.config.trim();
  return request;
}
