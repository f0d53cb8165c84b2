// Every conformance file format the engine can check, keyed by the file's "format" field.
// A handler runs all cases of a parsed file and reports each one; the CLI and the tests share it.
import { runPromptAttentionVectors } from './prompt-attention-vectors.ts';
import { runSamplerVectors } from './sampler-vectors.ts';
import { runTokenizerVectors } from './tokenizer-vectors.ts';
import { runTorchRandnVectors } from './torch-randn-vectors.ts';

export interface CaseResult {
  id: string;
  pass: boolean;
  /** One-line detail: max relative error, first mismatch, NFE... */
  detail: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler checks its own format's document
export type FormatHandler = (doc: any) => Promise<CaseResult[]> | CaseResult[];

export const FORMATS: Record<string, FormatHandler> = {
  'sampler-vectors/1': runSamplerVectors,
  'tokenizer-vectors/1': runTokenizerVectors,
  'torch-randn-vectors/1': runTorchRandnVectors,
  'prompt-attention-vectors/1': runPromptAttentionVectors,
};

export async function runConformance(doc: unknown): Promise<CaseResult[]> {
  const { format: name, version } = (doc ?? {}) as { format?: unknown; version?: unknown };
  // Newer files name the version in its own field ("format": "x", "version": 1) rather than "x/1".
  const format = typeof name === 'string' && !name.includes('/') && typeof version === 'number' ? `${name}/${version}` : name;
  if (typeof format !== 'string' || !Object.hasOwn(FORMATS, format)) {
    throw new Error(`unknown conformance format ${JSON.stringify(format)} (known: ${Object.keys(FORMATS).join(', ')})`);
  }
  return FORMATS[format](doc);
}
