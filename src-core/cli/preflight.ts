// What `npm run generate` can check before a checkpoint is imported or a model loaded (minutes of work):
// the request's options, the init image's header and the output folder.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseGenerateRequest, RequestError, type GenerateRequestInput } from '../contract/generate.ts';
import { ImageInputError, readImageHeader } from '../image/header.ts';
import { checkPromptSyntax } from '../prompt/syntax-check.ts';

/** The output folder, or the nearest folder above it that exists (savePng creates the rest), must be a writable folder. */
export function checkOutputFolder(out: string): void {
  for (let dir = out; ; dir = dirname(dir)) {
    let isDirectory;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(dir) !== dir) continue;
      throw new Error(`--out ${out}: ${(error as Error).message}`);
    }
    if (!isDirectory) throw new Error(dir === out ? `--out ${out} is not a folder` : `--out ${out}: ${dir} is not a folder`);
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new Error(`--out ${out}: cannot write into ${dir} (permission denied)`);
    }
    return;
  }
}

/** Throws, in words, for what would only fail after the model is loaded. */
export function preflight(request: GenerateRequestInput, out: string, initImage?: Uint8Array): void {
  checkPromptSyntax(parseGenerateRequest(request));
  if (initImage) {
    try {
      readImageHeader(initImage);
    } catch (error) {
      if (error instanceof ImageInputError) throw new RequestError(`the init image cannot be used: ${error.message}`);
      throw error;
    }
  }
  checkOutputFolder(out);
}
