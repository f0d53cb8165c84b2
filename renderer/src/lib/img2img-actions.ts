// Choosing img2img's source: a file (picked, dropped or pasted) is uploaded with image.upload, which checks
// it from its header and answers the ref the request names; a gallery image or a result is named by its
// gallery id. The form's size follows the source when the source's size is one the model can make.
import type { GalleryEntry } from '../../../src-core/contract/api.ts';
import { LIMITS } from '../../../src-core/contract/generate.ts';
import { INPUT_IMAGE_LIMITS } from '../../../src-core/contract/images.ts';
import { blobToBase64 } from './base64.ts';
import { entryName } from './gallery.ts';
import type { SourceImage } from './img2img.ts';
import type { Studio } from './studio.svelte.ts';

function useSource(studio: Studio, source: SourceImage): void {
  const previous = studio.img2img.source;
  if (previous?.url.startsWith('blob:') && previous.url !== source.url) URL.revokeObjectURL(previous.url);
  studio.img2img.source = source;
  const f = studio.sizeMultiple;
  // A source of a size the model can make sets the size (A1111 keeps its own; this saves retyping it).
  if (source.width % f === 0 && source.height % f === 0 && source.width <= LIMITS.imageSide && source.height <= LIMITS.imageSide) {
    studio.form.width = source.width;
    studio.form.height = source.height;
  }
  studio.view = 'generate';
}

/** A picked, dropped or pasted file. */
export async function uploadSource(studio: Studio, file: File): Promise<void> {
  try {
    if (file.size > INPUT_IMAGE_LIMITS.bytes) {
      throw new Error(
        `"${file.name}" is ${(file.size / 2 ** 20).toFixed(1)} MiB; at most ${INPUT_IMAGE_LIMITS.bytes / 2 ** 20} MiB is accepted`,
      );
    }
    const answer = await studio.client.call('image.upload', { base64: await blobToBase64(file) });
    useSource(studio, {
      ref: answer.ref,
      url: URL.createObjectURL(file),
      name: file.name || 'pasted image',
      width: answer.width,
      height: answer.height,
    });
    studio.error = null;
  } catch (error) {
    studio.showError('Could not use that image for img2img', error);
  }
}

/** "Send to img2img" from the gallery or a result. */
export function sendToImg2img(studio: Studio, entry: GalleryEntry): void {
  useSource(studio, { ref: `gallery:${entry.id}`, url: entry.url, name: entryName(entry), width: entry.width, height: entry.height });
  studio.error = null;
}

export function clearSource(studio: Studio): void {
  const previous = studio.img2img.source;
  if (previous?.url.startsWith('blob:')) URL.revokeObjectURL(previous.url);
  studio.img2img.source = null;
}

/** A file dropped on the source slot that is no image: said where the slot's upload errors are. */
export function refuseNonImage(studio: Studio, file: File): void {
  studio.error = `Could not use that file for img2img: ${file.name || 'the file'} is not an image (PNG, JPEG or WebP)`;
}

/** The first image file of a paste or drop, if any. */
export function imageFileOf(data: DataTransfer | null | undefined): File | null {
  if (!data) return null;
  for (const file of Array.from(data.files)) if (file.type.startsWith('image/') || /\.(png|jpe?g|webp)$/i.test(file.name)) return file;
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind === 'file' && item.type.startsWith('image/')) return item.getAsFile();
  }
  return null;
}
