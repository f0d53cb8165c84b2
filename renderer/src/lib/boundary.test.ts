// The renderer talks to the engine only through the contract: its code may import its own files,
// the contract (src-core/contract/) and browser-side packages, never Node or engine modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const src = new URL('..', import.meta.url).pathname;
const contract = resolve(src, '../../src-core/contract');
const PACKAGES = new Set(['svelte', 'zod', 'uplot']);

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|svelte)$/.test(name) && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('renderer code imports only its own files, the contract, svelte, zod and uplot', () => {
  const problems: string[] = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm,
    )) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) {
        const target = resolve(file, '..', spec);
        if (!target.startsWith(src) && !target.startsWith(contract + '/')) problems.push(`${relative(src, file)}: ${spec}`);
      } else if (!PACKAGES.has(spec.split('/')[0])) {
        problems.push(`${relative(src, file)}: ${spec}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
