// Errors whose cause is the model or the engine, not a form field: they belong in the banner, clear
// once a model works again, and give way to "engine restarting…" while the engine restarts.
import { errorText, withContext } from './errors.ts';

const MODEL_PROBLEM = /no model is loaded|the model could not be (re)?loaded|could not switch (the model|to )/i;
const ENGINE_PROBLEM = /the engine stopped unexpectedly|could not reach the engine/i;

/** An error about the model: it clears once a model works. */
export function isModelProblem(text: string | null | undefined): boolean {
  return !!text && MODEL_PROBLEM.test(text);
}

/** Not about a form field: never shown under one (plan.describe and prompt.count fail this way too). */
export function isEngineOrModelProblem(text: string | null | undefined): boolean {
  return !!text && (MODEL_PROBLEM.test(text) || ENGINE_PROBLEM.test(text));
}

/** A failed model.select: the server's text names both models ("could not switch to X: …; still using Y"). */
export function switchError(error: unknown): string {
  const text = errorText(error).replace(/^(Error|ContractError|RequestError):\s*/, '');
  if (/^could not switch to /i.test(text)) return text[0].toUpperCase() + text.slice(1);
  return withContext('Could not switch the model', error);
}

export const NO_MODEL = 'Could not generate: no model is loaded; pick a model folder first';
export const ENGINE_RESTARTING_LABEL = 'engine restarting…';
export const MODEL_LOADING_LABEL = 'loading model…';

/** The Generate button's text: what it waits for, else its own label (a queued Generate stays "Generate"). */
export function runLabel(state: { modelLoading: boolean; engineRestarting: boolean }, label: string): string {
  if (state.engineRestarting) return ENGINE_RESTARTING_LABEL;
  if (state.modelLoading) return MODEL_LOADING_LABEL;
  return label;
}
