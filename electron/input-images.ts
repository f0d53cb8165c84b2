// img2img's source images on the main side: an uploaded file is checked from its header (format, size
// limits), kept under the data folder by content hash, and named by a ref (upload:<sha256>.<ext>); a
// gallery image is named gallery:<id>. A job's ref is resolved to the file's bytes here, which travel to
// the engine beside the request. The newest uploads are kept; older ones are removed.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageUploadResult } from '../src-core/contract/images.ts';
import { ImageInputError, readImageHeader } from '../src-core/image/header.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { Gallery } from './gallery.ts';
import { readRegularFile } from './regular-file.ts';

const EXTENSIONS = { png: 'png', jpeg: 'jpg', webp: 'webp' } as const;
const UPLOAD_NAME = /^[0-9a-f]{64}\.(png|jpg|webp)$/;
/** Uploads kept: enough for every source in use, bounded so the folder cannot grow without end. */
const KEEP = 24;

export class InputImages {
  readonly dir: string;

  constructor(
    dataDir: string,
    private readonly gallery: Gallery,
  ) {
    this.dir = join(dataDir, 'inputs');
  }

  /** Checks and stores an uploaded file; the same bytes give the same ref. */
  upload(bytes: Uint8Array): ImageUploadResult {
    let header;
    try {
      header = readImageHeader(bytes);
    } catch (error) {
      if (error instanceof ImageInputError) throw new Error(`that file cannot be an img2img source: ${error.message}`);
      throw error;
    }
    const name = `${createHash('sha256').update(bytes).digest('hex')}.${EXTENSIONS[header.format]}`;
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, name), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.prune(name);
    return { ref: `upload:${name}`, format: header.format, width: header.width, height: header.height };
  }

  /** The bytes a ref names, or an error that says why there are none. */
  bytes(ref: string): Uint8Array {
    const [kind, name] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
    if (kind === 'gallery') {
      const bytes = this.gallery.read(name);
      if (!bytes) throw new Error(`the img2img source (gallery image ${name}) is no longer in the gallery; choose the source image again`);
      return new Uint8Array(bytes);
    }
    if (kind === 'upload' && UPLOAD_NAME.test(name)) {
      const bytes = readRegularFile(join(this.dir, name));
      if (!bytes) throw new Error('the img2img source image is no longer stored; choose it again');
      return new Uint8Array(bytes);
    }
    throw new Error(`the img2img source ${ref} is not an uploaded or gallery image`);
  }

  /** Removes the oldest uploads beyond KEEP (never the one just written). */
  private prune(keep: string): void {
    try {
      const files = readdirSync(this.dir)
        .filter((f) => UPLOAD_NAME.test(f) && f !== keep)
        .map((f) => ({ f, time: statSync(join(this.dir, f)).mtimeMs }))
        .sort((a, b) => b.time - a.time);
      for (const { f } of files.slice(KEEP - 1)) rmSync(join(this.dir, f), { force: true });
    } catch {
      // Pruning is housekeeping: a failure leaves files behind, nothing else.
    }
  }
}
