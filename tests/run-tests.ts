// Finds every *.test.ts in the project and runs them with Node's built-in test runner.
// Node 20's `--test` does not expand globs itself, hence this small launcher.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const searched = ['src-core', 'tests', 'electron', 'renderer', 'scripts'];
const skipped = new Set(['node_modules', 'dist', 'out', '.git']);

function collect(dir: string, found: string[]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of entries) {
    if (skipped.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, found);
    else if (name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

const filter = process.argv.slice(2);
const files = searched
  .flatMap((d) => collect(join(root, d), []))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
