// Puts the saved settings into the app state at startup and saves them whenever they change.
import { applySaved, browserStorage, readSaved, writeSaved } from './persist.ts';
import type { Studio } from './studio.svelte.ts';

/** Returns the function that stops saving. */
export function keepSettings(studio: Studio, storage = browserStorage()): () => void {
  const saved = readSaved(storage);
  studio.form = applySaved(studio.form, saved);
  if (saved.view) studio.view = saved.view;
  return $effect.root(() => {
    $effect(() => writeSaved(storage, studio.form, studio.view));
  });
}
