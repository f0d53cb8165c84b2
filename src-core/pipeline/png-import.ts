// png.read's work: a PNG's text chunks, then its parameters as form values, with a note for
// everything left out. Pure and synchronous, with bounded work (the caps of src-core/png); the main
// side runs it in a worker thread (electron/png-read.ts) so the server keeps answering meanwhile.
import { readPngText } from '../png/text-chunks.ts';
import { parametersToRequest, type ParametersImport } from './metadata.ts';

export function pngToRequest(png: Buffer): ParametersImport {
  let read;
  try {
    read = readPngText(png);
  } catch (error) {
    throw new Error(`that file is not a readable PNG (${(error as Error).message})`);
  }
  const { texts, ignored } = read;
  const text = texts.parameters;
  if (!text && texts.prompt) return { request: {}, notes: [...ignored, 'this PNG comes from ComfyUI (a workflow, not A1111 parameters); it cannot fill the form'] };
  if (!text) return { request: {}, notes: [...ignored, ignored.length > 0 ? 'no generation parameters could be read from this PNG' : 'this PNG has no generation parameters'] };
  const imported = parametersToRequest(text);
  return { ...imported, notes: [...ignored, ...imported.notes] };
}
