// png.read's work: a PNG's text chunks, then its parameters as form values, with a note for
// everything left out. Pure and synchronous, with bounded work (the caps of src-core/png); the main
// side runs it in a worker thread (electron/png-read.ts) so the server keeps answering meanwhile.
import { GenerateRequestSchema } from '../contract/generate.ts';
import { readPngText } from '../png/text-chunks.ts';
import { comfyToRequest } from './comfy-parameters.ts';
import { invokeToRequest } from './invoke-parameters.ts';
import { parametersToRequest, type ParametersImport } from './metadata.ts';

/** Values the contract would refuse (steps 99999, a size of 10^6) are left out with a note, never put in the form. */
function withinContract(imported: ParametersImport): ParametersImport {
  const request: Record<string, unknown> = { ...imported.request };
  const notes = [...imported.notes];
  const fields = GenerateRequestSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  for (const [key, value] of Object.entries(request)) {
    if (fields[key]?.safeParse(value).success !== false) continue;
    delete request[key];
    notes.push(`the file's ${key} (${JSON.stringify(value).slice(0, 40)}) is outside what this app accepts; the current value is kept`);
  }
  return { ...imported, request: request as ParametersImport['request'], notes };
}

export function pngToRequest(png: Buffer): ParametersImport {
  let read;
  try {
    read = readPngText(png);
  } catch (error) {
    throw new Error(`that file is not a readable PNG (${(error as Error).message})`);
  }
  const { texts, ignored } = read;
  const found = readerFor(texts);
  if (!found)
    return {
      request: {},
      notes: [
        ...ignored,
        ignored.length > 0 ? 'no generation parameters could be read from this PNG' : 'this PNG has no generation parameters',
      ],
    };
  const imported = withinContract(found);
  return { ...imported, notes: [...ignored, ...imported.notes] };
}

/** The parameters of whichever app wrote the file: A1111's text first (Fooocus and this app write it too). */
function readerFor(texts: Record<string, string>): ParametersImport | undefined {
  if (texts.parameters) return parametersToRequest(texts.parameters);
  if (texts.prompt) return comfyToRequest(texts.prompt);
  const invoke = invokeToRequest(texts);
  if (invoke) return invoke;
  if (texts.workflow)
    return { request: {}, notes: ['this PNG holds only a ComfyUI workflow, without the graph it ran ("prompt"); it cannot fill the form'] };
  return undefined;
}
