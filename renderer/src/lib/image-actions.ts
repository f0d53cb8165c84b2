// What the user does with an image file or a gallery image: load its parameters into the form (a
// dropped or picked PNG, "Reuse parameters"), delete it, show it in the file manager. Each action
// reports its failure in the studio's error box.
import type { GalleryEntry, ParametersImportResult } from '../../../src-core/contract/api.ts';
import { blobToBase64, bytesToBase64 } from './base64.ts';
import { applyRequest } from './form.ts';
import { applyImg2imgRequest } from './img2img.ts';
import { entryName, removeEntry } from './gallery.ts';
import { importMessage } from './import-message.ts';
import { isPng, parametersPng } from './png.ts';
import type { Studio } from './studio.svelte.ts';

/** Puts parameters png.read found into the form and shows its notes. */
function applyImport(studio: Studio, result: ParametersImportResult, source: string): void {
  studio.notes = importMessage(source, result, studio.info?.model?.name, studio.img2img.source !== null);
  studio.error = null;
  if (!studio.notes.found) return; // nothing to fill: the form stays as it was
  studio.form = applyRequest(studio.form, result.request);
  ({ img2img: studio.img2img, hires: studio.hires } = applyImg2imgRequest(studio.img2img, studio.hires, result.request));
  studio.view = 'generate';
}

/** A dropped or picked file. */
export async function loadPngFile(studio: Studio, file: File): Promise<void> {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (!isPng(bytes)) throw new Error(`"${file.name}" is not a PNG image`);
    const result = await studio.client.call('png.read', { base64: bytesToBase64(bytes) });
    applyImport(studio, result, `"${file.name}"`);
  } catch (error) {
    studio.showError('Could not load parameters from the PNG', error);
  }
}

/** "Reuse parameters" of a gallery entry: its file's parameters, or its parameters text when the file cannot be fetched. */
export async function reuseEntry(studio: Studio, entry: GalleryEntry): Promise<void> {
  try {
    let base64: string | null = null;
    try {
      const response = await fetch(entry.url);
      if (response.ok) {
        const blob = await response.blob();
        const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
        if (isPng(head)) base64 = await blobToBase64(blob);
      }
    } catch {
      base64 = null;
    }
    base64 ??= bytesToBase64(parametersPng(entry.parameters));
    const result = await studio.client.call('png.read', { base64 });
    applyImport(studio, result, `the gallery image "${entryName(entry)}"`);
  } catch (error) {
    studio.showError('Could not reuse the parameters', error);
  }
}

export async function deleteEntry(studio: Studio, entry: GalleryEntry): Promise<boolean> {
  try {
    const { deleted } = await studio.client.call('gallery.delete', { id: entry.id });
    studio.gallery = removeEntry(studio.gallery, entry.id);
    if (studio.selectedId === entry.id) studio.selectedId = null;
    if (!deleted) studio.error = 'Could not delete: the image was already gone';
    return deleted;
  } catch (error) {
    studio.showError('Could not delete the image', error);
    return false;
  }
}

/** true when the engine showed the file in a file manager (Electron); false in the browser. */
export async function revealEntry(studio: Studio, entry: GalleryEntry): Promise<boolean> {
  try {
    const { revealed } = await studio.client.call('gallery.reveal', { id: entry.id });
    return revealed;
  } catch (error) {
    studio.showError('Could not reveal the file', error);
    return false;
  }
}
