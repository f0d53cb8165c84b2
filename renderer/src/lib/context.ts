// The Studio instance for every component, through Svelte's context.
import { getContext } from 'svelte';
import type { Studio } from './studio.svelte.ts';

const KEY = Symbol('studio');

/** The context map for mount(App, { context }). */
export function studioContext(studio: Studio): Map<unknown, unknown> {
  return new Map([[KEY, studio]]);
}

export function useStudio(): Studio {
  const studio = getContext<Studio | undefined>(KEY);
  if (!studio) throw new Error('useStudio() outside the app');
  return studio;
}
