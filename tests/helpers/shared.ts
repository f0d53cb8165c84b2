// The shared folder of reference data (conformance vectors, SD 1.5 configs and tokenizer) lives next to the
// repository, ../shared, and only the tests and `npm run conformance` read it; the product never does.
// SHARED_DIR overrides the location. Tests that need it skip, saying why, where it is absent:
//
//   test('every shared vector passes', (t) => { if (skipWithoutShared(t)) return; ... });
//   test('every shared vector passes', { skip: sharedSkip() }, () => { ... });
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The shared folder: $SHARED_DIR, else ../shared beside the repository root. */
export const SHARED_DIR = process.env.SHARED_DIR || fileURLToPath(new URL('../../../shared/', import.meta.url));

/** Whether the shared folder is there (it is not in a bare clone of this repository). */
export const HAVE_SHARED = existsSync(join(SHARED_DIR, 'conformance'));

export const SHARED_MISSING_MESSAGE =
  `needs the shared reference folder, not found at ${SHARED_DIR} ` +
  '(check it out beside the repository as ../shared, or set SHARED_DIR to it)';

/** A path inside the shared folder, e.g. sharedPath('conformance/sampler-vectors.json'). */
export function sharedPath(relative: string): string {
  return join(SHARED_DIR, relative);
}

/** A JSON file of the shared folder, parsed; undefined where the folder is absent (tests then skip). */
export function readSharedJson<T = any>(relative: string): T {
  if (!HAVE_SHARED) return undefined as T;
  return JSON.parse(readFileSync(sharedPath(relative), 'utf8')) as T;
}

/** Marks the test skipped with the reason and returns true where the shared folder is absent. */
export function skipWithoutShared(t: TestContext): boolean {
  if (HAVE_SHARED) return false;
  t.skip(SHARED_MISSING_MESSAGE);
  return true;
}

/** For test options: `{ skip: sharedSkip() }` skips with the reason where the shared folder is absent. */
export function sharedSkip(): string | false {
  return HAVE_SHARED ? false : SHARED_MISSING_MESSAGE;
}
