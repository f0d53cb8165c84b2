// Debouncing and "latest answer wins" for calls made while the user types.

export interface Debounced<A extends unknown[]> {
  (...args: A): void;
  cancel(): void;
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): Debounced<A> {
  let handle: ReturnType<typeof setTimeout> | null = null;
  const run = (...args: A) => {
    if (handle !== null) clearTimeout(handle);
    handle = setTimeout(() => {
      handle = null;
      fn(...args);
    }, ms);
  };
  run.cancel = () => {
    if (handle !== null) clearTimeout(handle);
    handle = null;
  };
  return run;
}

/**
 * Wraps async calls so that only the answer of the most recent one is delivered: an older call
 * that answers (or fails) late is dropped (returns `{ stale: true }`).
 */
export function latestOnly() {
  let generation = 0;
  return async function run<T>(work: () => Promise<T>): Promise<{ stale: false; value: T } | { stale: true }> {
    const mine = ++generation;
    let value: T;
    try {
      value = await work();
    } catch (error) {
      if (mine !== generation) return { stale: true };
      throw error;
    }
    return mine === generation ? { stale: false, value } : { stale: true };
  };
}
