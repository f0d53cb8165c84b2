// Whether the loaded model ignores Clip skip, known before a grid runs: A1111 (and the engine) ignore it on SD 2 and
// SDXL, so a Clip skip axis there would make the same image in every column and the engine refuses it.
import type { AppInfo } from '../../../src-core/contract/api.ts';
import type { ModelSummary } from '../../../src-core/contract/models.ts';

type Family = ModelSummary['family'];

/**
 * The loaded model's family: the model list tells SD 1 from SD 2 (by the text encoder's width); app.info alone says
 * only SDXL or not, so an SD 2 model missing from the list is not known as one.
 */
export function loadedModelFamily(info: Pick<AppInfo, 'model'> | null, models: readonly Pick<ModelSummary, 'dir' | 'family'>[]): Family {
  const dir = info?.model?.dir;
  if (!dir) return null;
  const listed = models.find((m) => m.dir === dir)?.family;
  if (listed) return listed;
  return info?.model?.family === 'sdxl' ? 'SDXL' : null;
}

/** Why this family's models ignore Clip skip, or null where it applies (SD 1) or the family is not known. */
export function clipSkipIgnoredReason(family: Family): string | null {
  if (family === 'SDXL') return 'this SDXL model ignores Clip skip (as in A1111): every column would be the same image';
  if (family === 'SD 2') return 'this SD 2 model ignores Clip skip (as in A1111): every column would be the same image';
  return null;
}

/** The error an axis shows when it is a Clip skip axis on such a model (Run stays off, as the engine would refuse it). */
export function clipSkipAxisError(kind: string, reason: string | null): string | null {
  return kind === 'clipSkip' && reason ? `A Clip skip axis changes nothing here: ${reason}` : null;
}

/** The axis picker's label for a kind: Clip skip says it is ignored where it is. */
export function axisOptionLabel(kind: string, label: string, family: Family): string {
  return kind === 'clipSkip' && clipSkipIgnoredReason(family) ? `${label} (ignored by ${family} models)` : label;
}
