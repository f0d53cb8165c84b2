// The packaged desktop app's configuration (build/electron-builder.yml; electron-builder itself cannot be
// downloaded here, so it is read, not run): the app in an asar archive, and Electron's fuses flipped as
// Electron's security checklist asks, so the signed binary cannot be turned into a plain Node runtime or
// have code injected through NODE_OPTIONS, --inspect or a loose app folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelsRoot } from '../src-core/model/default-model.ts';

const CONFIG = readFileSync(fileURLToPath(new URL('../build/electron-builder.yml', import.meta.url)), 'utf8');

/** A top-level key's scalar value, or the `key: value` lines of its indented block (all this file's shapes). */
function topLevel(key: string): string | Record<string, string> | undefined {
  const lines = CONFIG.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${key}:`));
  if (at === -1) return undefined;
  const inline = lines[at].slice(key.length + 1).trim();
  if (inline !== '') return inline;
  const block: Record<string, string> = {};
  for (const line of lines.slice(at + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^\s+([A-Za-z]\w*):\s*(\S+)\s*(#.*)?$/.exec(line);
    if (m) block[m[1]] = m[2];
  }
  return block;
}

test('the packaged app: code only from its asar archive, and fuses that close the Node entry points', () => {
  assert.equal(topLevel('asar'), 'true');
  assert.deepEqual(topLevel('electronFuses'), {
    // ELECTRON_RUN_AS_NODE=1 would make the signed app a Node runtime for any script (with its OS permissions).
    runAsNode: 'false',
    enableNodeOptionsEnvironmentVariable: 'false',
    enableNodeCliInspectArguments: 'false',
    onlyLoadAppFromAsar: 'true',
    enableEmbeddedAsarIntegrityValidation: 'true',
    grantFileProtocolExtraPrivileges: 'false',
    enableCookieEncryption: 'true',
  });
});

test('the packaged app finds its built-in models where extraResources puts them, outside app.asar', () => {
  // extraResources: "- from: models / to: models", relative to the resources folder.
  const extra = /^extraResources:\n\s+- from: models\n\s+to: (\S+)$/m.exec(CONFIG);
  assert.ok(extra, 'build/electron-builder.yml ships models/ as extraResources');
  const resources = join('/opt', 'Restart Studio', 'resources');
  assert.equal(modelsRoot(join(resources, 'app.asar'), resources), join(resources, extra[1]));
  // From sources (or a bundle in out/), and under plain Node, which has no resources folder: beside package.json.
  assert.equal(modelsRoot('/home/me/restart-studio', undefined), join('/home/me/restart-studio', 'models'));
  assert.equal(modelsRoot('/home/me/restart-studio', resources), join('/home/me/restart-studio', 'models'));
  assert.equal(modelsRoot('/home/me/my.asarchive/app', resources), join('/home/me/my.asarchive/app', 'models'));
});
