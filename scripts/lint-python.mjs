// ruff over the project's Python (training/, the benchmarks' bench/, the test models' makers in tests/fixtures/):
// pyflakes (F), pycodestyle errors and warnings (E, W), lines under 140
// characters. ruff runs here as its WebAssembly build from npm (@astral-sh/ruff-wasm-nodejs): the
// native ruff comes from PyPI, which this project's machines cannot reach, and Debian 12 has no ruff
// package. With a native ruff the same check is `ruff check --line-length 140 --select E,F,W training bench tests/fixtures`.
// Prints path:row:column: CODE message per problem and exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHECKED = ['training', 'bench', 'tests/fixtures'];
const SKIPPED = new Set(['__pycache__', '.work', 'node_modules']);
const SETTINGS = { 'line-length': 140, lint: { select: ['E', 'F', 'W'] } };

function pythonFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pythonFiles(path);
    return entry.name.endsWith('.py') ? [path] : [];
  });
}

const workspace = new Workspace(SETTINGS, PositionEncoding.Utf16);
const files = CHECKED.flatMap((dir) => pythonFiles(join(ROOT, dir))).sort();
let problems = 0;
for (const file of files) {
  for (const d of workspace.check(readFileSync(file, 'utf8'))) {
    problems++;
    console.log(`${relative(ROOT, file)}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? 'syntax'} ${d.message}`);
  }
}
console.log(`ruff ${Workspace.version()}: ${files.length} files, ${problems} ${problems === 1 ? 'problem' : 'problems'}`);
process.exit(problems ? 1 : 0);
